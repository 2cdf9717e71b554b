//! The shape every realm collection shares (clients, users, scopes, API resources, claim
//! types, exchange policies): a paged list, a "new" form, an edit form, and a delete behind a
//! confirmation. Each collection describes itself once through [`Collection`]; the handlers
//! and pages here do the rest, so the collections behave alike.

use std::future::Future;
use std::pin::Pin;

use admin_model::{Actor, AdminError, AdminPort, AdminResult, Page, PageRequest};
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use serde::Deserialize;

use crate::auth::{Admin, AdminForm};
use crate::form_data::{Errors, FormData};
use crate::forms::{Csrf, FormError, FormState, Submit};
use crate::layout::{Confirm, Layout, Section};
use crate::paths;
use crate::widgets::{Empty, Pager};
use crate::Ctx;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One kind of item in a realm, as the console shows and edits it.
pub trait Collection: 'static {
    /// The URL segment: `clients`.
    const SLUG: &'static str;
    /// One item, in a sentence: `client`.
    const NOUN: &'static str;
    /// The list's title: `Clients`.
    const TITLE: &'static str;
    const SECTION: Section;
    /// Column headings; the first column is the item's name, linked to its page.
    const HEADERS: &'static [&'static str];
    /// Every input the form shows, to place the service's messages next to them.
    const FIELDS: &'static [&'static str];
    /// Whether the list has a search box (passed to [`Collection::list`]).
    const SEARCH: Option<&'static str> = None;

    type View: Clone + Send + Sync + 'static;
    type Input: Send + 'static;
    /// What creating answers (a client also returns its secret).
    type Created: Send + 'static;

    /// The natural key that addresses the item in URLs.
    fn key(view: &Self::View) -> String;
    /// How people name the item (a user's username rather than their id).
    fn label(view: &Self::View) -> String {
        Self::key(view)
    }
    /// The cells after the first one.
    fn cells(view: &Self::View) -> AnyView;
    /// The form's values for a stored item.
    fn values(view: &Self::View) -> FormData;
    /// The form's values for a new item.
    fn defaults() -> FormData {
        FormData::default()
    }
    /// The input a submitted form asks for, or what cannot be read.
    fn read(form: &FormData, creating: bool) -> Result<Self::Input, Errors>;
    /// The form's fields (reading [`FormState`] from context).
    fn fields(creating: bool) -> AnyView;
    /// Panels below the edit form (secret rotation, password, …).
    fn extra(_realm: &str, _view: &Self::View) -> AnyView {
        ().into_any()
    }

    fn list<'a>(
        port: &'a dyn AdminPort,
        realm: &'a str,
        search: Option<&'a str>,
        page: PageRequest,
    ) -> BoxFuture<'a, AdminResult<Page<Self::View>>>;
    fn get<'a>(
        port: &'a dyn AdminPort,
        realm: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, AdminResult<Self::View>>;
    fn create<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        input: Self::Input,
    ) -> BoxFuture<'a, AdminResult<Self::Created>>;
    fn created(created: Self::Created) -> Created;
    fn update<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        key: &'a str,
        input: Self::Input,
    ) -> BoxFuture<'a, AdminResult<Self::View>>;
    fn delete<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, AdminResult<()>>;
}

/// What the console needs to know about a created item.
pub struct Created {
    pub key: String,
    pub label: String,
    /// A secret to show this once (a confidential client's).
    pub secret: Option<String>,
}

/// The list, new, edit and delete routes of `C`.
pub fn routes<C: Collection>(router: Router<Ctx>) -> Router<Ctx> {
    let base = format!("/admin/realms/{{realm}}/{}", C::SLUG);
    router
        .route(&base, get(list::<C>))
        .route(
            &format!("/admin/realms/{{realm}}/new/{}", C::SLUG),
            get(new::<C>).post(create::<C>),
        )
        .route(&format!("{base}/{{key}}"), get(edit::<C>).post(update::<C>))
        .route(
            &format!("{base}/{{key}}/delete"),
            get(confirm_delete::<C>).post(delete::<C>),
        )
}

pub fn list_href<C: Collection>(realm: &str) -> String {
    paths::section(realm, C::SLUG)
}

pub fn item_href<C: Collection>(realm: &str, key: &str) -> String {
    paths::item(realm, C::SLUG, key)
}

/// A title inside a sentence: "Exchange policies" becomes "exchange policies", while an
/// acronym ("API resources") keeps its capitals.
fn in_sentence(title: &str) -> String {
    let mut chars = title.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if second.is_lowercase() => {
            first.to_lowercase().chain(title.chars().skip(1)).collect()
        }
        _ => title.to_string(),
    }
}

fn capitalized(noun: &str) -> String {
    crate::form_data::sentence(noun)
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    cursor: Option<String>,
    q: Option<String>,
}

#[derive(Clone)]
struct ListData<V> {
    realm: String,
    items: Vec<V>,
    next: Option<String>,
    search: Option<String>,
    paged: bool,
}

async fn list<C: Collection>(
    admin: Admin,
    Path(realm): Path<String>,
    Query(query): Query<ListQuery>,
) -> Response {
    let search = query.q.filter(|q| !q.trim().is_empty());
    let page = PageRequest {
        limit: None,
        cursor: query.cursor.clone(),
    };
    let port = admin.ctx.port.clone();
    match C::list(port.as_ref(), &realm, search.as_deref(), page).await {
        Ok(page) => {
            let data = ListData {
                realm: realm.clone(),
                items: page.items,
                next: page.next_cursor,
                search,
                paged: query.cursor.is_some(),
            };
            admin
                .page(
                    StatusCode::OK,
                    Some(&realm),
                    C::SECTION,
                    data,
                    list_page::<C>,
                )
                .await
        }
        Err(e) => admin.fail(Some(&realm), C::SECTION, e).await,
    }
}

fn list_page<C: Collection>(d: ListData<C::View>) -> impl IntoView {
    let base = list_href::<C>(&d.realm);
    let new_href = paths::new_item(&d.realm, C::SLUG);
    let query = |cursor: &str| {
        let mut q = format!("cursor={}", paths::enc(cursor));
        if let Some(s) = &d.search {
            q = format!("q={}&{q}", paths::enc(s));
        }
        format!("{base}?{q}")
    };
    let next = d.next.as_deref().map(query);
    let first = match &d.search {
        Some(s) => format!("{base}?q={}", paths::enc(s)),
        None => base.clone(),
    };
    let search_box = C::SEARCH.map(|label| {
        view! {
            <form class="search" method="get" action=base.clone() role="search">
                <input type="search" name="q" value=d.search.clone().unwrap_or_default() placeholder=label aria-label=label/>
                <button type="submit" class="secondary">"Search"</button>
            </form>
        }
    });
    let body = if d.items.is_empty() {
        let what = in_sentence(C::TITLE);
        if d.search.is_some() || d.paged {
            view! { <Empty what=what search=d.search.clone()/> }.into_any()
        } else {
            view! { <Empty what=what create=(new_href.clone(), "Create the first one".to_string())/> }
                .into_any()
        }
    } else {
        let headers = C::HEADERS
            .iter()
            .map(|h| view! { <th scope="col">{*h}</th> })
            .collect_view();
        let rows = d
            .items
            .iter()
            .map(|item| {
                let key = C::key(item);
                let href = item_href::<C>(&d.realm, &key);
                let delete = format!("{href}/delete");
                view! {
                    <tr data-key=key data-label=C::label(item)>
                        <td class="name"><a href=href.clone()>{C::label(item)}</a></td>
                        {C::cells(item)}
                        <td class="row-actions">
                            <a href=href>"Edit"</a>
                            <a class="danger" href=delete>"Delete"</a>
                        </td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="table-wrap">
                <table class="list">
                    <thead><tr>{headers}<th><span class="sr-only">"Actions"</span></th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    let actions =
        view! { <a class="button" href=new_href.clone()>{format!("New {}", C::NOUN)}</a> }
            .into_any();
    view! {
        <Layout title=C::TITLE actions=Some(actions)>
            {search_box}
            {body}
            <Pager first=first next=next paged=d.paged/>
        </Layout>
    }
}

#[derive(Clone)]
struct FormPage<V> {
    realm: String,
    /// The stored item, when editing.
    view: Option<V>,
    state: FormState,
}

async fn new<C: Collection>(admin: Admin, Path(realm): Path<String>) -> Response {
    // The realm must exist before offering to create something in it.
    if let Err(e) = admin.ctx.port.get_realm(&realm).await {
        return admin.fail(Some(&realm), C::SECTION, e).await;
    }
    let data = FormPage::<C::View> {
        realm: realm.clone(),
        view: None,
        state: FormState::new(C::defaults()),
    };
    admin
        .page(
            StatusCode::OK,
            Some(&realm),
            C::SECTION,
            data,
            form_page::<C>,
        )
        .await
}

async fn create<C: Collection>(Path(realm): Path<String>, f: AdminForm) -> Response {
    let AdminForm { admin, form } = f;
    let input = match C::read(&form, true) {
        Ok(input) => input,
        Err(errors) => return form_again::<C>(&admin, &realm, None, form, errors).await,
    };
    let port = admin.ctx.port.clone();
    match C::create(port.as_ref(), &admin.actor, &realm, input).await {
        Ok(created) => {
            let created = C::created(created);
            match created.secret {
                Some(secret) => {
                    super::clients::show_secret(&admin, &realm, &created.key, secret, false).await
                }
                None => {
                    let flash = format!("{} {} created.", capitalized(C::NOUN), created.label);
                    admin
                        .redirect(&item_href::<C>(&realm, &created.key), Some(flash))
                        .await
                }
            }
        }
        Err(
            e @ (AdminError::Invalid { .. } | AdminError::Conflict(_) | AdminError::BadRequest(_)),
        ) => {
            let errors = Errors::from_create(&e, C::FIELDS);
            form_again::<C>(&admin, &realm, None, form, errors).await
        }
        Err(e) => admin.fail(Some(&realm), C::SECTION, e).await,
    }
}

/// Re-renders the form with what was entered and what is wrong with it.
async fn form_again<C: Collection>(
    admin: &Admin,
    realm: &str,
    view: Option<C::View>,
    form: FormData,
    errors: Errors,
) -> Response {
    let status = StatusCode::from_u16(errors.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
    let data = FormPage::<C::View> {
        realm: realm.to_string(),
        view,
        state: FormState::with_errors(form, errors),
    };
    admin
        .page(status, Some(realm), C::SECTION, data, form_page::<C>)
        .await
}

async fn edit<C: Collection>(admin: Admin, Path((realm, key)): Path<(String, String)>) -> Response {
    let port = admin.ctx.port.clone();
    match C::get(port.as_ref(), &realm, &key).await {
        Ok(view) => {
            let data = FormPage {
                realm: realm.clone(),
                state: FormState::new(C::values(&view)),
                view: Some(view),
            };
            admin
                .page(
                    StatusCode::OK,
                    Some(&realm),
                    C::SECTION,
                    data,
                    form_page::<C>,
                )
                .await
        }
        Err(e) => admin.fail(Some(&realm), C::SECTION, e).await,
    }
}

/// The edit page of a stored item with `errors` (from one of its forms) and the values it
/// shows.
pub async fn edit_again<C: Collection>(
    admin: &Admin,
    realm: &str,
    key: &str,
    values: Option<FormData>,
    errors: Errors,
) -> Response {
    let port = admin.ctx.port.clone();
    match C::get(port.as_ref(), realm, key).await {
        Ok(view) => {
            let values = values.unwrap_or_else(|| C::values(&view));
            form_again::<C>(admin, realm, Some(view), values, errors).await
        }
        Err(e) => admin.fail(Some(realm), C::SECTION, e).await,
    }
}

async fn update<C: Collection>(
    Path((realm, key)): Path<(String, String)>,
    f: AdminForm,
) -> Response {
    let AdminForm { admin, form } = f;
    let input = match C::read(&form, false) {
        Ok(input) => input,
        Err(errors) => return edit_again::<C>(&admin, &realm, &key, Some(form), errors).await,
    };
    let port = admin.ctx.port.clone();
    match C::update(port.as_ref(), &admin.actor, &realm, &key, input).await {
        Ok(view) => {
            let flash = format!("Saved {} {}.", C::NOUN, C::label(&view));
            admin
                .redirect(&item_href::<C>(&realm, &key), Some(flash))
                .await
        }
        Err(
            e @ (AdminError::Invalid { .. } | AdminError::Conflict(_) | AdminError::BadRequest(_)),
        ) => {
            let errors = Errors::from_admin(&e, C::FIELDS);
            edit_again::<C>(&admin, &realm, &key, Some(form), errors).await
        }
        Err(e) => admin.fail(Some(&realm), C::SECTION, e).await,
    }
}

fn form_page<C: Collection>(d: FormPage<C::View>) -> impl IntoView {
    let creating = d.view.is_none();
    provide_context(d.state.clone());
    let list = list_href::<C>(&d.realm);
    let (title, cancel, submit, actions) = match &d.view {
        None => (
            format!("New {}", C::NOUN),
            list.clone(),
            format!("Create {}", C::NOUN),
            None,
        ),
        Some(view) => {
            let href = item_href::<C>(&d.realm, &C::key(view));
            let delete = view! {
                <a class="button danger-outline" href=format!("{href}/delete")>
                    {format!("Delete {}", C::NOUN)}
                </a>
            }
            .into_any();
            (
                C::label(view),
                list.clone(),
                "Save changes".to_string(),
                Some(delete),
            )
        }
    };
    let extra = d.view.as_ref().map(|v| C::extra(&d.realm, v));
    view! {
        <Layout title=title back=(list, C::TITLE.to_string()) actions=actions>
            <form method="post" class="panel form" novalidate=true>
                <Csrf/>
                <FormError/>
                {C::fields(creating)}
                <Submit label=submit cancel=cancel/>
            </form>
            {extra}
        </Layout>
    }
}

async fn confirm_delete<C: Collection>(
    admin: Admin,
    Path((realm, key)): Path<(String, String)>,
) -> Response {
    let port = admin.ctx.port.clone();
    match C::get(port.as_ref(), &realm, &key).await {
        Ok(view) => {
            let href = item_href::<C>(&realm, &key);
            let confirm =
                Confirm::delete(C::NOUN, &C::label(&view), format!("{href}/delete"), href);
            admin.confirm(Some(&realm), C::SECTION, confirm).await
        }
        Err(e) => admin.fail(Some(&realm), C::SECTION, e).await,
    }
}

async fn delete<C: Collection>(
    Path((realm, key)): Path<(String, String)>,
    f: AdminForm,
) -> Response {
    let admin = f.admin;
    let port = admin.ctx.port.clone();
    let label = match C::get(port.as_ref(), &realm, &key).await {
        Ok(view) => C::label(&view),
        Err(e) => return admin.fail(Some(&realm), C::SECTION, e).await,
    };
    match C::delete(port.as_ref(), &admin.actor, &realm, &key).await {
        Ok(()) => {
            let flash = format!("{} {label} deleted.", capitalized(C::NOUN));
            admin.redirect(&list_href::<C>(&realm), Some(flash)).await
        }
        Err(e) => admin.fail(Some(&realm), C::SECTION, e).await,
    }
}
