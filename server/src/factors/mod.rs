//! Second factors (CONTRACT §8): TOTP secrets and recovery codes, their enrolment, and checking
//! a code a user gives. Every check is an attempt of [`Accounts`]: wrong codes count toward the
//! same lockout as wrong passwords, and a locked account is refused without judging the code.
//! TOTP secrets are sealed with the master key (bound to their credential's id); recovery codes
//! are kept as keyed hashes.

pub mod passkeys;
pub mod recovery;
pub mod totp;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::accounts::{AccountError, Accounts};
use crate::crypto::master_key::MasterKey;
use crate::domain::{Client, ClientMfa, Realm, RealmMfa};
use crate::store::credentials::{self, kind, NewCredential, StoredCredential};
use crate::store::users::StoredUser;
use crate::store::{self, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum FactorError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error("a stored TOTP secret cannot be decrypted with this master key")]
    Sealed,
    #[error("passkeys: {0}")]
    Passkey(String),
}

/// The RFC 8176 methods a second factor adds to a password sign-in.
pub const AMR_WITH_SECOND_FACTOR: [&str; 3] = ["pwd", "otp", "mfa"];

/// The methods of a password and a passkey as its second factor (`swk` for a key that may be
/// synced between devices, `hwk` for one bound to its device).
pub fn amr_with_passkey(synced: bool) -> Vec<String> {
    let key = if synced { "swk" } else { "hwk" };
    ["pwd", key, "mfa"].map(String::from).to_vec()
}

/// What checking a code came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A fresh TOTP code.
    Totp,
    /// One of the recovery codes, now used up.
    RecoveryCode,
    /// Wrong, already used, or not a code at all (counted toward the lockout).
    Wrong,
    /// The account is locked; the code was not judged.
    Locked,
}

/// What confirming an enrolment came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enrolment {
    /// The secret is the user's TOTP now; these recovery codes are shown once.
    Confirmed {
        recovery_codes: Vec<String>,
    },
    Wrong,
    Locked,
    /// Nothing waits for confirmation (it was confirmed meanwhile, or never started).
    NothingPending,
}

/// A secret shown for enrolment: as text, as an `otpauth://` URI and as its QR code.
#[derive(Debug, Clone)]
pub struct TotpOffer {
    pub secret_base32: String,
    pub uri: String,
    pub qr_svg: Option<String>,
}

/// A user's second factors at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Enrolled {
    pub totp: bool,
    pub passkeys: usize,
    pub recovery_codes: usize,
}

impl Enrolled {
    /// Whether the user has a second factor to give (recovery codes alone are a fallback,
    /// not a factor).
    pub fn any(&self) -> bool {
        self.totp || self.passkeys > 0
    }
}

pub struct SecondFactors {
    store: Store,
    master_key: Arc<MasterKey>,
    recovery_pepper: [u8; 32],
}

impl std::fmt::Debug for SecondFactors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecondFactors").finish_non_exhaustive()
    }
}

pub(crate) fn totp_context(credential_id: &str) -> Vec<u8> {
    format!("totp:{credential_id}").into_bytes()
}

impl SecondFactors {
    pub fn new(store: Store, master_key: Arc<MasterKey>) -> Self {
        let recovery_pepper = master_key.derive("recovery-code-pepper");
        Self {
            store,
            master_key,
            recovery_pepper,
        }
    }

    /// Which second factors the user has.
    pub async fn enrolled(&self, user_id: &str) -> Result<Enrolled, FactorError> {
        let all = credentials::of_user(&self.store.db, user_id).await?;
        Ok(Enrolled {
            totp: all.iter().any(|c| c.kind == kind::TOTP && c.confirmed),
            passkeys: all.iter().filter(|c| c.kind == kind::PASSKEY).count(),
            recovery_codes: all.iter().filter(|c| c.kind == kind::RECOVERY_CODE).count(),
        })
    }

    /// Whether the realm's and the client's policy make a sign-in of `user_id` need a second
    /// factor: required by either, or optional and the user enrolled one (CONTRACT §8).
    pub async fn required(
        &self,
        realm: &Realm,
        client: &Client,
        user_id: &str,
    ) -> Result<bool, FactorError> {
        if client.mfa == ClientMfa::Required {
            return Ok(true);
        }
        self.required_by_realm(realm, user_id).await
    }

    /// The realm's part of [`SecondFactors::required`] (for the realm's own pages).
    pub async fn required_by_realm(
        &self,
        realm: &Realm,
        user_id: &str,
    ) -> Result<bool, FactorError> {
        match realm.mfa {
            RealmMfa::Required => Ok(true),
            RealmMfa::Off => Ok(false),
            RealmMfa::Optional => Ok(self.enrolled(user_id).await?.any()),
        }
    }

    fn open(&self, credential: &StoredCredential) -> Result<Vec<u8>, FactorError> {
        self.master_key
            .open(&credential.secret, &totp_context(&credential.id))
            .map_err(|_| FactorError::Sealed)
    }

    /// The secret the user is asked to add to their app: the one already offered and not yet
    /// confirmed (so reloading the page shows the same QR code), or a fresh one.
    pub async fn offer_totp(
        &self,
        user: &StoredUser,
        issuer_label: &str,
        now: DateTime<Utc>,
    ) -> Result<TotpOffer, FactorError> {
        let secret = match credentials::pending_totp(&self.store.db, &user.id).await? {
            Some(pending) => self.open(&pending)?,
            None => {
                let secret = totp::generate_secret();
                let id = crate::crypto::random::id();
                let sealed = self.master_key.seal(&secret, &totp_context(&id));
                credentials::insert(
                    &self.store.db,
                    NewCredential {
                        id,
                        realm_id: &user.realm_id,
                        user_id: &user.id,
                        kind: kind::TOTP,
                        label: None,
                        lookup_key: None,
                        secret: sealed,
                        confirmed: false,
                        last_used_step: None,
                    },
                    now,
                )
                .await?;
                secret
            }
        };
        let account = user.email.as_deref().unwrap_or(&user.username);
        let uri = totp::otpauth_uri(&secret, issuer_label, account);
        Ok(TotpOffer {
            secret_base32: totp::to_base32(&secret),
            qr_svg: totp::qr_svg(&uri),
            uri,
        })
    }

    /// Confirms the offered secret with a first code from the user's app. On success the secret
    /// replaces any TOTP the user had, a fresh set of recovery codes replaces the old one, and a
    /// required action `configure_totp` is done.
    pub async fn confirm_totp(
        &self,
        accounts: &Accounts,
        user: &StoredUser,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Enrolment, FactorError> {
        let Some(pending) = credentials::pending_totp(&self.store.db, &user.id).await? else {
            return Ok(Enrolment::NothingPending);
        };
        let attempt = accounts.begin_attempt(user, now).await?;
        if attempt.is_refused() {
            return Ok(Enrolment::Locked);
        }
        let secret = self.open(&pending)?;
        let Some(step) = totp::matching_step(&secret, code, now.timestamp()) else {
            accounts.failed(user, attempt, now).await?;
            return Ok(Enrolment::Wrong);
        };
        if !accounts.succeeded(user, attempt, now).await? {
            return Ok(Enrolment::Locked);
        }
        let tx = self.store.begin().await?;
        credentials::delete_kind(&tx, &user.id, kind::TOTP, Some(true)).await?;
        if !credentials::confirm_totp(&tx, &pending.id, step, now).await? {
            tx.rollback().await?;
            return Ok(Enrolment::NothingPending);
        }
        let recovery_codes = self.replace_recovery_codes(&tx, user, now).await?;
        // An administrator's "configure a second factor" is done with it.
        store::users::complete_required_action(
            &tx,
            &user.id,
            crate::domain::required_action::CONFIGURE_TOTP,
            now,
        )
        .await?;
        audit(&tx, user, &user.id, "user.totp_enrolled", json!({}), now).await?;
        tx.commit().await?;
        Ok(Enrolment::Confirmed { recovery_codes })
    }

    /// Checks a code the user gave: a TOTP code (accepted once per time step) or a recovery code
    /// (used up), counted toward the lockout either way.
    pub async fn verify(
        &self,
        accounts: &Accounts,
        user: &StoredUser,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Verdict, FactorError> {
        let attempt = accounts.begin_attempt(user, now).await?;
        if attempt.is_refused() {
            return Ok(Verdict::Locked);
        }
        let verdict = self.judge(user, code, now).await?;
        if verdict == Verdict::Wrong {
            accounts.failed(user, attempt, now).await?;
            return Ok(Verdict::Wrong);
        }
        if !accounts.succeeded(user, attempt, now).await? {
            return Ok(Verdict::Locked);
        }
        if verdict == Verdict::RecoveryCode {
            audit(
                &self.store.db,
                user,
                &user.id,
                "user.recovery_code_used",
                json!({}),
                now,
            )
            .await?;
        }
        Ok(verdict)
    }

    async fn judge(
        &self,
        user: &StoredUser,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Verdict, FactorError> {
        let db = &self.store.db;
        if totp::looks_like_code(code) {
            let Some(credential) = credentials::confirmed_totp(db, &user.id).await? else {
                return Ok(Verdict::Wrong);
            };
            let secret = self.open(&credential)?;
            let Some(step) = totp::matching_step(&secret, code, now.timestamp()) else {
                return Ok(Verdict::Wrong);
            };
            // A code of this step (or a later one) already accepted is a replay (RFC 6238 §5.2).
            if !credentials::accept_totp_step(db, &credential.id, step, now).await? {
                return Ok(Verdict::Wrong);
            }
            return Ok(Verdict::Totp);
        }
        let Some(normalized) = recovery::normalize(code) else {
            return Ok(Verdict::Wrong);
        };
        let hash = recovery::hash(&self.recovery_pepper, &normalized);
        if credentials::consume_recovery_code(db, &user.id, &hash).await? {
            Ok(Verdict::RecoveryCode)
        } else {
            Ok(Verdict::Wrong)
        }
    }

    async fn replace_recovery_codes(
        &self,
        db: &impl store::Conn,
        user: &StoredUser,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, FactorError> {
        credentials::delete_kind(db, &user.id, kind::RECOVERY_CODE, None).await?;
        let codes = recovery::generate();
        for code in &codes {
            let normalized = recovery::normalize(code).unwrap_or_default();
            credentials::insert(
                db,
                NewCredential {
                    id: crate::crypto::random::id(),
                    realm_id: &user.realm_id,
                    user_id: &user.id,
                    kind: kind::RECOVERY_CODE,
                    label: None,
                    lookup_key: None,
                    secret: recovery::hash(&self.recovery_pepper, &normalized),
                    confirmed: true,
                    last_used_step: None,
                },
                now,
            )
            .await?;
        }
        Ok(codes)
    }

    /// A fresh set of recovery codes, replacing the old ones (shown once).
    pub async fn regenerate_recovery_codes(
        &self,
        user: &StoredUser,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, FactorError> {
        let tx = self.store.begin().await?;
        let codes = self.replace_recovery_codes(&tx, user, now).await?;
        audit(
            &tx,
            user,
            actor,
            "user.recovery_codes_generated",
            json!({}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// Sets the user's TOTP secret from another system (or a fresh one when `secret` is `None`),
    /// confirmed at once, replacing any TOTP they had; returns the credential and the secret as
    /// base32. `secret` must already be parsed (see [`totp::parse_base32`]).
    pub async fn import_totp(
        &self,
        user: &StoredUser,
        secret: Option<Vec<u8>>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(StoredCredential, String), FactorError> {
        let imported = secret.is_some();
        let secret = secret.unwrap_or_else(totp::generate_secret);
        let id = crate::crypto::random::id();
        let sealed = self.master_key.seal(&secret, &totp_context(&id));
        let tx = self.store.begin().await?;
        credentials::delete_kind(&tx, &user.id, kind::TOTP, None).await?;
        let credential = credentials::insert(
            &tx,
            NewCredential {
                id,
                realm_id: &user.realm_id,
                user_id: &user.id,
                kind: kind::TOTP,
                label: Some(if imported { "imported" } else { "generated" }.into()),
                lookup_key: None,
                secret: sealed,
                confirmed: true,
                last_used_step: None,
            },
            now,
        )
        .await?;
        audit(
            &tx,
            user,
            actor,
            "user.totp_set",
            json!({"credential": credential.id, "imported": imported}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok((credential, totp::to_base32(&secret)))
    }

    /// Removes every recovery code of the user; whether there were any.
    pub async fn remove_recovery_codes(
        &self,
        user: &StoredUser,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, FactorError> {
        let tx = self.store.begin().await?;
        let removed = credentials::delete_kind(&tx, &user.id, kind::RECOVERY_CODE, None).await?;
        if removed == 0 {
            return Ok(false);
        }
        audit(
            &tx,
            user,
            actor,
            "user.credential_removed",
            json!({"kind": "recovery_codes", "count": removed}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Removes one credential of the user (a reset by an administrator); whether it existed.
    pub async fn remove(
        &self,
        user: &StoredUser,
        credential_id: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, FactorError> {
        let tx = self.store.begin().await?;
        let Some(found) = credentials::of_user(&tx, &user.id)
            .await?
            .into_iter()
            .find(|c| c.id == credential_id)
        else {
            return Ok(false);
        };
        credentials::delete(&tx, &user.id, credential_id).await?;
        audit(
            &tx,
            user,
            actor,
            "user.credential_removed",
            json!({"credential": found.id, "kind": found.kind}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}

async fn audit(
    db: &impl store::Conn,
    user: &StoredUser,
    actor: &str,
    kind: &str,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), FactorError> {
    store::audit::record(
        db,
        store::audit::NewEvent {
            realm_id: Some(&user.realm_id),
            kind,
            actor,
            target: Some(&user.id),
            detail,
        },
        now,
    )
    .await?;
    Ok(())
}
