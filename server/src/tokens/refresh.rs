//! Refresh tokens in flight: opaque 256-bit values stored as SHA-256 hashes, grouped in families,
//! rotated on every use. Presenting a rotated token again revokes its whole family (RFC 9700
//! §4.14.2), unless the client has a reuse grace (`refresh_reuse_grace`, client → realm →
//! server default, 0 by default): within it a retry gets the same successor pair, never a new
//! branch. The successor is derived from its parent with a keyed hash, so the raw value never has
//! to be stored; the access and ID token of the pair are kept sealed under the master key.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::crypto::master_key::MasterKey;
use crate::crypto::{b64url, random, sha256};
use crate::domain::Lifetimes;
use crate::store::refresh::{self, Family, NewFamily};
use crate::store::users::StoredUser;
use crate::store::{Store, StoreError};
use crate::tokens::verify::VerifiedToken;

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// Unknown, expired, revoked, or issued to another client or realm.
    #[error("the refresh token is invalid")]
    Invalid,
    /// A rotated token came back after the grace window: the family is now revoked.
    #[error("the refresh token was already used; its family is revoked")]
    Reused { family_id: String },
    /// The family is bound to a DPoP key the request did not prove.
    #[error("the refresh token is bound to another DPoP key")]
    KeyMismatch,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The tokens a rotation handed out besides the refresh token, kept (sealed) so that a retry
/// within the grace window gets the very same pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedPair {
    pub access_token: String,
    /// Unix time the access token expires.
    pub expires_at: i64,
    pub scope: Option<String>,
    pub id_token: Option<String>,
}

/// The outcome of a successful refresh.
#[derive(Debug)]
pub struct Rotation {
    pub family: Family,
    /// The family's user as the database holds it now (read with the token).
    pub user: Option<StoredUser>,
    /// The new refresh token to hand out.
    pub successor: String,
    /// Row id of the successor, where the pair is sealed.
    successor_id: String,
    /// A retry within the grace window whose first answer was sealed: answer it again.
    pub repeated: Option<IssuedPair>,
    /// Whether the pair minted for this rotation must be kept for retries (grace > 0).
    pub keep_pair: bool,
}

pub struct RefreshTokens {
    store: Store,
    successor_key: aws_lc_rs::hmac::Key,
    pair_key: MasterKey,
    /// The server default of the reuse grace (`TESSERA_REFRESH_GRACE`).
    default_grace: Duration,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for RefreshTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshTokens")
            .field("default_grace", &self.default_grace)
            .finish()
    }
}

/// The stored form of a refresh token.
pub fn hash(raw: &str) -> String {
    b64url(sha256(raw.as_bytes()))
}

impl RefreshTokens {
    pub fn new(
        store: Store,
        successor_key: [u8; 32],
        pair_key: [u8; 32],
        default_grace: Duration,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            successor_key: aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &successor_key),
            pair_key: MasterKey::from_bytes(pair_key),
            default_grace,
            clock,
        }
    }

    fn successor_of(&self, raw: &str) -> String {
        b64url(aws_lc_rs::hmac::sign(&self.successor_key, raw.as_bytes()))
    }

    /// The reuse grace for these (client → realm resolved) lifetimes.
    pub fn grace(&self, lifetimes: &Lifetimes) -> Duration {
        lifetimes
            .refresh_reuse_grace
            .map(Duration::seconds)
            .unwrap_or(self.default_grace)
    }

    /// Starts a family and returns its first token.
    pub async fn issue(
        &self,
        realm_id: &str,
        new: NewFamily,
        lifetimes: &Lifetimes,
        now: DateTime<Utc>,
    ) -> Result<String, RefreshError> {
        let raw = random::opaque_token();
        let expires_at = sliding_expiry(now, lifetimes, new.absolute_expires_at);
        refresh::create_family(
            self.store.writer(),
            realm_id,
            new,
            &hash(&raw),
            expires_at,
            now,
        )
        .await?;
        Ok(raw)
    }

    /// Absolute expiry of a family started now.
    pub fn absolute_expiry(now: DateTime<Utc>, lifetimes: &Lifetimes) -> DateTime<Utc> {
        now + Duration::seconds(lifetimes.refresh_token)
    }

    /// Rotates `raw` for `client_id` of `realm_id`.
    ///
    /// A token's successor is derived from it, so its row says whether the token was rotated:
    /// one read fetches the token, its successor and the successor's own (for a retry within
    /// the grace), and the rotation is one insert of the successor, whose unique hash lets
    /// exactly one of two concurrent rotations win, with no transaction around it.
    pub async fn rotate(
        &self,
        realm_id: &str,
        client_id: &str,
        raw: &str,
        dpop_jkt: Option<&str>,
        lifetimes: &Lifetimes,
        now: DateTime<Utc>,
    ) -> Result<Rotation, RefreshError> {
        let grace = self.grace(lifetimes);
        let chain = Chain::of(self, raw);
        let found = refresh::find_chain(&self.store.db, &chain.hashes()).await?;
        let (token, family, user) = chain.token(&found).ok_or(RefreshError::Invalid)?;
        if family.realm_id != realm_id
            || family.client_id != client_id
            || family.revoked_at.is_some()
            || now >= family.absolute_expires_at
        {
            return Err(RefreshError::Invalid);
        }
        if family
            .dpop_jkt
            .as_deref()
            .is_some_and(|bound| dpop_jkt != Some(bound))
        {
            // Before anything is written: a thief without the key burns nothing.
            return Err(RefreshError::KeyMismatch);
        }
        let family = family.clone();
        let user = user.clone();
        if chain.successor(&found).is_some() {
            return self.replay(family, user, &chain, &found, grace, now).await;
        }
        if token.rotated_at.is_some() {
            // Rotated by an earlier version, which marked the token itself, and its successor
            // is gone: still a rotated token presented again.
            refresh::revoke_family(&self.store.db, &family.id, "reuse detected", now).await?;
            return Err(RefreshError::Reused {
                family_id: family.id,
            });
        }
        if now >= token.expires_at {
            return Err(RefreshError::Invalid);
        }
        let successor_id = random::id();
        // Dated when the database took the request, not when it arrived: a rotation that waited
        // out an outage starts its grace window when it commits, so the client's retry (its
        // request timed out) still finds it within the window.
        let rotated_at = self.clock.now().max(now);
        // Never before its parent: the successor's row is what marks the parent rotated, so
        // it must outlive it (a sliding window shortened since the parent was issued).
        let expires_at =
            sliding_expiry(rotated_at, lifetimes, family.absolute_expires_at).max(token.expires_at);
        let inserted = refresh::insert_token(
            self.store.writer(),
            &successor_id,
            &family.id,
            &chain.successor_hash,
            expires_at,
            rotated_at,
        )
        .await;
        match inserted {
            Ok(()) => Ok(Rotation {
                family,
                user,
                successor: chain.successor,
                successor_id,
                repeated: None,
                keep_pair: grace > Duration::zero(),
            }),
            Err(StoreError::Conflict(_)) => {
                // Another request rotated it between our read and our write.
                let found = refresh::find_chain(&self.store.db, &chain.hashes()).await?;
                self.replay(family, user, &chain, &found, grace, now).await
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A token that was already rotated: within the grace window, and while its successor is
    /// unused, the same successor (and the same pair, once sealed); otherwise the whole family
    /// is revoked.
    async fn replay(
        &self,
        family: Family,
        user: Option<StoredUser>,
        chain: &Chain,
        found: &[refresh::ChainRow],
        grace: Duration,
        now: DateTime<Utc>,
    ) -> Result<Rotation, RefreshError> {
        let Some(successor) = chain.successor(found) else {
            return Err(RefreshError::Invalid);
        };
        // The successor was inserted when the token was rotated.
        let rotated_at = successor.created_at;
        // Once the successor was used in turn, the chain has moved on: this is no retry.
        let moved_on = chain.next(found).is_some();
        if grace > Duration::zero() && now - rotated_at <= grace && !moved_on {
            let repeated = successor
                .sealed_response
                .as_deref()
                .and_then(|sealed| self.open_pair(&successor.id, sealed));
            return Ok(Rotation {
                family,
                user,
                successor: chain.successor.clone(),
                successor_id: successor.id.clone(),
                repeated,
                keep_pair: false,
            });
        }
        refresh::revoke_family(&self.store.db, &family.id, "reuse detected", now).await?;
        Err(RefreshError::Reused {
            family_id: family.id,
        })
    }

    /// Keeps the pair a fresh rotation handed out, for retries within the grace window.
    pub async fn keep_pair(
        &self,
        rotation: &Rotation,
        pair: &IssuedPair,
    ) -> Result<(), RefreshError> {
        if !rotation.keep_pair {
            return Ok(());
        }
        let json = serde_json::to_vec(pair).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sealed = self.pair_key.seal(&json, rotation.successor_id.as_bytes());
        refresh::set_sealed_response(&self.store.db, &rotation.successor_id, &sealed).await?;
        Ok(())
    }

    fn open_pair(&self, successor_id: &str, sealed: &str) -> Option<IssuedPair> {
        let plain = self.pair_key.open(sealed, successor_id.as_bytes()).ok()?;
        serde_json::from_slice(&plain).ok()
    }

    /// Revokes the family of `raw` if it belongs to `client_id` of `realm_id` (RFC 7009).
    /// Returns whether a family was found.
    pub async fn revoke(
        &self,
        realm_id: &str,
        client_id: &str,
        raw: &str,
        now: DateTime<Utc>,
    ) -> Result<RevokeOutcome, RefreshError> {
        let Some((_, family)) = refresh::find_by_hash(&self.store.db, &hash(raw)).await? else {
            return Ok(RevokeOutcome::Unknown);
        };
        if family.realm_id != realm_id {
            return Ok(RevokeOutcome::Unknown);
        }
        if family.client_id != client_id {
            return Ok(RevokeOutcome::OtherClient);
        }
        refresh::revoke_family(&self.store.db, &family.id, "revoked by the client", now).await?;
        Ok(RevokeOutcome::Revoked)
    }
}

impl RefreshTokens {
    /// The family of `raw` when `raw` is its current, usable token (for introspection).
    pub async fn live_family(
        &self,
        realm_id: &str,
        raw: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(Family, DateTime<Utc>)>, RefreshError> {
        let chain = Chain::of(self, raw);
        let found = refresh::find_chain(&self.store.db, &chain.hashes()).await?;
        let Some((token, family, _)) = chain.token(&found) else {
            return Ok(None);
        };
        let live = family.realm_id == realm_id
            && family.revoked_at.is_none()
            && chain.successor(&found).is_none()
            && token.rotated_at.is_none()
            && now < token.expires_at
            && now < family.absolute_expires_at;
        Ok(live.then(|| (family.clone(), token.expires_at)))
    }
}

/// A presented token and the two tokens that would follow it, by hash.
struct Chain {
    presented_hash: String,
    /// The raw successor: what this rotation hands out (or handed out, on a retry).
    successor: String,
    successor_hash: String,
    next_hash: String,
}

impl Chain {
    fn of(tokens: &RefreshTokens, raw: &str) -> Self {
        let successor = tokens.successor_of(raw);
        let next_hash = hash(&tokens.successor_of(&successor));
        Self {
            presented_hash: hash(raw),
            successor_hash: hash(&successor),
            successor,
            next_hash,
        }
    }

    fn hashes(&self) -> [&str; 3] {
        [&self.presented_hash, &self.successor_hash, &self.next_hash]
    }

    fn find<'a>(found: &'a [refresh::ChainRow], hash: &str) -> Option<&'a refresh::Token> {
        found
            .iter()
            .map(|(token, _, _)| token)
            .find(|token| token.token_hash == hash)
    }

    /// The presented token, its family and the family's user.
    fn token<'a>(&self, found: &'a [refresh::ChainRow]) -> Option<&'a refresh::ChainRow> {
        found
            .iter()
            .find(|(token, _, _)| token.token_hash == self.presented_hash)
    }

    /// The presented token's successor: present once it was rotated.
    fn successor<'a>(&self, found: &'a [refresh::ChainRow]) -> Option<&'a refresh::Token> {
        Self::find(found, &self.successor_hash)
    }

    /// The successor's successor: present once the successor was rotated in turn.
    fn next<'a>(&self, found: &'a [refresh::ChainRow]) -> Option<&'a refresh::Token> {
        Self::find(found, &self.next_hash)
    }
}

/// A family as the revocation lists see it: a token issued when the family started, with its
/// subject, client and extra claims.
pub trait FamilyAsToken {
    fn as_token(&self) -> VerifiedToken;
}

impl FamilyAsToken for Family {
    fn as_token(&self) -> VerifiedToken {
        let mut claims = match &self.claims {
            serde_json::Value::Object(map) => map.clone(),
            _ => serde_json::Map::new(),
        };
        claims.insert("sub".into(), self.subject.clone().into());
        claims.insert("client_id".into(), self.client_id.clone().into());
        claims.insert("iat".into(), self.created_at.timestamp().into());
        VerifiedToken { claims }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeOutcome {
    Revoked,
    OtherClient,
    Unknown,
}

/// A token's own expiry: the sliding window, never past the family's absolute expiry.
fn sliding_expiry(
    now: DateTime<Utc>,
    lifetimes: &Lifetimes,
    absolute: DateTime<Utc>,
) -> DateTime<Utc> {
    (now + Duration::seconds(lifetimes.refresh_token_sliding)).min(absolute)
}
