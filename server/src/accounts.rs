//! Signing users in with a password: argon2id verification that costs the same whether or not
//! the user exists, is disabled or is locked (no user enumeration), and the lockout that follows
//! repeated failures within a window. Locks and unlocks are audit events.

use chrono::{DateTime, Duration, Utc};

use crate::crypto::password::{self, Argon2Params};
use crate::store::users::StoredUser;
use crate::store::{self, Store, StoreError};

/// How changes users make to their own account are attributed in the audit log.
pub const SELF_ACTOR: &str = "self";

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
    /// The user's directory (LDAP) could not be asked: the one failure worth telling apart.
    DirectoryUnavailable,
}

impl LoginFailure {
    /// The `result` label of the sign-in metric.
    pub fn label(self) -> &'static str {
        match self {
            LoginFailure::UnknownUser => "unknown_user",
            LoginFailure::WrongPassword => "wrong_password",
            LoginFailure::Disabled => "disabled",
            LoginFailure::Locked => "locked",
            LoginFailure::DirectoryUnavailable => "directory_unavailable",
        }
    }
}

/// The `result` label of a sign-in's outcome.
pub fn login_result<T>(outcome: &Result<T, LoginFailure>) -> &'static str {
    match outcome {
        Ok(_) => "success",
        Err(failure) => failure.label(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The user was made from a directory, which keeps their password.
    #[error("the user's password is managed by their directory")]
    ManagedByDirectory,
}

/// What a directory's user is told where they would set a password here.
pub const MANAGED_BY_DIRECTORY: &str =
    "Your password is managed by your organisation's directory: change it there.";

/// Verifies passwords and keeps the lockout counters.
pub struct Accounts {
    store: Store,
    argon2: Argon2Params,
    lockout: LockoutPolicy,
    /// A hash of a random password with the configured cost, verified when there is no real
    /// hash to check, so every attempt pays one argon2 run.
    decoy_hash: String,
    /// Per-account turns: at most `threshold` attempts judged at once.
    gate: gate::Gate,
    /// The realms' LDAP directories, asked for users without a local password.
    pub directories: crate::ldap::Directories,
    /// Accounts locked by this process since it started (for `/metrics`; the audit trail
    /// says which).
    lockouts: std::sync::atomic::AtomicU64,
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
        directories: crate::ldap::Directories,
    ) -> Result<Self, AccountError> {
        let decoy = crate::crypto::random::opaque_token();
        let decoy_hash =
            password::hash(&decoy, argon2).map_err(|e| AccountError::Hash(e.to_string()))?;
        Ok(Self {
            store,
            argon2,
            lockout,
            decoy_hash,
            gate: gate::Gate::new(lockout.threshold),
            directories,
            lockouts: Default::default(),
        })
    }

    /// How many accounts this process has locked.
    pub fn lockouts(&self) -> u64 {
        self.lockouts.load(std::sync::atomic::Ordering::Relaxed)
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
            if let Some(outcome) = self
                .through_directories(realm_id, username, password_attempt, None, now)
                .await?
            {
                return Ok(outcome);
            }
            self.verify(password_attempt, None).await?;
            return Ok(Err(LoginFailure::UnknownUser));
        };
        if user.enabled && user.password_hash.is_none() {
            if let Some(outcome) = self
                .through_directories(realm_id, username, password_attempt, Some(&user), now)
                .await?
            {
                return Ok(outcome);
            }
        }
        if !user.enabled || user.password_hash.is_none() {
            self.verify(password_attempt, None).await?;
            return Ok(Err(if user.enabled {
                LoginFailure::WrongPassword
            } else {
                LoginFailure::Disabled
            }));
        }
        let attempt = self.begin_attempt(&user, now).await?;
        // Always exactly one argon2 verification, whatever the outcome will be.
        let hash = (!attempt.is_refused())
            .then(|| user.password_hash.clone())
            .flatten();
        let password_ok = self.verify(password_attempt, hash).await?;
        if attempt.is_refused() {
            return Ok(Err(LoginFailure::Locked));
        }
        if password_ok {
            if self.succeeded(&user, attempt, now).await? {
                return Ok(Ok(user));
            }
            return Ok(Err(LoginFailure::Locked));
        }
        self.failed(&user, attempt, now).await?;
        Ok(Err(LoginFailure::WrongPassword))
    }

    /// Asks the realm's directories about a user without a local password: `None` when no
    /// directory has them (the caller answers as for any unknown user). An existing local
    /// user is asked of the directory it was made from only, and only as the same entry, so a
    /// directory never takes over an account it did not make; their attempts count toward the
    /// lockout like any password's, so Tessera is no unlimited guessing service for the
    /// directory behind it.
    async fn through_directories(
        &self,
        realm_id: &str,
        username: &str,
        password_attempt: &str,
        existing: Option<&StoredUser>,
        now: DateTime<Utc>,
    ) -> Result<Option<Result<StoredUser, LoginFailure>>, AccountError> {
        let db = &self.store.db;
        let Some(user) = existing else {
            return self
                .first_directory_sign_in(realm_id, username, password_attempt, now)
                .await;
        };
        let Some(link) = store::directories::link_of_user(db, &user.id).await? else {
            return Ok(None);
        };
        let Some(row) = store::directories::find_by_id(db, &link.directory_id)
            .await?
            .filter(|d| d.enabled)
        else {
            return Ok(None);
        };
        let Some(directory) = readable(&row) else {
            return Ok(Some(Err(LoginFailure::DirectoryUnavailable)));
        };
        let attempt = self.begin_attempt(user, now).await?;
        if attempt.is_refused() {
            return Ok(Some(Err(LoginFailure::Locked)));
        }
        let found = match self
            .directories
            .check_password(&directory, username, password_attempt)
            .await
        {
            Ok(Some(found)) if found.subject == link.subject => found,
            Ok(_) => {
                self.failed(user, attempt, now).await?;
                return Ok(Some(Err(LoginFailure::WrongPassword)));
            }
            Err(error) => {
                // Not the person's failure: nothing is counted.
                tracing::warn!(directory = %directory.name, %error, "a directory could not be asked");
                return Ok(Some(Err(LoginFailure::DirectoryUnavailable)));
            }
        };
        let outcome = self.provisioned(&directory, &found, username, now).await?;
        match outcome {
            Ok(_) if !self.succeeded(user, attempt, now).await? => {
                Ok(Some(Err(LoginFailure::Locked)))
            }
            outcome => Ok(Some(outcome)),
        }
    }

    /// A username the realm does not know, asked of its enabled directories in name order.
    async fn first_directory_sign_in(
        &self,
        realm_id: &str,
        username: &str,
        password_attempt: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Result<StoredUser, LoginFailure>>, AccountError> {
        for row in store::directories::enabled(&self.store.db, realm_id).await? {
            let Some(directory) = readable(&row) else {
                return Ok(Some(Err(LoginFailure::DirectoryUnavailable)));
            };
            match self
                .directories
                .check_password(&directory, username, password_attempt)
                .await
            {
                Ok(Some(found)) => {
                    return Ok(Some(
                        self.provisioned(&directory, &found, username, now).await?,
                    ))
                }
                Ok(None) => continue,
                Err(error) => {
                    tracing::warn!(directory = %directory.name, %error, "a directory could not be asked");
                    return Ok(Some(Err(LoginFailure::DirectoryUnavailable)));
                }
            }
        }
        Ok(None)
    }

    /// The local user of a directory entry whose password the directory accepted.
    async fn provisioned(
        &self,
        directory: &crate::ldap::Directory,
        found: &crate::ldap::Found,
        username: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<StoredUser, LoginFailure>, AccountError> {
        use crate::ldap::users::{provision, Provisioned};
        // A concurrent first sign-in of the same entry may win the insert: then the link
        // exists, and the second look follows it.
        let mut provisioned = provision(&self.store, directory, found, username, now).await;
        if matches!(provisioned, Err(StoreError::Conflict(_))) {
            provisioned = provision(&self.store, directory, found, username, now).await;
        }
        Ok(match provisioned? {
            Provisioned::User(user) if user.enabled => Ok(*user),
            Provisioned::User(_) => Err(LoginFailure::Disabled),
            Provisioned::Taken => Err(LoginFailure::WrongPassword),
        })
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

/// The directory a stored row describes, or `None` (logged) when the row is unreadable.
fn readable(row: &store::directories::DirectoryRow) -> Option<crate::ldap::Directory> {
    let directory = crate::ldap::Directory::from_row(row);
    if directory.is_none() {
        tracing::error!(directory = %row.name, "a stored directory is unreadable");
    }
    directory
}

/// An attempt at a factor that counts toward the lockout (a password; second-factor codes
/// later). Every such factor goes through [`Accounts::begin_attempt`] before it is checked and
/// reports the outcome with [`Accounts::succeeded`] or [`Accounts::failed`].
///
/// Failures are counted in the database by one statement that also sets the lock, so no
/// interleaving loses one. Concurrency is bounded besides: per account and process, at most
/// `threshold` attempts are judged at a time (the rest wait their turn and then see the lock),
/// so a burst of guesses gets no more judged than a sequence would, while concurrent right
/// answers just queue.
#[derive(Debug)]
pub struct Attempt {
    state: AttemptState,
    _turn: Option<gate::Turn>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AttemptState {
    /// Lockout is off: judge it, count nothing.
    Uncounted,
    /// Judge it; a failure counts.
    Counted,
    /// The account is locked: refuse without judging.
    Refused,
}

impl Attempt {
    pub fn is_refused(&self) -> bool {
        self.state == AttemptState::Refused
    }
}

impl Accounts {
    /// Waits for the account's turn, lifts a lock that has run out, and says whether the
    /// attempt may be judged.
    pub async fn begin_attempt(
        &self,
        user: &StoredUser,
        now: DateTime<Utc>,
    ) -> Result<Attempt, AccountError> {
        if self.lockout.threshold == 0 {
            return Ok(Attempt {
                state: AttemptState::Uncounted,
                _turn: None,
            });
        }
        let turn = self.gate.enter(&user.id).await;
        // Only a user read with a lock can have one that ran out (a lock set while this attempt
        // waited is still in force); the check is an UPDATE, so it is not paid on every sign-in.
        if user.locked_until.is_some()
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
        // The lock as it is now, not as it was when the request began waiting.
        let locked = store::users::find(&self.store.db, &user.id)
            .await?
            .is_none_or(|current| current.locked_until.is_some_and(|until| until > now));
        Ok(Attempt {
            state: if locked {
                AttemptState::Refused
            } else {
                AttemptState::Counted
            },
            _turn: Some(turn),
        })
    }

    /// A judged attempt was right: the failure count resets, unless a lock landed meanwhile
    /// (other attempts failed while this one was being judged); then it is refused after all.
    /// Returns whether the attempt stands.
    pub async fn succeeded(
        &self,
        user: &StoredUser,
        attempt: Attempt,
        now: DateTime<Utc>,
    ) -> Result<bool, AccountError> {
        match attempt.state {
            AttemptState::Uncounted => Ok(true),
            AttemptState::Refused => Ok(false),
            AttemptState::Counted => {
                // Read first: most sign-ins have nothing to reset, and a read takes no write lock.
                let Some(current) = store::users::find(&self.store.db, &user.id).await? else {
                    return Ok(false);
                };
                if current.locked_until.is_some_and(|until| until > now) {
                    return Ok(false);
                }
                if current.failed_login_count == 0 && current.locked_until.is_none() {
                    return Ok(true);
                }
                Ok(
                    store::users::clear_failures_unless_locked(&self.store.db, &user.id, now)
                        .await?,
                )
            }
        }
    }

    /// A judged attempt was wrong: it is counted, and the failure that reaches the threshold
    /// locks the account, which is audited once.
    pub async fn failed(
        &self,
        user: &StoredUser,
        attempt: Attempt,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        if attempt.state != AttemptState::Counted {
            return Ok(());
        }
        let threshold = self.threshold();
        let rule = store::users::LockRule {
            threshold,
            window_start: now - self.lockout.window,
            lock_until: now + self.lockout.duration,
        };
        let counted =
            store::users::record_failure(self.store.writer(), &user.id, rule, now).await?;
        if let Some(counted) = counted.filter(|c| c.count == threshold) {
            self.lockouts
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.audit(
                user,
                "user.locked",
                serde_json::json!({
                    "failures": counted.count,
                    "locked_until": counted.locked_until.map(|t| t.to_rfc3339()),
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
        // A local password would part a directory's user from the directory: it would be
        // checked instead, and the directory's lockouts and removals no longer counted.
        if self.managed_by_directory(user_id).await? {
            return Err(AccountError::ManagedByDirectory);
        }
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

    /// Whether the user was made from a directory (their password is checked there).
    pub async fn managed_by_directory(&self, user_id: &str) -> Result<bool, AccountError> {
        Ok(store::directories::link_of_user(&self.store.db, user_id)
            .await?
            .is_some())
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

/// Turns per account: a keyed semaphore whose entries live only while someone holds or awaits
/// a turn, so memory stays bounded by the attempts in flight.
mod gate {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use tokio::sync::{OwnedSemaphorePermit, Semaphore};

    #[derive(Debug)]
    pub struct Gate {
        permits: usize,
        turns: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    }

    /// A held turn; dropping it lets the next attempt of the account in.
    #[derive(Debug)]
    pub struct Turn {
        key: String,
        permit: Option<OwnedSemaphorePermit>,
        turns: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    }

    impl Gate {
        pub fn new(threshold: u32) -> Self {
            Self {
                permits: usize::try_from(threshold.max(1)).unwrap_or(usize::MAX),
                turns: Default::default(),
            }
        }

        pub async fn enter(&self, key: &str) -> Turn {
            let semaphore = {
                let mut turns = self.turns.lock().unwrap_or_else(|e| e.into_inner());
                turns
                    .entry(key.to_string())
                    .or_insert_with(|| Arc::new(Semaphore::new(self.permits)))
                    .clone()
            };
            // The semaphore is never closed, so acquiring cannot fail; without a permit the
            // attempt still proceeds unbounded rather than failing the sign-in.
            let permit = semaphore.acquire_owned().await.ok();
            Turn {
                key: key.to_string(),
                permit,
                turns: self.turns.clone(),
            }
        }
    }

    impl Drop for Turn {
        fn drop(&mut self) {
            let mut turns = self.turns.lock().unwrap_or_else(|e| e.into_inner());
            drop(self.permit.take());
            // Only the map holds it now: nobody holds or awaits a turn of this account.
            if turns
                .get(&self.key)
                .is_some_and(|semaphore| Arc::strong_count(semaphore) == 1)
            {
                turns.remove(&self.key);
            }
        }
    }
}
