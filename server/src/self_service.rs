//! What users may do to their own account from the account console (CONTRACT §8): edit their
//! name and email address, change their password (proving the current one, which counts toward
//! the lockout like any sign-in), see their sessions and end them all. Second factors are
//! managed through `factors`.

use chrono::{DateTime, Utc};

use crate::accounts::AccountError;
use crate::oauth::error::OAuthError;
use crate::state::{AppState, RealmCtx};
use crate::store::sessions::StoredSession;
use crate::store::users::StoredUser;
use crate::store::{self, StoreError};

pub use crate::accounts::SELF_ACTOR as SELF;

/// What a password change came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordChange {
    Changed,
    /// The current password was wrong (or the account is locked).
    WrongCurrent,
    /// The new password breaks a rule.
    Refused(String),
}

/// Sets a new password after checking the current one. Every refresh-token family of the user
/// is revoked with it (as when an administrator sets one).
pub async fn change_password(
    state: &AppState,
    user: &StoredUser,
    current: &str,
    new: &str,
    now: DateTime<Utc>,
) -> Result<PasswordChange, AccountError> {
    if let Err(rule) = crate::validation::password(new) {
        return Ok(PasswordChange::Refused(format!(
            "The new password needs {rule}."
        )));
    }
    // A directory's user changes their password there: a local one would part ways with it.
    if state.accounts.managed_by_directory(&user.id).await? {
        return Ok(PasswordChange::Refused(
            crate::accounts::MANAGED_BY_DIRECTORY.into(),
        ));
    }
    let checked = state
        .accounts
        .authenticate(&user.realm_id, &user.username, current, now)
        .await?;
    if checked.is_err() {
        return Ok(PasswordChange::WrongCurrent);
    }
    state
        .accounts
        .set_password(&user.id, new, SELF, now)
        .await?;
    Ok(PasswordChange::Changed)
}

/// What a profile edit came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileChange {
    Updated,
    /// Nothing differed from what is stored.
    Unchanged,
    /// A new email address needs the current password, and it was wrong (or the account is
    /// locked).
    WrongCurrent,
    /// A value breaks a rule.
    Refused(String),
}

/// The longest display name kept.
const NAME_MAX: usize = 200;

/// Sets the user's display name (`name` claim; empty removes it) and email address (empty
/// removes it). A new address is unverified, and changing it needs the current password: the
/// address is where password resets go, so a borrowed session alone must not redirect them.
pub async fn update_profile(
    state: &AppState,
    user: &StoredUser,
    name: &str,
    email: &str,
    current_password: &str,
    now: DateTime<Utc>,
) -> Result<ProfileChange, AccountError> {
    let name = name.trim();
    let email = email.trim();
    if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Ok(ProfileChange::Refused(format!(
            "The name needs at most {NAME_MAX} printable characters."
        )));
    }
    if !email.is_empty() && !crate::validation::is_email(email) {
        return Ok(ProfileChange::Refused(
            "That is not an email address.".into(),
        ));
    }
    let new_email = (!email.is_empty()).then(|| email.to_string());
    let email_changes = new_email != user.email;
    let old_name = user
        .claims
        .get("name")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    if !email_changes && name == old_name {
        return Ok(ProfileChange::Unchanged);
    }
    if email_changes {
        let checked = state
            .accounts
            .authenticate(&user.realm_id, &user.username, current_password, now)
            .await?;
        if checked.is_err() {
            return Ok(ProfileChange::WrongCurrent);
        }
    }
    let mut claims = user.claims.as_object().cloned().unwrap_or_default();
    if name.is_empty() {
        claims.remove("name");
    } else {
        claims.insert("name".into(), serde_json::Value::String(name.to_string()));
    }
    let changes = store::users::UserChanges {
        claims: Some(serde_json::Value::Object(claims)),
        email: email_changes.then(|| new_email.clone()),
        email_verified: email_changes.then_some(false),
        ..Default::default()
    };
    // The change and its audit event land together or not at all.
    let tx = state.caches.store.begin().await?;
    store::users::update(&tx, user.clone(), changes, now).await?;
    let mut changed = Vec::new();
    if name != old_name {
        changed.push("name");
    }
    if email_changes {
        changed.push("email");
    }
    store::audit::record(
        &tx,
        store::audit::NewEvent {
            realm_id: Some(&user.realm_id),
            kind: "user.profile_updated",
            actor: SELF,
            target: Some(&user.id),
            detail: serde_json::json!({"changed": changed}),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(ProfileChange::Updated)
}

/// The user just proved a second factor in session `sid` (confirming a new authenticator app or
/// registering a passkey, whose methods `amr` names): the session is at level 2 from now on, as
/// after a second-factor step.
pub async fn second_factor_proved(
    state: &AppState,
    sid: &str,
    amr: &[String],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    store::sessions::raise_level(
        &state.caches.store.db,
        sid,
        crate::tokens::id_token::ACR_TWO_FACTORS,
        amr,
        now,
    )
    .await?;
    Ok(())
}

/// The user's live sessions.
pub async fn sessions(
    state: &AppState,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<StoredSession>, StoreError> {
    store::sessions::live_of_user(&state.caches.store.db, user_id, now).await
}

/// The user's links to accounts at upstream providers.
pub async fn links(
    state: &AppState,
    user_id: &str,
) -> Result<Vec<store::federated_identities::UserLink>, StoreError> {
    store::federated_identities::of_user(&state.caches.store.db, user_id).await
}

/// What removing a link came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkRemoval {
    Removed,
    /// The user has no such link.
    NotLinked,
    /// It is the user's only way to sign in (no password, no other link).
    LastWayIn,
}

/// Removes the user's link to the provider `alias`, unless it is their only way to sign in.
pub async fn remove_link(
    state: &AppState,
    user: &StoredUser,
    alias: &str,
    now: DateTime<Utc>,
) -> Result<LinkRemoval, StoreError> {
    let links = links(state, &user.id).await?;
    let Some(link) = links.iter().find(|l| l.alias == alias) else {
        return Ok(LinkRemoval::NotLinked);
    };
    // Another way in: a password, another link, a passkey, or the directory the user came from.
    let other_way_in = user.password_hash.is_some()
        || links.len() > 1
        || !store::credentials::of_kind(
            &state.caches.store.db,
            &user.id,
            store::credentials::kind::PASSKEY,
        )
        .await?
        .is_empty()
        || store::directories::link_of_user(&state.caches.store.db, &user.id)
            .await?
            .is_some();
    if !other_way_in {
        return Ok(LinkRemoval::LastWayIn);
    }
    let tx = state.caches.store.begin().await?;
    store::federated_identities::delete(&tx, &user.id, &link.link.provider_id).await?;
    store::audit::record(
        &tx,
        store::audit::NewEvent {
            realm_id: Some(&user.realm_id),
            kind: "user.idp_unlinked",
            actor: SELF,
            target: Some(&user.id),
            detail: serde_json::json!({"provider": alias}),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(LinkRemoval::Removed)
}

/// Ends every live session of the user ("sign out everywhere"): their refresh tokens are
/// revoked and their clients told over back-channel logout. Returns how many ended.
pub async fn sign_out_everywhere(
    state: &AppState,
    realm: &RealmCtx,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<usize, OAuthError> {
    let ended = crate::oauth::logout::end_all_sessions(state, realm, user_id, now).await?;
    let db = &state.caches.store.db;
    store::audit::record(
        db,
        store::audit::NewEvent {
            realm_id: Some(&realm.realm.id),
            kind: "user.signed_out_everywhere",
            actor: SELF,
            target: Some(user_id),
            detail: serde_json::json!({"sessions": ended}),
        },
        now,
    )
    .await?;
    Ok(ended)
}

/// How long a password reset link works.
pub const RESET_LINK_LIFETIME: chrono::Duration = chrono::Duration::minutes(15);

fn token_hash(token: &str) -> String {
    crate::crypto::b64url(crate::crypto::sha256(token.as_bytes()))
}

/// Starts a password reset for `identifier` (a username or an email address). When it names
/// an enabled account with an email address and the realm has SMTP settings, a single-use link
/// is stored (as its hash) and mailed on a task of its own; otherwise nothing happens. Either
/// way the caller answers the same, so nobody learns whether an account exists.
pub async fn request_password_reset(
    state: &AppState,
    realm: &RealmCtx,
    identifier: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let identifier = identifier.trim();
    if identifier.is_empty() || identifier.len() > 320 || identifier.chars().any(char::is_control) {
        return Ok(());
    }
    let db = &state.caches.store.db;
    let user = match store::users::find_by_username(db, &realm.realm.id, identifier).await? {
        Some(user) => Some(user),
        None => store::users::find_by_email(db, &realm.realm.id, identifier).await?,
    };
    let Some((user, address)) = user
        .filter(|u| u.enabled)
        .and_then(|u| u.email.clone().map(|address| (u, address)))
    else {
        return Ok(());
    };
    let Some(smtp) = store::mail::smtp(db, &realm.realm.id).await? else {
        tracing::warn!(realm = %realm.realm.name, "a password reset was asked for, but the realm has no SMTP settings");
        return Ok(());
    };
    let token = crate::crypto::random::opaque_token();
    store::mail::insert_token(
        db,
        &token_hash(&token),
        &realm.realm.id,
        &user.id,
        store::mail::purpose::RESET_PASSWORD,
        now + RESET_LINK_LIFETIME,
        now,
    )
    .await?;
    let link = format!(
        "{}/realms/{}/reset-password?token={token}",
        state.public_url, realm.realm.name
    );
    let mail = crate::mail::Mail {
        to: address,
        subject: "Set a new password".into(),
        body: format!(
            "Someone asked to set a new password for the account {username}.\r\n\r\n\
             To set one, open this link within 15 minutes:\r\n\r\n{link}\r\n\r\n\
             If it was not you, ignore this message: your password stays as it is.\r\n",
            username = user.username
        ),
    };
    let mailer = state.mailer.clone();
    let realm_name = realm.realm.name.clone();
    tokio::spawn(async move {
        if let Err(e) = mailer.send(&smtp, &mail).await {
            tracing::warn!(realm = %realm_name, error = %e, "the password reset mail was not sent");
        }
    });
    Ok(())
}

/// Whether `token` is a live reset link of the realm.
pub async fn reset_link_valid(
    state: &AppState,
    realm: &RealmCtx,
    token: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    if token.is_empty() || token.len() > 128 {
        return Ok(false);
    }
    Ok(store::mail::live_token(
        &state.caches.store.db,
        &realm.realm.id,
        &token_hash(token),
        store::mail::purpose::RESET_PASSWORD,
        now,
    )
    .await?
    .is_some())
}

/// What a reset came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reset {
    Done,
    /// Expired, used, or never issued.
    LinkInvalid,
    Mismatch,
    Rule(String),
    /// A directory's user: the password is changed there.
    ManagedByDirectory,
}

/// Sets a new password with a reset link: the link is used up only when the new password is
/// acceptable (so a typo does not burn it), by one conditional update (a link works once).
pub async fn reset_password(
    state: &AppState,
    realm: &RealmCtx,
    token: &str,
    new: &str,
    repeated: &str,
    now: DateTime<Utc>,
) -> Result<Reset, AccountError> {
    if token.is_empty() || token.len() > 128 {
        return Ok(Reset::LinkInvalid);
    }
    let db = &state.caches.store.db;
    let hash = token_hash(token);
    let Some(found) = store::mail::live_token(
        db,
        &realm.realm.id,
        &hash,
        store::mail::purpose::RESET_PASSWORD,
        now,
    )
    .await?
    else {
        return Ok(Reset::LinkInvalid);
    };
    if new != repeated {
        return Ok(Reset::Mismatch);
    }
    if let Err(rule) = crate::validation::password(new) {
        return Ok(Reset::Rule(rule));
    }
    if state.accounts.managed_by_directory(&found.user_id).await? {
        return Ok(Reset::ManagedByDirectory);
    }
    if !store::mail::use_token(db, &hash, now).await? {
        return Ok(Reset::LinkInvalid);
    }
    state
        .accounts
        .set_password(&found.user_id, new, SELF, now)
        .await?;
    store::users::complete_required_action(
        db,
        &found.user_id,
        crate::domain::required_action::UPDATE_PASSWORD,
        now,
    )
    .await?;
    Ok(Reset::Done)
}

/// How long an email verification link works.
pub const VERIFY_LINK_LIFETIME: chrono::Duration = chrono::Duration::hours(1);

/// What sending a verification link came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationMail {
    Sent,
    /// A link sent earlier still works; none was sent again (`resend` forces one).
    AlreadySent,
    /// The account has no address, or the realm cannot send mail.
    Impossible,
}

/// Mails `user` a link that verifies their address (required action `verify_email`).
pub async fn send_verification(
    state: &AppState,
    realm: &RealmCtx,
    user: &StoredUser,
    resend: bool,
    now: DateTime<Utc>,
) -> Result<VerificationMail, StoreError> {
    let db = &state.caches.store.db;
    let Some(address) = user.email.clone() else {
        return Ok(VerificationMail::Impossible);
    };
    let Some(smtp) = store::mail::smtp(db, &realm.realm.id).await? else {
        return Ok(VerificationMail::Impossible);
    };
    if !resend
        && store::mail::has_live_token(db, &user.id, store::mail::purpose::VERIFY_EMAIL, now)
            .await?
    {
        return Ok(VerificationMail::AlreadySent);
    }
    let token = crate::crypto::random::opaque_token();
    store::mail::insert_token(
        db,
        &token_hash(&token),
        &realm.realm.id,
        &user.id,
        store::mail::purpose::VERIFY_EMAIL,
        now + VERIFY_LINK_LIFETIME,
        now,
    )
    .await?;
    let link = format!(
        "{}/realms/{}/verify-email?token={token}",
        state.public_url, realm.realm.name
    );
    let mail = crate::mail::Mail {
        to: address,
        subject: "Verify your email address".into(),
        body: format!(
            "To verify the email address of the account {username}, open this link within an \
             hour:\r\n\r\n{link}\r\n\r\nIf you did not sign in just now, ignore this message.\r\n",
            username = user.username
        ),
    };
    let mailer = state.mailer.clone();
    let realm_name = realm.realm.name.clone();
    tokio::spawn(async move {
        if let Err(e) = mailer.send(&smtp, &mail).await {
            tracing::warn!(realm = %realm_name, error = %e, "the verification mail was not sent");
        }
    });
    Ok(VerificationMail::Sent)
}

/// Verifies an address with a mailed link (once): the address is marked verified and the
/// required action done. False when the link is expired, used or unknown.
pub async fn verify_email(
    state: &AppState,
    realm: &RealmCtx,
    token: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    if token.is_empty() || token.len() > 128 {
        return Ok(false);
    }
    let db = &state.caches.store.db;
    let hash = token_hash(token);
    let Some(found) = store::mail::live_token(
        db,
        &realm.realm.id,
        &hash,
        store::mail::purpose::VERIFY_EMAIL,
        now,
    )
    .await?
    else {
        return Ok(false);
    };
    if !store::mail::use_token(db, &hash, now).await? {
        return Ok(false);
    }
    store::users::set_email_verified(db, &found.user_id, now).await?;
    store::users::complete_required_action(
        db,
        &found.user_id,
        crate::domain::required_action::VERIFY_EMAIL,
        now,
    )
    .await?;
    store::audit::record(
        db,
        store::audit::NewEvent {
            realm_id: Some(&realm.realm.id),
            kind: "user.email_verified",
            actor: SELF,
            target: Some(&found.user_id),
            detail: serde_json::json!({}),
        },
        now,
    )
    .await?;
    Ok(true)
}
