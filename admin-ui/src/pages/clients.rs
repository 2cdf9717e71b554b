//! Clients: the generic list/new/edit/delete pages plus the client secret, shown once after
//! creation or rotation (`POST …/clients/{id}/secret`, behind a confirmation).

use admin_model::{
    Actor, AdminPort, AdminResult, ClientCreated, ClientInput, ClientView, Page, PageRequest,
};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;

use super::collection::{self, item_href, BoxFuture, Collection, Created};
use crate::auth::{Admin, AdminForm};
use crate::form_data::{Errors, FormData, Reader};
use crate::forms::{options, Check, Checks, Group, Select, Text, TextArea};
use crate::layout::{Confirm, Layout, Section};
use crate::widgets::{Badge, Chips, Enabled, Facts};
use crate::Ctx;

pub struct Clients;

/// The grant types a client may be given, with how people call them.
pub const GRANT_TYPES: [(&str, &str); 6] = [
    ("authorization_code", "Authorization code"),
    ("client_credentials", "Client credentials"),
    ("password", "Resource owner password"),
    ("refresh_token", "Refresh token"),
    (
        "urn:ietf:params:oauth:grant-type:device_code",
        "Device code",
    ),
    (
        "urn:ietf:params:oauth:grant-type:token-exchange",
        "Token exchange",
    ),
];

const LIFETIMES: [(&str, &str); 6] = [
    ("access_token_lifetime", "Access token"),
    ("refresh_token_lifetime", "Refresh token (absolute)"),
    ("refresh_token_sliding_lifetime", "Refresh token (sliding)"),
    ("id_token_lifetime", "ID token"),
    ("code_lifetime", "Authorization code"),
    ("device_code_lifetime", "Device code"),
];

/// Algorithm choices where empty inherits the realm's.
fn mfa_options() -> Vec<(String, String)> {
    vec![
        ("inherit".to_string(), "As the realm says".to_string()),
        (
            "required".to_string(),
            "Required for every login to this client".to_string(),
        ),
    ]
}

fn auth_method_options() -> Vec<(String, String)> {
    let mut out = vec![(
        String::new(),
        "Secret (Basic or POST); none if public".to_string(),
    )];
    out.extend(options(&[
        "client_secret_basic",
        "client_secret_post",
        "client_secret_jwt",
        "private_key_jwt",
        "none",
    ]));
    out
}

fn alg_options() -> Vec<(String, String)> {
    let mut out = vec![(String::new(), "Realm default".to_string())];
    out.extend(options(&["ES256", "RS256", "EdDSA"]));
    out
}

pub fn routes(router: Router<Ctx>) -> Router<Ctx> {
    collection::routes::<Clients>(router).route(
        "/admin/realms/{realm}/clients/{key}/secret",
        get(confirm_rotate).post(rotate),
    )
}

impl Collection for Clients {
    const SLUG: &'static str = "clients";
    const NOUN: &'static str = "client";
    const TITLE: &'static str = "Clients";
    const SECTION: Section = Section::Clients;
    const HEADERS: &'static [&'static str] =
        &["Client ID", "Name", "Type", "Grant types", "Status"];
    const FIELDS: &'static [&'static str] = &[
        "client_id",
        "display_name",
        "public",
        "client_secret",
        "grant_types",
        "redirect_uris",
        "post_logout_redirect_uris",
        "scopes",
        "audiences",
        "roles",
        "require_pkce",
        "require_consent",
        "allow_arbitrary_claims",
        "always_issue_refresh_token",
        "access_token_lifetime",
        "refresh_token_lifetime",
        "refresh_token_sliding_lifetime",
        "id_token_lifetime",
        "code_lifetime",
        "device_code_lifetime",
        "refresh_reuse_grace",
        "access_token_signing_alg",
        "id_token_signing_alg",
        "backchannel_logout_uri",
        "mfa",
        "token_endpoint_auth_method",
        "jwks",
        "jwks_uri",
        "require_par",
        "require_signed_request_object",
        "dpop_bound_access_tokens",
        "enabled",
    ];

    type View = ClientView;
    type Input = ClientInput;
    type Created = ClientCreated;

    fn key(view: &ClientView) -> String {
        view.client_id.clone()
    }

    fn cells(c: &ClientView) -> AnyView {
        let kind = if c.public { "Public" } else { "Confidential" };
        view! {
            <td>{crate::widgets::or_dash(c.display_name.clone())}</td>
            <td><Badge kind="info" text=kind/></td>
            <td><Chips values=c.grant_types.iter().map(|g| short_grant(g)).collect()/></td>
            <td><Enabled on=c.enabled/></td>
        }
        .into_any()
    }

    fn values(c: &ClientView) -> FormData {
        let mut f = FormData::default();
        f.set("client_id", c.client_id.clone())
            .set_opt("display_name", c.display_name.clone())
            .set_flag("public", c.public)
            .set_all("grant_types", &c.grant_types)
            .set_lines("redirect_uris", &c.redirect_uris)
            .set_lines("post_logout_redirect_uris", &c.post_logout_redirect_uris)
            .set_lines("scopes", &c.scopes)
            .set_lines("audiences", &c.audiences)
            .set_lines("roles", &c.roles)
            .set_flag("require_pkce", c.require_pkce)
            .set_flag("require_consent", c.require_consent)
            .set_flag("allow_arbitrary_claims", c.allow_arbitrary_claims)
            .set_flag("always_issue_refresh_token", c.always_issue_refresh_token)
            .set_opt("access_token_lifetime", c.access_token_lifetime)
            .set_opt("refresh_token_lifetime", c.refresh_token_lifetime)
            .set_opt(
                "refresh_token_sliding_lifetime",
                c.refresh_token_sliding_lifetime,
            )
            .set_opt("id_token_lifetime", c.id_token_lifetime)
            .set_opt("code_lifetime", c.code_lifetime)
            .set_opt("device_code_lifetime", c.device_code_lifetime)
            .set_opt("refresh_reuse_grace", c.refresh_reuse_grace)
            .set_opt(
                "access_token_signing_alg",
                c.access_token_signing_alg.clone(),
            )
            .set_opt("id_token_signing_alg", c.id_token_signing_alg.clone())
            .set_opt("backchannel_logout_uri", c.backchannel_logout_uri.clone())
            .set("mfa", c.mfa.clone())
            .set_opt(
                "token_endpoint_auth_method",
                c.token_endpoint_auth_method.clone(),
            )
            .set_opt(
                "jwks",
                c.jwks
                    .as_ref()
                    .and_then(|j| serde_json::to_string_pretty(j).ok()),
            )
            .set_opt("jwks_uri", c.jwks_uri.clone())
            .set_flag("require_par", c.require_par)
            .set_flag(
                "require_signed_request_object",
                c.require_signed_request_object,
            )
            .set_flag("dpop_bound_access_tokens", c.dpop_bound_access_tokens)
            .set_flag("enabled", c.enabled);
        f
    }

    fn defaults() -> FormData {
        let mut f = FormData::default();
        // What an interactive client usually needs; the form shows it, so nothing is implicit.
        let scopes = ["openid", "profile", "email", "offline_access"].map(String::from);
        f.set_flag("require_pkce", true)
            .set_flag("enabled", true)
            .set_lines("scopes", &scopes);
        f
    }

    fn read(form: &FormData, creating: bool) -> Result<ClientInput, Errors> {
        let mut r = Reader::new(form);
        let public = form.checked("public");
        let input = ClientInput {
            client_id: creating.then(|| form.text("client_id")),
            grant_types: Some(form.all("grant_types")),
            display_name: r.nullable("display_name"),
            public: Some(public),
            // A public client has no secret; blank asks the server to generate one.
            client_secret: if creating && !public {
                form.opt("client_secret")
            } else {
                None
            },
            redirect_uris: Some(form.lines("redirect_uris")),
            post_logout_redirect_uris: Some(form.lines("post_logout_redirect_uris")),
            scopes: Some(form.words("scopes")),
            audiences: Some(form.lines("audiences")),
            roles: Some(form.words("roles")),
            require_pkce: Some(form.checked("require_pkce")),
            require_consent: Some(form.checked("require_consent")),
            allow_arbitrary_claims: Some(form.checked("allow_arbitrary_claims")),
            always_issue_refresh_token: Some(form.checked("always_issue_refresh_token")),
            access_token_lifetime: r.seconds("access_token_lifetime"),
            refresh_token_lifetime: r.seconds("refresh_token_lifetime"),
            refresh_token_sliding_lifetime: r.seconds("refresh_token_sliding_lifetime"),
            id_token_lifetime: r.seconds("id_token_lifetime"),
            code_lifetime: r.seconds("code_lifetime"),
            device_code_lifetime: r.seconds("device_code_lifetime"),
            refresh_reuse_grace: r.seconds("refresh_reuse_grace"),
            access_token_signing_alg: Some(form.opt("access_token_signing_alg")),
            id_token_signing_alg: Some(form.opt("id_token_signing_alg")),
            backchannel_logout_uri: r.nullable("backchannel_logout_uri"),
            mfa: form.opt("mfa"),
            token_endpoint_auth_method: Some(form.opt("token_endpoint_auth_method")),
            jwks: r.nullable_json("jwks"),
            jwks_uri: r.nullable("jwks_uri"),
            require_par: Some(form.checked("require_par")),
            require_signed_request_object: Some(form.checked("require_signed_request_object")),
            dpop_bound_access_tokens: Some(form.checked("dpop_bound_access_tokens")),
            enabled: Some(form.checked("enabled")),
        };
        r.finish(input)
    }

    fn fields(creating: bool) -> AnyView {
        let grants = GRANT_TYPES
            .iter()
            .map(|(v, l)| (v.to_string(), l.to_string()))
            .collect::<Vec<_>>();
        let lifetimes = LIFETIMES
            .iter()
            .map(|(name, label)| {
                view! { <Text name=*name label=*label kind="number" placeholder="inherit" hint="Seconds; empty inherits the realm's."/> }
            })
            .collect_view();
        view! {
            <Group title="Identity">
                <Text name="client_id" label="Client ID" readonly=!creating required=true
                    hint="The client_id the application sends; it cannot change later."/>
                <Text name="display_name" label="Display name" hint="Shown on the consent page."/>
                <Check name="enabled" label="Enabled"/>
            </Group>
            <Group title="Credentials">
                <Check name="public" label="Public client"
                    hint="Apps in a browser or on a device: no secret, PKCE required."/>
                {creating.then(|| view! {
                    <div data-unless="public">
                        <Text name="client_secret" label="Client secret" kind="password" autocomplete="new-password"
                            hint="At least 16 characters. Leave empty to generate one; it is shown once."/>
                    </div>
                })}
            </Group>
            <Group title="Grants">
                <Checks name="grant_types" label="Grant types" options=grants/>
                <TextArea name="redirect_uris" label="Redirect URIs" rows=3 mono=true
                    hint="One per line; exact match."/>
                <TextArea name="post_logout_redirect_uris" label="Post-logout redirect URIs" rows=2 mono=true
                    hint="One per line."/>
                <Check name="require_pkce" label="Require PKCE"/>
                <Check name="require_consent" label="Ask users for consent"/>
            </Group>
            <Group title="Access">
                <TextArea name="scopes" label="Allowed scopes" rows=2 mono=true hint="One per line (or separated by spaces)."/>
                <TextArea name="audiences" label="Audiences" rows=2 mono=true hint="One per line."/>
                <TextArea name="roles" label="Client roles" rows=2 mono=true
                    hint="Carried by the client's own client-credentials tokens; one per line."/>
                <Check name="allow_arbitrary_claims" label="Allow caller-supplied claims (decentralized mode)"/>
                <Check name="always_issue_refresh_token" label="Always issue a refresh token"/>
            </Group>
            <Group title="Tokens" note="Empty fields inherit the realm's settings.">
                <div class="grid-3">{lifetimes}</div>
                <Text name="refresh_reuse_grace" label="Refresh reuse grace" kind="number" placeholder="inherit"
                    hint="Seconds in which a retried refresh gets the same tokens again; 0: any reuse revokes the family. Empty inherits the realm's."/>
                <div class="grid-2">
                    <Select name="access_token_signing_alg" label="Access token algorithm" options=alg_options()/>
                    <Select name="id_token_signing_alg" label="ID token algorithm" options=alg_options()/>
                </div>
                <Text name="backchannel_logout_uri" label="Back-channel logout URI" kind="url"
                    hint="Receives a logout token when a user's session ends."/>
                <Select name="mfa" label="Second factor" options=mfa_options()/>
            </Group>
            <Group title="Keys and signed requests">
                <Select name="token_endpoint_auth_method" label="Client authentication" options=auth_method_options()/>
                <TextArea name="jwks" label="Public JWK Set" rows=4 mono=true
                    hint="The client's public keys as {\"keys\": [...]}, for private_key_jwt and signed request objects."/>
                <Text name="jwks_uri" label="JWK Set URL" kind="url"
                    hint="Where the client publishes its keys instead (https)."/>
                <Check name="require_par" label="Require pushed authorization requests (PAR)"/>
                <Check name="require_signed_request_object" label="Require signed request objects (JAR)"/>
                <Check name="dpop_bound_access_tokens" label="Require DPoP-bound access tokens"/>
            </Group>
        }
        .into_any()
    }

    fn extra(realm: &str, c: &ClientView) -> AnyView {
        if c.public {
            return ().into_any();
        }
        let rotate = format!("{}/secret", item_href::<Clients>(realm, &c.client_id));
        let state = if c.has_secret {
            view! { <Badge kind="ok" text="Secret set"/> }.into_any()
        } else {
            view! { <Badge kind="warn" text="No secret"/> }.into_any()
        };
        view! {
            <section class="panel">
                <h2>"Client secret"</h2>
                <Facts rows=vec![("Status", state)]/>
                <p class="muted">"Secrets are stored as hashes and shown only once. Rotating makes the current secret stop working."</p>
                <a class="button secondary" href=rotate>"Rotate secret"</a>
            </section>
        }
        .into_any()
    }

    fn list<'a>(
        port: &'a dyn AdminPort,
        realm: &'a str,
        _search: Option<&'a str>,
        page: PageRequest,
    ) -> BoxFuture<'a, AdminResult<Page<ClientView>>> {
        port.list_clients(realm, page)
    }

    fn get<'a>(
        port: &'a dyn AdminPort,
        realm: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, AdminResult<ClientView>> {
        port.get_client(realm, key)
    }

    fn create<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        input: ClientInput,
    ) -> BoxFuture<'a, AdminResult<ClientCreated>> {
        port.create_client(actor, realm, input)
    }

    fn created(created: ClientCreated) -> Created {
        Created {
            key: created.client.client_id.clone(),
            label: created.client.client_id,
            secret: created.client_secret,
        }
    }

    fn update<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        key: &'a str,
        input: ClientInput,
    ) -> BoxFuture<'a, AdminResult<ClientView>> {
        port.update_client(actor, realm, key, input)
    }

    fn delete<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, AdminResult<()>> {
        port.delete_client(actor, realm, key)
    }
}

/// `urn:ietf:params:oauth:grant-type:device_code` → `device_code`, for narrow table cells.
fn short_grant(grant: &str) -> String {
    grant
        .strip_prefix("urn:ietf:params:oauth:grant-type:")
        .unwrap_or(grant)
        .to_string()
}

async fn confirm_rotate(admin: Admin, Path((realm, key)): Path<(String, String)>) -> Response {
    match admin.ctx.port.get_client(&realm, &key).await {
        Ok(client) => {
            let href = item_href::<Clients>(&realm, &client.client_id);
            let confirm = Confirm {
                title: "Rotate client secret".into(),
                verb: "Rotate the secret of client".into(),
                key: client.client_id.clone(),
                consequence: "The current secret stops working at once; the new one is shown once."
                    .into(),
                action: format!("{href}/secret"),
                button: "Rotate secret".into(),
                danger: true,
                cancel: href,
            };
            admin.confirm(Some(&realm), Section::Clients, confirm).await
        }
        Err(e) => admin.fail(Some(&realm), Section::Clients, e).await,
    }
}

async fn rotate(Path((realm, key)): Path<(String, String)>, f: AdminForm) -> Response {
    let admin = f.admin;
    match admin
        .ctx
        .port
        .rotate_client_secret(&admin.actor, &realm, &key)
        .await
    {
        Ok(secret) => {
            show_secret(
                &admin,
                &realm,
                &secret.client_id,
                secret.client_secret,
                true,
            )
            .await
        }
        Err(e) => admin.fail(Some(&realm), Section::Clients, e).await,
    }
}

/// Shows a client secret once; shared by client creation and secret rotation.
pub async fn show_secret(
    admin: &Admin,
    realm: &str,
    client_id: &str,
    secret: String,
    rotated: bool,
) -> Response {
    let data = SecretData {
        realm: realm.to_string(),
        client_id: client_id.to_string(),
        secret,
        rotated,
    };
    admin
        .page(
            StatusCode::OK,
            Some(realm),
            Section::Clients,
            data,
            secret_page,
        )
        .await
}

/// A client secret, shown this once.
#[derive(Clone)]
pub struct SecretData {
    pub realm: String,
    pub client_id: String,
    pub secret: String,
    pub rotated: bool,
}

pub fn secret_page(d: SecretData) -> impl IntoView {
    let href = item_href::<Clients>(&d.realm, &d.client_id);
    let title = if d.rotated {
        "New client secret"
    } else {
        "Client created"
    };
    let lead = if d.rotated {
        "The old secret no longer works. Copy the new one now: it will not be shown again."
    } else {
        "Copy the client secret now: it will not be shown again."
    };
    view! {
        <Layout title=title back=(href.clone(), d.client_id.clone())>
            <section class="panel secret">
                <p>{lead}</p>
                <Facts rows=vec![("Client ID", view! { <code>{d.client_id.clone()}</code> }.into_any())]/>
                <div class="secret-box">
                    <code id="client-secret">{d.secret.clone()}</code>
                    <button type="button" class="secondary small" data-copy="client-secret" hidden=true>"Copy"</button>
                </div>
                <p><a class="button" href=href>"Continue to the client"</a></p>
            </section>
        </Layout>
    }
}
