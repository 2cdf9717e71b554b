//! Realms: the list, creating one, its settings (display name, enabled, decentralized mode,
//! algorithms, cookie mode, lifetimes) and deleting one behind a confirmation.

use admin_model::{
    AdminError, GroupLimitsInput, PageRequest, RateLimitsInput, RealmInput, RealmView,
};
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use serde::Deserialize;

use crate::auth::{Admin, AdminForm};
use crate::form_data::{Errors, FormData, Reader};
use crate::forms::{
    options, Check, Csrf, FormError, FormState, Group, Select, Submit, Text, TextArea,
};
use crate::layout::{Confirm, Layout, Section};
use crate::paths;
use crate::widgets::{or_dash, Badge, Empty, Enabled, Pager};
use crate::Ctx;

const FIELDS: &[&str] = &[
    "name",
    "display_name",
    "enabled",
    "decentralized",
    "signing_alg",
    "id_token_signing_alg",
    "cookie_mode",
    "access_token_lifetime",
    "refresh_token_lifetime",
    "refresh_token_sliding_lifetime",
    "id_token_lifetime",
    "code_lifetime",
    "device_code_lifetime",
    "refresh_reuse_grace",
    "mfa",
    "profile",
    "require_par",
    "use_dpop_nonce",
    "allow_private_fetch",
    "registration",
    "client_id_metadata_documents",
    "self_service_scopes",
    "rate_limits.token.per_ip",
    "rate_limits.token.per_client",
    "rate_limits.login.per_ip",
    "rate_limits.login.per_client",
    "rate_limits.device.per_ip",
    "rate_limits.device.per_client",
    "rate_limits.registration.per_ip",
    "rate_limits.registration.per_client",
];

/// The rate-limit groups as the form shows them.
const RATE_GROUPS: [(&str, &str); 4] = [
    ("token", "Token endpoint"),
    ("login", "Sign-in forms"),
    ("device", "Device flow"),
    ("registration", "Client registration"),
];

const LIFETIMES: [(&str, &str); 6] = [
    ("access_token_lifetime", "Access token"),
    ("refresh_token_lifetime", "Refresh token (absolute)"),
    ("refresh_token_sliding_lifetime", "Refresh token (sliding)"),
    ("id_token_lifetime", "ID token"),
    ("code_lifetime", "Authorization code"),
    ("device_code_lifetime", "Device code"),
];

pub fn routes(router: Router<Ctx>) -> Router<Ctx> {
    router
        .route(paths::REALMS, get(list))
        .route(paths::NEW_REALM, get(new).post(create))
        .route("/admin/realms/{realm}/settings", get(edit).post(update))
        .route(
            "/admin/realms/{realm}/delete",
            get(confirm_delete).post(delete),
        )
}

fn settings_href(realm: &str) -> String {
    paths::section(realm, "settings")
}

#[derive(Deserialize)]
pub struct ListQuery {
    cursor: Option<String>,
}

#[derive(Clone)]
struct ListData {
    realms: Vec<RealmView>,
    next: Option<String>,
    paged: bool,
}

async fn list(admin: Admin, Query(q): Query<ListQuery>) -> Response {
    let page = PageRequest {
        limit: None,
        cursor: q.cursor.clone(),
    };
    match admin.ctx.port.list_realms(page).await {
        Ok(page) => {
            let data = ListData {
                realms: page.items,
                next: page.next_cursor,
                paged: q.cursor.is_some(),
            };
            admin
                .page(StatusCode::OK, None, Section::Realms, data, list_page)
                .await
        }
        Err(e) => admin.fail(None, Section::Realms, e).await,
    }
}

fn list_page(d: ListData) -> impl IntoView {
    let next = d
        .next
        .as_deref()
        .map(|c| format!("{}?cursor={}", paths::REALMS, paths::enc(c)));
    let body = if d.realms.is_empty() {
        view! { <Empty what="realms" create=(paths::NEW_REALM.to_string(), "Create the first one".to_string())/> }
            .into_any()
    } else {
        let rows = d
            .realms
            .into_iter()
            .map(|r| {
                let dashboard = paths::realm(&r.name);
                let settings = settings_href(&r.name);
                let delete = paths::section(&r.name, "delete");
                let mode = r.decentralized.then(|| view! { " " <Badge kind="info" text="Decentralized"/> });
                view! {
                    <tr data-key=r.name.clone()>
                        <td class="name"><a href=dashboard>{r.name.clone()}</a></td>
                        <td>{or_dash(r.display_name.clone())}</td>
                        <td><code class="wrap">{r.issuer.clone()}</code></td>
                        <td><Enabled on=r.enabled/>{mode}</td>
                        <td class="row-actions">
                            <a href=settings>"Settings"</a>
                            {(r.name != "master").then(|| view! { <a class="danger" href=delete>"Delete"</a> })}
                        </td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="table-wrap">
                <table class="list">
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Display name"</th>
                            <th scope="col">"Issuer"</th>
                            <th scope="col">"Status"</th>
                            <th><span class="sr-only">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    let actions = view! { <a class="button" href=paths::NEW_REALM>"New realm"</a> }.into_any();
    view! {
        <Layout title="Realms" actions=Some(actions)>
            <p class="lead muted">"Each realm is an issuer with its own keys, clients, users and settings."</p>
            {body}
            <Pager first=paths::REALMS next=next paged=d.paged/>
        </Layout>
    }
}

fn values(r: &RealmView) -> FormData {
    let mut f = FormData::default();
    f.set("name", r.name.clone())
        .set_opt("display_name", r.display_name.clone())
        .set_flag("enabled", r.enabled)
        .set_flag("decentralized", r.decentralized)
        .set("signing_alg", r.signing_alg.clone())
        .set("id_token_signing_alg", r.id_token_signing_alg.clone())
        .set("cookie_mode", r.cookie_mode.clone())
        .set_opt("access_token_lifetime", r.access_token_lifetime)
        .set_opt("refresh_token_lifetime", r.refresh_token_lifetime)
        .set_opt(
            "refresh_token_sliding_lifetime",
            r.refresh_token_sliding_lifetime,
        )
        .set_opt("id_token_lifetime", r.id_token_lifetime)
        .set_opt("code_lifetime", r.code_lifetime)
        .set_opt("device_code_lifetime", r.device_code_lifetime)
        .set_opt("refresh_reuse_grace", r.refresh_reuse_grace)
        .set("mfa", r.mfa.clone())
        .set_flag("require_par", r.require_par)
        .set_flag("use_dpop_nonce", r.use_dpop_nonce)
        .set_opt("profile", r.profile.clone())
        .set_flag("allow_private_fetch", r.allow_private_fetch)
        .set("registration", r.registration.clone())
        .set_flag(
            "client_id_metadata_documents",
            r.client_id_metadata_documents,
        )
        .set_lines("self_service_scopes", &r.self_service_scopes);
    let groups = [
        ("token", &r.rate_limits.token),
        ("login", &r.rate_limits.login),
        ("device", &r.rate_limits.device),
        ("registration", &r.rate_limits.registration),
    ];
    for (name, limits) in groups {
        f.set(
            &format!("rate_limits.{name}.per_ip"),
            limits.per_ip.clone().unwrap_or_default(),
        );
        f.set(
            &format!("rate_limits.{name}.per_client"),
            limits.per_client.clone().unwrap_or_default(),
        );
    }
    f
}

fn read(form: &FormData, creating: bool) -> Result<RealmInput, Errors> {
    let mut r = Reader::new(form);
    let input = RealmInput {
        name: creating.then(|| form.text("name")),
        display_name: r.nullable("display_name"),
        enabled: Some(form.checked("enabled")),
        decentralized: Some(form.checked("decentralized")),
        // Empty (offered only when creating) leaves the server's default.
        signing_alg: form.opt("signing_alg"),
        id_token_signing_alg: form.opt("id_token_signing_alg"),
        cookie_mode: form.opt("cookie_mode"),
        access_token_lifetime: r.seconds("access_token_lifetime"),
        refresh_token_lifetime: r.seconds("refresh_token_lifetime"),
        refresh_token_sliding_lifetime: r.seconds("refresh_token_sliding_lifetime"),
        id_token_lifetime: r.seconds("id_token_lifetime"),
        code_lifetime: r.seconds("code_lifetime"),
        device_code_lifetime: r.seconds("device_code_lifetime"),
        refresh_reuse_grace: r.seconds("refresh_reuse_grace"),
        mfa: form.opt("mfa"),
        require_par: Some(form.checked("require_par")),
        use_dpop_nonce: Some(form.checked("use_dpop_nonce")),
        profile: Some(form.opt("profile")),
        allow_private_fetch: Some(form.checked("allow_private_fetch")),
        registration: form.opt("registration"),
        client_id_metadata_documents: Some(form.checked("client_id_metadata_documents")),
        self_service_scopes: Some(form.words("self_service_scopes")),
        // A new realm starts with the server's defaults; the form offers them once it exists.
        rate_limits: (!creating).then(|| rate_limits(form)),
    };
    r.finish(input)
}

/// An empty field is no limit.
fn rate_limits(form: &FormData) -> RateLimitsInput {
    let group = |name: &str| {
        Some(GroupLimitsInput {
            per_ip: Some(form.opt(&format!("rate_limits.{name}.per_ip"))),
            per_client: Some(form.opt(&format!("rate_limits.{name}.per_client"))),
        })
    };
    RateLimitsInput {
        token: group("token"),
        login: group("login"),
        device: group("device"),
        registration: group("registration"),
    }
}

#[derive(Clone)]
struct FormPage {
    /// The stored realm, when editing.
    realm: Option<RealmView>,
    state: FormState,
}

async fn new(admin: Admin) -> Response {
    let mut defaults = FormData::default();
    defaults.set_flag("enabled", true);
    defaults.set(
        "self_service_scopes",
        "openid\nprofile\nemail\noffline_access",
    );
    let data = FormPage {
        realm: None,
        state: FormState::new(defaults),
    };
    admin
        .page(StatusCode::OK, None, Section::Realms, data, form_page)
        .await
}

async fn form_again(
    admin: &Admin,
    realm: Option<RealmView>,
    form: FormData,
    errors: Errors,
) -> Response {
    let status = StatusCode::from_u16(errors.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
    let name = realm.as_ref().map(|r| r.name.clone());
    let data = FormPage {
        realm,
        state: FormState::with_errors(form, errors),
    };
    admin
        .page(status, name.as_deref(), Section::Realms, data, form_page)
        .await
}

fn refused(e: &AdminError) -> bool {
    matches!(
        e,
        AdminError::Invalid { .. } | AdminError::Conflict(_) | AdminError::BadRequest(_)
    )
}

async fn create(f: AdminForm) -> Response {
    let AdminForm { admin, form } = f;
    let input = match read(&form, true) {
        Ok(input) => input,
        Err(errors) => return form_again(&admin, None, form, errors).await,
    };
    match admin.ctx.port.create_realm(&admin.actor, input).await {
        Ok(realm) => {
            let flash = format!("Realm {} created.", realm.name);
            admin
                .redirect(&paths::realm(&realm.name), Some(flash))
                .await
        }
        Err(e) if refused(&e) => {
            let errors = Errors::from_create(&e, FIELDS);
            form_again(&admin, None, form, errors).await
        }
        Err(e) => admin.fail(None, Section::Realms, e).await,
    }
}

async fn edit(admin: Admin, Path(realm): Path<String>) -> Response {
    match admin.ctx.port.get_realm(&realm).await {
        Ok(view) => {
            let data = FormPage {
                state: FormState::new(values(&view)),
                realm: Some(view),
            };
            admin
                .page(
                    StatusCode::OK,
                    Some(&realm),
                    Section::Realms,
                    data,
                    form_page,
                )
                .await
        }
        Err(e) => admin.fail(Some(&realm), Section::Realms, e).await,
    }
}

async fn update(Path(realm): Path<String>, f: AdminForm) -> Response {
    let AdminForm { admin, form } = f;
    let stored = match admin.ctx.port.get_realm(&realm).await {
        Ok(view) => view,
        Err(e) => return admin.fail(Some(&realm), Section::Realms, e).await,
    };
    let input = match read(&form, false) {
        Ok(input) => input,
        Err(errors) => return form_again(&admin, Some(stored), form, errors).await,
    };
    match admin
        .ctx
        .port
        .update_realm(&admin.actor, &realm, input)
        .await
    {
        Ok(view) => {
            let flash = format!("Saved the settings of realm {}.", view.name);
            admin.redirect(&settings_href(&realm), Some(flash)).await
        }
        Err(e) if refused(&e) => {
            let errors = Errors::from_admin(&e, FIELDS);
            form_again(&admin, Some(stored), form, errors).await
        }
        Err(e) => admin.fail(Some(&realm), Section::Realms, e).await,
    }
}

fn form_page(d: FormPage) -> impl IntoView {
    provide_context(d.state.clone());
    let creating = d.realm.is_none();
    let algs = options(&["ES256", "RS256", "EdDSA"]);
    let with_default = move |mut opts: Vec<(String, String)>| {
        if creating {
            opts.insert(0, (String::new(), "Server default".to_string()));
        }
        opts
    };
    let cookie_modes = vec![
        ("realm".to_string(), "One cookie per realm".to_string()),
        ("client".to_string(), "One cookie per client".to_string()),
        (
            "shared".to_string(),
            "One cookie shared by every realm".to_string(),
        ),
    ];
    let mfa_policies = vec![
        ("off".to_string(), "Off: passwords only".to_string()),
        (
            "optional".to_string(),
            "Optional: users who enrolled one use it".to_string(),
        ),
        (
            "required".to_string(),
            "Required: everyone, enrolling at the next login".to_string(),
        ),
    ];
    let rate_limit_fields = d.realm.is_some().then(|| {
        let rows = RATE_GROUPS
            .iter()
            .map(|(name, label)| {
                view! {
                    <div class="grid-2">
                        <Text name=format!("rate_limits.{name}.per_ip") label=format!("{label}: per address") placeholder="no limit"/>
                        <Text name=format!("rate_limits.{name}.per_client") label=format!("{label}: per client") placeholder="no limit"/>
                    </div>
                }
            })
            .collect_view();
        view! {
            <Group title="Rate limits" note="N/second, N/minute or N/hour: a burst of N, refilled evenly. Empty: no limit. Counted in each process; over a limit, requests get 429 with Retry-After.">
                {rows}
            </Group>
        }
    });
    let lifetimes = LIFETIMES
        .iter()
        .map(|(name, label)| {
            view! { <Text name=*name label=*label kind="number" placeholder="server default" hint="Seconds; empty uses the server default."/> }
        })
        .collect_view();
    let (title, back, submit, cancel, actions) = match &d.realm {
        None => (
            "New realm".to_string(),
            (paths::REALMS.to_string(), "Realms".to_string()),
            "Create realm",
            paths::REALMS.to_string(),
            None,
        ),
        Some(r) => (
            format!("Settings of {}", r.name),
            (paths::realm(&r.name), "Dashboard".to_string()),
            "Save changes",
            paths::realm(&r.name),
            Some({
                let mail = paths::section(&r.name, "smtp");
                let delete = (r.name != "master").then(|| {
                    view! {
                        <a class="button danger-outline" href=paths::section(&r.name, "delete")>"Delete realm"</a>
                    }
                });
                let tokens = paths::section(&r.name, "initial-access-tokens");
                view! {
                    <a class="button secondary" id="mail-settings" href=mail>"Mail settings"</a>
                    <a class="button secondary" id="initial-access-tokens" href=tokens>"Initial access tokens"</a>
                    {delete}
                }
                .into_any()
            }),
        ),
    };
    view! {
        <Layout title=title back=back actions=actions>
            <form method="post" class="panel form" novalidate=true>
                <Csrf/>
                <FormError/>
                <Group title="Realm">
                    <Text name="name" label="Name" readonly=!creating required=true
                        hint="Lower-case letters, digits, - and _; part of the issuer URL, so it cannot change."/>
                    <Text name="display_name" label="Display name" hint="Shown on sign-in pages."/>
                    <Check name="enabled" label="Enabled" hint="A disabled realm issues no tokens."/>
                    <Check name="decentralized" label="Decentralized mode"
                        hint="Tokens carry the claims and scopes their callers supply."/>
                </Group>
                <Group title="Signing and sessions">
                    <div class="grid-2">
                        <Select name="signing_alg" label="Access token algorithm" options=with_default(algs.clone())/>
                        <Select name="id_token_signing_alg" label="ID token algorithm" options=with_default(algs)/>
                    </div>
                    <Select name="cookie_mode" label="Sign-in cookie" options=with_default(cookie_modes)/>
                    <Select name="mfa" label="Second factor" options=with_default(mfa_policies)/>
                </Group>
                <Group title="Signed requests and sender-constrained tokens">
                    <Select name="profile" label="Security profile" options=vec![
                        (String::new(), "None".to_string()),
                        ("fapi2".to_string(), "FAPI 2.0 Security Profile".to_string()),
                    ]/>
                    <Check name="require_par" label="Require pushed authorization requests (PAR) from every client"/>
                    <Check name="use_dpop_nonce" label="DPoP proofs must carry a server nonce"/>
                    <Select name="registration" label="Dynamic client registration" options=vec![
                        ("off".to_string(), "Off: administrators make clients".to_string()),
                        ("initial_token".to_string(), "With an initial access token".to_string()),
                        ("open".to_string(), "Open (public code + PKCE clients only, rate limited)".to_string()),
                    ]/>
                    <Check name="client_id_metadata_documents" label="Accept client ID metadata documents"
                        hint="An https:// client_id names the client's JSON metadata, fetched and cached."/>
                    <TextArea name="self_service_scopes" label="Scopes self-registered clients may ask for" rows=2 mono=true
                        hint="For open registration and metadata documents; scopes of this realm, one per line. An API for agents (an MCP server) lists its own scopes here."/>
                    <Check name="allow_private_fetch" label="Allow client URLs on private addresses"
                        hint="For closed networks and tests: jwks_uri and other client-supplied URLs may point at private or loopback addresses."/>
                </Group>
                {rate_limit_fields}
                <Group title="Lifetimes" note="Clients may override these.">
                    <div class="grid-3">{lifetimes}</div>
                    <Text name="refresh_reuse_grace" label="Refresh reuse grace" kind="number" placeholder="server default (0)"
                        hint="Seconds in which a client may retry a refresh and get the same tokens again. 0: any reuse of a rotated refresh token revokes its family."/>
                </Group>
                <Submit label=submit cancel=cancel/>
            </form>
        </Layout>
    }
}

async fn confirm_delete(admin: Admin, Path(realm): Path<String>) -> Response {
    match admin.ctx.port.get_realm(&realm).await {
        Ok(view) => {
            let mut confirm = Confirm::delete(
                "realm",
                &view.name,
                paths::section(&view.name, "delete"),
                paths::realm(&view.name),
            );
            confirm.consequence =
                "Its clients, users, keys and sessions go with it. This cannot be undone.".into();
            admin.confirm(Some(&realm), Section::Realms, confirm).await
        }
        Err(e) => admin.fail(Some(&realm), Section::Realms, e).await,
    }
}

async fn delete(Path(realm): Path<String>, f: AdminForm) -> Response {
    let admin = f.admin;
    match admin.ctx.port.delete_realm(&admin.actor, &realm).await {
        Ok(()) => {
            let flash = format!("Realm {realm} deleted.");
            admin.redirect(paths::REALMS, Some(flash)).await
        }
        Err(e) => admin.fail(None, Section::Realms, e).await,
    }
}
