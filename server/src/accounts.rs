//! Signing users in with a password: argon2id verification that costs the same whether or not
//! the user exists, is disabled or is locked (no user enumeration), and the lockout that follows
//! repeated failures within a window. Locks and unlocks are audit events.

use chrono::{DateTime, Duration, Utc};

use crate::crypto::password::{self, Argon2Params};
use crate::store::users::StoredUser;
use crate::store::{self, Store, StoreError};

/// When repeated failures lock an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures within `window` that lock the account; 0 disables lockout.
    pub threshold: u32,
    pub window: Duration,
    pub duration: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            threshold: 5,
            window: Duration::minutes(15),
            duration: Duration::minutes(15),
        }
    }
}

/// Why a sign-in failed. Callers show the same error for every variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    UnknownUser,
    WrongPassword,
    Disabled,
    Locked,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Verifies passwords and keeps the lockout counters.
pub struct Accounts {
    store: Store,
    argon2: Argon2Params,
    lockout: LockoutPolicy,
    /// A hash of a random password with the configured cost, verified when there is no real
    /// hash to check, so every attempt pays one argon2 run.
    decoy_hash: String,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts")
            .field("lockout", &self.lockout)
            .finish()
    }
}

impl Accounts {
    pub fn new(
        store: Store,
        argon2: Argon2Params,
        lockout: LockoutPolicy,
    ) -> Result<Self, AccountError> {
        let decoy = crate::crypto::random::opaque_token();
        let decoy_hash =
            password::hash(&decoy, argon2).map_err(|e| AccountError::Hash(e.to_string()))?;
        Ok(Self {
            store,
            argon2,
            lockout,
            decoy_hash,
        })
    }

    pub fn argon2(&self) -> Argon2Params {
        self.argon2
    }

    /// Hashes a new password (on a blocking thread).
    pub async fn hash_password(&self, new_password: &str) -> Result<String, AccountError> {
        let params = self.argon2;
        let new_password = new_password.to_string();
        tokio::task::spawn_blocking(move || password::hash(&new_password, params))
            .await
            .map_err(|e| AccountError::Hash(e.to_string()))?
            .map_err(|e| AccountError::Hash(e.to_string()))
    }

    /// Checks `username`/`password` in the realm; on success returns the user.
    pub async fn authenticate(
        &self,
        realm_id: &str,
        username: &str,
        password_attempt: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<StoredUser, LoginFailure>, AccountError> {
        // No username holds control characters, and Postgres cannot compare text holding NUL:
        // such a name is an unknown user, answered after the same work.
        let user = if username.chars().any(char::is_control) {
            None
        } else {
            store::users::find_by_username(&self.store.db, realm_id, username).await?
        };
        let hash = user
            .as_ref()
            .and_then(|u| u.password_hash.clone())
            .unwrap_or_else(|| self.decoy_hash.clone());
        let attempt = password_attempt.to_string();
        // Always exactly one argon2 verification, whatever the outcome will be.
        let password_ok = tokio::task::spawn_blocking(move || password::verify(&attempt, &hash))
            .await
            .map_err(|e| AccountError::Hash(e.to_string()))?;
        let Some(mut user) = user else {
            return Ok(Err(LoginFailure::UnknownUser));
        };
        if user.password_hash.is_none() {
            return Ok(Err(LoginFailure::WrongPassword));
        }
        if let Some(until) = user.locked_until {
            if until > now {
                return Ok(Err(LoginFailure::Locked));
            }
            // The lock has run out: lift it before judging this attempt.
            store::users::clear_failures(&self.store.db, &user.id, now).await?;
            self.audit(
                &user,
                "user.unlocked",
                serde_json::json!({"reason": "lock expired"}),
                now,
            )
            .await?;
            user.failed_login_count = 0;
            user.locked_until = None;
            user.last_failed_login_at = None;
        }
        if !user.enabled {
            return Ok(Err(LoginFailure::Disabled));
        }
        if !password_ok {
            self.record_failure(&user, now).await?;
            return Ok(Err(LoginFailure::WrongPassword));
        }
        if user.failed_login_count > 0 {
            store::users::clear_failures(&self.store.db, &user.id, now).await?;
        }
        Ok(Ok(user))
    }

    async fn record_failure(
        &self,
        user: &StoredUser,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        if self.lockout.threshold == 0 {
            return Ok(());
        }
        let in_window = user
            .last_failed_login_at
            .is_some_and(|last| now - last <= self.lockout.window);
        let count = if in_window {
            user.failed_login_count + 1
        } else {
            1
        };
        let lock = (count as u32 >= self.lockout.threshold).then(|| now + self.lockout.duration);
        store::users::record_failure(&self.store.db, &user.id, count, now, lock).await?;
        if let Some(until) = lock {
            self.audit(
                user,
                "user.locked",
                serde_json::json!({"failures": count, "locked_until": until.to_rfc3339()}),
                now,
            )
            .await?;
        }
        Ok(())
    }

    async fn audit(
        &self,
        user: &StoredUser,
        kind: &str,
        detail: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        self.audit_by(user, "system", kind, detail, now).await
    }
}

impl Accounts {
    /// Sets a new password; every refresh-token family of the user is revoked with it.
    pub async fn set_password(
        &self,
        user_id: &str,
        new_password: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        let hash = self.hash_password(new_password).await?;
        let user = store::users::find(&self.store.db, user_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {user_id}")))?;
        store::users::set_password_hash(&self.store.db, user_id, &hash, now).await?;
        let revoked =
            store::refresh::revoke_user_families(&self.store.db, user_id, "password changed", now)
                .await?;
        self.audit_by(
            &user,
            actor,
            "user.password_changed",
            serde_json::json!({"revoked_families": revoked}),
            now,
        )
        .await
    }

    /// Enables or disables the user; disabling revokes every refresh-token family.
    pub async fn set_enabled(
        &self,
        user_id: &str,
        enabled: bool,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        let user = store::users::find(&self.store.db, user_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {user_id}")))?;
        store::users::set_enabled(&self.store.db, user_id, enabled, now).await?;
        let revoked = if enabled {
            0
        } else {
            store::refresh::revoke_user_families(&self.store.db, user_id, "user disabled", now)
                .await?
        };
        let kind = if enabled {
            "user.enabled"
        } else {
            "user.disabled"
        };
        self.audit_by(
            &user,
            actor,
            kind,
            serde_json::json!({"revoked_families": revoked}),
            now,
        )
        .await
    }

    /// Lifts a lock before it runs out.
    pub async fn unlock(
        &self,
        user_id: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        let user = store::users::find(&self.store.db, user_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {user_id}")))?;
        store::users::clear_failures(&self.store.db, user_id, now).await?;
        self.audit_by(
            &user,
            actor,
            "user.unlocked",
            serde_json::json!({"reason": "unlocked by an administrator"}),
            now,
        )
        .await
    }

    async fn audit_by(
        &self,
        user: &StoredUser,
        actor: &str,
        kind: &str,
        detail: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        store::audit::record(
            &self.store.db,
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
}
