//! The local user of a directory entry whose password the directory accepted: found through
//! its link (entry id → user), or created with the link in one transaction. The directory is
//! the source of truth: mapped attributes and the roles its groups map to are written at every
//! such sign-in (roles the group mapping does not name are left as they are).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Directory, Found};
use crate::claim_mapping::Mapped;
use crate::store::directories::{self, NewLink};
use crate::store::users::{NewUser, StoredUser, UserChanges};
use crate::store::{self, Store, StoreError};

/// The audit actor of what a directory sign-in changes: `directory:{name}`.
pub fn actor(directory: &Directory) -> String {
    format!("directory:{}", directory.name)
}

/// What the mappings make of the entry (the rules are `claim_mapping`'s).
fn mapped(directory: &Directory, found: &Found) -> Mapped {
    let mut result = Mapped::default();
    for (attribute, target) in &directory.attribute_mappings {
        if let Some(value) = found.first(attribute) {
            result.assign(target, &Value::String(value.to_string()));
        }
    }
    result
}

/// The roles after this sign-in: those the entry's groups map to, plus the user's roles the
/// group mapping does not manage.
fn roles_after(directory: &Directory, found: &Found, current: &[String]) -> Vec<String> {
    let managed: BTreeSet<&String> = directory.group_roles.values().collect();
    let mut roles: BTreeSet<String> = current
        .iter()
        .filter(|r| !managed.contains(r))
        .cloned()
        .collect();
    for group in &found.groups {
        if let Some(role) = directory
            .group_roles
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(group))
            .map(|(_, role)| role)
        {
            roles.insert(role.clone());
        }
    }
    roles.into_iter().collect()
}

/// What a directory sign-in comes to locally.
pub enum Provisioned {
    User(Box<StoredUser>),
    /// The entry cannot sign in here: a local account not made from it holds the username (it
    /// is not taken over), or it maps to no valid username.
    Taken,
}

/// The local user of `found`, created or brought up to date.
pub async fn provision(
    store: &Store,
    directory: &Directory,
    found: &Found,
    login_name: &str,
    now: DateTime<Utc>,
) -> Result<Provisioned, StoreError> {
    let mapped = mapped(directory, found);
    let tx = store.begin().await?;
    let link = directories::link_of_subject(&tx, &directory.id, &found.subject).await?;
    let user = match link {
        Some(link) => {
            let Some(user) = store::users::find(&tx, &link.user_id).await? else {
                return Ok(Provisioned::Taken);
            };
            directories::touch_link(&tx, &link.id, &found.dn, now).await?;
            let mut claims = user.claims.as_object().cloned().unwrap_or_default();
            claims.extend(mapped.claims.clone());
            let email_changes = mapped.email.is_some() && mapped.email != user.email;
            let claims_change = Value::Object(claims.clone()) != user.claims;
            if email_changes || claims_change {
                let changes = UserChanges {
                    claims: claims_change.then_some(Value::Object(claims)),
                    email: email_changes.then(|| mapped.email.clone()),
                    // The directory vouches for the address it holds.
                    email_verified: email_changes.then_some(true),
                    ..Default::default()
                };
                store::users::update(&tx, user, changes, now).await?
            } else {
                user
            }
        }
        None => {
            let Some(username) = mapped.username.clone().or_else(|| {
                crate::validation::is_identifier(login_name, 128).then(|| login_name.to_string())
            }) else {
                tracing::warn!(directory = %directory.name, "the entry maps to no valid username");
                return Ok(Provisioned::Taken);
            };
            if store::users::find_by_username(&tx, &directory.realm_id, &username)
                .await?
                .is_some()
            {
                tracing::warn!(
                    directory = %directory.name,
                    "a local account not made from the directory holds the username"
                );
                return Ok(Provisioned::Taken);
            }
            let user = store::users::insert(
                &tx,
                &directory.realm_id,
                &NewUser {
                    username,
                    password_hash: None,
                    email: mapped.email.clone(),
                    claims: Value::Object(mapped.claims.clone()),
                    roles: Vec::new(),
                    enabled: true,
                },
                now,
            )
            .await?;
            let user = if user.email.is_some() {
                store::users::mark_email_verified(&tx, user).await?
            } else {
                user
            };
            directories::insert_link(
                &tx,
                NewLink {
                    realm_id: &directory.realm_id,
                    directory_id: &directory.id,
                    user_id: &user.id,
                    subject: &found.subject,
                    dn: &found.dn,
                },
                now,
            )
            .await?;
            store::audit::record(
                &tx,
                store::audit::NewEvent {
                    realm_id: Some(&directory.realm_id),
                    kind: "user.created_by_directory",
                    actor: &actor(directory),
                    target: Some(&user.id),
                    detail: serde_json::json!({"directory": directory.name, "username": user.username}),
                },
                now,
            )
            .await?;
            user
        }
    };
    let current = store::users::role_names(&tx, &user.id).await?;
    let roles = roles_after(directory, found, &current);
    let mut sorted_current = current.clone();
    sorted_current.sort();
    if roles != sorted_current {
        store::users::set_roles(&tx, &directory.realm_id, &user.id, &roles, now).await?;
        // Privileges the directory's groups gave or took: on the record like an admin's.
        store::audit::record(
            &tx,
            store::audit::NewEvent {
                realm_id: Some(&directory.realm_id),
                kind: "user.roles_synced_from_directory",
                actor: &actor(directory),
                target: Some(&user.id),
                detail: serde_json::json!({"before": sorted_current, "after": roles}),
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Provisioned::User(Box::new(user)))
}
