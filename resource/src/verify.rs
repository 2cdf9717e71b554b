//! Verifying an access token: a JWT checked offline against the issuer's keys, or an opaque
//! token asked about by introspection.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{decode, decode_header, Validation};
use serde_json::{Map, Value};

use crate::challenge::Refusal;
use crate::dpop::ReplayCache;
use crate::jwks::Jwks;
use crate::revocations::{RevocationList, RevocationPolling};
use crate::SetupError;

/// Credentials of this resource server at the issuer's introspection endpoint, for opaque
/// tokens (RFC 7662): an API resource's name and secret, or a confidential client's.
#[derive(Debug, Clone)]
pub struct Introspection {
    pub endpoint: String,
    pub client_id: String,
    pub secret: String,
}

/// What a verifier checks tokens against.
#[derive(Debug, Clone)]
pub struct Config {
    /// The issuer, exactly as in the tokens' `iss` (`https://id.example/realms/shop`).
    pub issuer: String,
    /// The audience tokens must name (`aud`), usually this API's resource identifier.
    pub audience: String,
    /// This API's identifier in its RFC 9728 metadata (`resource`); the audience by default.
    pub resource: String,
    /// The public URL of this API's metadata document, named in challenges
    /// (`resource_metadata`); by default the RFC 9728 §3.1 URL: the well-known path inserted
    /// between the resource's host and its path (`https://api.example/mcp` →
    /// `https://api.example/.well-known/oauth-protected-resource/mcp`).
    pub metadata_url: String,
    /// Where the issuer's keys are; `{issuer}/.well-known/jwks.json` by default (Tessera's).
    pub jwks_uri: String,
    /// Scopes this API's metadata lists.
    pub scopes_supported: Vec<String>,
    /// Allowed clock difference for `exp` and `nbf`.
    pub leeway: Duration,
    /// Introspection for tokens that are not JWTs; none by default (they are refused).
    pub introspection: Option<Introspection>,
    /// The scheme and host this API is reached at from outside (`https://api.example`), for
    /// checking DPoP proofs' `htu`; the resource's origin by default.
    pub public_origin: String,
    /// The issuer's Plan B revocation list, polled so revoked JWTs stop working before they
    /// expire; none by default.
    pub revocations: Option<RevocationPolling>,
}

impl Config {
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        let issuer = issuer.into().trim_end_matches('/').to_string();
        let audience = audience.into();
        let resource = audience.clone();
        let parsed = url::Url::parse(&resource).ok();
        let public_origin = parsed
            .as_ref()
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default();
        let path = parsed
            .as_ref()
            .map(|u| u.path().trim_end_matches('/').to_string())
            .unwrap_or_default();
        Self {
            jwks_uri: format!("{issuer}/.well-known/jwks.json"),
            metadata_url: format!("{public_origin}/.well-known/oauth-protected-resource{path}"),
            issuer,
            audience,
            resource,
            scopes_supported: Vec::new(),
            leeway: Duration::from_secs(30),
            introspection: None,
            public_origin,
            revocations: None,
        }
    }
}

/// A verified access token.
#[derive(Debug, Clone)]
pub struct AccessToken {
    claims: Map<String, Value>,
}

impl AccessToken {
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// `sub`: the user, or the client for client-credentials tokens.
    pub fn subject(&self) -> &str {
        self.claim_str("sub").unwrap_or_default()
    }

    pub fn client_id(&self) -> Option<&str> {
        self.claim_str("client_id")
    }

    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// The granted scopes.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.claim_str("scope")
            .unwrap_or_default()
            .split(' ')
            .filter(|s| !s.is_empty())
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|s| s == scope)
    }

    /// The thumbprint of the DPoP key the token is bound to (`cnf.jkt`).
    pub fn bound_key(&self) -> Option<&str> {
        self.claims
            .get("cnf")
            .and_then(|c| c.get("jkt"))
            .and_then(Value::as_str)
    }
}

struct Inner {
    config: Config,
    jwks: Jwks,
    http: reqwest::Client,
    replays: ReplayCache,
    revocations: Option<Arc<RevocationList>>,
}

/// Verifies access tokens; cheap to clone, share one per issuer and API.
#[derive(Clone)]
pub struct Verifier(Arc<Inner>);

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.0.config.issuer)
            .finish()
    }
}

pub(crate) fn unix_now() -> i64 {
    // The wall clock is this crate's only clock.
    #[allow(clippy::disallowed_methods)]
    let now = SystemTime::now();
    now.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

impl Verifier {
    pub fn new(config: Config) -> Result<Self, SetupError> {
        if url::Url::parse(&config.issuer)
            .map(|u| !matches!(u.scheme(), "http" | "https"))
            .unwrap_or(true)
        {
            return Err(SetupError::BadIssuer);
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let revocations = match &config.revocations {
            Some(polling) => {
                tokio::runtime::Handle::try_current().map_err(|_| SetupError::NoRuntime)?;
                Some(RevocationList::start(polling.clone(), http.clone()))
            }
            None => None,
        };
        Ok(Self(Arc::new(Inner {
            revocations,
            jwks: Jwks::new(config.jwks_uri.clone(), http.clone()),
            http,
            replays: ReplayCache::default(),
            config,
        })))
    }

    pub fn config(&self) -> &Config {
        &self.0.config
    }

    pub(crate) fn replays(&self) -> &ReplayCache {
        &self.0.replays
    }

    /// Verifies `token` (its signature, issuer, audience, lifetime and type), or asks the
    /// introspection endpoint about a token that is not a JWT.
    pub async fn verify(&self, token: &str) -> Result<AccessToken, Refusal> {
        let config = &self.0.config;
        let Ok(header) = decode_header(token) else {
            return self.introspect(token).await;
        };
        // RFC 9068 §4: the type must say access token, so no other JWT of the issuer (an ID
        // token, a logout token) passes for one.
        if !header.typ.as_deref().is_some_and(|t| {
            t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
        }) {
            return Err(Refusal::invalid_token("not an access token (typ)"));
        }
        let kid = header
            .kid
            .as_deref()
            .ok_or_else(|| Refusal::invalid_token("the token names no key"))?;
        let (alg, key) = self
            .0
            .jwks
            .key(kid)
            .await
            .ok_or_else(|| Refusal::invalid_token("the token's key is not the issuer's"))?;
        if alg != header.alg {
            return Err(Refusal::invalid_token(
                "the token's algorithm does not fit its key",
            ));
        }
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = config.leeway.as_secs();
        validation.validate_nbf = true;
        let data = decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| Refusal::invalid_token(format!("the token does not verify: {e}")))?;
        if let Some(list) = &self.0.revocations {
            // Until the list was read once, no token is known not to be revoked.
            if !list.is_synced() && list.sync(true).await.is_err() {
                return Err(Refusal::unavailable());
            }
            if list.is_revoked(token, &data.claims) {
                return Err(Refusal::invalid_token("the token was revoked"));
            }
        }
        Ok(AccessToken {
            claims: data.claims,
        })
    }

    async fn introspect(&self, token: &str) -> Result<AccessToken, Refusal> {
        let Some(introspection) = &self.0.config.introspection else {
            return Err(Refusal::invalid_token("the token is not a JWT"));
        };
        let response = self
            .0
            .http
            .post(&introspection.endpoint)
            .basic_auth(&introspection.client_id, Some(&introspection.secret))
            .form(&[("token", token)])
            .send()
            .await
            .map_err(|_| Refusal::unavailable())?;
        if !response.status().is_success() {
            return Err(Refusal::unavailable());
        }
        let claims: Map<String, Value> =
            response.json().await.map_err(|_| Refusal::unavailable())?;
        let active = claims.get("active").and_then(Value::as_bool) == Some(true)
            && claims.get("token_type").and_then(Value::as_str) != Some("refresh_token");
        let audience_ok = match claims.get("aud") {
            Some(Value::String(aud)) => *aud == self.0.config.audience,
            Some(Value::Array(auds)) => auds.iter().any(|a| *a == *self.0.config.audience),
            _ => false,
        };
        if !active || !audience_ok {
            return Err(Refusal::invalid_token(
                "the token is not active for this API",
            ));
        }
        Ok(AccessToken { claims })
    }
}

#[cfg(test)]
mod tests {
    use super::{unix_now, Config, Verifier};
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use serde_json::{json, Value};

    struct Issuer {
        url: String,
        key: EcdsaKeyPair,
    }

    impl Issuer {
        /// An issuer serving one ES256 key (`k1`) on loopback.
        async fn start() -> Issuer {
            let rng = SystemRandom::new();
            let pkcs8 =
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
            let key =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
            let point = key.public_key().as_ref().to_vec();
            let (x, y) = point[1..].split_at(32);
            let jwks = json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256",
                "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y)}]});
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}/realms/r", listener.local_addr().unwrap());
            let app = axum::Router::new().route(
                "/realms/r/.well-known/jwks.json",
                axum::routing::get(move || {
                    let jwks = jwks.clone();
                    async move { axum::Json(jwks) }
                }),
            );
            tokio::spawn(async move { axum::serve(listener, app).await });
            Issuer { url, key }
        }

        fn sign(&self, header: Value, claims: Value) -> String {
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(claims.to_string())
            );
            let signature = self
                .key
                .sign(&SystemRandom::new(), input.as_bytes())
                .unwrap();
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
        }

        /// A token with `claims` over good defaults (`null` removes a claim).
        fn token(&self, claims: Value) -> String {
            let now = unix_now();
            let mut all = json!({"iss": self.url, "sub": "u", "aud": "https://api.example",
                "iat": now, "exp": now + 300, "scope": "a"});
            for (name, value) in claims.as_object().unwrap() {
                if value.is_null() {
                    all.as_object_mut().unwrap().remove(name);
                } else {
                    all[name] = value.clone();
                }
            }
            self.sign(json!({"alg": "ES256", "typ": "at+jwt", "kid": "k1"}), all)
        }
    }

    #[tokio::test]
    async fn only_fresh_access_tokens_for_this_api_from_this_issuer_verify() {
        let issuer = Issuer::start().await;
        let mut config = Config::new(&issuer.url, "https://api.example");
        config.leeway = std::time::Duration::from_secs(5);
        let verifier = Verifier::new(config).unwrap();
        let good = issuer.token(json!({}));
        assert_eq!(verifier.verify(&good).await.unwrap().subject(), "u");
        let now = unix_now();
        for (why, token) in [
            ("expired", issuer.token(json!({"exp": now - 10}))),
            ("not yet valid", issuer.token(json!({"nbf": now + 60}))),
            ("no exp", issuer.token(json!({"exp": null}))),
            ("another API", issuer.token(json!({"aud": "https://other.example"}))),
            ("another issuer", issuer.token(json!({"iss": "https://evil.example/realms/r"}))),
            (
                "an ID token",
                issuer.sign(
                    json!({"alg": "ES256", "typ": "JWT", "kid": "k1"}),
                    json!({"iss": issuer.url, "sub": "u", "aud": "https://api.example", "exp": now + 300}),
                ),
            ),
            (
                "an unknown key",
                issuer.sign(
                    json!({"alg": "ES256", "typ": "at+jwt", "kid": "k2"}),
                    json!({"iss": issuer.url, "sub": "u", "aud": "https://api.example", "exp": now + 300}),
                ),
            ),
            ("a tampered payload", {
                let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
                parts[1] = URL_SAFE_NO_PAD.encode(
                    json!({"iss": issuer.url, "sub": "admin", "aud": "https://api.example", "exp": now + 300})
                        .to_string(),
                );
                parts.join(".")
            }),
        ] {
            let refusal = verifier.verify(&token).await.unwrap_err();
            assert_eq!(refusal.error, Some("invalid_token"), "{why}");
        }
    }

    #[test]
    fn metadata_urls_insert_the_well_known_path_before_the_resource_path() {
        let root = Config::new("https://id.example/realms/a", "https://api.example");
        assert_eq!(
            root.metadata_url,
            "https://api.example/.well-known/oauth-protected-resource"
        );
        let mcp = Config::new("https://id.example/realms/a", "https://api.example/mcp/");
        assert_eq!(
            mcp.metadata_url,
            "https://api.example/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(mcp.public_origin, "https://api.example");
    }
}
