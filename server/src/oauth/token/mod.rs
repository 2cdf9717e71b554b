//! The token endpoint (RFC 6749 §3.2): parse the form, authenticate the client, and hand the
//! request to the grant handler registered for its `grant_type`.

mod arbitrary;
mod authorization_code;
mod client_credentials;
mod device_code;
pub mod issue;
mod password;
mod public_refresh;
mod refresh;
mod token_exchange;

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use futures::future::BoxFuture;
use serde::Serialize;
use serde_json::{Map, Value};

use super::client_auth::{self, AuthenticatedClient};
use super::error::OAuthError;
use super::form::{OAuthForm, Params};
use crate::state::{AppState, RealmCtx};

/// Everything a grant handler may use.
pub struct GrantRequest<'a> {
    pub state: &'a AppState,
    pub realm: &'a RealmCtx,
    pub client: &'a AuthenticatedClient,
    pub params: &'a Params,
    /// The RFC 7638 thumbprint of the key of a valid DPoP proof sent along: the access token
    /// is bound to it (`cnf.jkt`).
    pub dpop_jkt: Option<&'a str>,
    /// The caller's address (for the password grant's sign-in limit).
    pub client_ip: std::net::IpAddr,
}

/// One grant type: one file, one implementation, one registry line.
pub trait Grant: Send + Sync {
    /// The `grant_type` value this handler answers.
    fn grant_type(&self) -> &'static str;

    fn handle<'a>(
        &'a self,
        request: GrantRequest<'a>,
    ) -> BoxFuture<'a, Result<TokenResponse, OAuthError>>;
}

/// The grant handlers, keyed by `grant_type`.
static GRANTS: &[&dyn Grant] = &[
    &authorization_code::AuthorizationCode,
    &client_credentials::ClientCredentials,
    &device_code::DeviceCode,
    &password::Password,
    &public_refresh::PublicRefresh,
    &refresh::Refresh,
    &token_exchange::TokenExchange,
];

fn grant_for(grant_type: &str) -> Option<&'static dyn Grant> {
    GRANTS
        .iter()
        .copied()
        .find(|g| g.grant_type() == grant_type)
}

/// The grant types this server implements, for discovery.
pub fn supported_grant_types() -> Vec<&'static str> {
    GRANTS.iter().map(|g| g.grant_type()).collect()
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
    /// Compatibility members (e.g. Plan B's `realm`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// A fresh DPoP nonce for the client's next proof (RFC 9449 §8), sent as a header.
    #[serde(skip)]
    pub dpop_nonce: Option<String>,
}

impl TokenResponse {
    pub fn bearer(access_token: String, expires_in: i64, scope: &[String]) -> Self {
        Self {
            access_token,
            token_type: "Bearer",
            expires_in,
            scope: (!scope.is_empty()).then(|| scope.join(" ")),
            refresh_token: None,
            id_token: None,
            issued_token_type: None,
            extra: Map::new(),
            dpop_nonce: None,
        }
    }
}

impl IntoResponse for TokenResponse {
    fn into_response(self) -> Response {
        let body = match serde_json::to_vec(&self) {
            Ok(body) => body,
            Err(e) => return OAuthError::server_error(e).into_response(),
        };
        let mut response = no_store_json(body);
        if let Some(nonce) = self
            .dpop_nonce
            .as_deref()
            .and_then(|n| HeaderValue::from_str(n).ok())
        {
            response.headers_mut().insert("dpop-nonce", nonce);
        }
        response
    }
}

/// A JSON body that no cache may keep (RFC 6749 §5.1).
pub fn no_store_json(body: Vec<u8>) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// `POST /realms/{realm}/connect/token`.
pub async fn token(
    State(state): State<AppState>,
    realm: RealmCtx,
    form: OAuthForm,
) -> Result<TokenResponse, OAuthError> {
    issue(&state, &realm, &form).await
}

/// Runs the token endpoint's logic, counted in the metrics; shared with compatibility aliases.
pub async fn issue(
    state: &AppState,
    realm: &RealmCtx,
    form: &OAuthForm,
) -> Result<TokenResponse, OAuthError> {
    let ip = state.client_ip(form.peer, &form.headers);
    let realm_name = realm.realm.name.as_str();
    let grant_type = form.params.get("grant_type").unwrap_or_default();
    let known = grant_for(grant_type).map_or("unsupported", |_| grant_type);
    let span = crate::telemetry::grant_span(realm_name, known);
    let outcome = match state.limit_ip(&realm.realm, crate::rate_limit::Group::Token, ip) {
        Ok(()) => {
            tracing::Instrument::instrument(dispatch(state, realm, form, ip), span.clone()).await
        }
        Err(limited) => Err(OAuthError::rate_limited(limited)),
    };
    if let Err(error) = &outcome {
        span.record("oauth.error", error.code_str());
    }
    match &outcome {
        Ok(_) => state.metrics.token_issued(
            realm_name,
            form.params.get("grant_type").unwrap_or_default(),
        ),
        // Counted by the limiter.
        Err(error) if error.retry_after.is_some() => {}
        Err(error) => state.metrics.token_refused(realm_name, error.code_str()),
    }
    outcome
}

async fn dispatch(
    state: &AppState,
    realm: &RealmCtx,
    form: &OAuthForm,
    client_ip: std::net::IpAddr,
) -> Result<TokenResponse, OAuthError> {
    let grant_type = form.params.require("grant_type")?;
    let grant = grant_for(grant_type).ok_or_else(|| {
        OAuthError::unsupported_grant_type(format!("grant type `{grant_type}` is not supported"))
    })?;
    // The proof first: a client told to retry with a nonce may resend its assertion, which
    // client authentication would otherwise have used up.
    let proof = super::dpop::check_post(state, realm, form)?;
    let client =
        client_auth::authenticate(state, realm, &form.headers, &form.params, "/connect/token")
            .await?;
    // Per client only when the client proved who it is: anyone can name a public client, and
    // would spend its allowance for all its users.
    if !client.client.public {
        state
            .limit_client(
                &realm.realm,
                crate::rate_limit::Group::Token,
                &client.client.client_id,
            )
            .map_err(OAuthError::rate_limited)?;
    }
    if !client.client.allows_grant(grant_type) {
        return Err(OAuthError::unauthorized_client(format!(
            "the client may not use the `{grant_type}` grant"
        )));
    }
    if proof.is_none() && super::dpop::required_for(realm, &client.client) {
        return Err(OAuthError::invalid_dpop_proof(
            "this client's access tokens are DPoP-bound: send a DPoP proof",
        ));
    }
    let mut response = grant
        .handle(GrantRequest {
            state,
            realm,
            client: &client,
            params: &form.params,
            dpop_jkt: proof.as_ref().map(|p| p.jkt.as_str()),
            client_ip,
        })
        .await?;
    if proof.is_some() {
        response.token_type = "DPoP";
    }
    if realm.realm.security.use_dpop_nonce && proof.is_some() {
        response.dpop_nonce = Some(state.dpop.nonce(state.now().timestamp()));
    }
    Ok(response)
}
