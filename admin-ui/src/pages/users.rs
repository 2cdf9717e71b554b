//! Users: the generic list/new/edit/delete pages (addressed by id, shown by username, with a
//! username search) plus setting a password, enabling or disabling, unlocking, the actions
//! taken at the next sign-in, and the user's second factors (listed, removed).

use admin_model::{
    Actor, AdminError, AdminPort, AdminResult, CredentialView, Page, PageRequest, UserInput,
    UserView,
};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;

use super::collection::{self, edit_again, item_href, BoxFuture, Collection, Created};
use crate::auth::{Admin, AdminForm};
use crate::form_data::{Errors, FormData, Reader};
use crate::forms::{Check, Csrf, Group, Text, TextArea};
use crate::layout::{Confirm, Layout, Section};
use crate::widgets::{Badge, Chips, Facts, MaybeTime, Time};
use crate::Ctx;

pub struct Users;

pub fn routes(router: Router<Ctx>) -> Router<Ctx> {
    collection::routes::<Users>(router)
        .route(
            "/admin/realms/{realm}/users/{key}/password",
            get(to_user).post(set_password),
        )
        .route(
            "/admin/realms/{realm}/users/{key}/enabled",
            get(confirm_disable).post(set_enabled),
        )
        .route(
            "/admin/realms/{realm}/users/{key}/unlock",
            get(to_user).post(unlock),
        )
        .route(
            "/admin/realms/{realm}/users/{key}/required-actions",
            get(to_user).post(set_required_actions),
        )
        .route(
            "/admin/realms/{realm}/users/{key}/credentials",
            get(credentials),
        )
        .route(
            "/admin/realms/{realm}/users/{key}/credentials/{credential}/remove",
            get(to_user).post(remove_credential),
        )
}

/// The actions an administrator may ask for, with their labels.
const REQUIRED_ACTIONS: [(&str, &str); 3] = [
    ("update_password", "Set a new password"),
    ("configure_totp", "Set up an authenticator app"),
    (
        "verify_email",
        "Verify the email address (needs the realm's SMTP settings)",
    ),
];

/// A GET of an action's URL (left in the address bar after a refused form): the user's page.
async fn to_user(admin: Admin, Path((realm, key)): Path<(String, String)>) -> Response {
    admin
        .redirect(&item_href::<Users>(&realm, &key), None)
        .await
}

/// Disabling ends the user's refresh tokens and sign-ins, so it asks first; enabling does not.
async fn confirm_disable(admin: Admin, Path((realm, key)): Path<(String, String)>) -> Response {
    let user = match admin.ctx.port.get_user(&realm, &key).await {
        Ok(user) => user,
        Err(e) => return admin.fail(Some(&realm), Section::Users, e).await,
    };
    let href = item_href::<Users>(&realm, &key);
    if !user.enabled {
        return admin.redirect(&href, None).await;
    }
    let confirm = Confirm {
        title: "Disable user".into(),
        verb: "Disable user".into(),
        key: user.username,
        consequence: "They cannot sign in, and their refresh tokens stop working, until they are enabled again.".into(),
        action: format!("{href}/enabled"),
        button: "Disable user".into(),
        danger: true,
        cancel: href,
    };
    admin.confirm(Some(&realm), Section::Users, confirm).await
}

fn claims_text(claims: &serde_json::Map<String, serde_json::Value>) -> String {
    if claims.is_empty() {
        return String::new();
    }
    serde_json::to_string_pretty(claims).unwrap_or_default()
}

impl Collection for Users {
    const SLUG: &'static str = "users";
    const NOUN: &'static str = "user";
    const TITLE: &'static str = "Users";
    const SECTION: Section = Section::Users;
    const HEADERS: &'static [&'static str] = &["Username", "Email", "Roles", "Status"];
    const FIELDS: &'static [&'static str] = &[
        "username",
        "password",
        "email",
        "email_verified",
        "claims",
        "roles",
        "enabled",
    ];
    const SEARCH: Option<&'static str> = Some("Username starts with…");

    type View = UserView;
    type Input = UserInput;
    type Created = UserView;

    fn key(view: &UserView) -> String {
        view.id.clone()
    }

    fn label(view: &UserView) -> String {
        view.username.clone()
    }

    fn cells(u: &UserView) -> AnyView {
        view! {
            <td>{crate::widgets::or_dash(u.email.clone())}</td>
            <td><Chips values=u.roles.clone()/></td>
            <td>{status(u)}</td>
        }
        .into_any()
    }

    fn values(u: &UserView) -> FormData {
        let mut f = FormData::default();
        f.set("username", u.username.clone())
            .set_opt("email", u.email.clone())
            .set_flag("email_verified", u.email_verified)
            .set("claims", claims_text(&u.claims))
            .set_lines("roles", &u.roles)
            .set_flag("enabled", u.enabled);
        f
    }

    fn defaults() -> FormData {
        let mut f = FormData::default();
        f.set_flag("enabled", true);
        f
    }

    fn read(form: &FormData, creating: bool) -> Result<UserInput, Errors> {
        let mut r = Reader::new(form);
        let input = UserInput {
            username: Some(form.text("username")),
            // Only the new-user form has a password; the edit page has its own form.
            password: if creating {
                form.get("password")
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
            } else {
                None
            },
            email: r.nullable("email"),
            email_verified: Some(form.checked("email_verified")),
            claims: r.json_object("claims"),
            roles: Some(form.words("roles")),
            enabled: Some(form.checked("enabled")),
        };
        r.finish(input)
    }

    fn fields(creating: bool) -> AnyView {
        view! {
            <Group title="Account">
                <Text name="username" label="Username" required=true autocomplete="off"/>
                {creating.then(|| view! {
                    <Text name="password" label="Password" kind="password" autocomplete="new-password"
                        hint="At least 8 characters. Optional; without one the user cannot sign in with a password."/>
                })}
                <Text name="email" label="Email" kind="email"/>
                <Check name="email_verified" label="Email verified"/>
                <Check name="enabled" label="Enabled" hint="Disabled users cannot sign in or refresh tokens."/>
            </Group>
            <Group title="Claims and roles">
                <TextArea name="roles" label="Roles" rows=2 mono=true hint="One per line."/>
                <TextArea name="claims" label="Claims" rows=6 mono=true
                    placeholder="{\"name\": \"Alice Example\", \"given_name\": \"Alice\"}"
                    hint="A JSON object of profile claims released by scopes."/>
            </Group>
        }
        .into_any()
    }

    fn extra(realm: &str, u: &UserView) -> AnyView {
        let href = item_href::<Users>(realm, &u.id);
        let facts = vec![
            ("User ID", view! { <code>{u.id.clone()}</code> }.into_any()),
            ("Status", status(u).into_any()),
            (
                "Password",
                if u.has_password {
                    view! { "Set " <MaybeTime at=u.password_changed_at/> }.into_any()
                } else {
                    view! { <span class="muted">"Not set"</span> }.into_any()
                },
            ),
            (
                "Failed sign-ins",
                u.failed_login_count.to_string().into_any(),
            ),
            (
                "Locked until",
                view! { <MaybeTime at=u.locked_until/> }.into_any(),
            ),
        ];
        view! {
            <section class="panel">
                <h2>"Password"</h2>
                <form method="post" action=format!("{href}/password") class="inline-form">
                    <Csrf/>
                    <Text name="password" label="New password" kind="password" autocomplete="new-password"
                        hint="At least 8 characters. Setting a password ends the user's refresh tokens."/>
                    <button type="submit">"Set password"</button>
                </form>
            </section>
            <section class="panel">
                <h2>"At the next sign-in"</h2>
                <form method="post" action=format!("{href}/required-actions")>
                    <Csrf/>
                    {REQUIRED_ACTIONS
                        .iter()
                        .map(|(value, label)| {
                            let checked = u.required_actions.iter().any(|a| a == value);
                            view! {
                                <label class="check">
                                    <input type="checkbox" name="required_actions" value=*value checked=checked/>
                                    " " {*label}
                                </label>
                            }
                        })
                        .collect_view()}
                    <button type="submit" class="secondary" id="save-required-actions">"Save"</button>
                </form>
                <p><a href=format!("{href}/credentials") id="credentials-link">"Second factors and passkeys"</a></p>
                <p><a href=format!("{href}/sessions") id="sessions-link">"Sessions"</a></p>
                <p><a href=format!("{href}/links") id="links-link">"Linked accounts"</a></p>
            </section>
            <section class="panel">
                <h2>"Status"</h2>
                <Facts rows=facts/>
                <div class="button-row">
                    {if u.enabled {
                        view! {
                            <a class="button secondary" id="toggle-enabled" href=format!("{href}/enabled")>
                                "Disable user"
                            </a>
                        }
                        .into_any()
                    } else {
                        view! {
                            <form method="post" action=format!("{href}/enabled")>
                                <Csrf/>
                                <input type="hidden" name="enabled" value="true"/>
                                <button type="submit" class="secondary" id="toggle-enabled">"Enable user"</button>
                            </form>
                        }
                        .into_any()
                    }}
                    {u.locked.then(|| view! {
                        <form method="post" action=format!("{href}/unlock")>
                            <Csrf/>
                            <button type="submit" class="secondary" id="unlock">"Unlock"</button>
                        </form>
                    })}
                </div>
            </section>
        }
        .into_any()
    }

    fn list<'a>(
        port: &'a dyn AdminPort,
        realm: &'a str,
        search: Option<&'a str>,
        page: PageRequest,
    ) -> BoxFuture<'a, AdminResult<Page<UserView>>> {
        port.list_users(realm, search, page)
    }

    fn get<'a>(
        port: &'a dyn AdminPort,
        realm: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, AdminResult<UserView>> {
        port.get_user(realm, key)
    }

    fn create<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        input: UserInput,
    ) -> BoxFuture<'a, AdminResult<UserView>> {
        port.create_user(actor, realm, input)
    }

    fn created(created: UserView) -> Created {
        Created {
            key: created.id,
            label: created.username,
            secret: None,
        }
    }

    fn update<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        key: &'a str,
        input: UserInput,
    ) -> BoxFuture<'a, AdminResult<UserView>> {
        port.update_user(actor, realm, key, input)
    }

    fn delete<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, AdminResult<()>> {
        port.delete_user(actor, realm, key)
    }
}

fn status(u: &UserView) -> impl IntoView {
    let enabled = if u.enabled {
        view! { <Badge kind="ok" text="Enabled"/> }
    } else {
        view! { <Badge kind="off" text="Disabled"/> }
    };
    let locked = u
        .locked
        .then(|| view! { " " <Badge kind="warn" text="Locked"/> });
    view! { {enabled} {locked} }
}

/// After a user action: back to the user's page with `flash`, or the page with the error.
async fn answer(
    admin: &crate::auth::Admin,
    realm: &str,
    key: &str,
    result: AdminResult<UserView>,
    flash: impl FnOnce(&UserView) -> String,
) -> Response {
    match result {
        Ok(user) => {
            admin
                .redirect(&item_href::<Users>(realm, key), Some(flash(&user)))
                .await
        }
        Err(
            e @ (AdminError::Invalid { .. } | AdminError::Conflict(_) | AdminError::BadRequest(_)),
        ) => {
            let mut errors = Errors::from_admin(&e, &["password"]);
            if !errors.fields.is_empty() {
                // The message sits by the password field; the profile form above is fine.
                errors.form = None;
            }
            edit_again::<Users>(admin, realm, key, None, errors).await
        }
        Err(e) => admin.fail(Some(realm), Section::Users, e).await,
    }
}

async fn set_password(Path((realm, key)): Path<(String, String)>, f: AdminForm) -> Response {
    let AdminForm { admin, form } = f;
    let password = form.value("password");
    if password.is_empty() {
        let mut errors = Errors::new();
        errors.add("password", "Enter the new password.");
        return edit_again::<Users>(&admin, &realm, &key, None, errors).await;
    }
    let result = admin
        .ctx
        .port
        .set_user_password(&admin.actor, &realm, &key, &password)
        .await;
    answer(&admin, &realm, &key, result, |u| {
        format!("Password of {} set.", u.username)
    })
    .await
}

async fn set_enabled(Path((realm, key)): Path<(String, String)>, f: AdminForm) -> Response {
    let AdminForm { admin, form } = f;
    let enabled = form.checked("enabled");
    let input = UserInput {
        enabled: Some(enabled),
        ..UserInput::default()
    };
    let result = admin
        .ctx
        .port
        .update_user(&admin.actor, &realm, &key, input)
        .await;
    answer(&admin, &realm, &key, result, |u| {
        let state = if u.enabled { "enabled" } else { "disabled" };
        format!("User {} {state}.", u.username)
    })
    .await
}

async fn unlock(Path((realm, key)): Path<(String, String)>, f: AdminForm) -> Response {
    let admin = f.admin;
    let result = admin.ctx.port.unlock_user(&admin.actor, &realm, &key).await;
    answer(&admin, &realm, &key, result, |u| {
        format!("User {} unlocked.", u.username)
    })
    .await
}

async fn set_required_actions(
    Path((realm, key)): Path<(String, String)>,
    f: AdminForm,
) -> Response {
    let AdminForm { admin, form } = f;
    let actions = form.all("required_actions");
    let result = admin
        .ctx
        .port
        .set_required_actions(&admin.actor, &realm, &key, actions)
        .await;
    answer(&admin, &realm, &key, result, |u| {
        format!("What {} does at the next sign-in is saved.", u.username)
    })
    .await
}

#[derive(Clone)]
struct CredentialsData {
    realm: String,
    user: UserView,
    credentials: Vec<CredentialView>,
}

/// `GET …/users/{key}/credentials`: the user's second factors (never their secrets).
async fn credentials(admin: Admin, Path((realm, key)): Path<(String, String)>) -> Response {
    let port = admin.ctx.port.clone();
    let found = match port.get_user(&realm, &key).await {
        Ok(user) => port
            .list_credentials(&realm, &key)
            .await
            .map(|credentials| (user, credentials)),
        Err(e) => Err(e),
    };
    match found {
        Ok((user, credentials)) => {
            let data = CredentialsData {
                realm: realm.clone(),
                user,
                credentials,
            };
            admin
                .page(
                    StatusCode::OK,
                    Some(&realm),
                    Section::Users,
                    data,
                    credentials_page,
                )
                .await
        }
        Err(e) => admin.fail(Some(&realm), Section::Users, e).await,
    }
}

fn credentials_page(d: CredentialsData) -> impl IntoView {
    let href = item_href::<Users>(&d.realm, &d.user.id);
    let rows = d
        .credentials
        .iter()
        .map(|c| {
            let kind = match c.kind.as_str() {
                "totp" => "Authenticator app",
                "passkey" => "Passkey",
                "recovery_codes" => "Recovery codes",
                other => other,
            }
            .to_string();
            let detail = match (&c.label, c.remaining) {
                (_, Some(n)) => format!("{n} unused"),
                (Some(label), None) => label.clone(),
                (None, None) => String::new(),
            };
            view! {
                <tr class="credential-row" data-key=c.id.clone()>
                    <td>{kind}</td>
                    <td>{detail}</td>
                    <td><Time at=c.created_at short=true/></td>
                    <td><MaybeTime at=c.last_used_at/></td>
                    <td>
                        <form method="post" action=format!("{href}/credentials/{}/remove", c.id)>
                            <Csrf/>
                            <button type="submit" class="secondary">"Remove"</button>
                        </form>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let body = if d.credentials.is_empty() {
        view! { <div class="empty"><p>"No second factors: the user signs in with a password only, or enrols where the realm requires one"</p></div> }
            .into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="list">
                    <thead>
                        <tr>
                            <th scope="col">"Kind"</th>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Added"</th>
                            <th scope="col">"Last used"</th>
                            <th scope="col"></th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <Layout title=format!("Second factors of {}", d.user.username) back=(href.clone(), d.user.username.clone())>
            <p class="lead muted">"Removing one is a reset: where the realm requires a second factor, the user enrols again at the next sign-in. Secrets are never shown."</p>
            {body}
        </Layout>
    }
}

async fn remove_credential(
    Path((realm, key, credential)): Path<(String, String, String)>,
    f: AdminForm,
) -> Response {
    let admin = f.admin;
    let href = format!("{}/credentials", item_href::<Users>(&realm, &key));
    match admin
        .ctx
        .port
        .delete_credential(&admin.actor, &realm, &key, &credential)
        .await
    {
        Ok(()) => {
            admin
                .redirect(&href, Some("Second factor removed.".into()))
                .await
        }
        Err(e) => admin.fail(Some(&realm), Section::Users, e).await,
    }
}
