//! Refresh tokens in flight: opaque 256-bit values stored as SHA-256 hashes, grouped in families,
//! rotated on every use. Presenting a rotated token again revokes its whole family (RFC 9700
//! §4.14.2) — except within a short grace window, where a concurrent second refresh of the same
//! token gets the same successor. The successor is derived from its parent with a keyed hash, so
//! the raw value never has to be stored to hand it out twice.

use chrono::{DateTime, Duration, Utc};
use sea_orm::TransactionTrait;

use crate::crypto::{b64url, random, sha256};
use crate::domain::Lifetimes;
use crate::store::refresh::{self, Family, NewFamily};
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
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for RefreshError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Store(e.into())
    }
}

/// The outcome of a successful refresh.
#[derive(Debug)]
pub struct Rotation {
    pub family: Family,
    /// The new refresh token to hand out.
    pub successor: String,
}

pub struct RefreshTokens {
    store: Store,
    successor_key: aws_lc_rs::hmac::Key,
    grace: Duration,
}

impl std::fmt::Debug for RefreshTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshTokens")
            .field("grace", &self.grace)
            .finish()
    }
}

/// The stored form of a refresh token.
pub fn hash(raw: &str) -> String {
    b64url(sha256(raw.as_bytes()))
}

impl RefreshTokens {
    pub fn new(store: Store, successor_key: [u8; 32], grace: Duration) -> Self {
        Self {
            store,
            successor_key: aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &successor_key),
            grace,
        }
    }

    fn successor_of(&self, raw: &str) -> String {
        b64url(aws_lc_rs::hmac::sign(&self.successor_key, raw.as_bytes()))
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
        refresh::create_family(&self.store.db, realm_id, new, &hash(&raw), expires_at, now).await?;
        Ok(raw)
    }

    /// Absolute expiry of a family started now.
    pub fn absolute_expiry(now: DateTime<Utc>, lifetimes: &Lifetimes) -> DateTime<Utc> {
        now + Duration::seconds(lifetimes.refresh_token)
    }

    /// Rotates `raw` for `client_id` of `realm_id`.
    pub async fn rotate(
        &self,
        realm_id: &str,
        client_id: &str,
        raw: &str,
        lifetimes: &Lifetimes,
        now: DateTime<Utc>,
    ) -> Result<Rotation, RefreshError> {
        let (token, family) = refresh::find_by_hash(&self.store.db, &hash(raw))
            .await?
            .ok_or(RefreshError::Invalid)?;
        if family.realm_id != realm_id
            || family.client_id != client_id
            || family.revoked_at.is_some()
            || now >= family.absolute_expires_at
        {
            return Err(RefreshError::Invalid);
        }
        let successor = self.successor_of(raw);
        if let Some(rotated_at) = token.rotated_at {
            return self.replay(family, rotated_at, successor, now).await;
        }
        if now >= token.expires_at {
            return Err(RefreshError::Invalid);
        }
        let successor_id = random::id();
        let expires_at = sliding_expiry(now, lifetimes, family.absolute_expires_at);
        let txn = self.store.db.begin().await?;
        if !refresh::mark_rotated(&txn, &token.id, &successor_id, now).await? {
            // Another request rotated it between our read and our write.
            txn.rollback().await?;
            let current = refresh::find_token(&self.store.db, &token.id)
                .await?
                .ok_or(RefreshError::Invalid)?;
            let rotated_at = current.rotated_at.ok_or(RefreshError::Invalid)?;
            return self.replay(family, rotated_at, successor, now).await;
        }
        refresh::insert_token(
            &txn,
            &successor_id,
            &family.id,
            &hash(&successor),
            expires_at,
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(Rotation { family, successor })
    }

    /// A token that was already rotated: the same successor inside the grace window, family
    /// revocation outside it.
    async fn replay(
        &self,
        family: Family,
        rotated_at: DateTime<Utc>,
        successor: String,
        now: DateTime<Utc>,
    ) -> Result<Rotation, RefreshError> {
        if now - rotated_at <= self.grace {
            return Ok(Rotation { family, successor });
        }
        refresh::revoke_family(&self.store.db, &family.id, "reuse detected", now).await?;
        Err(RefreshError::Reused {
            family_id: family.id,
        })
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
        let Some((token, family)) = refresh::find_by_hash(&self.store.db, &hash(raw)).await? else {
            return Ok(None);
        };
        let live = family.realm_id == realm_id
            && family.revoked_at.is_none()
            && token.rotated_at.is_none()
            && now < token.expires_at
            && now < family.absolute_expires_at;
        Ok(live.then_some((family, token.expires_at)))
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
