//! Users: create, change (a new password or disabling ends their refresh tokens), roles,
//! claims, unlock, delete.

use admin_model::{
    Actor, AdminError, AdminResult, CredentialView, FieldErrors, Page, PageRequest, SessionView,
    TotpCreated, TotpInput, UserAdmin, UserInput, UserView,
};
use async_trait::async_trait;
use serde_json::{Map, Value};

use super::AdminService;
use crate::admin::validate;
use crate::domain::{required_action, Realm};
use crate::factors::totp;
use crate::seeding::{ADMIN_ROLE, MASTER_REALM};
use crate::store::credentials::{kind, StoredCredential};
use crate::store::users::{StoredUser, UserChanges};
use crate::store::{self, Conn};

impl AdminService {
    fn user_view(&self, row: StoredUser, roles: Vec<String>) -> UserView {
        let now = self.state.now();
        let required_actions = store::users::required_actions(&row).unwrap_or_default();
        UserView {
            required_actions,
            claims: match row.claims {
                Value::Object(claims) => claims,
                _ => Map::new(),
            },
            locked: row.locked_until.is_some_and(|until| until > now),
            has_password: row.password_hash.is_some(),
            id: row.id,
            username: row.username,
            email: row.email,
            email_verified: row.email_verified,
            roles,
            enabled: row.enabled,
            locked_until: row.locked_until,
            failed_login_count: row.failed_login_count,
            password_changed_at: row.password_changed_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }

    async fn user_row(&self, db: &impl Conn, realm: &Realm, id: &str) -> AdminResult<StoredUser> {
        super::keyed("user", id, store::users::find_in_realm(db, &realm.id, id)).await
    }

    async fn user_view_of(&self, db: &impl Conn, row: StoredUser) -> AdminResult<UserView> {
        let mut roles = store::users::role_names(db, &row.id).await?;
        roles.sort();
        Ok(self.user_view(row, roles))
    }

    /// Refuses to take `user` away as an administrator (demoting, disabling or deleting them)
    /// when they are the last enabled one of realm `master`: nobody could sign in to the
    /// console or get an admin token again.
    async fn keep_an_administrator(&self, realm: &Realm, user: &UserView) -> AdminResult<()> {
        if realm.name != MASTER_REALM {
            return Ok(());
        }
        let graph = store::roles::composites(self.db(), &realm.id).await?;
        let granting = super::roles::roles_granting(&graph, ADMIN_ROLE);
        let admins = store::users::enabled_holders_of(self.db(), &realm.id, &granting).await?;
        if matches!(admins.as_slice(), [only] if *only == user.id) {
            return Err(AdminError::Conflict(format!(
                "`{}` is the last enabled administrator of realm master; give another user the \
                 role `{ADMIN_ROLE}` first",
                user.username
            )));
        }
        Ok(())
    }
}

/// Rules on the optional fields of a user input.
fn check(input: &UserInput, errors: &mut FieldErrors) {
    if let Some(password) = &input.password {
        errors.check("password", validate::password(password));
    }
    if let Some(Some(email)) = &input.email {
        if !email.is_empty() {
            errors.check("email", validate::email(email));
        }
    }
    if let Some(claims) = &input.claims {
        errors.check("claims", validate::user_claims(claims));
    }
    if let Some(roles) = &input.roles {
        errors.check(
            "roles",
            validate::each(roles, |r| validate::identifier(r, 128)),
        );
    }
}

#[async_trait]
impl UserAdmin for AdminService {
    async fn list_users(
        &self,
        realm: &str,
        username: Option<&str>,
        page: PageRequest,
    ) -> AdminResult<Page<UserView>> {
        let realm = self.realm(realm).await?;
        let prefix = username.filter(|p| !p.is_empty());
        if let Some(prefix) = prefix {
            super::filter_value("username", prefix)?;
        }
        let keyset = super::keyset(&page)?;
        let (rows, more) = store::users::page(self.db(), &realm.id, prefix, &keyset).await?;
        let page = super::page_of(rows, more, |row| row.username.clone(), Ok)?;
        let ids: Vec<String> = page.items.iter().map(|u| u.id.clone()).collect();
        let mut roles = store::users::roles_of(self.db(), &ids).await?;
        Ok(page.map(|row| {
            let user_roles = roles.remove(&row.id).unwrap_or_default();
            self.user_view(row, user_roles)
        }))
    }

    async fn get_user(&self, realm: &str, id: &str) -> AdminResult<UserView> {
        let realm = self.realm(realm).await?;
        let row = self.user_row(self.db(), &realm, id).await?;
        self.user_view_of(self.db(), row).await
    }

    async fn create_user(
        &self,
        actor: &Actor,
        realm: &str,
        input: UserInput,
    ) -> AdminResult<UserView> {
        let realm = self.realm(realm).await?;
        let mut errors = FieldErrors::new();
        let username = input.username.clone().unwrap_or_default();
        errors.check("username", validate::identifier(&username, 128));
        check(&input, &mut errors);
        errors.finish()?;
        let password_hash = match &input.password {
            Some(password) => Some(
                self.state
                    .accounts
                    .hash_password(password)
                    .await
                    .map_err(super::internal)?,
            ),
            None => None,
        };
        let now = self.state.now();
        let new = store::users::NewUser {
            username: username.clone(),
            password_hash,
            email: input.email.clone().flatten().filter(|e| !e.is_empty()),
            claims: Value::Object(input.claims.clone().unwrap_or_default()),
            roles: input.roles.clone().unwrap_or_default(),
            enabled: input.enabled.unwrap_or(true),
        };
        let txn = self.begin().await?;
        let mut row = store::users::insert(&txn, &realm.id, &new, now).await?;
        if input.email_verified == Some(true) {
            row = store::users::mark_email_verified(&txn, row).await?;
        }
        let created = self.user_view_of(&txn, row).await?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "user.created",
            &created.id,
            super::diff(None::<&UserView>, Some(&created))?,
        )
        .await?;
        txn.commit().await?;
        Ok(created)
    }

    async fn update_user(
        &self,
        actor: &Actor,
        realm: &str,
        id: &str,
        input: UserInput,
    ) -> AdminResult<UserView> {
        let realm = self.realm(realm).await?;
        let row = self.user_row(self.db(), &realm, id).await?;
        let mut errors = FieldErrors::new();
        if let Some(username) = &input.username {
            errors.check("username", validate::identifier(username, 128));
        }
        check(&input, &mut errors);
        errors.finish()?;
        let before = self.user_view_of(self.db(), row.clone()).await?;
        let catalog = self.state.caches.directory.catalog(&realm.id).await?;
        let stays_admin = input.enabled.unwrap_or(before.enabled)
            && catalog
                .effective_roles(input.roles.as_ref().unwrap_or(&before.roles))
                .iter()
                .any(|r| r == ADMIN_ROLE);
        if !stays_admin {
            if before.id == actor.subject {
                // One click must not lock oneself out; another administrator can do it.
                return Err(AdminError::Conflict(
                    "administrators cannot disable themselves or give up their own admin role"
                        .into(),
                ));
            }
            self.keep_an_administrator(&realm, &before).await?;
        }
        let now = self.state.now();
        let mut changes = UserChanges {
            username: input.username.clone(),
            claims: input.claims.clone().map(Value::Object),
            ..Default::default()
        };
        if let Some(email) = &input.email {
            let email = email.clone().filter(|e| !e.is_empty());
            if email != before.email {
                // A new address is unverified until someone says otherwise.
                changes.email_verified = Some(false);
            }
            changes.email = Some(email);
        }
        if let Some(verified) = input.email_verified {
            changes.email_verified = Some(verified);
        }
        let txn = self.begin().await?;
        let updated = store::users::update(&txn, row, changes, now).await?;
        if let Some(roles) = &input.roles {
            store::users::set_roles(&txn, &realm.id, id, roles, now).await?;
        }
        let after = self.user_view_of(&txn, updated).await?;
        // A password or `enabled` alone leaves the rest as it was: no `user.updated` then,
        // only their own events below.
        self.finish_update(txn, &realm.id, actor, "user.updated", id, &before, &after)
            .await?;
        // These revoke the user's refresh tokens and write their own events.
        if let Some(enabled) = input.enabled.filter(|e| *e != before.enabled) {
            self.state
                .accounts
                .set_enabled(id, enabled, &actor.label(), now)
                .await
                .map_err(super::internal)?;
        }
        if let Some(password) = &input.password {
            self.state
                .accounts
                .set_password(id, password, &actor.label(), now)
                .await
                .map_err(super::internal)?;
        }
        self.get_user(&realm.name, id).await
    }

    async fn delete_user(&self, actor: &Actor, realm: &str, id: &str) -> AdminResult<()> {
        let realm = self.realm(realm).await?;
        let row = self.user_row(self.db(), &realm, id).await?;
        if row.id == actor.subject {
            return Err(AdminError::Conflict(
                "administrators cannot delete themselves".into(),
            ));
        }
        let before = self.user_view_of(self.db(), row).await?;
        self.keep_an_administrator(&realm, &before).await?;
        let now = self.state.now();
        let txn = self.begin().await?;
        store::refresh::revoke_user_families(&txn, id, "user deleted", now).await?;
        store::users::delete(&txn, id).await?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "user.deleted",
            id,
            super::diff(Some(&before), None::<&UserView>)?,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    async fn set_user_password(
        &self,
        actor: &Actor,
        realm: &str,
        id: &str,
        password: &str,
    ) -> AdminResult<UserView> {
        let realm_row = self.realm(realm).await?;
        self.user_row(self.db(), &realm_row, id).await?;
        if let Err(message) = validate::password(password) {
            return Err(AdminError::field("password", message));
        }
        self.state
            .accounts
            .set_password(id, password, &actor.label(), self.state.now())
            .await
            .map_err(|e| match e {
                crate::accounts::AccountError::ManagedByDirectory => AdminError::Conflict(
                    "the user was made from a directory, which keeps their password".into(),
                ),
                other => super::internal(other),
            })?;
        self.get_user(realm, id).await
    }

    async fn unlock_user(&self, actor: &Actor, realm: &str, id: &str) -> AdminResult<UserView> {
        let realm_row = self.realm(realm).await?;
        self.user_row(self.db(), &realm_row, id).await?;
        self.state
            .accounts
            .unlock(id, &actor.label(), self.state.now())
            .await
            .map_err(super::internal)?;
        self.get_user(realm, id).await
    }

    async fn list_credentials(&self, realm: &str, id: &str) -> AdminResult<Vec<CredentialView>> {
        let realm_row = self.realm(realm).await?;
        let user = self.user_row(self.db(), &realm_row, id).await?;
        let all = store::credentials::of_user(self.db(), &user.id).await?;
        Ok(credential_views(&all))
    }

    async fn delete_credential(
        &self,
        actor: &Actor,
        realm: &str,
        id: &str,
        credential: &str,
    ) -> AdminResult<()> {
        let realm_row = self.realm(realm).await?;
        let user = self.user_row(self.db(), &realm_row, id).await?;
        let now = self.state.now();
        let removed = if credential == RECOVERY_CODES_ID {
            self.state
                .factors
                .remove_recovery_codes(&user, &actor.label(), now)
                .await
        } else {
            self.state
                .factors
                .remove(&user, credential, &actor.label(), now)
                .await
        }
        .map_err(super::internal)?;
        if !removed {
            return Err(AdminError::not_found(format!("credential `{credential}`")));
        }
        Ok(())
    }

    async fn list_user_sessions(&self, realm: &str, id: &str) -> AdminResult<Vec<SessionView>> {
        let realm = self.realm(realm).await?;
        let user = self.user_row(self.db(), &realm, id).await?;
        store::sessions::live_of_user(self.db(), &user.id, self.state.now())
            .await?
            .into_iter()
            .map(|s| super::operations::session_view(s, Some(user.username.clone())))
            .collect()
    }

    async fn end_user_sessions(&self, actor: &Actor, realm: &str, id: &str) -> AdminResult<usize> {
        let realm = self.realm(realm).await?;
        let user = self.user_row(self.db(), &realm, id).await?;
        let now = self.state.now();
        let realm = self.realm_ctx(realm);
        let ended =
            crate::oauth::logout::end_all_sessions(&self.state, &realm, &user.id, now).await?;
        self.audit(
            self.db(),
            &realm.realm.id,
            actor,
            "user.sessions_ended",
            &user.id,
            serde_json::json!({"sessions": ended}),
        )
        .await?;
        Ok(ended)
    }

    async fn set_required_actions(
        &self,
        actor: &Actor,
        realm: &str,
        id: &str,
        actions: Vec<String>,
    ) -> AdminResult<UserView> {
        let realm_row = self.realm(realm).await?;
        let user = self.user_row(self.db(), &realm_row, id).await?;
        let mut wanted: Vec<String> = Vec::new();
        for action in actions {
            if action == required_action::VERIFY_EMAIL {
                if user.email.is_none() {
                    return Err(AdminError::field(
                        "actions",
                        "verify_email needs an email address on the account",
                    ));
                }
                if store::mail::smtp(self.db(), &realm_row.id).await?.is_none() {
                    return Err(AdminError::field(
                        "actions",
                        "verify_email needs the realm's SMTP settings",
                    ));
                }
            }
            if !required_action::SUPPORTED.contains(&action.as_str()) {
                return Err(AdminError::field(
                    "actions",
                    format!(
                        "`{action}` is not one of {}",
                        required_action::SUPPORTED.join(", ")
                    ),
                ));
            }
            if !wanted.contains(&action) {
                wanted.push(action);
            }
        }
        let before = store::users::required_actions(&user)?;
        let now = self.state.now();
        let txn = self.begin().await?;
        store::users::set_required_actions(&txn, &user.id, &wanted, now).await?;
        self.audit(
            &txn,
            &realm_row.id,
            actor,
            "user.required_actions_set",
            &user.id,
            super::diff(Some(&before), Some(&wanted))?,
        )
        .await?;
        txn.commit().await?;
        self.get_user(realm, id).await
    }

    async fn set_totp(
        &self,
        actor: &Actor,
        realm: &str,
        id: &str,
        input: TotpInput,
    ) -> AdminResult<TotpCreated> {
        let realm_row = self.realm(realm).await?;
        let user = self.user_row(self.db(), &realm_row, id).await?;
        let secret = match input.secret.as_deref() {
            Some(text) => Some(
                totp::parse_base32(text).map_err(|e| AdminError::field("secret", e.to_string()))?,
            ),
            None => None,
        };
        let (credential, secret) = self
            .state
            .factors
            .import_totp(&user, secret, &actor.label(), self.state.now())
            .await
            .map_err(super::internal)?;
        let issuer = realm_row.display_name.as_deref().unwrap_or(&realm_row.name);
        let account = user.email.as_deref().unwrap_or(&user.username);
        let raw = totp::parse_base32(&secret).map_err(super::internal)?;
        Ok(TotpCreated {
            credential: credential_views(std::slice::from_ref(&credential))
                .into_iter()
                .next()
                .ok_or_else(|| super::internal("the new credential has no view"))?,
            otpauth_uri: totp::otpauth_uri(&raw, issuer, account),
            secret,
        })
    }
}

/// The id under which the set of recovery codes is listed and removed.
const RECOVERY_CODES_ID: &str = "recovery-codes";

/// Confirmed TOTP credentials and passkeys one by one, and recovery codes as one item with a
/// count.
fn credential_views(all: &[StoredCredential]) -> Vec<CredentialView> {
    let mut views: Vec<CredentialView> = all
        .iter()
        .filter(|c| (c.kind == kind::TOTP && c.confirmed) || c.kind == kind::PASSKEY)
        .map(|c| CredentialView {
            id: c.id.clone(),
            kind: c.kind.clone(),
            label: c.label.clone(),
            remaining: None,
            created_at: c.created_at,
            last_used_at: c.last_used_at,
        })
        .collect();
    let codes: Vec<&StoredCredential> = all
        .iter()
        .filter(|c| c.kind == kind::RECOVERY_CODE)
        .collect();
    if let Some(first) = codes.iter().min_by_key(|c| c.created_at) {
        views.push(CredentialView {
            id: RECOVERY_CODES_ID.into(),
            kind: "recovery_codes".into(),
            label: None,
            remaining: Some(u32::try_from(codes.len()).unwrap_or(u32::MAX)),
            created_at: first.created_at,
            last_used_at: None,
        });
    }
    views
}
