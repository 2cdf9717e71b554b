//! Dynamic client registration (RFC 7591) at `/connect/register` and its management (RFC 7592)
//! at `/connect/register/{client_id}`, under the realm's policy: `off`, `initial_token` (the
//! caller presents an initial access token an administrator made) or `open` (anyone, limited to
//! public code + PKCE clients with safe redirect URIs and the standard OpenID scopes, rate
//! limited per address). Self-registered clients always ask their users for consent. Their
//! registration access token is stored hashed and replaced on every update.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::changes::Change;
use crate::crypto::secrets::{SecretHasher, SecretOrigin};
use crate::crypto::{b64url, random, sha256};
use crate::domain::{grant_type, RegistrationPolicy, TokenAuthMethod};
use crate::rate_limit::Group;
use crate::state::{AppState, RealmCtx};
use crate::store;
use crate::store::clients::{ClientRow, NewClient};

/// Grants a self-registered client may use; `open` registration allows the first two only.
const GRANTS: [&str; 3] = [
    grant_type::AUTHORIZATION_CODE,
    grant_type::REFRESH_TOKEN,
    grant_type::CLIENT_CREDENTIALS,
];
const MAX_BODY: usize = 64 * 1024;

/// An RFC 7591 §3.2.2 error (or an RFC 6750 one for the registration access token).
#[derive(Debug)]
pub struct RegistrationError {
    status: StatusCode,
    code: &'static str,
    description: String,
    /// Seconds for `Retry-After` when over the rate limit.
    retry_after: Option<u64>,
}

impl RegistrationError {
    fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            code,
            description: description.into(),
            retry_after: None,
        }
    }

    fn metadata(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_client_metadata",
            description,
        )
    }

    fn redirect(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_redirect_uri", description)
    }

    fn token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token is missing, invalid, expired or used up",
        )
    }
}

impl From<store::StoreError> for RegistrationError {
    fn from(e: store::StoreError) -> Self {
        let error = super::error::OAuthError::from(e);
        Self::new(error.status(), error.code_str(), error.description)
    }
}

impl IntoResponse for RegistrationError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.code, "error_description": self.description});
        let mut response = super::token::no_store_json(body.to_string().into_bytes());
        *response.status_mut() = self.status;
        if self.status == StatusCode::UNAUTHORIZED {
            let challenge = format!(r#"Bearer realm="tessera", error="{}""#, self.code);
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

type Result<T> = std::result::Result<T, RegistrationError>;

/// Client metadata as RFC 7591 §2 names it; members not listed are ignored (§2).
#[derive(Debug, Default, Deserialize)]
struct Metadata {
    redirect_uris: Option<Vec<String>>,
    token_endpoint_auth_method: Option<String>,
    grant_types: Option<Vec<String>>,
    response_types: Option<Vec<String>>,
    client_name: Option<String>,
    client_uri: Option<String>,
    logo_uri: Option<String>,
    tos_uri: Option<String>,
    policy_uri: Option<String>,
    scope: Option<String>,
    contacts: Option<Vec<String>>,
    jwks: Option<Value>,
    jwks_uri: Option<String>,
    dpop_bound_access_tokens: Option<bool>,
    /// RFC 7592 §2.2: an update names the client it updates.
    client_id: Option<String>,
}

/// The parsed body: an object of client metadata.
fn metadata(body: &[u8]) -> Result<Metadata> {
    if body.len() > MAX_BODY {
        return Err(RegistrationError::metadata("the request body is too large"));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| RegistrationError::metadata("the body must be a JSON object"))?;
    if !value.is_object() {
        return Err(RegistrationError::metadata(
            "the body must be a JSON object",
        ));
    }
    serde_json::from_value(value)
        .map_err(|e| RegistrationError::metadata(format!("a member has the wrong type: {e}")))
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

fn check_redirect_uri(uri: &str) -> Result<()> {
    crate::validation::self_service_redirect_uri(uri)
        .map_err(|why| RegistrationError::redirect(format!("`{uri}`: {why}")))
}

fn check_https_uri(name: &str, uri: &str) -> Result<()> {
    let parsed = url::Url::parse(uri).ok().filter(|u| u.scheme() == "https");
    if uri.len() > 2048 || has_control(uri) || parsed.is_none() {
        return Err(RegistrationError::metadata(format!(
            "{name} must be an https URL"
        )));
    }
    Ok(())
}

/// Metadata checked against the realm's policy, ready to store.
struct Checked {
    client: NewClient,
    response_types: Vec<String>,
}

/// Checks `meta` under `open` (the open policy's limits) against the realm's scopes.
async fn check(state: &AppState, realm: &RealmCtx, meta: &Metadata, open: bool) -> Result<Checked> {
    let grant_types = meta
        .grant_types
        .clone()
        .unwrap_or_else(|| vec![grant_type::AUTHORIZATION_CODE.to_string()]);
    if grant_types.is_empty() {
        return Err(RegistrationError::metadata("grant_types may not be empty"));
    }
    let allowed_grants: &[&str] = if open { &GRANTS[..2] } else { &GRANTS };
    if let Some(grant) = grant_types
        .iter()
        .find(|g| !allowed_grants.contains(&g.as_str()))
    {
        return Err(RegistrationError::metadata(format!(
            "grant type `{grant}` cannot be registered here; allowed: {}",
            allowed_grants.join(", ")
        )));
    }
    let code_flow = grant_types
        .iter()
        .any(|g| g == grant_type::AUTHORIZATION_CODE);
    let response_types = meta.response_types.clone().unwrap_or_else(|| {
        if code_flow {
            vec!["code".to_string()]
        } else {
            Vec::new()
        }
    });
    // RFC 7591 §2.1: the grant types and response types must go together.
    if code_flow != (response_types == ["code"]) || response_types.iter().any(|r| r != "code") {
        return Err(RegistrationError::metadata(
            "response_types must be [\"code\"] exactly when grant_types has authorization_code",
        ));
    }
    let method_name = meta.token_endpoint_auth_method.clone().unwrap_or_else(|| {
        if open {
            "none".to_string()
        } else {
            "client_secret_basic".to_string()
        }
    });
    let method = TokenAuthMethod::parse(&method_name).ok_or_else(|| {
        RegistrationError::metadata(format!(
            "token_endpoint_auth_method `{method_name}` is not supported"
        ))
    })?;
    if open && method != TokenAuthMethod::None {
        return Err(RegistrationError::metadata(
            "open registration makes public clients only: token_endpoint_auth_method none",
        ));
    }
    let public = method == TokenAuthMethod::None;
    if public
        && grant_types
            .iter()
            .any(|g| g == grant_type::CLIENT_CREDENTIALS)
    {
        return Err(RegistrationError::metadata(
            "client_credentials needs a client that authenticates",
        ));
    }
    let redirect_uris = meta.redirect_uris.clone().unwrap_or_default();
    if code_flow && redirect_uris.is_empty() {
        return Err(RegistrationError::redirect(
            "authorization_code needs at least one redirect URI",
        ));
    }
    if redirect_uris.len() > 20 {
        return Err(RegistrationError::redirect("at most 20 redirect URIs"));
    }
    for uri in &redirect_uris {
        check_redirect_uri(uri)?;
    }
    if let Some(name) = &meta.client_name {
        if name.is_empty() || name.chars().count() > 200 || has_control(name) {
            return Err(RegistrationError::metadata(
                "client_name must be 1 to 200 printable characters",
            ));
        }
    }
    for (name, uri) in [
        ("client_uri", &meta.client_uri),
        ("logo_uri", &meta.logo_uri),
        ("tos_uri", &meta.tos_uri),
        ("policy_uri", &meta.policy_uri),
    ] {
        if let Some(uri) = uri {
            check_https_uri(name, uri)?;
        }
    }
    if meta
        .contacts
        .as_ref()
        .is_some_and(|c| c.len() > 10 || c.iter().any(|c| c.len() > 320 || has_control(c)))
    {
        return Err(RegistrationError::metadata(
            "contacts: at most 10 addresses",
        ));
    }
    let catalog = state.caches.directory.catalog(&realm.realm.id).await?;
    let realm_scopes: Vec<&str> = catalog.scopes.iter().map(|s| s.name.as_str()).collect();
    let self_service = realm.realm.security.self_service_scopes();
    let scopes: Vec<String> = match &meta.scope {
        Some(raw) => raw
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        None => self_service
            .iter()
            .filter(|s| realm_scopes.contains(s))
            .map(|s| s.to_string())
            .collect(),
    };
    for scope in &scopes {
        if !realm_scopes.contains(&scope.as_str()) {
            return Err(RegistrationError::metadata(format!(
                "scope `{scope}` is not a scope of this realm"
            )));
        }
        if open && !self_service.contains(&scope.as_str()) {
            return Err(RegistrationError::metadata(format!(
                "open registration allows only the scopes {}",
                self_service.join(" ")
            )));
        }
    }
    if meta.jwks.is_some() && meta.jwks_uri.is_some() {
        return Err(RegistrationError::metadata(
            "give jwks or jwks_uri, not both",
        ));
    }
    let jwks = match &meta.jwks {
        Some(set) => {
            crate::jose::check_public_set(set)
                .map_err(|why| RegistrationError::metadata(format!("jwks {why}")))?;
            Some(set.to_string())
        }
        None => None,
    };
    if let Some(uri) = &meta.jwks_uri {
        check_https_uri("jwks_uri", uri).or_else(|e| {
            // Closed networks and tests may publish keys on plain http inside.
            if realm.realm.security.allow_private_fetch && uri.starts_with("http://") {
                Ok(())
            } else {
                Err(e)
            }
        })?;
    }
    if method == TokenAuthMethod::PrivateKeyJwt && jwks.is_none() && meta.jwks_uri.is_none() {
        return Err(RegistrationError::metadata(
            "private_key_jwt needs jwks or jwks_uri",
        ));
    }
    Ok(Checked {
        client: NewClient {
            display_name: meta.client_name.clone(),
            public,
            grant_types,
            redirect_uris,
            scopes,
            require_pkce: true,
            // Nobody vouched for a client that registered itself: its users decide.
            require_consent: true,
            enabled: true,
            security: crate::domain::ClientSecurity {
                auth_method: Some(method),
                jwks,
                jwks_uri: meta.jwks_uri.clone(),
                dpop_bound_access_tokens: meta.dpop_bound_access_tokens.unwrap_or(false),
                ..Default::default()
            },
            ..Default::default()
        },
        response_types,
    })
}

fn token_hash(token: &str) -> String {
    b64url(sha256(token.as_bytes()))
}

/// The bearer token of a request, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    super::bearer::bearer_token(headers)
}

/// The client's registration as RFC 7591 §3.2.1 / RFC 7592 §3 describe it.
fn describe(realm: &RealmCtx, row: &ClientRow, response_types: &[String]) -> Map<String, Value> {
    let list = |v: &Value| v.clone();
    let mut out = Map::new();
    out.insert("client_id".into(), json!(row.client_id));
    out.insert(
        "client_id_issued_at".into(),
        json!(row.created_at.timestamp()),
    );
    out.insert("redirect_uris".into(), list(&row.redirect_uris));
    out.insert("grant_types".into(), list(&row.grant_types));
    out.insert("response_types".into(), json!(response_types));
    out.insert(
        "token_endpoint_auth_method".into(),
        json!(row.token_endpoint_auth_method),
    );
    let scopes: Vec<String> = serde_json::from_value(row.scopes.clone()).unwrap_or_default();
    out.insert("scope".into(), json!(scopes.join(" ")));
    if let Some(name) = &row.display_name {
        out.insert("client_name".into(), json!(name));
    }
    if let Some(jwks) = row
        .jwks
        .as_deref()
        .and_then(|j| serde_json::from_str::<Value>(j).ok())
    {
        out.insert("jwks".into(), jwks);
    }
    if let Some(uri) = &row.jwks_uri {
        out.insert("jwks_uri".into(), json!(uri));
    }
    out.insert(
        "dpop_bound_access_tokens".into(),
        json!(row.dpop_bound_access_tokens),
    );
    out.insert(
        "registration_client_uri".into(),
        json!(realm.endpoint(&format!("/connect/register/{}", row.client_id))),
    );
    out
}

fn response_types_of(row: &ClientRow) -> Vec<String> {
    let code = row
        .grant_types
        .as_array()
        .is_some_and(|g| g.iter().any(|g| g == grant_type::AUTHORIZATION_CODE));
    if code {
        vec!["code".to_string()]
    } else {
        Vec::new()
    }
}

fn json_response(status: StatusCode, body: Map<String, Value>) -> Response {
    let mut response = super::token::no_store_json(Value::Object(body).to_string().into_bytes());
    *response.status_mut() = status;
    response
}

/// `POST /realms/{realm}/connect/register` (RFC 7591 §3).
pub async fn register(
    State(state): State<AppState>,
    realm: RealmCtx,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match try_register(&state, &realm, peer, &headers, &body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn try_register(
    state: &AppState,
    realm: &RealmCtx,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response> {
    let policy = realm.realm.security.registration;
    if policy == RegistrationPolicy::Off {
        return Err(RegistrationError::new(
            StatusCode::FORBIDDEN,
            "access_denied",
            "dynamic client registration is off in this realm",
        ));
    }
    let now = state.now();
    // An initial access token is checked (and, once the client is stored, used) whenever one
    // is presented: it lifts the open policy's limits.
    let initial = match bearer(headers) {
        Some(token) => Some(token_hash(token)),
        None if policy == RegistrationPolicy::InitialToken => {
            return Err(RegistrationError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "this realm registers clients with an initial access token only",
            ))
        }
        None => None,
    };
    let open = initial.is_none();
    // Anonymous registrations, and guessed initial access tokens, count against the address;
    // a valid initial access token is the administrators' word and is not limited.
    let ip = state.client_ip(Some(peer.ip()), headers);
    let count = || {
        state
            .limit_ip(&realm.realm, Group::Registration, ip)
            .map_err(too_many)
    };
    match &initial {
        Some(hash) => {
            if !store::registration::is_live(&state.caches.store.db, &realm.realm.id, hash, now)
                .await?
            {
                count()?;
                return Err(RegistrationError::token());
            }
        }
        None => count()?,
    }
    let meta = metadata(body)?;
    let checked = check(state, realm, &meta, open).await?;
    let mut client = checked.client;
    client.client_id = random::id();
    let secret = (!client.public
        && client.security.auth_method != Some(TokenAuthMethod::PrivateKeyJwt))
    .then(SecretHasher::generate);
    if let Some(plain) = &secret {
        client.secret_hash = Some(
            state
                .secrets
                .hash(plain, SecretOrigin::Generated)
                .map_err(|e| RegistrationError::from(store::StoreError::Corrupt(e.to_string())))?,
        );
        if client.security.auth_method == Some(TokenAuthMethod::ClientSecretJwt) {
            client.secret_sealed = Some(state.client_keys.seal_secret(plain));
        }
    }
    let registration_token = random::opaque_token();
    let tx = state.caches.store.begin().await?;
    let via = match &initial {
        Some(hash) => {
            let id = store::registration::use_once(&tx, &realm.realm.id, hash, now)
                .await?
                .ok_or_else(RegistrationError::token)?;
            format!("initial_token:{id}")
        }
        None => "open".to_string(),
    };
    let stored = store::clients::insert(&tx, &realm.realm.id, &client, now).await?;
    store::clients::set_registration(
        &tx,
        &stored.pk,
        &token_hash(&registration_token),
        &via,
        None,
    )
    .await?;
    store::audit::record(
        &tx,
        store::audit::NewEvent {
            realm_id: Some(&realm.realm.id),
            kind: "client.registered",
            actor: &via,
            target: Some(&client.client_id),
            detail: json!({"client_name": client.display_name, "registered_via": via}),
        },
        now,
    )
    .await?;
    let row = store::clients::find_row(&tx, &realm.realm.id, &client.client_id)
        .await?
        .ok_or_else(|| RegistrationError::from(store::StoreError::Corrupt("lost".into())))?;
    tx.commit().await?;
    state
        .caches
        .publish(Change::Client {
            realm_id: realm.realm.id.clone(),
            client_id: client.client_id.clone(),
        })
        .await;
    let mut body = describe(realm, &row, &checked.response_types);
    if let Some(secret) = secret {
        body.insert("client_secret".into(), json!(secret));
        body.insert("client_secret_expires_at".into(), json!(0));
    }
    body.insert(
        "registration_access_token".into(),
        json!(registration_token),
    );
    Ok(json_response(StatusCode::CREATED, body))
}

fn too_many(limited: crate::rate_limit::Limited) -> RegistrationError {
    let seconds = limited.retry_after_secs();
    let mut error = RegistrationError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "temporarily_unavailable",
        format!("too many registrations from this address; try again in {seconds} s"),
    );
    error.retry_after = Some(seconds);
    error
}

/// The self-registered client `client_id` whose registration access token the request
/// presents; any mismatch is the same 401, so nothing is told about other clients. With
/// registration turned off, self-service management is off too.
async fn registered(
    state: &AppState,
    realm: &RealmCtx,
    headers: &HeaderMap,
    client_id: &str,
) -> Result<ClientRow> {
    if realm.realm.security.registration == RegistrationPolicy::Off {
        return Err(RegistrationError::new(
            StatusCode::FORBIDDEN,
            "access_denied",
            "dynamic client registration is off in this realm",
        ));
    }
    let token = bearer(headers).ok_or_else(RegistrationError::token)?;
    let row = store::clients::find_row(&state.caches.store.db, &realm.realm.id, client_id)
        .await?
        .ok_or_else(RegistrationError::token)?;
    let presented = token_hash(token);
    let matches = row
        .registration_token_hash
        .as_deref()
        .is_some_and(|stored| {
            aws_lc_rs::constant_time::verify_slices_are_equal(
                stored.as_bytes(),
                presented.as_bytes(),
            )
            .is_ok()
        });
    if matches {
        Ok(row)
    } else {
        Err(RegistrationError::token())
    }
}

fn client_id_of(path: &HashMap<String, String>) -> &str {
    path.get("client_id")
        .map(String::as_str)
        .unwrap_or_default()
}

/// `GET /realms/{realm}/connect/register/{client_id}` (RFC 7592 §2.1).
pub async fn read(
    State(state): State<AppState>,
    realm: RealmCtx,
    Path(path): Path<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    match registered(&state, &realm, &headers, client_id_of(&path)).await {
        Ok(row) => json_response(
            StatusCode::OK,
            describe(&realm, &row, &response_types_of(&row)),
        ),
        Err(error) => error.into_response(),
    }
}

/// `PUT /realms/{realm}/connect/register/{client_id}` (RFC 7592 §2.2): the metadata replaced
/// as a whole, under the rules the client registered under, and a new registration access
/// token.
pub async fn update(
    State(state): State<AppState>,
    realm: RealmCtx,
    Path(path): Path<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match try_update(&state, &realm, client_id_of(&path), &headers, &body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn try_update(
    state: &AppState,
    realm: &RealmCtx,
    client_id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response> {
    let row = registered(state, realm, headers, client_id).await?;
    let meta = metadata(body)?;
    if meta.client_id.as_deref() != Some(client_id) {
        return Err(RegistrationError::metadata(
            "client_id must be the client's id (RFC 7592 §2.2)",
        ));
    }
    let open = row.registered_via.as_deref() == Some("open");
    let checked = check(state, realm, &meta, open).await?;
    // What registration manages is replaced; what an administrator set stays (enabled,
    // audiences, roles, lifetimes, PAR and JAR rules, …).
    let mut client = store::clients::settings(&row)?;
    let registered = checked.client;
    client.display_name = registered.display_name;
    client.grant_types = registered.grant_types;
    client.redirect_uris = registered.redirect_uris;
    client.scopes = registered.scopes;
    client.security.jwks = registered.security.jwks;
    client.security.jwks_uri = registered.security.jwks_uri;
    client.security.dpop_bound_access_tokens = registered.security.dpop_bound_access_tokens;
    if registered.security.auth_method != client.security.auth_method {
        return Err(RegistrationError::metadata(
            "token_endpoint_auth_method cannot change; register a new client",
        ));
    }
    let now = state.now();
    let via = row.registered_via.clone().unwrap_or_default();
    let pk = row.id.clone();
    let presented = row.registration_token_hash.clone().unwrap_or_default();
    let registration_token = random::opaque_token();
    let tx = state.caches.store.begin().await?;
    // The token is replaced only if it is still the one presented: of racing updates with
    // one token, one wins; the rest change nothing.
    if !store::clients::set_registration(
        &tx,
        &pk,
        &token_hash(&registration_token),
        &via,
        Some(&presented),
    )
    .await?
    {
        return Err(RegistrationError::token());
    }
    let updated = store::clients::update(&tx, row, &client, now).await?;
    store::audit::record(
        &tx,
        store::audit::NewEvent {
            realm_id: Some(&realm.realm.id),
            kind: "client.registration_updated",
            actor: client_id,
            target: Some(client_id),
            detail: json!({"client_name": client.display_name}),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    state
        .caches
        .publish(Change::Client {
            realm_id: realm.realm.id.clone(),
            client_id: client_id.to_string(),
        })
        .await;
    let mut body = describe(realm, &updated, &checked.response_types);
    body.insert(
        "registration_access_token".into(),
        json!(registration_token),
    );
    Ok(json_response(StatusCode::OK, body))
}

/// `DELETE /realms/{realm}/connect/register/{client_id}` (RFC 7592 §2.3).
pub async fn delete(
    State(state): State<AppState>,
    realm: RealmCtx,
    Path(path): Path<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let client_id = client_id_of(&path);
    let outcome = async {
        let row = registered(&state, &realm, &headers, client_id).await?;
        let now = state.now();
        let tx = state.caches.store.begin().await?;
        let presented = row.registration_token_hash.clone().unwrap_or_default();
        if !store::clients::delete_registered(&tx, &row.id, &presented).await? {
            return Err(RegistrationError::token());
        }
        store::audit::record(
            &tx,
            store::audit::NewEvent {
                realm_id: Some(&realm.realm.id),
                kind: "client.registration_deleted",
                actor: client_id,
                target: Some(client_id),
                detail: json!({}),
            },
            now,
        )
        .await?;
        tx.commit().await?;
        state
            .caches
            .publish(Change::Client {
                realm_id: realm.realm.id.clone(),
                client_id: client_id.to_string(),
            })
            .await;
        Ok::<_, RegistrationError>(())
    }
    .await;
    match outcome {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => error.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_follow_rfc8252_and_rfc9700() {
        for good in [
            "https://app.example/cb",
            "http://127.0.0.1:53123/cb",
            "http://[::1]/cb",
            "http://localhost:8080/callback",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(check_redirect_uri(good).is_ok(), "{good}");
        }
        for bad in [
            "http://app.example/cb",
            "https://app.example/cb#frag",
            "javascript:alert(1)",
            "myapp:/cb",
            "/relative",
            "data:text/html,hi",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }
}
