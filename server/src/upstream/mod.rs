//! The client side of federation: Tessera as a relying party of a realm's upstream identity
//! providers (OpenID Connect, or plain OAuth 2 with a userinfo URL). It builds the redirect to
//! the upstream (with `state`, `nonce` and PKCE), redeems the code, validates the ID token
//! fully (signature against the upstream's JWKS, `iss`, `aud`, `azp`, `exp`, `nonce`) and reads
//! userinfo. Deciding which local account that is belongs to `federation`.

pub mod provider;
pub mod templates;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::crypto::master_key::MasterKey;
use crate::crypto::{b64url, constant_time_eq, random, sha256};
use crate::tokens::trusted::{Rejection, TrustedJwks};
pub use provider::{ClientAuth, Kind, Provider, SyncMode};

/// How long a discovery document is kept before it is fetched again.
const DISCOVERY_TTL: Duration = Duration::from_secs(600);
/// The largest answer read from an upstream (discovery, token, userinfo).
const MAX_ANSWER: usize = 256 * 1024;
/// Sealing context of the secrets this module keeps.
pub(crate) const SECRET_CONTEXT: &[u8] = b"tessera upstream client secret";
pub(crate) const PENDING_CONTEXT: &[u8] = b"tessera upstream pending login";

/// Why talking to an upstream failed. Each says what the person signing in is told; the
/// details go to the log only.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// Not reachable, timed out, or answered with a server error.
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused (an OAuth error, or the user declined).
    #[error("the provider refused: {0}")]
    Refused(String),
    /// What came back failed validation (signature, issuer, audience, nonce, expiry, subject).
    #[error("the provider's answer is invalid: {0}")]
    Invalid(String),
    /// The provider's settings are incomplete or unusable.
    #[error("the provider is misconfigured: {0}")]
    Misconfigured(String),
}

impl UpstreamError {
    /// The sentence shown on the login page.
    pub fn user_message(&self, provider: &str) -> String {
        match self {
            Self::Unavailable(_) => {
                format!("{provider} could not be reached. Try again later or sign in another way.")
            }
            Self::Refused(_) => format!("{provider} did not sign you in."),
            Self::Invalid(_) => {
                format!("The sign-in through {provider} could not be verified. Please try again.")
            }
            Self::Misconfigured(_) => {
                format!(
                    "Signing in through {provider} is not set up correctly. Tell an administrator."
                )
            }
        }
    }
}

/// Where a provider's endpoints are, from its settings or its discovery document.
#[derive(Debug, Clone, Serialize)]
pub struct Endpoints {
    pub issuer: Option<String>,
    pub authorization: String,
    pub token: String,
    pub userinfo: Option<String>,
    pub jwks: Option<String>,
}

/// What the callback needs of a redirect it did not see: the login's handle, the nonce and
/// the PKCE verifier. Kept sealed on the server, under the hash of the `state`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub handle: String,
    pub nonce: String,
    pub verifier: Option<String>,
}

/// What the client's authorization request asks that the upstream should honour too.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    pub login_hint: Option<String>,
    /// `prompt=login`: the person must sign in afresh, at the upstream as well.
    pub prompt_login: bool,
    /// `max_age`: an older sign-in at the upstream does not count.
    pub max_age: Option<u64>,
}

/// A redirect to the upstream, ready to send.
pub struct Redirect {
    pub url: String,
    /// The `state` sent; the pending login is stored under [`state_id`] of it.
    pub state: String,
    pub pending: Pending,
}

/// What the upstream sent back to the callback with the browser.
pub struct Answer<'a> {
    pub code: &'a str,
    /// RFC 9207's `iss`, when the upstream sends it.
    pub iss: Option<&'a str>,
}

/// The stored id of a pending login: the hash of its `state`.
pub fn state_id(state: &str) -> String {
    b64url(sha256(state.as_bytes()))
}

/// An upstream account as the provider described it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UpstreamIdentity {
    /// The value of the provider's subject claim (`sub`; GitHub's numeric `id` as text).
    pub subject: String,
    /// The ID token's claims, completed by userinfo (plain OAuth 2: userinfo alone).
    pub claims: Map<String, Value>,
    /// The `amr` the upstream reported, if any.
    pub amr: Vec<String>,
}

/// What a connection check found.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub endpoints: Endpoints,
    /// Signing keys the upstream publishes (OpenID Connect).
    pub signing_keys: Option<usize>,
}

pub struct Upstreams {
    master_key: Arc<MasterKey>,
    http: reqwest::Client,
    discovered: Mutex<HashMap<String, (Instant, Endpoints)>>,
    jwks: TrustedJwks,
}

impl std::fmt::Debug for Upstreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Upstreams(..)")
    }
}

impl Upstreams {
    pub fn new(master_key: Arc<MasterKey>, http: reqwest::Client) -> Self {
        Self {
            master_key,
            http,
            discovered: Mutex::new(HashMap::new()),
            jwks: TrustedJwks::default(),
        }
    }

    /// The stored form of a client secret.
    pub fn seal_secret(&self, secret: &str) -> String {
        self.master_key.seal(secret.as_bytes(), SECRET_CONTEXT)
    }

    fn client_secret(&self, provider: &Provider) -> Result<Option<String>, UpstreamError> {
        provider
            .client_secret_sealed
            .as_deref()
            .map(|sealed| {
                self.master_key
                    .open(sealed, SECRET_CONTEXT)
                    .ok()
                    .and_then(|plain| String::from_utf8(plain).ok())
                    .ok_or_else(|| {
                        UpstreamError::Misconfigured("the client secret cannot be opened".into())
                    })
            })
            .transpose()
    }

    /// The stored form of what a pending login keeps (a [`Pending`] redirect, or an upstream
    /// account waiting to be linked).
    pub fn seal_pending<T: Serialize>(&self, pending: &T) -> String {
        let json = serde_json::to_vec(pending).unwrap_or_default();
        self.master_key.seal(&json, PENDING_CONTEXT)
    }

    pub fn open_pending<T: serde::de::DeserializeOwned>(&self, sealed: &str) -> Option<T> {
        let plain = self.master_key.open(sealed, PENDING_CONTEXT).ok()?;
        serde_json::from_slice(&plain).ok()
    }

    /// The provider's endpoints: its own settings, completed from the issuer's discovery
    /// document (kept ten minutes) for an OpenID Connect provider configured by issuer.
    pub async fn endpoints(&self, provider: &Provider) -> Result<Endpoints, UpstreamError> {
        let explicit = || -> Option<Endpoints> {
            Some(Endpoints {
                issuer: provider.issuer.clone(),
                authorization: provider.authorization_endpoint.clone()?,
                token: provider.token_endpoint.clone()?,
                userinfo: provider.userinfo_endpoint.clone(),
                jwks: provider.jwks_uri.clone(),
            })
        };
        let complete = match provider.kind {
            Kind::OAuth2 => true,
            Kind::Oidc => provider.jwks_uri.is_some(),
        };
        if let (true, Some(endpoints)) = (complete, explicit()) {
            return Ok(endpoints);
        }
        let Some(issuer) = provider.issuer.as_deref() else {
            return Err(UpstreamError::Misconfigured(
                "neither an issuer nor all endpoints are set".into(),
            ));
        };
        let discovered = self.discover(issuer).await?;
        Ok(Endpoints {
            issuer: Some(issuer.to_string()),
            authorization: provider
                .authorization_endpoint
                .clone()
                .unwrap_or(discovered.authorization),
            token: provider.token_endpoint.clone().unwrap_or(discovered.token),
            userinfo: provider.userinfo_endpoint.clone().or(discovered.userinfo),
            jwks: provider.jwks_uri.clone().or(discovered.jwks),
        })
    }

    async fn discover(&self, issuer: &str) -> Result<Endpoints, UpstreamError> {
        {
            let cache = self.discovered.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, endpoints)) = cache.get(issuer) {
                if at.elapsed() < DISCOVERY_TTL {
                    return Ok(endpoints.clone());
                }
            }
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let document = self.get_json(&url, None).await?;
        let text = |name: &str| {
            document
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
        if text("issuer").as_deref() != Some(issuer) {
            return Err(UpstreamError::Misconfigured(format!(
                "the discovery document names issuer {:?}, not {issuer}",
                text("issuer")
            )));
        }
        let required = |name: &str| {
            text(name).ok_or_else(|| {
                UpstreamError::Misconfigured(format!("the discovery document has no {name}"))
            })
        };
        let endpoints = Endpoints {
            issuer: Some(issuer.to_string()),
            authorization: required("authorization_endpoint")?,
            token: required("token_endpoint")?,
            userinfo: text("userinfo_endpoint"),
            jwks: Some(required("jwks_uri")?),
        };
        self.discovered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(issuer.to_string(), (Instant::now(), endpoints.clone()));
        Ok(endpoints)
    }

    /// The redirect that starts a sign-in at the upstream for the login `handle`.
    pub async fn begin(
        &self,
        provider: &Provider,
        redirect_uri: &str,
        handle: &str,
        hints: &Hints,
    ) -> Result<Redirect, UpstreamError> {
        let endpoints = self.endpoints(provider).await?;
        let state = random::opaque_token();
        let pending = Pending {
            handle: handle.to_string(),
            nonce: random::opaque_token(),
            verifier: provider.pkce.then(random::opaque_token),
        };
        let mut url = url::Url::parse(&endpoints.authorization).map_err(|_| {
            UpstreamError::Misconfigured("the authorization endpoint is not a URL".into())
        })?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &provider.client_id)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("scope", &provider.scopes.join(" "))
                .append_pair("state", &state);
            if provider.kind == Kind::Oidc {
                query.append_pair("nonce", &pending.nonce);
            }
            if let Some(verifier) = &pending.verifier {
                query
                    .append_pair("code_challenge", &b64url(sha256(verifier.as_bytes())))
                    .append_pair("code_challenge_method", "S256");
            }
            if let Some(hint) = hints.login_hint.as_deref().filter(|h| !h.is_empty()) {
                query.append_pair("login_hint", hint);
            }
            if hints.prompt_login {
                query.append_pair("prompt", "login");
            }
            if let Some(max_age) = hints.max_age {
                query.append_pair("max_age", &max_age.to_string());
            }
        }
        Ok(Redirect {
            url: url.into(),
            state,
            pending,
        })
    }

    /// Redeems `code` and says who signed in: the ID token validated (OpenID Connect), claims
    /// completed from userinfo.
    pub async fn finish(
        &self,
        provider: &Provider,
        redirect_uri: &str,
        answer: &Answer<'_>,
        pending: &Pending,
        now: i64,
    ) -> Result<UpstreamIdentity, UpstreamError> {
        let endpoints = self.endpoints(provider).await?;
        // RFC 9207: an answer naming another issuer is a mix-up; its code goes nowhere.
        if let (Some(iss), Some(expected)) = (answer.iss, endpoints.issuer.as_deref()) {
            if iss != expected {
                return Err(UpstreamError::Invalid(format!(
                    "the callback names issuer {iss}, not {expected}"
                )));
            }
        }
        let tokens = self
            .redeem(provider, &endpoints, redirect_uri, answer.code, pending)
            .await?;
        let access_token = tokens
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                UpstreamError::Invalid("the token response has no access_token".into())
            })?;
        let mut id_token_amr = None;
        let mut claims = match provider.kind {
            Kind::Oidc => {
                let id_token = tokens
                    .get("id_token")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        UpstreamError::Invalid("the token response has no id_token".into())
                    })?;
                let claims = self
                    .validate_id_token(provider, &endpoints, id_token, pending, now)
                    .await?;
                id_token_amr = claims.get("amr").cloned();
                claims
            }
            Kind::OAuth2 => Map::new(),
        };
        let wants_userinfo = match provider.kind {
            Kind::OAuth2 => true,
            // Claims the mappings read and the ID token lacks come from userinfo.
            Kind::Oidc => provider
                .claim_mappings
                .keys()
                .any(|claim| !claims.contains_key(claim)),
        };
        if let (true, Some(userinfo)) = (wants_userinfo, endpoints.userinfo.as_deref()) {
            let answer = self.get_json(userinfo, Some(access_token)).await?;
            let Value::Object(extra) = answer else {
                return Err(UpstreamError::Invalid(
                    "userinfo is not a JSON object".into(),
                ));
            };
            if provider.kind == Kind::Oidc {
                // OIDC Core §5.3.2: userinfo must be about the ID token's subject.
                if extra.get("sub") != claims.get("sub") {
                    return Err(UpstreamError::Invalid(
                        "userinfo is about another subject than the ID token".into(),
                    ));
                }
            }
            // `email_verified` speaks of one address: from userinfo it counts only when userinfo
            // names the same address as the ID token (or the ID token names none).
            let same_email = match (claims.get("email"), extra.get("email")) {
                (Some(ours), Some(theirs)) => ours == theirs,
                (Some(_), None) => false,
                (None, _) => true,
            };
            for (name, value) in extra {
                if name == "email_verified" && !same_email {
                    continue;
                }
                claims.entry(name).or_insert(value);
            }
        } else if provider.kind == Kind::OAuth2 {
            return Err(UpstreamError::Misconfigured(
                "a plain OAuth 2 provider needs a userinfo endpoint".into(),
            ));
        }
        let subject = match claims.get(&provider.subject_claim) {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => {
                return Err(UpstreamError::Invalid(format!(
                    "the answer has no `{}` claim to identify the account",
                    provider.subject_claim
                )))
            }
        };
        if subject.len() > 255 {
            return Err(UpstreamError::Invalid("the subject is too long".into()));
        }
        // Only a signed ID token's `amr` is taken at its word (userinfo is not signed).
        let amr = id_token_amr
            .as_ref()
            .and_then(Value::as_array)
            .map(|values| {
                values
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|v| v.len() <= 32)
                    .map(str::to_string)
                    .take(8)
                    .collect()
            })
            .unwrap_or_default();
        Ok(UpstreamIdentity {
            subject,
            claims,
            amr,
        })
    }

    async fn redeem(
        &self,
        provider: &Provider,
        endpoints: &Endpoints,
        redirect_uri: &str,
        code: &str,
        pending: &Pending,
    ) -> Result<Map<String, Value>, UpstreamError> {
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
        ];
        if let Some(verifier) = &pending.verifier {
            form.push(("code_verifier", verifier));
        }
        let secret = self.client_secret(provider)?;
        let mut request = self
            .http
            .post(&endpoints.token)
            .header(reqwest::header::ACCEPT, "application/json");
        match (provider.client_auth, secret.as_deref()) {
            (ClientAuth::Basic, Some(secret)) => {
                // RFC 6749 §2.3.1: both halves form-encoded before Basic.
                let encode =
                    |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                request = request.basic_auth(encode(&provider.client_id), Some(encode(secret)));
            }
            (ClientAuth::Post, Some(secret)) => {
                form.push(("client_id", &provider.client_id));
                form.push(("client_secret", secret));
            }
            (_, None) => form.push(("client_id", &provider.client_id)),
        }
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let request = request
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body);
        let response = crate::telemetry::send(request, crate::telemetry::Propagation::Carry)
            .await
            .map_err(|e| UpstreamError::Unavailable(format!("token endpoint: {e}")))?;
        let status = response.status();
        let answer = read_json(response).await;
        if status.is_server_error() {
            return Err(UpstreamError::Unavailable(format!(
                "token endpoint answered {status}"
            )));
        }
        let answer = answer?;
        if !status.is_success() || answer.get("error").is_some() {
            let error = answer
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("no error code");
            return Err(UpstreamError::Refused(format!(
                "token endpoint answered {status}: {error}"
            )));
        }
        match answer {
            Value::Object(map) => Ok(map),
            _ => Err(UpstreamError::Invalid(
                "the token response is not a JSON object".into(),
            )),
        }
    }

    async fn validate_id_token(
        &self,
        provider: &Provider,
        endpoints: &Endpoints,
        id_token: &str,
        pending: &Pending,
        now: i64,
    ) -> Result<Map<String, Value>, UpstreamError> {
        let (Some(issuer), Some(jwks)) = (endpoints.issuer.as_deref(), endpoints.jwks.as_deref())
        else {
            return Err(UpstreamError::Misconfigured(
                "an OpenID Connect provider needs an issuer and a JWKS URL".into(),
            ));
        };
        // Signature (a key of the upstream's JWKS, refetched once for an unknown kid), `iss`,
        // and `exp`.
        let verified = self
            .jwks
            .check(&self.http, issuer, jwks, id_token, now)
            .await
            .map_err(|rejection| match rejection {
                Rejection::KeysUnavailable => UpstreamError::Unavailable(
                    "the upstream's signing keys could not be fetched".into(),
                ),
                Rejection::Invalid => UpstreamError::Invalid(
                    "the ID token's signature, issuer or expiry does not check out".into(),
                ),
            })?;
        let claims = verified.claims;
        // OIDC Core §3.1.3.7: `aud` contains our client id; with several audiences `azp` is
        // present; `azp`, when present, is our client id.
        let audiences: Vec<&str> = match claims.get("aud") {
            Some(Value::String(aud)) => vec![aud.as_str()],
            Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !audiences.contains(&provider.client_id.as_str()) {
            return Err(UpstreamError::Invalid(
                "the ID token is not for this client (aud)".into(),
            ));
        }
        let azp = claims.get("azp").and_then(Value::as_str);
        if (audiences.len() > 1 && azp.is_none()) || azp.is_some_and(|a| a != provider.client_id) {
            return Err(UpstreamError::Invalid(
                "the ID token was issued to another party (azp)".into(),
            ));
        }
        let nonce = claims
            .get("nonce")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !constant_time_eq(nonce.as_bytes(), pending.nonce.as_bytes()) {
            return Err(UpstreamError::Invalid(
                "the ID token's nonce is not the one sent".into(),
            ));
        }
        Ok(claims)
    }

    /// Fetches the provider's discovery document and signing keys: the admin's "test
    /// connection".
    pub async fn check(&self, provider: &Provider) -> Result<Check, UpstreamError> {
        if let Some(issuer) = provider.issuer.as_deref() {
            // A fresh look, not the cached one.
            self.discovered
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(issuer);
        }
        let endpoints = self.endpoints(provider).await?;
        let signing_keys = match (&provider.kind, endpoints.jwks.as_deref()) {
            (Kind::Oidc, Some(jwks)) => {
                let document = self.get_json(jwks, None).await?;
                let keys = document
                    .get("keys")
                    .and_then(Value::as_array)
                    .map(Vec::len)
                    .unwrap_or(0);
                if keys == 0 {
                    return Err(UpstreamError::Invalid("the JWKS has no keys".into()));
                }
                Some(keys)
            }
            _ => None,
        };
        Ok(Check {
            endpoints,
            signing_keys,
        })
    }

    async fn get_json(&self, url: &str, bearer: Option<&str>) -> Result<Value, UpstreamError> {
        let mut request = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = crate::telemetry::send(request, crate::telemetry::Propagation::Carry)
            .await
            .map_err(|e| UpstreamError::Unavailable(format!("{url}: {e}")))?;
        let status = response.status();
        if status.is_server_error() {
            return Err(UpstreamError::Unavailable(format!(
                "{url} answered {status}"
            )));
        }
        if !status.is_success() {
            return Err(UpstreamError::Refused(format!("{url} answered {status}")));
        }
        read_json(response).await
    }
}

/// The body as JSON, read up to [`MAX_ANSWER`] bytes.
async fn read_json(mut response: reqwest::Response) -> Result<Value, UpstreamError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| UpstreamError::Unavailable(format!("reading the answer: {e}")))?
    {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err(UpstreamError::Invalid("the answer is too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body)
        .map_err(|_| UpstreamError::Invalid("the answer is not JSON".into()))
}
