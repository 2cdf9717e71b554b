//! Client ID metadata documents (IETF OAuth WG draft): where a realm allows them, an
//! `https://` client_id is the URL of a JSON document describing the client. The document is
//! fetched through the outbound guards (5 KiB, 5 s, no redirects, no private addresses unless
//! the realm allows them), must name itself as `client_id`, and becomes a public (or
//! `private_key_jwt`) code + PKCE client that always asks for consent. Documents are cached
//! per their `Cache-Control` (between one minute and a day); nothing is stored.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::domain::{grant_type, Client, ClientSecurity, LifetimeOverrides, TokenAuthMethod};
use crate::outbound::{FetchError, Outbound};

/// The largest document read.
const MAX_DOCUMENT_BYTES: usize = 5 * 1024;
const MIN_CACHE: Duration = Duration::from_secs(60);
const MAX_CACHE: Duration = Duration::from_secs(86_400);
/// Documents kept at most; the cache starts over beyond it.
const MAX_CACHED: usize = 10_000;

/// Why a document gives no client.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("the client's metadata document could not be fetched: {0}")]
    Fetch(#[from] FetchError),
    #[error("the client's metadata document is not usable: {0}")]
    Invalid(String),
    #[error("the client's metadata document failed moments ago; it is not fetched again yet")]
    RecentlyFailed,
}

/// How long a document that could not be fetched or used is not asked for again.
const FAILURE_BACKOFF: Duration = Duration::from_secs(10);

/// Whether `client_id` has the form of a metadata document URL: https (or plain http where
/// the realm allows private fetches: closed networks, tests), a host, a path, no fragment, no
/// credentials.
pub fn is_document_url(client_id: &str, allow_http: bool) -> bool {
    url::Url::parse(client_id).is_ok_and(|u| {
        (u.scheme() == "https" || (allow_http && u.scheme() == "http"))
            && u.host().is_some()
            && u.path() != "/"
            && u.fragment().is_none()
            && u.username().is_empty()
            && u.password().is_none()
    })
}

/// Until when a document's client may be used.
type Cached = (Instant, Arc<Client>);

pub struct Documents {
    outbound: Outbound,
    /// (realm id, URL) → until when, and the client it describes.
    cache: Mutex<HashMap<(String, String), Cached>>,
    /// URLs whose last fetch or check failed, and when: requests naming them cannot each
    /// make Tessera fetch again.
    failures: Mutex<HashMap<String, Instant>>,
}

impl std::fmt::Debug for Documents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Documents(..)")
    }
}

impl Documents {
    pub fn new(outbound: Outbound) -> Self {
        Self {
            outbound,
            cache: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// The client the document at `url` describes, for the realm `realm_id` whose clients
    /// known by documents may ask for `allowed_scopes`.
    pub async fn client(
        &self,
        realm_id: &str,
        allowed_scopes: &[String],
        url: &str,
        allow_private: bool,
    ) -> Result<Arc<Client>, DocumentError> {
        let key = (realm_id.to_string(), url.to_string());
        if let Some((until, client)) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            if *until > Instant::now() {
                return Ok(client.clone());
            }
        }
        if self
            .failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(url)
            .is_some_and(|at| at.elapsed() < FAILURE_BACKOFF)
        {
            return Err(DocumentError::RecentlyFailed);
        }
        let fetched = self
            .outbound
            .get_document(url, allow_private, MAX_DOCUMENT_BYTES)
            .await
            .map_err(DocumentError::from)
            .and_then(|(document, max_age)| {
                client_of(realm_id, allowed_scopes, url, &document, allow_private)
                    .map(|client| (client, max_age))
            });
        let (client, max_age) = match fetched {
            Ok(found) => found,
            Err(e) => {
                let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
                if failures.len() >= MAX_CACHED {
                    failures.clear();
                }
                failures.insert(url.to_string(), Instant::now());
                return Err(e);
            }
        };
        let client = Arc::new(client);
        let keep = max_age.unwrap_or(MIN_CACHE).clamp(MIN_CACHE, MAX_CACHE);
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(key, (Instant::now() + keep, client.clone()));
        Ok(client)
    }
}

fn strings(document: &Value, name: &str) -> Result<Option<Vec<String>>, DocumentError> {
    match document.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| DocumentError::Invalid(format!("{name} must hold strings")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(DocumentError::Invalid(format!("{name} must be an array"))),
    }
}

/// The client a document describes, after checking what it says.
fn client_of(
    realm_id: &str,
    allowed_scopes: &[String],
    url: &str,
    document: &Value,
    allow_http: bool,
) -> Result<Client, DocumentError> {
    let invalid = |why: &str| DocumentError::Invalid(why.to_string());
    if !document.is_object() {
        return Err(invalid("not a JSON object"));
    }
    if document.get("client_id").and_then(Value::as_str) != Some(url) {
        return Err(invalid("its client_id is not its own URL"));
    }
    let redirect_uris = strings(document, "redirect_uris")?.unwrap_or_default();
    if redirect_uris.is_empty() || redirect_uris.len() > 20 {
        return Err(invalid("it must list 1 to 20 redirect_uris"));
    }
    for uri in &redirect_uris {
        crate::validation::self_service_redirect_uri(uri)
            .map_err(|why| DocumentError::Invalid(format!("redirect URI `{uri}`: {why}")))?;
    }
    let grant_types = strings(document, "grant_types")?
        .unwrap_or_else(|| vec![grant_type::AUTHORIZATION_CODE.to_string()]);
    if !grant_types
        .iter()
        .any(|g| g == grant_type::AUTHORIZATION_CODE)
        || grant_types
            .iter()
            .any(|g| g != grant_type::AUTHORIZATION_CODE && g != grant_type::REFRESH_TOKEN)
    {
        return Err(invalid(
            "grant_types may hold authorization_code and refresh_token only",
        ));
    }
    let method = match document
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
        .unwrap_or("none")
    {
        "none" => TokenAuthMethod::None,
        "private_key_jwt" => TokenAuthMethod::PrivateKeyJwt,
        _ => return Err(invalid(
            "token_endpoint_auth_method must be none or private_key_jwt (a document has no secret)",
        )),
    };
    let jwks = match document.get("jwks") {
        Some(set) if !set.is_null() => {
            crate::jose::check_public_set(set)
                .map_err(|why| DocumentError::Invalid(format!("jwks {why}")))?;
            Some(set.to_string())
        }
        _ => None,
    };
    let jwks_uri = document
        .get("jwks_uri")
        .and_then(Value::as_str)
        .map(str::to_string);
    // Keys travel over https only (plain http only where private fetches are allowed).
    if let Some(uri) = &jwks_uri {
        let scheme_ok = url::Url::parse(uri)
            .is_ok_and(|u| u.scheme() == "https" || (allow_http && u.scheme() == "http"));
        if !scheme_ok {
            return Err(invalid("jwks_uri must be an https URL"));
        }
    }
    if method == TokenAuthMethod::PrivateKeyJwt && jwks.is_none() && jwks_uri.is_none() {
        return Err(invalid("private_key_jwt needs jwks or jwks_uri"));
    }
    let scopes: Vec<String> = match document.get("scope").and_then(Value::as_str) {
        Some(raw) => raw
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        None => allowed_scopes.to_vec(),
    };
    let scopes: Vec<String> = scopes
        .into_iter()
        .filter(|s| allowed_scopes.contains(s))
        .collect();
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    // The consent page shows who asks: the name the document claims and the host it is
    // served from, which the name cannot fake.
    let display_name = match document.get("client_name").and_then(Value::as_str) {
        Some(name)
            if !name.is_empty()
                && name.chars().count() <= 100
                && !name.chars().any(char::is_control) =>
        {
            format!("{name} ({host})")
        }
        _ => host,
    };
    Ok(Client {
        pk: format!("document:{url}"),
        realm_id: realm_id.to_string(),
        client_id: url.to_string(),
        display_name: Some(display_name),
        public: method == TokenAuthMethod::None,
        grant_types,
        redirect_uris,
        post_logout_redirect_uris: Vec::new(),
        scopes,
        audiences: Vec::new(),
        roles: Vec::new(),
        require_pkce: true,
        require_consent: true,
        allow_arbitrary_claims: false,
        always_issue_refresh_token: false,
        lifetimes: LifetimeOverrides::default(),
        access_token_signing_alg: None,
        id_token_signing_alg: None,
        backchannel_logout_uri: None,
        mfa: Default::default(),
        enabled: true,
        secrets: Vec::new(),
        security: ClientSecurity {
            auth_method: Some(method),
            jwks,
            jwks_uri,
            ..Default::default()
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const URL: &str = "https://agent.example/client.json";

    /// The scopes the realm lets such clients ask for.
    fn scopes() -> Vec<String> {
        ["openid", "profile"].map(String::from).to_vec()
    }

    #[test]
    fn a_document_names_itself_and_safe_redirects() {
        let good = json!({"client_id": URL, "client_name": "Agent", "redirect_uris": ["http://127.0.0.1/cb"]});
        let client = client_of("r", &scopes(), URL, &good, false).unwrap();
        assert!(client.public);
        assert_eq!(
            client.display_name.as_deref(),
            Some("Agent (agent.example)")
        );
        assert_eq!(client.scopes, ["openid", "profile"], "all it may have");
        let asking = json!({"client_id": URL, "scope": "openid orders.read", "redirect_uris": ["http://127.0.0.1/cb"]});
        let client = client_of("r", &scopes(), URL, &asking, false).unwrap();
        assert_eq!(client.scopes, ["openid"], "no more than it may have");
        for bad in [
            json!({"client_id": "https://other.example/c.json", "redirect_uris": ["https://a.example/cb"]}),
            json!({"client_id": URL, "redirect_uris": []}),
            json!({"client_id": URL, "redirect_uris": ["http://a.example/cb"]}),
            json!({"client_id": URL, "redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "client_secret_basic"}),
            json!({"client_id": URL, "redirect_uris": ["https://a.example/cb"], "grant_types": ["client_credentials"]}),
            json!([URL]),
        ] {
            assert!(
                client_of("r", &scopes(), URL, &bad, false).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn document_urls_are_https_with_a_path() {
        assert!(is_document_url(URL, false));
        assert!(is_document_url("http://127.0.0.1:8080/c.json", true));
        for bad in [
            "http://agent.example/c.json",
            "https://agent.example/",
            "https://agent.example/c.json#x",
            "https://user:pw@agent.example/c.json",
            "my-client",
        ] {
            assert!(!is_document_url(bad, false), "{bad}");
        }
    }
}
