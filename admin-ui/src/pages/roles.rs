//! A realm's roles on the generic collection pages: name, description, and the roles each
//! includes (composites). Users and clients are given roles by name; holding a composite role
//! grants what it includes.

use admin_model::{Actor, AdminPort, AdminResult, Page, PageRequest, RoleInput, RoleView};
use axum::Router;
use leptos::prelude::*;

use super::collection::{self, BoxFuture, Collection, Created};
use crate::form_data::{Errors, FormData, Reader};
use crate::forms::{Group, Text, TextArea};
use crate::layout::Section;
use crate::widgets::{or_dash, Chips};
use crate::Ctx;

pub fn routes(router: Router<Ctx>) -> Router<Ctx> {
    collection::routes::<Roles>(router)
}

pub struct Roles;

impl Collection for Roles {
    const SLUG: &'static str = "roles";
    const NOUN: &'static str = "role";
    const TITLE: &'static str = "Roles";
    const SECTION: Section = Section::Roles;
    const HEADERS: &'static [&'static str] = &["Name", "Description", "Includes"];
    const FIELDS: &'static [&'static str] = &["name", "description", "composites"];

    type View = RoleView;
    type Input = RoleInput;
    type Created = RoleView;

    fn key(v: &RoleView) -> String {
        v.name.clone()
    }

    fn cells(v: &RoleView) -> AnyView {
        view! {
            <td>{or_dash(v.description.clone())}</td>
            <td><Chips values=v.composites.clone()/></td>
        }
        .into_any()
    }

    fn values(v: &RoleView) -> FormData {
        let mut f = FormData::default();
        f.set("name", v.name.clone())
            .set_opt("description", v.description.clone())
            .set_lines("composites", &v.composites);
        f
    }

    fn read(form: &FormData, creating: bool) -> Result<RoleInput, Errors> {
        let r = Reader::new(form);
        let input = RoleInput {
            name: creating.then(|| form.text("name")),
            description: r.nullable("description"),
            composites: Some(form.words("composites")),
        };
        r.finish(input)
    }

    fn fields(creating: bool) -> AnyView {
        view! {
            <Group title="Role">
                <Text name="name" label="Name" readonly=!creating required=true
                    hint="As tokens carry it in their roles claim, such as editor."/>
                <Text name="description" label="Description"/>
            </Group>
            <Group title="Composite">
                <TextArea name="composites" label="Includes" rows=3 mono=true
                    hint="Roles of this realm that holding this one also grants; one per line."/>
            </Group>
        }
        .into_any()
    }

    fn list<'a>(
        port: &'a dyn AdminPort,
        realm: &'a str,
        _search: Option<&'a str>,
        page: PageRequest,
    ) -> BoxFuture<'a, AdminResult<Page<RoleView>>> {
        port.list_roles(realm, page)
    }

    fn get<'a>(
        port: &'a dyn AdminPort,
        realm: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, AdminResult<RoleView>> {
        port.get_role(realm, key)
    }

    fn create<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        input: RoleInput,
    ) -> BoxFuture<'a, AdminResult<RoleView>> {
        port.create_role(actor, realm, input)
    }

    fn created(v: RoleView) -> Created {
        Created {
            label: v.name.clone(),
            key: v.name,
            secret: None,
        }
    }

    fn update<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        key: &'a str,
        input: RoleInput,
    ) -> BoxFuture<'a, AdminResult<RoleView>> {
        port.update_role(actor, realm, key, input)
    }

    fn delete<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, AdminResult<()>> {
        port.delete_role(actor, realm, key)
    }
}
