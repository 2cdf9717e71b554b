//! The keys a client signs with: its registered JWK Set (inline, or fetched from its
//! `jwks_uri` through the outbound guards and cached), and for `client_secret_jwt` its secret.
//! Verifies the signature of a JWS the client made (an assertion, a request object); what the
//! claims must say is the caller's business.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsonwebtoken::{decode, Algorithm, DecodingKey, Header, Validation};
use serde_json::{Map, Value};

use crate::crypto::master_key::MasterKey;
use crate::domain::Client;
use crate::jose::KeySet;
use crate::outbound::{FetchError, Outbound};

/// How long a fetched JWK Set is used before it is fetched again.
const JWKS_TTL: Duration = Duration::from_secs(300);
/// The least time between two fetches of one `jwks_uri`, so JWSs naming made-up key ids
/// cannot make Tessera hammer a client's server.
const MIN_REFETCH: Duration = Duration::from_secs(10);
/// Parsed key sets kept at most; the cache starts over beyond it.
const MAX_CACHED_SETS: usize = 10_000;

/// Why a client's signature was not accepted.
#[derive(Debug)]
pub enum KeyProblem {
    /// The client has no keys of the kind the JWS needs.
    NoKeys,
    /// The client's `jwks_uri` gave no usable JWK Set.
    Unavailable(FetchError),
    /// No key of the client verifies the signature (or the algorithm is not allowed).
    BadSignature,
}

impl std::fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyProblem::NoKeys => f.write_str("the client has no keys registered for this"),
            KeyProblem::Unavailable(e) => write!(f, "the client's jwks_uri is unusable: {e}"),
            KeyProblem::BadSignature => {
                f.write_str("the signature does not verify with the client's keys")
            }
        }
    }
}

struct CachedSet {
    fetched: Instant,
    /// When an unknown key id last made Tessera fetch before the set was due.
    forced: Option<Instant>,
    keys: KeySet,
}

pub struct ClientKeys {
    outbound: Outbound,
    master_key: Arc<MasterKey>,
    /// Cache key (the `jwks_uri`, or the client and a hash of its inline set) → the keys.
    sets: Mutex<HashMap<String, CachedSet>>,
    /// `jwks_uri`s whose last fetch failed, and when: not fetched again for [`MIN_REFETCH`],
    /// so requests naming a client whose keys are unreachable cannot each cost a fetch.
    failures: Mutex<HashMap<String, Instant>>,
}

impl std::fmt::Debug for ClientKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientKeys(..)")
    }
}

/// The context under which a `client_secret_jwt` secret is sealed.
pub const SECRET_SEAL_CONTEXT: &[u8] = b"client-secret";

impl ClientKeys {
    pub fn new(outbound: Outbound, master_key: Arc<MasterKey>) -> Self {
        Self {
            outbound,
            master_key,
            sets: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
        }
    }

    pub fn outbound(&self) -> &Outbound {
        &self.outbound
    }

    /// Seals a new secret of a `client_secret_jwt` client.
    pub fn seal_secret(&self, secret: &str) -> String {
        self.master_key.seal(secret.as_bytes(), SECRET_SEAL_CONTEXT)
    }

    /// The cached set under `key`: when `refresh`, only if an early fetch is not allowed yet
    /// (one per [`MIN_REFETCH`]), else only while it is younger than [`JWKS_TTL`].
    fn cached(&self, key: &str, refresh: bool) -> Option<KeySet> {
        let sets = self.sets.lock().unwrap_or_else(|p| p.into_inner());
        let set = sets.get(key)?;
        let usable = if refresh {
            set.forced.is_some_and(|at| at.elapsed() < MIN_REFETCH)
        } else {
            set.fetched.elapsed() < JWKS_TTL
        };
        usable.then(|| set.keys.clone())
    }

    fn remember(&self, key: String, keys: KeySet, forced: bool) {
        let mut sets = self.sets.lock().unwrap_or_else(|p| p.into_inner());
        if sets.len() >= MAX_CACHED_SETS {
            sets.clear();
        }
        let now = Instant::now();
        sets.insert(
            key,
            CachedSet {
                fetched: now,
                forced: forced.then_some(now),
                keys,
            },
        );
    }

    /// The client's public keys; `refresh` fetches a `jwks_uri` again (at most every
    /// [`MIN_REFETCH`]) for a key id not seen yet.
    async fn public_keys(
        &self,
        client: &Client,
        allow_private: bool,
        refresh: bool,
    ) -> Result<KeySet, KeyProblem> {
        if let Some(inline) = &client.security.jwks {
            let key = format!(
                "{}#{}",
                client.pk,
                crate::crypto::b64url(crate::crypto::sha256(inline.as_bytes()))
            );
            if let Some(set) = self.cached(&key, false) {
                return Ok(set);
            }
            let document: Value = serde_json::from_str(inline).map_err(|_| KeyProblem::NoKeys)?;
            let set = crate::jose::parse_set(&document);
            self.remember(key, set.clone(), false);
            return Ok(set);
        }
        let Some(uri) = &client.security.jwks_uri else {
            return Err(KeyProblem::NoKeys);
        };
        if let Some(set) = self.cached(uri, refresh) {
            return Ok(set);
        }
        if self
            .failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(uri)
            .is_some_and(|at| at.elapsed() < MIN_REFETCH)
        {
            return Err(KeyProblem::Unavailable(FetchError::RecentlyFailed));
        }
        let fetched = self
            .outbound
            .get_json(uri, allow_private, crate::jose::MAX_SET_BYTES)
            .await;
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let document = match fetched {
            Ok(document) => {
                failures.remove(uri);
                document
            }
            Err(e) => {
                // Only what cost a connection is remembered; a refused address costs nothing
                // and may become allowed (`allow_private_fetch`).
                if !matches!(e, FetchError::BadUrl | FetchError::PrivateAddress) {
                    if failures.len() >= MAX_CACHED_SETS {
                        failures.clear();
                    }
                    failures.insert(uri.clone(), Instant::now());
                }
                return Err(KeyProblem::Unavailable(e));
            }
        };
        drop(failures);
        let set = crate::jose::parse_set(&document);
        self.remember(uri.clone(), set.clone(), refresh);
        Ok(set)
    }

    /// Verifies the signature of `jws` (whose header is `header`) with the client's public
    /// keys and returns its claims, unvalidated.
    pub async fn verify_signed(
        &self,
        client: &Client,
        allow_private: bool,
        jws: &str,
        header: &Header,
    ) -> Result<Map<String, Value>, KeyProblem> {
        if !crate::jose::ASYMMETRIC.contains(&header.alg) {
            return Err(KeyProblem::BadSignature);
        }
        let mut keys = self.public_keys(client, allow_private, false).await?;
        let kid = header.kid.as_deref();
        if kid.is_some_and(|k| !keys.contains_key(k)) && client.security.jwks_uri.is_some() {
            keys = self.public_keys(client, allow_private, true).await?;
        }
        let validation = signature_only(header.alg);
        let verified = crate::jose::candidates(&keys, kid, header.alg)
            .find_map(|key| decode::<Map<String, Value>>(jws, key, &validation).ok())
            .map(|data| data.claims);
        verified.ok_or(KeyProblem::BadSignature)
    }

    /// Verifies an HMAC JWS (`client_secret_jwt`) with the client's unexpired secrets.
    pub fn verify_hmac(
        &self,
        client: &Client,
        now: chrono::DateTime<chrono::Utc>,
        jws: &str,
        header: &Header,
    ) -> Result<Map<String, Value>, KeyProblem> {
        if !matches!(
            header.alg,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
        ) {
            return Err(KeyProblem::BadSignature);
        }
        let secrets: Vec<Vec<u8>> = client
            .secrets
            .iter()
            .filter(|s| s.expires_at.is_none_or(|at| at > now))
            .filter_map(|s| s.sealed.as_deref())
            .filter_map(|sealed| self.master_key.open(sealed, SECRET_SEAL_CONTEXT).ok())
            .collect();
        if secrets.is_empty() {
            return Err(KeyProblem::NoKeys);
        }
        let validation = signature_only(header.alg);
        secrets
            .iter()
            .find_map(|secret| {
                decode::<Map<String, Value>>(jws, &DecodingKey::from_secret(secret), &validation)
                    .ok()
            })
            .map(|data| data.claims)
            .ok_or(KeyProblem::BadSignature)
    }
}

/// Checks the signature and nothing else: the callers check the claims against their rules.
fn signature_only(alg: Algorithm) -> Validation {
    let mut validation = Validation::new(alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation
}
