//! Federation in the console: a realm's upstream identity providers and LDAP directories on
//! the generic collection pages, each with a "Test connection" action, and a user's links to
//! upstream accounts (`…/users/{id}/links`, removable behind a confirmation).

use std::collections::BTreeMap;

use admin_model::{
    Actor, AdminPort, AdminResult, DirectoryInput, DirectoryView, FederatedLinkView,
    IdentityProviderInput, IdentityProviderView, Page, PageRequest, UserView,
};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use leptos::prelude::*;

use super::collection::{self, item_href, BoxFuture, Collection, Created};
use crate::auth::{Admin, AdminForm};
use crate::form_data::{Errors, FormData, Reader};
use crate::forms::{options, Check, Csrf, Group, Select, Text, TextArea};
use crate::layout::{Confirm, Layout, Section};
use crate::paths;
use crate::widgets::{or_dash, Badge, Empty, Enabled, Facts, Time};
use crate::Ctx;

pub fn routes(router: Router<Ctx>) -> Router<Ctx> {
    let router = collection::routes::<IdentityProviders>(router);
    let router = collection::routes::<Directories>(router);
    router
        .route(
            "/admin/realms/{realm}/identity-providers/{key}/test",
            post(test_provider),
        )
        .route(
            "/admin/realms/{realm}/directories/{key}/test",
            post(test_directory),
        )
        .route("/admin/realms/{realm}/users/{key}/links", get(user_links))
        .route(
            "/admin/realms/{realm}/users/{key}/links/{alias}/remove",
            get(confirm_unlink).post(unlink),
        )
}

/// `from = to` lines.
fn mapping_lines(map: &BTreeMap<String, String>) -> Vec<String> {
    map.iter()
        .map(|(from, to)| format!("{from} = {to}"))
        .collect()
}

/// Reads `from = to` lines; a line without `=` is an error of the field.
fn read_mapping(form: &FormData, name: &str, errors: &mut Errors) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for line in form.lines(name) {
        match line.split_once('=') {
            Some((from, to)) if !from.trim().is_empty() && !to.trim().is_empty() => {
                map.insert(from.trim().to_string(), to.trim().to_string());
            }
            _ => errors.add(name, format!("`{line}` is not of the form `from = to`")),
        }
    }
    map
}

/// A secret field left blank keeps the stored secret.
fn secret_of(form: &FormData, name: &str) -> Option<Option<String>> {
    form.opt(name).map(Some)
}

pub struct IdentityProviders;

const TEMPLATES: [(&str, &str); 5] = [
    ("", "None: set every field"),
    ("google", "Google"),
    ("microsoft", "Microsoft Entra ID"),
    ("github", "GitHub"),
    ("gitlab", "GitLab"),
];

impl Collection for IdentityProviders {
    const SLUG: &'static str = "identity-providers";
    const NOUN: &'static str = "identity provider";
    const TITLE: &'static str = "Identity providers";
    const SECTION: Section = Section::IdentityProviders;
    const HEADERS: &'static [&'static str] = &["Alias", "Name", "Kind", "Issuer", "Enabled"];
    const FIELDS: &'static [&'static str] = &[
        "alias",
        "template",
        "kind",
        "display_name",
        "enabled",
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "client_id",
        "client_secret",
        "client_auth_method",
        "scopes",
        "pkce",
        "subject_claim",
        "claim_mappings",
        "sync_mode",
        "link_by_verified_email",
        "create_users",
    ];

    type View = IdentityProviderView;
    type Input = IdentityProviderInput;
    type Created = IdentityProviderView;

    fn key(v: &IdentityProviderView) -> String {
        v.alias.clone()
    }

    fn cells(v: &IdentityProviderView) -> AnyView {
        view! {
            <td>{v.display_name.clone()}</td>
            <td>{v.kind.clone()}</td>
            <td>{or_dash(v.issuer.clone())}</td>
            <td><Enabled on=v.enabled/></td>
        }
        .into_any()
    }

    fn values(v: &IdentityProviderView) -> FormData {
        let mut f = FormData::default();
        f.set("alias", v.alias.clone())
            .set("kind", v.kind.clone())
            .set("display_name", v.display_name.clone())
            .set_flag("enabled", v.enabled)
            .set_opt("issuer", v.issuer.clone())
            .set_opt("authorization_endpoint", v.authorization_endpoint.clone())
            .set_opt("token_endpoint", v.token_endpoint.clone())
            .set_opt("userinfo_endpoint", v.userinfo_endpoint.clone())
            .set_opt("jwks_uri", v.jwks_uri.clone())
            .set("client_id", v.client_id.clone())
            .set("client_auth_method", v.client_auth_method.clone())
            .set("scopes", v.scopes.join(" "))
            .set_flag("pkce", v.pkce)
            .set("subject_claim", v.subject_claim.clone())
            .set_lines("claim_mappings", &mapping_lines(&v.claim_mappings))
            .set("sync_mode", v.sync_mode.clone())
            .set_flag("link_by_verified_email", v.link_by_verified_email)
            .set_flag("create_users", v.create_users);
        f
    }

    fn defaults() -> FormData {
        let mut f = FormData::default();
        f.set("kind", "oidc")
            .set_flag("create_users", true)
            .set_flag("enabled", true)
            .set_flag("pkce", true)
            .set("client_auth_method", "client_secret_basic")
            .set("sync_mode", "import");
        f
    }

    fn read(form: &FormData, creating: bool) -> Result<IdentityProviderInput, Errors> {
        let r = Reader::new(form);
        let mut errors = Errors::new();
        let mappings = read_mapping(form, "claim_mappings", &mut errors);
        let template = creating.then(|| form.opt("template")).flatten();
        let input = IdentityProviderInput {
            alias: creating.then(|| form.text("alias")),
            // A template fills what is left blank: blank fields are not sent on creation.
            kind: (!creating || template.is_none()).then(|| form.text("kind")),
            template,
            display_name: form.opt("display_name"),
            enabled: Some(form.checked("enabled")),
            issuer: r.nullable("issuer").filter(|v| !creating || v.is_some()),
            authorization_endpoint: r
                .nullable("authorization_endpoint")
                .filter(|v| !creating || v.is_some()),
            token_endpoint: r
                .nullable("token_endpoint")
                .filter(|v| !creating || v.is_some()),
            userinfo_endpoint: r
                .nullable("userinfo_endpoint")
                .filter(|v| !creating || v.is_some()),
            jwks_uri: r.nullable("jwks_uri").filter(|v| !creating || v.is_some()),
            client_id: Some(form.text("client_id")),
            client_secret: secret_of(form, "client_secret"),
            client_auth_method: Some(form.text("client_auth_method")),
            scopes: Some(form.words("scopes")).filter(|s| !creating || !s.is_empty()),
            pkce: Some(form.checked("pkce")),
            subject_claim: form.opt("subject_claim"),
            claim_mappings: Some(mappings).filter(|m| !creating || !m.is_empty()),
            sync_mode: Some(form.text("sync_mode")),
            link_by_verified_email: Some(form.checked("link_by_verified_email")),
            create_users: Some(form.checked("create_users")),
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        r.finish(input)
    }

    fn fields(creating: bool) -> AnyView {
        let template = creating.then(|| {
            view! {
                <Select name="template" label="Template" options=TEMPLATES.iter().map(|(v, l)| (v.to_string(), l.to_string())).collect()
                    hint="Prefills endpoints, scopes and mappings of a well-known provider; fields left blank keep its values."/>
            }
        });
        view! {
            <Group title="Provider">
                <Text name="alias" label="Alias" readonly=!creating required=true
                    hint="Its name in URLs: the redirect URI and idp_hint."/>
                {template}
                <Select name="kind" label="Kind" options=vec![("oidc".to_string(), "OpenID Connect".to_string()), ("oauth2".to_string(), "OAuth 2 with a userinfo URL".to_string())]/>
                <Text name="display_name" label="Button label" hint="Shown on the login page as “Sign in with …”."/>
                <Check name="enabled" label="Enabled"/>
            </Group>
            <Group title="Endpoints" note="An OpenID Connect provider needs its issuer; what is left blank comes from its discovery document.">
                <Text name="issuer" label="Issuer" kind="url"/>
                <Text name="authorization_endpoint" label="Authorization endpoint" kind="url"/>
                <Text name="token_endpoint" label="Token endpoint" kind="url"/>
                <Text name="userinfo_endpoint" label="Userinfo endpoint" kind="url"/>
                <Text name="jwks_uri" label="JWKS URL" kind="url"/>
            </Group>
            <Group title="Client at the provider">
                <Text name="client_id" label="Client ID" required=true/>
                <Text name="client_secret" label="Client secret" kind="password" autocomplete="new-password"
                    hint="Write-only: leave blank to keep the stored one."/>
                <Select name="client_auth_method" label="Authentication" options=options(&["client_secret_basic", "client_secret_post"])/>
                <Text name="scopes" label="Scopes" hint="Space-separated, such as openid email profile."/>
                <Check name="pkce" label="Use PKCE (S256)"/>
            </Group>
            <Group title="Accounts">
                <Text name="subject_claim" label="Subject claim" hint="The claim identifying the account: sub, or id for GitHub."/>
                <TextArea name="claim_mappings" label="Claim mappings" rows=4 mono=true
                    hint="One per line: upstream claim = username, email, name or a local claim."/>
                <Select name="sync_mode" label="Copy claims" options=vec![("import".to_string(), "At the first sign-in".to_string()), ("force".to_string(), "At every sign-in".to_string())]/>
                <Check name="create_users" label="Create a user at an unlinked account's first sign-in"/>
                <Check name="link_by_verified_email" label="Link to an existing account by verified email address"/>
            </Group>
        }
        .into_any()
    }

    fn extra(realm: &str, v: &IdentityProviderView) -> AnyView {
        let test = format!("{}/test", item_href::<IdentityProviders>(realm, &v.alias));
        let secret = if v.client_secret_set {
            view! { <Badge kind="ok" text="Secret set"/> }.into_any()
        } else {
            view! { <Badge kind="warn" text="No secret"/> }.into_any()
        };
        view! {
            <section class="panel">
                <h2>"Connection"</h2>
                <Facts rows=vec![
                    ("Redirect URI", view! { <code id="redirect-uri">{v.redirect_uri.clone()}</code> }.into_any()),
                    ("Client secret", secret),
                ]/>
                <p class="muted">"Register the redirect URI at the provider."</p>
                <form method="post" action=test>
                    <Csrf/>
                    <button type="submit" class="secondary" id="test-connection">"Test connection"</button>
                </form>
            </section>
        }
        .into_any()
    }

    fn list<'a>(
        port: &'a dyn AdminPort,
        realm: &'a str,
        _search: Option<&'a str>,
        page: PageRequest,
    ) -> BoxFuture<'a, AdminResult<Page<IdentityProviderView>>> {
        port.list_identity_providers(realm, page)
    }

    fn get<'a>(
        port: &'a dyn AdminPort,
        realm: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, AdminResult<IdentityProviderView>> {
        port.get_identity_provider(realm, key)
    }

    fn create<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        input: IdentityProviderInput,
    ) -> BoxFuture<'a, AdminResult<IdentityProviderView>> {
        port.create_identity_provider(actor, realm, input)
    }

    fn created(v: IdentityProviderView) -> Created {
        Created {
            label: v.alias.clone(),
            key: v.alias,
            secret: None,
        }
    }

    fn update<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        key: &'a str,
        input: IdentityProviderInput,
    ) -> BoxFuture<'a, AdminResult<IdentityProviderView>> {
        port.update_identity_provider(actor, realm, key, input)
    }

    fn delete<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, AdminResult<()>> {
        port.delete_identity_provider(actor, realm, key)
    }
}

pub struct Directories;

impl Collection for Directories {
    const SLUG: &'static str = "directories";
    const NOUN: &'static str = "directory";
    const TITLE: &'static str = "Directories";
    const SECTION: Section = Section::Directories;
    const HEADERS: &'static [&'static str] = &["Name", "URL", "User base", "Enabled"];
    const FIELDS: &'static [&'static str] = &[
        "name",
        "enabled",
        "url",
        "starttls",
        "bind_dn",
        "bind_password",
        "tls_ca_certificate",
        "user_base_dn",
        "user_filter",
        "subject_attribute",
        "attribute_mappings",
        "group_base_dn",
        "group_filter",
        "group_name_attribute",
        "group_roles",
        "timeout_seconds",
    ];

    type View = DirectoryView;
    type Input = DirectoryInput;
    type Created = DirectoryView;

    fn key(v: &DirectoryView) -> String {
        v.name.clone()
    }

    fn cells(v: &DirectoryView) -> AnyView {
        view! {
            <td><code>{v.url.clone()}</code></td>
            <td><code>{v.user_base_dn.clone()}</code></td>
            <td><Enabled on=v.enabled/></td>
        }
        .into_any()
    }

    fn values(v: &DirectoryView) -> FormData {
        let mut f = FormData::default();
        f.set("name", v.name.clone())
            .set_flag("enabled", v.enabled)
            .set("url", v.url.clone())
            .set_flag("starttls", v.starttls)
            .set_opt("bind_dn", v.bind_dn.clone())
            .set_opt("tls_ca_certificate", v.tls_ca_certificate.clone())
            .set("user_base_dn", v.user_base_dn.clone())
            .set("user_filter", v.user_filter.clone())
            .set("subject_attribute", v.subject_attribute.clone())
            .set_lines("attribute_mappings", &mapping_lines(&v.attribute_mappings))
            .set_opt("group_base_dn", v.group_base_dn.clone())
            .set("group_filter", v.group_filter.clone())
            .set("group_name_attribute", v.group_name_attribute.clone())
            .set_lines("group_roles", &mapping_lines(&v.group_roles))
            .set("timeout_seconds", v.timeout_seconds.to_string());
        f
    }

    fn defaults() -> FormData {
        let mut f = FormData::default();
        f.set_flag("enabled", true)
            .set("user_filter", "(uid={username})")
            .set("subject_attribute", "entryUUID")
            .set_lines(
                "attribute_mappings",
                &[
                    "cn = name".into(),
                    "mail = email".into(),
                    "uid = username".into(),
                ],
            )
            .set("group_filter", "(member={dn})")
            .set("group_name_attribute", "cn")
            .set("timeout_seconds", "5");
        f
    }

    fn read(form: &FormData, creating: bool) -> Result<DirectoryInput, Errors> {
        let r = Reader::new(form);
        let mut errors = Errors::new();
        let attribute_mappings = read_mapping(form, "attribute_mappings", &mut errors);
        let group_roles = read_mapping(form, "group_roles", &mut errors);
        let timeout = match form.opt("timeout_seconds") {
            None => None,
            Some(text) => match text.parse::<i32>() {
                Ok(seconds) => Some(seconds),
                Err(_) => {
                    errors.add("timeout_seconds", "must be a whole number of seconds");
                    None
                }
            },
        };
        let input = DirectoryInput {
            name: creating.then(|| form.text("name")),
            enabled: Some(form.checked("enabled")),
            url: Some(form.text("url")),
            starttls: Some(form.checked("starttls")),
            bind_dn: r.nullable("bind_dn"),
            bind_password: secret_of(form, "bind_password"),
            tls_ca_certificate: r.nullable("tls_ca_certificate"),
            user_base_dn: Some(form.text("user_base_dn")),
            user_filter: form.opt("user_filter"),
            subject_attribute: form.opt("subject_attribute"),
            attribute_mappings: Some(attribute_mappings),
            group_base_dn: r.nullable("group_base_dn"),
            group_filter: form.opt("group_filter"),
            group_name_attribute: form.opt("group_name_attribute"),
            group_roles: Some(group_roles),
            timeout_seconds: timeout,
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        r.finish(input)
    }

    fn fields(creating: bool) -> AnyView {
        view! {
            <Group title="Directory">
                <Text name="name" label="Name" readonly=!creating required=true/>
                <Check name="enabled" label="Enabled" hint="Asked, in name order, for users without a local password."/>
                <Text name="url" label="URL" required=true placeholder="ldaps://ldap.example.org" hint="ldap:// or ldaps://"/>
                <Check name="starttls" label="StartTLS" hint="Upgrade an ldap:// connection before binding."/>
                <TextArea name="tls_ca_certificate" label="CA certificate" rows=4 mono=true
                    hint="PEM. The CA to trust for ldaps:// and StartTLS; blank for the system's roots."/>
                <Text name="timeout_seconds" label="Timeout (seconds)" kind="number"/>
            </Group>
            <Group title="Service account" note="Searches run as this account; without one, anonymously.">
                <Text name="bind_dn" label="Bind DN" placeholder="cn=reader,dc=example,dc=org"/>
                <Text name="bind_password" label="Bind password" kind="password" autocomplete="new-password"
                    hint="Write-only: leave blank to keep the stored one."/>
            </Group>
            <Group title="Users">
                <Text name="user_base_dn" label="User base DN" required=true placeholder="ou=people,dc=example,dc=org"/>
                <Text name="user_filter" label="User filter" hint="{username} stands for the escaped username; Active Directory: (sAMAccountName={username})."/>
                <Text name="subject_attribute" label="Stable id attribute" hint="entryUUID; Active Directory: objectGUID."/>
                <TextArea name="attribute_mappings" label="Attribute mappings" rows=4 mono=true
                    hint="One per line: attribute = username, email, name or a local claim."/>
            </Group>
            <Group title="Groups">
                <Text name="group_base_dn" label="Group base DN" hint="Leave blank to read no groups."/>
                <Text name="group_filter" label="Group filter" hint="{dn} stands for the user's DN."/>
                <Text name="group_name_attribute" label="Group name attribute"/>
                <TextArea name="group_roles" label="Groups to roles" rows=3 mono=true
                    hint="One per line: group name = role. The directory decides these roles at every sign-in."/>
            </Group>
        }
        .into_any()
    }

    fn extra(realm: &str, v: &DirectoryView) -> AnyView {
        let test = format!("{}/test", item_href::<Directories>(realm, &v.name));
        view! {
            <section class="panel">
                <h2>"Connection"</h2>
                <p class="muted">"Binds as the service account and reads the user base."</p>
                <form method="post" action=test>
                    <Csrf/>
                    <button type="submit" class="secondary" id="test-connection">"Test connection"</button>
                </form>
            </section>
        }
        .into_any()
    }

    fn list<'a>(
        port: &'a dyn AdminPort,
        realm: &'a str,
        _search: Option<&'a str>,
        page: PageRequest,
    ) -> BoxFuture<'a, AdminResult<Page<DirectoryView>>> {
        port.list_directories(realm, page)
    }

    fn get<'a>(
        port: &'a dyn AdminPort,
        realm: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, AdminResult<DirectoryView>> {
        port.get_directory(realm, key)
    }

    fn create<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        input: DirectoryInput,
    ) -> BoxFuture<'a, AdminResult<DirectoryView>> {
        port.create_directory(actor, realm, input)
    }

    fn created(v: DirectoryView) -> Created {
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
        input: DirectoryInput,
    ) -> BoxFuture<'a, AdminResult<DirectoryView>> {
        port.update_directory(actor, realm, key, input)
    }

    fn delete<'a>(
        port: &'a dyn AdminPort,
        actor: &'a Actor,
        realm: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, AdminResult<()>> {
        port.delete_directory(actor, realm, key)
    }
}

/// What a connection test found, for its result page.
#[derive(Clone)]
struct TestResult {
    back: (String, String),
    ok: bool,
    error: Option<String>,
    facts: Vec<(&'static str, String)>,
}

fn test_result_view(d: TestResult) -> impl IntoView {
    let verdict = if d.ok {
        view! { <Badge kind="ok" text="Connected"/> }.into_any()
    } else {
        view! { <Badge kind="warn" text="Failed"/> }.into_any()
    };
    let mut rows: Vec<(&'static str, AnyView)> = vec![("Result", verdict)];
    if let Some(error) = d.error.clone() {
        rows.push((
            "Error",
            view! { <span id="test-error">{error}</span> }.into_any(),
        ));
    }
    for (term, value) in d.facts.clone() {
        rows.push((term, view! { <code>{value}</code> }.into_any()));
    }
    view! {
        <Layout title="Connection test" back=d.back.clone()>
            <section class="panel" id="test-result" data-ok=d.ok.to_string()>
                <Facts rows=rows/>
            </section>
        </Layout>
    }
}

async fn test_provider(Path((realm, key)): Path<(String, String)>, f: AdminForm) -> Response {
    let admin = f.admin;
    match admin.ctx.port.test_identity_provider(&realm, &key).await {
        Ok(check) => {
            let mut facts = Vec::new();
            for (term, value) in [
                ("Issuer", check.issuer),
                ("Authorization endpoint", check.authorization_endpoint),
                ("Token endpoint", check.token_endpoint),
                ("Userinfo endpoint", check.userinfo_endpoint),
                ("JWKS URL", check.jwks_uri),
                ("Signing keys", check.signing_keys.map(|n| n.to_string())),
            ] {
                if let Some(value) = value {
                    facts.push((term, value));
                }
            }
            let data = TestResult {
                back: (item_href::<IdentityProviders>(&realm, &key), key.clone()),
                ok: check.ok,
                error: check.error,
                facts,
            };
            admin
                .page(
                    StatusCode::OK,
                    Some(&realm),
                    Section::IdentityProviders,
                    data,
                    test_result_view,
                )
                .await
        }
        Err(e) => {
            admin
                .fail(Some(&realm), Section::IdentityProviders, e)
                .await
        }
    }
}

async fn test_directory(Path((realm, key)): Path<(String, String)>, f: AdminForm) -> Response {
    let admin = f.admin;
    match admin.ctx.port.test_directory(&realm, &key).await {
        Ok(check) => {
            let data = TestResult {
                back: (item_href::<Directories>(&realm, &key), key.clone()),
                ok: check.ok,
                error: check.error,
                facts: vec![(
                    "User base found",
                    if check.user_base_found { "yes" } else { "no" }.to_string(),
                )],
            };
            admin
                .page(
                    StatusCode::OK,
                    Some(&realm),
                    Section::Directories,
                    data,
                    test_result_view,
                )
                .await
        }
        Err(e) => admin.fail(Some(&realm), Section::Directories, e).await,
    }
}

#[derive(Clone)]
struct UserLinksData {
    realm: String,
    user: UserView,
    links: Vec<FederatedLinkView>,
}

/// `GET …/users/{key}/links`: the user's links to upstream accounts.
async fn user_links(admin: Admin, Path((realm, key)): Path<(String, String)>) -> Response {
    let port = admin.ctx.port.clone();
    let found = match port.get_user(&realm, &key).await {
        Ok(user) => port
            .list_user_links(&realm, &key)
            .await
            .map(|links| (user, links)),
        Err(e) => Err(e),
    };
    match found {
        Ok((user, links)) => {
            let data = UserLinksData {
                realm: realm.clone(),
                user,
                links,
            };
            admin
                .page(
                    StatusCode::OK,
                    Some(&realm),
                    Section::Users,
                    data,
                    user_links_view,
                )
                .await
        }
        Err(e) => admin.fail(Some(&realm), Section::Users, e).await,
    }
}

fn user_links_view(d: UserLinksData) -> impl IntoView {
    let user_href = paths::item(&d.realm, "users", &d.user.id);
    let body = if d.links.is_empty() {
        view! { <Empty what="linked accounts"/> }.into_any()
    } else {
        let rows = d
            .links
            .iter()
            .map(|l| {
                let remove = format!("{user_href}/links/{}/remove", paths::enc(&l.provider));
                view! {
                    <tr>
                        <td>{l.display_name.clone()} " " <code class="muted">{l.provider.clone()}</code></td>
                        <td><code>{l.subject.clone()}</code></td>
                        <td>{or_dash(l.upstream_username.clone())}</td>
                        <td><Time at=l.created_at short=true/></td>
                        <td><Time at=l.last_login_at short=true/></td>
                        <td><a class="button secondary small" href=remove>"Remove"</a></td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="table" id="links">
                <thead><tr><th>"Provider"</th><th>"Upstream subject"</th><th>"Upstream name"</th><th>"Linked"</th><th>"Last sign-in"</th><th></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <Layout title=format!("Linked accounts of {}", d.user.username) back=(user_href.clone(), d.user.username.clone())>
            <p class="lead muted">"Accounts at upstream providers this user signs in with."</p>
            {body}
        </Layout>
    }
}

async fn confirm_unlink(
    admin: Admin,
    Path((realm, key, alias)): Path<(String, String, String)>,
) -> Response {
    let user = match admin.ctx.port.get_user(&realm, &key).await {
        Ok(user) => user,
        Err(e) => return admin.fail(Some(&realm), Section::Users, e).await,
    };
    let links = format!("{}/links", paths::item(&realm, "users", &key));
    let confirm = Confirm {
        title: "Remove link".into(),
        verb: format!("Remove the link to {alias} of"),
        key: user.username,
        consequence: "The user can no longer sign in through that provider's account; a later sign-in there makes a new link or a new user.".into(),
        action: format!("{links}/{}/remove", paths::enc(&alias)),
        button: "Remove link".into(),
        danger: true,
        cancel: links,
    };
    admin.confirm(Some(&realm), Section::Users, confirm).await
}

async fn unlink(
    Path((realm, key, alias)): Path<(String, String, String)>,
    f: AdminForm,
) -> Response {
    let admin = f.admin;
    match admin
        .ctx
        .port
        .delete_user_link(&admin.actor, &realm, &key, &alias)
        .await
    {
        Ok(()) => {
            admin
                .redirect(
                    &format!("{}/links", paths::item(&realm, "users", &key)),
                    Some("Link removed.".to_string()),
                )
                .await
        }
        Err(e) => admin.fail(Some(&realm), Section::Users, e).await,
    }
}
