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
        let Some(user) = user else {
            self.verify(password_attempt, None).await?;
            return Ok(Err(LoginFailure::UnknownUser));
        };
        if !user.enabled || user.password_hash.is_none() {
            self.verify(password_attempt, None).await?;
            return Ok(Err(if user.enabled {
                LoginFailure::WrongPassword
            } else {
                LoginFailure::Disabled
            }));
        }
        let admission = self.admit(&user, now).await?;
        // Always exactly one argon2 verification, whatever the outcome will be.
        let hash = match admission {
            Admission::Refused => None,
            _ => user.password_hash.clone(),
        };
        let password_ok = self.verify(password_attempt, hash).await?;
        match admission {
            Admission::Refused => Ok(Err(LoginFailure::Locked)),
            admitted if password_ok => {
                self.succeeded(&user, admitted).await?;
                Ok(Ok(user))
            }
            admitted => {
                self.failed(&user, admitted, now).await?;
                Ok(Err(LoginFailure::WrongPassword))
            }
        }
    }

    /// One argon2 verification of `attempt` against `hash`, or against the decoy without one.
    async fn verify(&self, attempt: &str, hash: Option<String>) -> Result<bool, AccountError> {
        let real = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.decoy_hash.clone());
        let attempt = attempt.to_string();
        let ok = tokio::task::spawn_blocking(move || password::verify(&attempt, &hash))
            .await
            .map_err(|e| AccountError::Hash(e.to_string()))?;
        Ok(ok && real)
    }
}

/// Whether an attempt may be judged. Every factor that counts toward the lockout (a password, a
/// second-factor code) goes through [`Accounts::admit`] before it is checked, then reports the
/// outcome with [`Accounts::succeeded`] or [`Accounts::failed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Lockout is off: judge it, count nothing.
    Uncounted,
    /// Counted as a failure in advance (the `count`-th in the window); judge it.
    Counted { count: i32 },
    /// The account is locked: refuse without judging.
    Refused,
}

impl Accounts {
    /// Counts the attempt before it is judged, atomically in the database, so that concurrent
    /// attempts cannot judge more than `threshold` guesses per lock: the count and the lock are
    /// one statement, and an attempt is admitted only if its own count is within the threshold.
    pub async fn admit(
        &self,
        user: &StoredUser,
        now: DateTime<Utc>,
    ) -> Result<Admission, AccountError> {
        if self.lockout.threshold == 0 {
            return Ok(Admission::Uncounted);
        }
        if user.locked_until.is_some_and(|until| until <= now)
            && store::users::lift_expired_lock(&self.store.db, &user.id, now).await?
        {
            self.audit(
                user,
                "user.unlocked",
                serde_json::json!({"reason": "lock expired"}),
                now,
            )
            .await?;
        }
        let threshold = self.threshold();
        let rule = store::users::LockRule {
            threshold,
            window_start: now - self.lockout.window,
            lock_until: now + self.lockout.duration,
        };
        let Some(counted) =
            store::users::count_attempt(&self.store.db, &user.id, rule, now).await?
        else {
            return Ok(Admission::Refused);
        };
        Ok(if counted.count <= threshold {
            Admission::Counted {
                count: counted.count,
            }
        } else {
            Admission::Refused
        })
    }

    /// An admitted attempt was right: its advance count is taken back.
    pub async fn succeeded(
        &self,
        user: &StoredUser,
        admission: Admission,
    ) -> Result<(), AccountError> {
        if let Admission::Counted { count } = admission {
            store::users::forgive_attempt(&self.store.db, &user.id, count, self.threshold())
                .await?;
        }
        Ok(())
    }

    /// An admitted attempt was wrong: it stays counted, and the one that reached the threshold
    /// has locked the account, which is audited once.
    pub async fn failed(
        &self,
        user: &StoredUser,
        admission: Admission,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        if admission
            == (Admission::Counted {
                count: self.threshold(),
            })
        {
            self.audit(
                user,
                "user.locked",
                serde_json::json!({
                    "failures": self.threshold(),
                    "locked_until": (now + self.lockout.duration).to_rfc3339(),
                }),
                now,
            )
            .await?;
        }
        Ok(())
    }

    fn threshold(&self) -> i32 {
        i32::try_from(self.lockout.threshold).unwrap_or(i32::MAX)
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
