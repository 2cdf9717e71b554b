//! The authorization endpoint's protocol (RFC 6749 §4.1, RFC 7636, RFC 9207, OIDC Core §3.1.2):
//! validate the request into an [`AuthorizeRequest`], then [`decide`]: a code or an error for the
//! client, an error page when the request cannot be trusted to redirect (unknown client,
//! unregistered redirect URI), or a step of the login interaction the browser must take first.
//! Plain types only: `web::authorize` turns a [`Decision`] into HTTP.

use std::sync::Arc;

use chrono::Duration;

use super::error::OAuthError;
use super::form::Params;
use super::interaction::{Interaction, Situation, Step};
use super::scope;
use crate::crypto::{b64url, random, sha256};
use crate::domain::{grant_type, Client, Lifetimes};
use crate::sessions::{BrowserSession, SignIn};
use crate::state::{AppState, RealmCtx};
use crate::store::{self, codes::NewCode, sessions::StoredSession};

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
    /// The upstream provider to sign in through, skipping the login page (Keycloak's
    /// `kc_idp_hint`, IdentityServer's `idp`).
    pub idp_hint: Option<String>,
    pub id_token_hint: Option<String>,
    /// Requested authentication levels, in order of preference (voluntary).
    pub acr_values: Vec<String>,
    /// The `acr` values of an essential `acr` claim in the `claims` parameter (one must be met).
    pub essential_acr: Option<Vec<String>>,
    /// RFC 9449 §10: the thumbprint of the DPoP key the code is bound to.
    pub dpop_jkt: Option<String>,
    /// RFC 8707 resources the grant is for.
    pub resources: Vec<String>,
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
    let client = super::clients::find(state, realm, client_id)
        .await
        .map_err(|e| Rejection::Page(format!("{} ({})", e.description, e.code_str())))?
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
        idp_hint: params
            .get("idp_hint")
            .filter(|h| !h.is_empty())
            .map(str::to_string),
        id_token_hint: params.get("id_token_hint").map(str::to_string),
        acr_values: params
            .get("acr_values")
            .map(|v| {
                v.split(' ')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
        essential_acr: None,
        dpop_jkt: None,
        resources: Vec::new(),
    };
    if let Some(claims) = params.get("claims") {
        request.essential_acr = essential_acr(claims).map_err(|e| request.refuse(e))?;
    }
    if !matches!(
        params.get("response_mode"),
        None | Some("query" | "form_post")
    ) {
        return Err(request.refuse(OAuthError::invalid_request("unsupported response_mode")));
    }
    // A request object or pushed request was resolved before: one inside it is refused.
    if params.get("request").is_some() {
        return Err(request.refuse(OAuthError::invalid_request_object(
            "a request object may not hold another request",
        )));
    }
    if params.get("request_uri").is_some() {
        return Err(request.refuse(OAuthError::invalid_request(
            "request_uri may not be combined with a request object",
        )));
    }
    if let Some(jkt) = params.get("dpop_jkt") {
        if jkt.len() != 43
            || !jkt
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(request.refuse(OAuthError::invalid_request(
                "dpop_jkt must be a base64url SHA-256 JWK thumbprint",
            )));
        }
        request.dpop_jkt = Some(jkt.to_string());
    }
    request.resources = super::audience::requested(params).map_err(|e| request.refuse(e))?;
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
            if client.public || client.require_pkce || realm.realm.security.fapi2() {
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
    if !request.resources.is_empty() {
        let catalog = state
            .caches
            .directory
            .catalog(&realm.realm.id)
            .await
            .map_err(|e| Rejection::Page(OAuthError::server_error(e).description.into_owned()))?;
        super::audience::ensure_allowed(&request.resources, &request.scopes, &client, &catalog)
            .map_err(|e| request.refuse(e))?;
    }
    Ok(request)
}

/// The values of an essential `acr` claim in a `claims` request parameter (OIDC Core §5.5.1.1),
/// asked for the ID token or userinfo. Only `acr` is honoured from `claims`.
fn essential_acr(claims: &str) -> Result<Option<Vec<String>>, OAuthError> {
    let parsed: serde_json::Value = serde_json::from_str(claims)
        .map_err(|_| OAuthError::invalid_request("the claims parameter is not a JSON object"))?;
    if !parsed.is_object() {
        return Err(OAuthError::invalid_request(
            "the claims parameter is not a JSON object",
        ));
    }
    for member in ["id_token", "userinfo"] {
        let Some(acr) = parsed.get(member).and_then(|m| m.get("acr")) else {
            continue;
        };
        if acr.get("essential").and_then(serde_json::Value::as_bool) != Some(true) {
            continue;
        }
        let mut values: Vec<String> = acr
            .get("values")
            .and_then(serde_json::Value::as_array)
            .map(|v| {
                v.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(value) = acr.get("value").and_then(serde_json::Value::as_str) {
            values.push(value.to_string());
        }
        if values.is_empty() {
            // Essential without values: any level will do.
            continue;
        }
        return Ok(Some(values));
    }
    Ok(None)
}

/// What the authorization endpoint does with a valid request.
#[derive(Debug)]
pub enum Decision {
    /// Send these parameters (a code, or an error) to the client at its redirect URI, with
    /// `state` and `iss`.
    Respond {
        to: Redirect,
        params: Vec<(&'static str, String)>,
    },
    /// The request cannot be trusted to redirect: show this message, never redirect.
    ErrorPage(String),
    /// The browser must take this step of the login first.
    Interact(Step),
}

impl Decision {
    /// Tells the client `error` at its verified redirect URI.
    pub fn refusal(to: Redirect, error: &OAuthError) -> Self {
        Decision::Respond {
            to,
            params: vec![
                ("error", error.code_str().to_string()),
                ("error_description", error.description.to_string()),
            ],
        }
    }
}

impl From<Rejection> for Decision {
    fn from(rejection: Rejection) -> Self {
        match rejection {
            Rejection::Page(message) => Decision::ErrorPage(message),
            Rejection::Redirect(to, error) => Decision::refusal(*to, &error),
        }
    }
}

/// A new authorization request as it arrived: a `request_uri` from PAR or a signed `request`
/// object is resolved into the parameters it stands for, and the client's and realm's rules
/// on how requests must arrive are enforced. Returns the validated request and its effective
/// parameters, form-encoded (what a pending login keeps, and [`parse`] reads again).
pub async fn arrive(
    state: &AppState,
    realm: &RealmCtx,
    raw: &str,
) -> Result<(AuthorizeRequest, String), Decision> {
    let page = |e: OAuthError| Decision::ErrorPage(format!("{} ({})", e.description, e.code_str()));
    let params = Params::parse(raw.as_bytes()).map_err(page)?;
    let client_id = params.get("client_id").ok_or_else(|| {
        Decision::ErrorPage("The request does not name a client (client_id).".into())
    })?;
    let client = super::clients::find(state, realm, client_id)
        .await
        .map_err(page)?
        .filter(|c| c.enabled)
        .ok_or_else(|| Decision::ErrorPage("The client is unknown or disabled.".into()))?;
    let (effective, pushed, signed) = if let Some(uri) = params.get("request_uri") {
        let params = super::par::take(state, realm, &client, uri)
            .await
            .map_err(page)?;
        (params, true, false)
    } else if let Some(jwt) = params.get("request") {
        let params = super::request_object::parameters(state, realm, &client, jwt)
            .await
            .map_err(page)?;
        (params, false, true)
    } else {
        (params, false, false)
    };
    let request = parse_request(state, realm, &effective)
        .await
        .map_err(Decision::from)?;
    if !pushed && realm.realm.security.par_required(&client) {
        return Err(Decision::refusal(
            request.redirect(),
            &OAuthError::invalid_request(
                "authorization requests of this client must be pushed first (PAR, RFC 9126)",
            ),
        ));
    }
    if !pushed && !signed && client.security.require_signed_request_object {
        return Err(Decision::refusal(
            request.redirect(),
            &OAuthError::invalid_request(
                "this client must send its authorization requests as a signed request object",
            ),
        ));
    }
    Ok((request, effective.to_query()))
}

/// Parses and validates raw authorization request parameters (a query or a form body).
pub async fn parse(
    state: &AppState,
    realm: &RealmCtx,
    raw: &str,
) -> Result<AuthorizeRequest, Decision> {
    let params = Params::parse(raw.as_bytes())
        .map_err(|e| Decision::ErrorPage(e.description.into_owned()))?;
    parse_request(state, realm, &params)
        .await
        .map_err(Decision::from)
}

/// Decides a valid request for the browser `browser`, inside `interaction` when the request
/// resumes one: the first login step still due (or, under `prompt=none`, its error), else a
/// single-use code. Finishing an interaction ends it, so it yields one code only.
pub async fn decide(
    state: &AppState,
    realm: &RealmCtx,
    request: &AuthorizeRequest,
    browser: &BrowserSession,
    interaction: Option<&Interaction>,
) -> Decision {
    match try_decide(state, realm, request, browser, interaction).await {
        Ok(decision) => decision,
        Err(error) => Decision::refusal(request.redirect(), &error),
    }
}

async fn try_decide(
    state: &AppState,
    realm: &RealmCtx,
    request: &AuthorizeRequest,
    browser: &BrowserSession,
    interaction: Option<&Interaction>,
) -> Result<Decision, OAuthError> {
    let signed_in = current_sign_in(state, realm, browser).await?;
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
    let situation = Situation {
        state,
        realm: &realm.realm,
        request,
        sign_in: signed_in.as_ref().map(|(sign_in, _)| sign_in),
        session_acr: signed_in
            .as_ref()
            .and_then(|(_, session)| session.acr.as_deref()),
        hinted_sub: hinted_sub.as_deref(),
        done: steps_done_by(interaction, signed_in.as_ref().map(|(s, _)| s)),
        now: state.now(),
    };
    for step in Step::ALL {
        if step.due(&situation).await? {
            if situation.prompted("none") {
                return Err(step.when_prompt_none());
            }
            return Ok(Decision::Interact(step));
        }
    }
    let Some((sign_in, session)) = signed_in else {
        return Err(OAuthError::server_error("no sign-in after the login step"));
    };
    // Ending the login and issuing its code commit together: a failure leaves the login open
    // to try again, and a race leaves one code.
    let tx = state.caches.store.begin().await?;
    if let Some(interaction) = interaction {
        if !interaction.finish(&tx).await? {
            return Ok(Decision::ErrorPage(
                "This sign-in has already been completed. Return to the application.".into(),
            ));
        }
    }
    let code = issue_code(&tx, state, realm, request, &sign_in, &session).await?;
    tx.commit().await?;
    Ok(Decision::Respond {
        to: request.redirect(),
        params: vec![("code", code)],
    })
}

/// The steps `interaction` has done, if they were done by the user signed in now: steps done
/// for someone else (another user signed in since, in the same browser) count for nobody.
fn steps_done_by<'a>(
    interaction: Option<&'a Interaction>,
    signed_in: Option<&SignIn>,
) -> &'a [Step] {
    match (interaction, signed_in) {
        (Some(interaction), Some(sign_in))
            if interaction.user_id.as_deref() == Some(sign_in.user_id.as_str()) =>
        {
            &interaction.done
        }
        _ => &[],
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

/// Stores a single-use code bound to the client, redirect URI, PKCE challenge, nonce and session.
async fn issue_code(
    db: &impl store::Conn,
    state: &AppState,
    realm: &RealmCtx,
    request: &AuthorizeRequest,
    sign_in: &SignIn,
    session: &StoredSession,
) -> Result<String, OAuthError> {
    let now = state.now();
    let lifetimes = Lifetimes::resolve(&request.client.lifetimes, &realm.realm.lifetimes);
    // FAPI 2.0 §5.3.2.1: codes live at most 60 seconds.
    let code_lifetime = if realm.realm.security.fapi2() {
        lifetimes.code.min(60)
    } else {
        lifetimes.code
    };
    let code = random::opaque_token();
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
            acr: session.acr.clone(),
            amr: store::string_list(&session.amr, "sessions.amr")?,
            idp: session.idp.clone(),
            dpop_jkt: request.dpop_jkt.clone(),
            resources: request.resources.clone(),
            expires_at: now + Duration::seconds(code_lifetime),
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
}
