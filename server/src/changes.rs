//! Cache invalidation across processes. A change is applied to this process's caches at
//! once and, on Postgres, broadcast with `pg_notify` so every process sharing the database
//! drops the same entries within milliseconds. A periodic reconcile covers lost notifications.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::directory::Directory;
use chrono::{DateTime, Utc};

use crate::domain::SigningAlg;
use crate::keys::{ActiveKey, KeyRing, KeyRingError, Made, RealmKeys};
use crate::revocation::RevocationIndex;
use crate::store::DatabaseKind;
use crate::store::{Heard, Store};

const CHANNEL: &str = "tessera_changes";

/// Something cached changed in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Realm {
        name: String,
    },
    Client {
        realm_id: String,
        client_id: String,
    },
    Keys {
        realm_id: String,
    },
    /// A key was made on first use: nothing was withdrawn, so verified tokens stay verified.
    KeyAdded {
        realm_id: String,
    },
    Catalog {
        realm_id: String,
    },
    Revocations,
}

impl Change {
    fn encode(&self) -> String {
        match self {
            Change::Realm { name } => format!("realm\t{name}"),
            Change::Client {
                realm_id,
                client_id,
            } => format!("client\t{realm_id}\t{client_id}"),
            Change::Keys { realm_id } => format!("keys\t{realm_id}"),
            Change::KeyAdded { realm_id } => format!("key-added\t{realm_id}"),
            Change::Catalog { realm_id } => format!("catalog\t{realm_id}"),
            Change::Revocations => "revocations".to_string(),
        }
    }

    fn decode(payload: &str) -> Option<Self> {
        let mut parts = payload.split('\t');
        let change = match parts.next()? {
            "realm" => Change::Realm {
                name: parts.next()?.to_string(),
            },
            "client" => Change::Client {
                realm_id: parts.next()?.to_string(),
                client_id: parts.next()?.to_string(),
            },
            "keys" => Change::Keys {
                realm_id: parts.next()?.to_string(),
            },
            "key-added" => Change::KeyAdded {
                realm_id: parts.next()?.to_string(),
            },
            "catalog" => Change::Catalog {
                realm_id: parts.next()?.to_string(),
            },
            "revocations" => Change::Revocations,
            _ => return None,
        };
        Some(change)
    }
}

/// The caches a change can touch.
#[derive(Debug)]
pub struct Caches {
    pub store: Store,
    pub directory: Directory,
    pub keys: KeyRing,
    pub revocations: RevocationIndex,
    pub verified_tokens: crate::tokens::verified_cache::VerifiedTokenCache,
    /// The server's clock: revocations are reloaded as of its now.
    pub clock: Arc<dyn Clock>,
}

impl Caches {
    async fn apply(&self, change: &Change) {
        match change {
            Change::Realm { name } => self.directory.forget_realm(name),
            Change::Client {
                realm_id,
                client_id,
            } => self.directory.forget_client(realm_id, client_id),
            Change::Keys { realm_id } => {
                self.keys.invalidate(realm_id);
                self.verified_tokens.clear();
            }
            Change::KeyAdded { realm_id } => self.keys.reload_later(realm_id),
            Change::Catalog { realm_id } => self.directory.forget_catalog(realm_id),
            Change::Revocations => self.reload_revocations().await,
        }
    }

    async fn reload_revocations(&self) {
        if let Err(e) = self.revocations.reload(&self.store, self.clock.now()).await {
            tracing::warn!(error = %e, "reloading the revocation index failed");
        }
    }

    /// The realm's active key for `alg`. A realm is created with the keys that are quick to
    /// make ([`SigningAlg::EAGER`]); its RSA key is made the first time it is needed, here or
    /// when its JWKS is first served, and announced to the other processes at once, so their
    /// JWKS publish it before any token it signs reaches a verifier.
    pub async fn signing_key(
        &self,
        realm_id: &str,
        alg: SigningAlg,
        now: DateTime<Utc>,
    ) -> Result<Arc<ActiveKey>, KeyRingError> {
        let keys = self.keys.realm_keys(realm_id, now).await?;
        if let Ok(key) = keys.active(alg) {
            return Ok(key.clone());
        }
        let made = self.keys.make_missing(realm_id, &[alg], now).await?;
        self.announce_keys(realm_id, made).await;
        let keys = self.keys.realm_keys(realm_id, now).await?;
        Ok(keys.active(alg)?.clone())
    }

    /// The realm's keys with an active key of every algorithm, made where missing: what the
    /// JWKS publishes, so a verifier that fetched it knows every key a token may name.
    pub async fn published_keys(
        &self,
        realm_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Arc<RealmKeys>, KeyRingError> {
        let keys = self.keys.realm_keys(realm_id, now).await?;
        let missing = keys.missing();
        if missing.is_empty() {
            return Ok(keys);
        }
        match self.keys.make_missing(realm_id, &missing, now).await {
            Ok(made) => {
                self.announce_keys(realm_id, made).await;
                self.keys.realm_keys(realm_id, now).await
            }
            Err(e) => {
                // The database is down, say: publish what there is. No token of the missing
                // algorithm can exist before its key does.
                tracing::warn!(error = %e, realm_id, "making a missing signing key failed");
                Ok(keys)
            }
        }
    }

    async fn announce_keys(&self, realm_id: &str, made: Made) {
        if made == Made::Keys {
            let realm_id = realm_id.to_string();
            self.publish(Change::KeyAdded { realm_id }).await;
        }
    }

    /// Applies `change` here and tells the other processes.
    pub async fn publish(&self, change: Change) {
        self.apply(&change).await;
        if self.store.kind == DatabaseKind::Postgres {
            if let Err(e) = self.store.notify(CHANNEL, &change.encode()).await {
                tracing::warn!(error = %e, "broadcasting a cache change failed");
            }
        }
    }

    async fn forget_everything(&self) {
        self.directory.forget_all();
        self.keys.invalidate_all();
        self.verified_tokens.clear();
        self.reload_revocations().await;
    }
}

/// How often the revocation index is reloaded regardless of notifications.
pub const RECONCILE_EVERY: Duration = Duration::from_secs(30);

/// Runs for the life of the server: listens for other processes' changes (Postgres) and
/// reconciles periodically.
pub fn spawn_listeners(caches: Arc<Caches>) {
    let reconcile = caches.clone();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(RECONCILE_EVERY);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            reconcile.reload_revocations().await;
        }
    });
    if caches.store.kind == DatabaseKind::Postgres {
        tokio::spawn(listen(caches));
    }
}

async fn listen(caches: Arc<Caches>) {
    loop {
        let mut listener = match caches.store.listen(CHANNEL).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, "cannot LISTEN for changes; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        // Anything may have changed while no listener was attached.
        caches.forget_everything().await;
        loop {
            match listener.next().await {
                Ok(Heard::Payload(payload)) => {
                    if let Some(change) = Change::decode(&payload) {
                        caches.apply(&change).await;
                    }
                }
                // The connection dropped: notifications may be lost. Reconnect from scratch and
                // forget the caches only once listening again, so that during a database outage
                // (when nothing can change) the caches go on serving what they hold.
                Ok(Heard::ConnectionLost) => {
                    tracing::warn!("change listener lost its connection; reconnecting");
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "change listener failed; reconnecting");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_round_trip_through_their_payload() {
        for change in [
            Change::Realm { name: "a".into() },
            Change::Client {
                realm_id: "r".into(),
                client_id: "c".into(),
            },
            Change::Keys {
                realm_id: "r".into(),
            },
            Change::KeyAdded {
                realm_id: "r".into(),
            },
            Change::Catalog {
                realm_id: "r".into(),
            },
            Change::Revocations,
        ] {
            assert_eq!(Change::decode(&change.encode()), Some(change));
        }
        assert_eq!(Change::decode("bogus"), None);
    }
}
