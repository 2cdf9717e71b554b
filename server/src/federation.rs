//! Which local account an upstream sign-in is (CONTRACT §9). A linked upstream account (the
//! provider and the upstream subject) is its user. An unknown one creates a user just in time,
//! unless a local account already holds its email address: then it links only when the
//! provider allows linking by verified address and both sides have verified it, and otherwise
//! the person must prove the local account with its password first. Mapped claims are copied
//! at that first login, or at every login when the provider says `force`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::claim_mapping::{self, Mapped};
use crate::state::AppState;
use crate::store::federated_identities::{self, NewLink};
use crate::store::users::{NewUser, StoredUser, UserChanges};
use crate::store::{self, StoreError};
use crate::upstream::{Provider, SyncMode, UpstreamIdentity};
use crate::validation::is_identifier;

/// The audit actor of what a brokered sign-in changes: `idp:{alias}`.
pub fn actor(provider: &Provider) -> String {
    format!("idp:{}", provider.alias)
}

/// What an upstream sign-in comes to locally.
#[derive(Debug)]
pub enum Outcome {
    /// Sign this user in; `created` when this login made them.
    User { user: StoredUser, created: bool },
    /// The linked local account is disabled.
    Disabled,
    /// A local account holds the upstream's email address and may not be linked unasked: the
    /// person proves it with its password, then [`link_proven`] links it.
    ProveExisting { user: StoredUser },
    /// The local account with that address is linked to another account of this provider.
    LinkedElsewhere,
    /// Nobody is linked to the upstream account, and the provider creates no users.
    NoAccount,
}

/// What the provider's claim mappings make of the upstream account.
#[derive(Debug, Default, Clone)]
struct Profile {
    mapped: Mapped,
    /// The upstream vouches for the address (`email_verified`, mapped from `email`).
    email_verified: bool,
}

fn profile(provider: &Provider, identity: &UpstreamIdentity) -> Profile {
    let mut profile = Profile::default();
    let verified = matches!(
        identity.claims.get("email_verified"),
        Some(Value::Bool(true))
    ) || identity
        .claims
        .get("email_verified")
        .and_then(Value::as_str)
        == Some("true");
    for (from, to) in &provider.claim_mappings {
        let Some(value) = identity.claims.get(from).filter(|v| !v.is_null()) else {
            continue;
        };
        profile.mapped.assign(to, value);
        if to == claim_mapping::EMAIL {
            profile.email_verified = from == "email" && verified && profile.mapped.email.is_some();
        }
    }
    profile
}

/// The local account of an upstream sign-in, creating or linking it as the provider allows.
pub async fn account_for(
    state: &AppState,
    provider: &Provider,
    identity: &UpstreamIdentity,
) -> Result<Outcome, StoreError> {
    let db = &state.caches.store.db;
    let now = state.now();
    let profile = profile(provider, identity);
    if let Some(outcome) = linked(state, provider, identity, &profile).await? {
        return Ok(outcome);
    }
    if let Some(email) = profile.mapped.email.as_deref() {
        if let Some(existing) = store::users::find_by_email(db, &provider.realm_id, email).await? {
            // Only an account of this realm's own making: one another provider or a directory
            // made (and vouched for) could have been set up in someone else's name.
            let native = federated_identities::of_user(db, &existing.id)
                .await?
                .is_empty()
                && store::directories::link_of_user(db, &existing.id)
                    .await?
                    .is_none();
            let may_link = provider.link_by_verified_email
                && profile.email_verified
                && existing.email_verified
                && native;
            if !may_link {
                return Ok(Outcome::ProveExisting { user: existing });
            }
            return link_to(
                state,
                provider,
                identity,
                existing,
                "by_verified_email",
                now,
            )
            .await;
        }
    }
    if !provider.create_users {
        return Ok(Outcome::NoAccount);
    }
    create(state, provider, identity, &profile, now).await
}

/// The user the upstream account is linked to, if it is.
async fn linked(
    state: &AppState,
    provider: &Provider,
    identity: &UpstreamIdentity,
    profile: &Profile,
) -> Result<Option<Outcome>, StoreError> {
    let db = &state.caches.store.db;
    let Some(link) = federated_identities::find(db, &provider.id, &identity.subject).await? else {
        return Ok(None);
    };
    let Some(user) = store::users::find(db, &link.user_id).await? else {
        return Ok(None);
    };
    if !user.enabled {
        return Ok(Some(Outcome::Disabled));
    }
    let now = state.now();
    federated_identities::touch(db, &link.id, now).await?;
    let user = match provider.sync {
        SyncMode::Force => sync(state, provider, user, profile, now).await?,
        SyncMode::Import => user,
    };
    Ok(Some(Outcome::User {
        user,
        created: false,
    }))
}

/// Copies the mapped email address, name and claims over the user's (never the username:
/// it may be someone's sign-in name here).
async fn sync(
    state: &AppState,
    provider: &Provider,
    user: StoredUser,
    profile: &Profile,
    now: DateTime<Utc>,
) -> Result<StoredUser, StoreError> {
    let mut claims = user.claims.as_object().cloned().unwrap_or_default();
    claims.extend(profile.mapped.claims.clone());
    let email_changes = profile.mapped.email.is_some() && profile.mapped.email != user.email;
    let claims_change = Value::Object(claims.clone()) != user.claims;
    if !email_changes && !claims_change {
        return Ok(user);
    }
    let changes = UserChanges {
        claims: claims_change.then_some(Value::Object(claims)),
        email: email_changes.then(|| profile.mapped.email.clone()),
        email_verified: email_changes.then_some(profile.email_verified),
        ..Default::default()
    };
    let tx = state.caches.store.begin().await?;
    let updated = store::users::update(&tx, user, changes, now).await?;
    store::audit::record(
        &tx,
        store::audit::NewEvent {
            realm_id: Some(&provider.realm_id),
            kind: "user.synced_from_idp",
            actor: &actor(provider),
            target: Some(&updated.id),
            detail: serde_json::json!({"provider": provider.alias}),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(updated)
}

/// Links the upstream account to `user`, who proved the local account (its password).
pub async fn link_proven(
    state: &AppState,
    provider: &Provider,
    identity: &UpstreamIdentity,
    user: StoredUser,
) -> Result<Outcome, StoreError> {
    let now = state.now();
    link_to(state, provider, identity, user, "by_password", now).await
}

async fn link_to(
    state: &AppState,
    provider: &Provider,
    identity: &UpstreamIdentity,
    user: StoredUser,
    how: &str,
    now: DateTime<Utc>,
) -> Result<Outcome, StoreError> {
    if !user.enabled {
        return Ok(Outcome::Disabled);
    }
    let tx = state.caches.store.begin().await?;
    let inserted = federated_identities::insert(
        &tx,
        NewLink {
            realm_id: &provider.realm_id,
            provider_id: &provider.id,
            user_id: &user.id,
            subject: &identity.subject,
            upstream_username: upstream_username(identity),
        },
        now,
    )
    .await;
    match inserted {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => {
            drop(tx);
            // Linked meanwhile (a concurrent first login), or the user has another account of
            // this provider.
            let profile = Profile::default();
            return Ok(linked(state, provider, identity, &profile)
                .await?
                .unwrap_or(Outcome::LinkedElsewhere));
        }
        Err(e) => return Err(e),
    }
    store::audit::record(
        &tx,
        store::audit::NewEvent {
            realm_id: Some(&provider.realm_id),
            kind: "user.idp_linked",
            actor: &actor(provider),
            target: Some(&user.id),
            detail: serde_json::json!({"provider": provider.alias, "how": how}),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome::User {
        user,
        created: false,
    })
}

/// How the upstream names the account, for people reading the link.
fn upstream_username(identity: &UpstreamIdentity) -> Option<&str> {
    ["preferred_username", "login", "email", "name"]
        .iter()
        .find_map(|claim| identity.claims.get(*claim).and_then(Value::as_str))
        .filter(|name| name.len() <= 255)
}

/// Creates the user and the link together: both or neither.
async fn create(
    state: &AppState,
    provider: &Provider,
    identity: &UpstreamIdentity,
    profile: &Profile,
    now: DateTime<Utc>,
) -> Result<Outcome, StoreError> {
    let db = &state.caches.store.db;
    // Always a valid username, whatever characters the upstream's subject holds.
    let digest = crate::crypto::b64url(crate::crypto::sha256(identity.subject.as_bytes()));
    let fallback = format!("{}.{}", provider.alias, digest.get(..16).unwrap_or(&digest));
    let candidates = [
        profile.mapped.username.clone(),
        profile
            .mapped
            .email
            .clone()
            .filter(|e| is_identifier(e, 128)),
        Some(fallback.clone()),
    ];
    let mut username = None;
    for candidate in candidates.into_iter().flatten() {
        if store::users::find_by_username(db, &provider.realm_id, &candidate)
            .await?
            .is_none()
        {
            username = Some(candidate);
            break;
        }
    }
    let Some(username) = username else {
        return Err(StoreError::Conflict(format!("user `{fallback}`")));
    };
    let claims = profile.mapped.claims.clone();
    let tx = state.caches.store.begin().await?;
    let created = async {
        let user = store::users::insert(
            &tx,
            &provider.realm_id,
            &NewUser {
                username,
                password_hash: None,
                email: profile.mapped.email.clone(),
                claims: Value::Object(claims),
                roles: Vec::new(),
                enabled: true,
            },
            now,
        )
        .await?;
        let user = if profile.email_verified {
            store::users::mark_email_verified(&tx, user).await?
        } else {
            user
        };
        federated_identities::insert(
            &tx,
            NewLink {
                realm_id: &provider.realm_id,
                provider_id: &provider.id,
                user_id: &user.id,
                subject: &identity.subject,
                upstream_username: upstream_username(identity),
            },
            now,
        )
        .await?;
        store::audit::record(
            &tx,
            store::audit::NewEvent {
                realm_id: Some(&provider.realm_id),
                kind: "user.created_by_idp",
                actor: &actor(provider),
                target: Some(&user.id),
                detail: serde_json::json!({"provider": provider.alias, "username": user.username}),
            },
            now,
        )
        .await?;
        Ok::<_, StoreError>(user)
    }
    .await;
    match created {
        Ok(user) => {
            tx.commit().await?;
            Ok(Outcome::User {
                user,
                created: true,
            })
        }
        Err(StoreError::Conflict(what)) => {
            drop(tx);
            // A concurrent first login of the same account won: sign in as the user it made.
            linked(state, provider, identity, &Profile::default())
                .await?
                .ok_or(StoreError::Conflict(what))
        }
        Err(e) => Err(e),
    }
}
