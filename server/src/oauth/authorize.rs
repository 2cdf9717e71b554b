//! The authorization endpoint (RFC 6749 §4.1, RFC 7636, RFC 9207, OIDC Core §3.1.2): validate
//! the request, make sure the right user is signed in and has consented, then redirect back with
//! a single-use code. Requests that cannot be trusted to redirect (unknown client, unregistered
//! redirect URI) end on an error page; every redirect carries `state` and `iss`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Duration;

use super::error::OAuthError;
use super::form::Params;
use super::scope;
use crate::crypto::{b64url, random, sha256};
use crate::domain::{grant_type, Client, Lifetimes};
use crate::sessions::{cookie_name, BrowserSession, SignIn};
use crate::state::{AppState, RealmCtx};
use crate::store::{self, codes::NewCode, sessions::StoredSession};
use crate::web::html::{self, escape};

/// How the response parameters travel back (OAuth 2.0 Multiple Response Types, Form Post).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    FormPost,
}

/// A validated authorization request.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub client: Arc<Client>,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub response_mode: ResponseMode,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Vec<String>,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub id_token_hint: Option<String>,
}

/// Why a request was refused, and where the refusal may be shown.
#[derive(Debug)]
pub enum Rejection {
    /// The client or redirect URI cannot be trusted: show a page, never redirect.
    Page(String),
    /// Tell the client, at its verified redirect URI.
    Redirect(Box<Redirect>, OAuthError),
}

/// Where and how to send response parameters.
#[derive(Debug, Clone)]
pub struct Redirect {
    pub uri: String,
    pub mode: ResponseMode,
    pub state: Option<String>,
}

impl AuthorizeRequest {
    pub fn redirect(&self) -> Redirect {
        Redirect {
            uri: self.redirect_uri.clone(),
            mode: self.response_mode,
            state: self.state.clone(),
        }
    }

    fn refuse(&self, error: OAuthError) -> Rejection {
        Rejection::Redirect(Box::new(self.redirect()), error)
    }
}

/// Whether `requested` is one of the `registered` redirect URIs. Everything must match the
/// registered string exactly, with one exception: RFC 8252 §7.3 lets the port of a loopback IP
/// redirect URI vary, but only for native apps (`public` clients), which take an ephemeral port
/// at run time. A confidential client is a server with a fixed address, so it gets exact matching
/// (RFC 9700 §4.1.3): otherwise any local process listening on another port could catch its codes.
pub fn redirect_uri_registered(registered: &[String], requested: &str, public: bool) -> bool {
    if registered.iter().any(|r| r == requested) {
        return true;
    }
    if !public {
        return false;
    }
    let Ok(requested) = url::Url::parse(requested) else {
        return false;
    };
    let is_loopback = |u: &url::Url| {
        u.scheme() == "http" && matches!(u.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
            || matches!(u.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
                && u.scheme() == "http"
    };
    if !is_loopback(&requested) {
        return false;
    }
    let without_port = |u: &url::Url| {
        let mut u = u.clone();
        let _ = u.set_port(None);
        u.to_string()
    };
    let requested = without_port(&requested);
    registered
        .iter()
        .filter_map(|r| url::Url::parse(r).ok())
        .filter(is_loopback)
        .any(|r| without_port(&r) == requested)
}

/// Validates the request parameters of `realm`.
pub async fn parse_request(
    state: &AppState,
    realm: &RealmCtx,
    params: &Params,
) -> Result<AuthorizeRequest, Rejection> {
    let client_id = params
        .get("client_id")
        .ok_or_else(|| Rejection::Page("The request does not name a client (client_id).".into()))?;
    let client = state
        .caches
        .directory
        .client(&realm.realm.id, client_id)
        .await
        .map_err(|e| Rejection::Page(OAuthError::server_error(e).description.into_owned()))?
        .filter(|c| c.enabled)
        .ok_or_else(|| Rejection::Page("The client is unknown or disabled.".into()))?;
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or_else(|| Rejection::Page("The request has no redirect_uri.".into()))?
        .to_string();
    if !redirect_uri_registered(&client.redirect_uris, &redirect_uri, client.public) {
        return Err(Rejection::Page(
            "The redirect_uri is not registered for this client.".into(),
        ));
    }
    let response_mode = match params.get("response_mode") {
        None | Some("query") => ResponseMode::Query,
        Some("form_post") => ResponseMode::FormPost,
        Some(_) => ResponseMode::Query,
    };
    let mut request = AuthorizeRequest {
        client: client.clone(),
        redirect_uri,
        state: params.get("state").map(str::to_string),
        response_mode,
        scopes: Vec::new(),
        nonce: params.get("nonce").map(str::to_string),
        code_challenge: None,
        prompt: params
            .get("prompt")
            .map(|p| {
                p.split(' ')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
        max_age: None,
        login_hint: params.get("login_hint").map(str::to_string),
        id_token_hint: params.get("id_token_hint").map(str::to_string),
    };
    if !matches!(
        params.get("response_mode"),
        None | Some("query" | "form_post")
    ) {
        return Err(request.refuse(OAuthError::invalid_request("unsupported response_mode")));
    }
    if params.get("request").is_some() {
        return Err(request.refuse(OAuthError::request_not_supported(
            "request objects are not supported",
        )));
    }
    if params.get("request_uri").is_some() {
        return Err(request.refuse(OAuthError::request_uri_not_supported(
            "request_uri is not supported",
        )));
    }
    match params.get("response_type") {
        Some("code") => {}
        None => {
            return Err(request.refuse(OAuthError::invalid_request(
                "missing parameter `response_type`",
            )))
        }
        Some(_) => {
            return Err(request.refuse(OAuthError::unsupported_response_type(
                "only response_type=code is supported",
            )))
        }
    }
    if !client.allows_grant(grant_type::AUTHORIZATION_CODE) {
        return Err(request.refuse(OAuthError::unauthorized_client(
            "the client may not use the authorization code flow",
        )));
    }
    request.scopes = match params.get("scope") {
        Some(raw) => {
            let requested = scope::parse(raw).map_err(|e| request.refuse(e))?;
            scope::ensure_allowed(&requested, &client.scopes).map_err(|e| request.refuse(e))?;
            requested
        }
        None => client
            .scopes
            .iter()
            .filter(|s| *s != "offline_access")
            .cloned()
            .collect(),
    };
    let challenge = params.get("code_challenge");
    let method = params.get("code_challenge_method");
    match (challenge, method) {
        (Some(c), None | Some("S256")) => {
            // RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is 43 characters.
            if c.len() != 43
                || !c
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(request.refuse(OAuthError::invalid_request("malformed code_challenge")));
            }
            if method.is_none() {
                // A missing method means `plain`, which Tessera does not accept.
                return Err(request.refuse(OAuthError::invalid_request(
                    "code_challenge_method must be S256",
                )));
            }
            request.code_challenge = Some(c.to_string());
        }
        (Some(_), Some(_)) | (None, Some(_)) => {
            return Err(request.refuse(OAuthError::invalid_request(
                "code_challenge_method must be S256 with a code_challenge",
            )))
        }
        (None, None) => {
            if client.public || client.require_pkce {
                return Err(request.refuse(OAuthError::invalid_request(
                    "PKCE is required: send code_challenge with code_challenge_method=S256",
                )));
            }
        }
    }
    if request.prompt.iter().any(|p| p == "none") && request.prompt.len() > 1 {
        return Err(request.refuse(OAuthError::invalid_request(
            "prompt=none cannot be combined",
        )));
    }
    if let Some(raw) = params.get("max_age") {
        let max_age = raw.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
            request.refuse(OAuthError::invalid_request(
                "max_age must be a non-negative integer",
            ))
        })?;
        request.max_age = Some(max_age);
    }
    Ok(request)
}

/// `GET /realms/{realm}/connect/authorize`
pub async fn authorize_get(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    authorize(&state, &realm, &headers, query.unwrap_or_default()).await
}

/// `POST /realms/{realm}/connect/authorize` (form-encoded parameters).
pub async fn authorize_post(
    State(state): State<AppState>,
    realm: RealmCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match String::from_utf8(body.to_vec()) {
        Ok(query) => authorize(&state, &realm, &headers, query).await,
        Err(_) => realm_error_page(
            &realm,
            StatusCode::BAD_REQUEST,
            "The request is not valid form data.",
        ),
    }
}

pub fn realm_error_page(realm: &RealmCtx, status: StatusCode, message: &str) -> Response {
    html::error_page(status, realm_label(realm), message)
}

pub fn realm_label(realm: &RealmCtx) -> &str {
    realm
        .realm
        .display_name
        .as_deref()
        .unwrap_or(&realm.realm.name)
}

async fn authorize(
    state: &AppState,
    realm: &RealmCtx,
    headers: &HeaderMap,
    query: String,
) -> Response {
    let params = match Params::parse(query.as_bytes()) {
        Ok(params) => params,
        Err(e) => return realm_error_page(realm, StatusCode::BAD_REQUEST, &e.description),
    };
    let request = match parse_request(state, realm, &params).await {
        Ok(request) => request,
        Err(rejection) => return reject(realm, rejection),
    };
    match decide(state, realm, headers, &request, &query).await {
        Ok(response) => response,
        Err(error) => respond(
            realm,
            &request.redirect(),
            &[
                ("error", error.code_str()),
                ("error_description", &error.description),
            ],
        ),
    }
}

pub fn reject(realm: &RealmCtx, rejection: Rejection) -> Response {
    match rejection {
        Rejection::Page(message) => realm_error_page(realm, StatusCode::BAD_REQUEST, &message),
        Rejection::Redirect(to, error) => respond(
            realm,
            &to,
            &[
                ("error", error.code_str()),
                ("error_description", &error.description),
            ],
        ),
    }
}

/// The user signed in to this realm in this browser, if the sign-in is still good.
pub async fn current_sign_in(
    state: &AppState,
    realm: &RealmCtx,
    browser: &BrowserSession,
) -> Result<Option<(SignIn, StoredSession)>, OAuthError> {
    let Some(sign_in) = browser.sign_in(&realm.realm).await else {
        return Ok(None);
    };
    let db = &state.caches.store.db;
    let Some(session) = store::sessions::live(db, &sign_in.sid, state.now()).await? else {
        return Ok(None);
    };
    let user_ok = store::users::find(db, &sign_in.user_id)
        .await?
        .is_some_and(|u| u.enabled && u.realm_id == realm.realm.id);
    Ok(user_ok.then_some((sign_in, session)))
}

/// Removes one value from the space-separated `prompt` of a raw query, so a login or consent that
/// just happened is not asked for again on the way back.
pub fn query_without_prompt(query: &str, satisfied: &str) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if key == "prompt" {
            let rest: Vec<&str> = value
                .split(' ')
                .filter(|p| !p.is_empty() && *p != satisfied)
                .collect();
            if !rest.is_empty() {
                out.append_pair("prompt", &rest.join(" "));
            }
            continue;
        }
        out.append_pair(&key, &value);
    }
    out.finish()
}

fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

async fn decide(
    state: &AppState,
    realm: &RealmCtx,
    headers: &HeaderMap,
    request: &AuthorizeRequest,
    query: &str,
) -> Result<Response, OAuthError> {
    let browser = BrowserSession::from_request(
        &state.browser_sessions,
        headers,
        cookie_name(&realm.realm, Some(&request.client.client_id)),
        state.secure_cookies(),
    );
    let signed_in = current_sign_in(state, realm, &browser).await?;
    let now = state.now();
    let hinted_sub = match &request.id_token_hint {
        Some(hint) => Some(
            super::id_token_hint::subject(state, realm, hint)
                .await?
                .ok_or_else(|| {
                    OAuthError::invalid_request("id_token_hint is not an ID token of this realm")
                })?,
        ),
        None => None,
    };
    let prompt = |p: &str| request.prompt.iter().any(|v| v == p);
    let must_sign_in = match &signed_in {
        None => true,
        Some((sign_in, _)) => {
            prompt("login")
                || request
                    .max_age
                    .is_some_and(|max| (now - sign_in.auth_time) > Duration::seconds(max))
                || hinted_sub
                    .as_ref()
                    .is_some_and(|sub| *sub != sign_in.user_id)
        }
    };
    if must_sign_in {
        if prompt("none") {
            return Err(OAuthError::login_required("the user must sign in"));
        }
        return Ok(see_other(&format!(
            "/realms/{}/login?{}",
            realm.realm.name,
            query_without_prompt(query, "login")
        )));
    }
    let Some((sign_in, session)) = signed_in else {
        return Err(OAuthError::server_error("signed-in state vanished"));
    };
    // OIDC Core §3.1.2.1: prompt=consent asks even when nothing new is requested.
    let must_consent = if prompt("consent") {
        true
    } else if request.client.require_consent {
        let granted = store::consents::granted(
            &state.caches.store.db,
            &sign_in.user_id,
            &request.client.client_id,
        )
        .await?;
        !request.scopes.iter().all(|s| granted.contains(s))
    } else {
        false
    };
    if must_consent {
        if prompt("none") {
            return Err(OAuthError::consent_required("the user must consent"));
        }
        return Ok(see_other(&format!(
            "/realms/{}/consent?{}",
            realm.realm.name,
            query_without_prompt(query, "consent")
        )));
    }
    let code = issue_code(state, realm, request, &sign_in, &session).await?;
    Ok(respond(realm, &request.redirect(), &[("code", &code)]))
}

/// Stores a single-use code bound to the client, redirect URI, PKCE challenge, nonce and session.
async fn issue_code(
    state: &AppState,
    realm: &RealmCtx,
    request: &AuthorizeRequest,
    sign_in: &SignIn,
    session: &StoredSession,
) -> Result<String, OAuthError> {
    let now = state.now();
    let lifetimes = Lifetimes::resolve(&request.client.lifetimes, &realm.realm.lifetimes);
    let code = random::opaque_token();
    let db = &state.caches.store.db;
    store::codes::insert_code(
        db,
        &realm.realm.id,
        NewCode {
            code_hash: code_hash(&code),
            client_id: request.client.client_id.clone(),
            user_id: sign_in.user_id.clone(),
            session_id: Some(session.id.clone()),
            redirect_uri: request.redirect_uri.clone(),
            scope: request.scopes.join(" "),
            nonce: request.nonce.clone(),
            code_challenge: request.code_challenge.clone(),
            auth_time: sign_in.auth_time,
            acr: None,
            amr: vec!["pwd".into()],
            expires_at: now + Duration::seconds(lifetimes.code),
        },
        now,
    )
    .await?;
    store::sessions::add_client(db, session, &request.client.client_id, now).await?;
    Ok(code)
}

/// The stored form of a code.
pub fn code_hash(code: &str) -> String {
    b64url(sha256(code.as_bytes()))
}

/// Sends response parameters to the client with `state` and `iss` (RFC 9207).
pub fn respond(realm: &RealmCtx, to: &Redirect, pairs: &[(&str, &str)]) -> Response {
    let mut all: Vec<(&str, &str)> = pairs.to_vec();
    if let Some(state) = &to.state {
        all.push(("state", state));
    }
    all.push(("iss", &realm.issuer));
    match to.mode {
        ResponseMode::Query => {
            let mut url = to.uri.clone();
            let encoded = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(all)
                .finish();
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&encoded);
            see_other(&url)
        }
        ResponseMode::FormPost => {
            let fields: String = all.iter().map(|(k, v)| html::hidden(k, v)).collect();
            let body = format!(
                r#"<form method="post" action="{}">{fields}<noscript><button type="submit">Continue</button></noscript></form>
<script>document.forms[0].submit()</script>"#,
                escape(&to.uri)
            );
            html::page(StatusCode::OK, realm_label(realm), "Signing you in…", &body)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_match_exactly_except_loopback_ports_of_public_clients() {
        let registered = vec![
            "https://app.example/cb".to_string(),
            "http://127.0.0.1/native".to_string(),
            "http://[::1]/native".to_string(),
        ];
        for public in [true, false] {
            for exact in registered.iter() {
                assert!(
                    redirect_uri_registered(&registered, exact, public),
                    "{exact}"
                );
            }
            for bad in [
                "https://app.example/cb/extra",
                "https://APP.example/cb",
                "https://app.example/cb?x=1",
                "https://app.example/CB",
                "https://evil.example/cb",
                "http://localhost/native",
                "http://127.0.0.1:51234/other",
                "https://127.0.0.1:51234/native",
            ] {
                assert!(!redirect_uri_registered(&registered, bad, public), "{bad}");
            }
        }
        for loopback in ["http://127.0.0.1:51234/native", "http://[::1]:51234/native"] {
            assert!(
                redirect_uri_registered(&registered, loopback, true),
                "{loopback}"
            );
            assert!(
                !redirect_uri_registered(&registered, loopback, false),
                "{loopback}"
            );
        }
    }

    #[test]
    fn satisfied_prompts_are_dropped() {
        assert_eq!(
            query_without_prompt("a=1&prompt=login+consent&b=2", "login"),
            "a=1&prompt=consent&b=2"
        );
        assert_eq!(query_without_prompt("prompt=login", "login"), "");
    }
}
