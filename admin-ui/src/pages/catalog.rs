//! A realm's catalogue on the generic collection pages: scopes, API resources, claim types and
//! token-exchange policies.

use admin_model::{
    Actor, AdminPort, AdminResult, ApiResourceInput, ApiResourceView, ClaimTypeInput,
    ClaimTypeView, ExchangePolicyInput, ExchangePolicyView, Page, PageRequest, ScopeInput,
    ScopeView,
};
use axum::Router;
use leptos::prelude::*;

use super::collection::{self, BoxFuture, Collection, Created};
use crate::form_data::{Errors, FormData, Reader};
use crate::forms::{Check, Group, Text, TextArea};
use crate::layout::Section;
use crate::widgets::{or_dash, Badge, Chips, Enabled};
use crate::Ctx;

pub fn routes(router: Router<Ctx>) -> Router<Ctx> {
    let router = collection::routes::<Scopes>(router);
    let router = collection::routes::<ApiResources>(router);
    let router = collection::routes::<ClaimTypes>(router);
    collection::routes::<ExchangePolicies>(router)
}

/// A created catalogue item: named by its key, no secret.
fn created(key: String) -> Created {
    Created {
        label: key.clone(),
        key,
        secret: None,
    }
}

pub struct Scopes;

impl Collection for Scopes {
    const SLUG: &'static str = "scopes";
    const NOUN: &'static str = "scope";
    const TITLE: &'static str = "Scopes";
    const SECTION: Section = Section::Scopes;
    const HEADERS: &'static [&'static str] = &["Name", "Description", "Claims", "Audience"];
    const FIELDS: &'static [&'static str] = &[
        "name",
        "description",
        "claims",
        "audience",
        "include_in_access_token",
    ];

    type View = ScopeView;
    type Input = ScopeInput;
    type Created = ScopeView;

    fn key(v: &ScopeView) -> String {
        v.name.clone()
    }

    fn cells(v: &ScopeView) -> AnyView {
        view! {
            <td>{or_dash(v.description.clone())}</td>
            <td><Chips values=v.claims.clone()/></td>
            <td>{or_dash(v.audience.clone())}</td>
        }
        .into_any()
    }

    fn values(v: &ScopeView) -> FormData {
        let mut f = FormData::default();
        f.set("name", v.name.clone())
            .set_opt("description", v.description.clone())
            .set_lines("claims", &v.claims)
            .set_opt("audience", v.audience.clone())
            .set_flag("include_in_access_token", v.include_in_access_token);
        f
    }

    fn read(form: &FormData, creating: bool) -> Result<ScopeInput, Errors> {
        let r = Reader::new(form);
        let input = ScopeInput {
            name: creating.then(|| form.text("name")),
            description: r.nullable("description"),
            claims: Some(form.words("claims")),
            audience: r.nullable("audience"),
            include_in_access_token: Some(form.checked("include_in_access_token")),
        };
        r.finish(input)
    }

    fn fields(creating: bool) -> AnyView {
        view! {
            <Group title="Scope">
                <Text name="name" label="Name" readonly=!creating required=true
                    hint="The scope token clients request, such as profile or orders:read."/>
                <Text name="description" label="Description" hint="Shown on the consent page."/>
            </Group>
            <Group title="What it grants">
                <TextArea name="claims" label="Claims" rows=3 mono=true
                    hint="Claim types emitted when the scope is granted; one per line."/>
                <Text name="audience" label="API resource" hint="The audience the scope belongs to, if any."/>
                <Check name="include_in_access_token" label="Also put the claims into access tokens"/>
            </Group>
        }
        .into_any()
    }

    fn list<'a>(
        port: &'a dyn AdminPort,
        realm: &'a str,
        _search: Option<&'a str>,
        page: PageRequest,
    ) -> BoxFuture<'a, AdminResult<Page<ScopeView>>> {
        port.list_scopes(realm, page)
    }

    fn get<'a>(
        port: &'a dyn AdminPort,
        realm: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, AdminResult<ScopeView>> {
        port.get_scope(realm, key)
    }

    fn create<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        input: ScopeInput,
    ) -> BoxFuture<'a, AdminResult<ScopeView>> {
        port.create_scope(actor, realm, input)
    }

    fn created(v: ScopeView) -> Created {
        created(v.name)
    }

    fn update<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        key: &'a str,
        input: ScopeInput,
    ) -> BoxFuture<'a, AdminResult<ScopeView>> {
        port.update_scope(actor, realm, key, input)
    }

    fn delete<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, AdminResult<()>> {
        port.delete_scope(actor, realm, key)
    }
}

pub struct ApiResources;

impl Collection for ApiResources {
    const SLUG: &'static str = "api-resources";
    const NOUN: &'static str = "API resource";
    const TITLE: &'static str = "API resources";
    const SECTION: Section = Section::ApiResources;
    const HEADERS: &'static [&'static str] =
        &["Audience", "Name", "Scopes", "Introspection", "Status"];
    const FIELDS: &'static [&'static str] =
        &["name", "display_name", "scopes", "secret", "enabled"];

    type View = ApiResourceView;
    type Input = ApiResourceInput;
    type Created = ApiResourceView;

    fn key(v: &ApiResourceView) -> String {
        v.name.clone()
    }

    fn cells(v: &ApiResourceView) -> AnyView {
        let secret = if v.has_secret {
            view! { <Badge kind="ok" text="Secret set"/> }
        } else {
            view! { <Badge kind="off" text="No secret"/> }
        };
        view! {
            <td>{or_dash(v.display_name.clone())}</td>
            <td><Chips values=v.scopes.clone()/></td>
            <td>{secret}</td>
            <td><Enabled on=v.enabled/></td>
        }
        .into_any()
    }

    fn values(v: &ApiResourceView) -> FormData {
        let mut f = FormData::default();
        f.set("name", v.name.clone())
            .set_opt("display_name", v.display_name.clone())
            .set_lines("scopes", &v.scopes)
            .set_flag("enabled", v.enabled);
        f
    }

    fn defaults() -> FormData {
        let mut f = FormData::default();
        f.set_flag("enabled", true);
        f
    }

    fn read(form: &FormData, creating: bool) -> Result<ApiResourceInput, Errors> {
        let r = Reader::new(form);
        // Blank keeps the stored secret; the checkbox removes it.
        let secret = if form.checked("remove_secret") {
            Some(None)
        } else {
            form.get("secret")
                .filter(|s| !s.is_empty())
                .map(|s| Some(s.to_string()))
        };
        let input = ApiResourceInput {
            name: creating.then(|| form.text("name")),
            display_name: r.nullable("display_name"),
            scopes: Some(form.words("scopes")),
            secret,
            enabled: Some(form.checked("enabled")),
        };
        r.finish(input)
    }

    fn fields(creating: bool) -> AnyView {
        let secret_hint = if creating {
            "Optional, at least 16 characters: lets the API call the introspection endpoint."
        } else {
            "Leave empty to keep the current secret."
        };
        view! {
            <Group title="API resource">
                <Text name="name" label="Audience" readonly=!creating required=true
                    hint="The aud value of access tokens for this API, such as https://api.example.com."/>
                <Text name="display_name" label="Display name"/>
                <TextArea name="scopes" label="Scopes" rows=3 mono=true
                    hint="Scopes that grant access to this API; one per line."/>
                <Check name="enabled" label="Enabled"/>
            </Group>
            <Group title="Introspection">
                <Text name="secret" label=if creating { "Secret" } else { "New secret" } kind="password"
                    autocomplete="new-password" hint=secret_hint/>
                {(!creating).then(|| view! { <Check name="remove_secret" label="Remove the secret"/> })}
            </Group>
        }
        .into_any()
    }

    fn list<'a>(
        port: &'a dyn AdminPort,
        realm: &'a str,
        _search: Option<&'a str>,
        page: PageRequest,
    ) -> BoxFuture<'a, AdminResult<Page<ApiResourceView>>> {
        port.list_api_resources(realm, page)
    }

    fn get<'a>(
        port: &'a dyn AdminPort,
        realm: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, AdminResult<ApiResourceView>> {
        port.get_api_resource(realm, key)
    }

    fn create<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        input: ApiResourceInput,
    ) -> BoxFuture<'a, AdminResult<ApiResourceView>> {
        port.create_api_resource(actor, realm, input)
    }

    fn created(v: ApiResourceView) -> Created {
        created(v.name)
    }

    fn update<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        key: &'a str,
        input: ApiResourceInput,
    ) -> BoxFuture<'a, AdminResult<ApiResourceView>> {
        port.update_api_resource(actor, realm, key, input)
    }

    fn delete<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, AdminResult<()>> {
        port.delete_api_resource(actor, realm, key)
    }
}

pub struct ClaimTypes;

impl Collection for ClaimTypes {
    const SLUG: &'static str = "claim-types";
    const NOUN: &'static str = "claim type";
    const TITLE: &'static str = "Claim types";
    const SECTION: Section = Section::ClaimTypes;
    const HEADERS: &'static [&'static str] = &["Name", "Description"];
    const FIELDS: &'static [&'static str] = &["name", "description"];

    type View = ClaimTypeView;
    type Input = ClaimTypeInput;
    type Created = ClaimTypeView;

    fn key(v: &ClaimTypeView) -> String {
        v.name.clone()
    }

    fn cells(v: &ClaimTypeView) -> AnyView {
        view! { <td>{or_dash(v.description.clone())}</td> }.into_any()
    }

    fn values(v: &ClaimTypeView) -> FormData {
        let mut f = FormData::default();
        f.set("name", v.name.clone())
            .set_opt("description", v.description.clone());
        f
    }

    fn read(form: &FormData, creating: bool) -> Result<ClaimTypeInput, Errors> {
        let r = Reader::new(form);
        let input = ClaimTypeInput {
            name: creating.then(|| form.text("name")),
            description: r.nullable("description"),
        };
        r.finish(input)
    }

    fn fields(creating: bool) -> AnyView {
        view! {
            <Group title="Claim type">
                <Text name="name" label="Name" readonly=!creating required=true
                    hint="The claim's name in tokens, such as department."/>
                <Text name="description" label="Description"/>
            </Group>
        }
        .into_any()
    }

    fn list<'a>(
        port: &'a dyn AdminPort,
        realm: &'a str,
        _search: Option<&'a str>,
        page: PageRequest,
    ) -> BoxFuture<'a, AdminResult<Page<ClaimTypeView>>> {
        port.list_claim_types(realm, page)
    }

    fn get<'a>(
        port: &'a dyn AdminPort,
        realm: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, AdminResult<ClaimTypeView>> {
        port.get_claim_type(realm, key)
    }

    fn create<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        input: ClaimTypeInput,
    ) -> BoxFuture<'a, AdminResult<ClaimTypeView>> {
        port.create_claim_type(actor, realm, input)
    }

    fn created(v: ClaimTypeView) -> Created {
        created(v.name)
    }

    fn update<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        key: &'a str,
        input: ClaimTypeInput,
    ) -> BoxFuture<'a, AdminResult<ClaimTypeView>> {
        port.update_claim_type(actor, realm, key, input)
    }

    fn delete<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, AdminResult<()>> {
        port.delete_claim_type(actor, realm, key)
    }
}

pub struct ExchangePolicies;

impl Collection for ExchangePolicies {
    const SLUG: &'static str = "exchange-policies";
    const NOUN: &'static str = "exchange policy";
    const TITLE: &'static str = "Exchange policies";
    const SECTION: Section = Section::ExchangePolicies;
    const HEADERS: &'static [&'static str] = &[
        "Client",
        "Audiences",
        "Scopes",
        "Subject clients",
        "Delegation",
    ];
    const FIELDS: &'static [&'static str] = &[
        "client_id",
        "audiences",
        "scopes",
        "subject_clients",
        "allow_delegation",
        "max_delegation_depth",
    ];

    type View = ExchangePolicyView;
    type Input = ExchangePolicyInput;
    type Created = ExchangePolicyView;

    fn key(v: &ExchangePolicyView) -> String {
        v.client_id.clone()
    }

    fn cells(v: &ExchangePolicyView) -> AnyView {
        let subjects = if v.subject_clients.is_empty() {
            view! { <span class="muted">"Any client"</span> }.into_any()
        } else {
            view! { <Chips values=v.subject_clients.clone()/> }.into_any()
        };
        let delegation = if v.allow_delegation {
            view! { <Badge kind="ok" text="Allowed"/> }
        } else {
            view! { <Badge kind="off" text="No"/> }
        };
        view! {
            <td><Chips values=v.audiences.clone()/></td>
            <td><Chips values=v.scopes.clone()/></td>
            <td>{subjects}</td>
            <td>{delegation}</td>
        }
        .into_any()
    }

    fn values(v: &ExchangePolicyView) -> FormData {
        let mut f = FormData::default();
        f.set("client_id", v.client_id.clone())
            .set_lines("audiences", &v.audiences)
            .set_lines("scopes", &v.scopes)
            .set_lines("subject_clients", &v.subject_clients)
            .set_flag("allow_delegation", v.allow_delegation)
            .set("max_delegation_depth", v.max_delegation_depth.to_string());
        f
    }

    fn read(form: &FormData, creating: bool) -> Result<ExchangePolicyInput, Errors> {
        let mut r = Reader::new(form);
        let depth = r.number("max_delegation_depth").flatten();
        let input = ExchangePolicyInput {
            max_delegation_depth: depth.map(|d| i32::try_from(d).unwrap_or(i32::MAX)),
            client_id: creating.then(|| form.text("client_id")),
            audiences: Some(form.lines("audiences")),
            scopes: Some(form.words("scopes")),
            subject_clients: Some(form.words("subject_clients")),
            allow_delegation: Some(form.checked("allow_delegation")),
        };
        r.finish(input)
    }

    fn fields(creating: bool) -> AnyView {
        view! {
            <Group title="Token exchange (RFC 8693)"
                note="Which audiences a client may exchange tokens for.">
                <Text name="client_id" label="Client ID" readonly=!creating required=true
                    hint="The client that calls the token endpoint with the token-exchange grant."/>
                <TextArea name="audiences" label="Audiences" rows=3 mono=true hint="One per line."/>
                <TextArea name="scopes" label="Scopes" rows=2 mono=true
                    hint="Scopes the exchanged token may carry, always narrowed to the subject token's."/>
                <TextArea name="subject_clients" label="Subject clients" rows=2 mono=true
                    hint="Clients whose tokens may be exchanged; empty means any client of the realm."/>
                <Check name="allow_delegation" label="Allow delegation (actor tokens, act claim)"/>
                <Text name="max_delegation_depth" label="Longest delegation chain" kind="number" placeholder="3"
                    hint="How many actors a token's act chain may name (an agent acting for a user is one; an agent calling a tool for it, two)."/>
            </Group>
        }
        .into_any()
    }

    fn list<'a>(
        port: &'a dyn AdminPort,
        realm: &'a str,
        _search: Option<&'a str>,
        page: PageRequest,
    ) -> BoxFuture<'a, AdminResult<Page<ExchangePolicyView>>> {
        port.list_exchange_policies(realm, page)
    }

    fn get<'a>(
        port: &'a dyn AdminPort,
        realm: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, AdminResult<ExchangePolicyView>> {
        port.get_exchange_policy(realm, key)
    }

    fn create<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        input: ExchangePolicyInput,
    ) -> BoxFuture<'a, AdminResult<ExchangePolicyView>> {
        port.create_exchange_policy(actor, realm, input)
    }

    fn created(v: ExchangePolicyView) -> Created {
        created(v.client_id)
    }

    fn update<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        key: &'a str,
        input: ExchangePolicyInput,
    ) -> BoxFuture<'a, AdminResult<ExchangePolicyView>> {
        port.update_exchange_policy(actor, realm, key, input)
    }

    fn delete<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, AdminResult<()>> {
        port.delete_exchange_policy(actor, realm, key)
    }
}
