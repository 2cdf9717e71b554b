//! Writing a realm document back: each item matched by its natural key, created when missing,
//! rewritten only when it differs, all inside the caller's transaction.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use entity::{
    api_resource, claim_type, client, client_secret, credential, directory, directory_link,
    exchange_policy, federated_identity, identity_provider, realm, realm_smtp, role,
    role_composite, scope, signing_key, trusted_issuer, user, user_role,
};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect, RelationTrait,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use super::*;
use crate::store::{is_unique_violation, StoreError, Tx};

/// What an import did (or, rolled back, would do).
#[derive(Debug, Default)]
pub struct Imported {
    pub realm_id: String,
    pub realm_created: bool,
    /// One line per change, in the order made: `created client "shop"`, `updated user "alice"`.
    pub changes: Vec<String>,
    /// Existing users whose password hash the document changed: their refresh tokens must go,
    /// as with any password change.
    pub passwords_changed: Vec<String>,
}

/// Applies `document` in `txn`. Active signing keys the document does not carry are retired,
/// published until `retired_keys_published_until`.
pub async fn import(
    txn: &Tx,
    document: &RealmDocument,
    retired_keys_published_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ImportResult<Imported> {
    let mut run = Run {
        txn,
        now,
        done: Imported::default(),
    };
    let realm = run.realm(document).await?;
    let realm_id = realm.id.clone();
    run.done.realm_id = realm_id.clone();
    let owned = json!(realm_id);

    if let Some(smtp) = &document.smtp {
        let existing = realm_smtp::Entity::find_by_id(&realm_id).one(txn).await?;
        let base = match &existing {
            Some(row) => row_item(row),
            None => fresh(now),
        };
        let candidate: realm_smtp::Model = build(
            "smtp",
            smtp,
            SMTP_OMITS,
            &[],
            base,
            &[("realm_id", owned.clone())],
        )?;
        run.put::<realm_smtp::Entity>("smtp settings".into(), existing.as_ref(), candidate)
            .await?;
    }

    let sync = Sync {
        realm_id: &realm_id,
    };
    sync.items::<claim_type::Entity, _>(
        &mut run,
        "claim type",
        "name",
        &document.claim_types,
        CATALOG_OMITS,
        &[],
        claim_type::Column::RealmId,
        |r| r.name.clone(),
    )
    .await?;
    sync.items::<scope::Entity, _>(
        &mut run,
        "scope",
        "name",
        &document.scopes,
        CATALOG_OMITS,
        &[],
        scope::Column::RealmId,
        |r| r.name.clone(),
    )
    .await?;
    sync.items::<api_resource::Entity, _>(
        &mut run,
        "API resource",
        "name",
        &document.api_resources,
        CATALOG_OMITS,
        &[],
        api_resource::Column::RealmId,
        |r| r.name.clone(),
    )
    .await?;

    let roles = sync
        .items::<role::Entity, _>(
            &mut run,
            "role",
            "name",
            &document.roles,
            CATALOG_OMITS,
            &["composites"],
            role::Column::RealmId,
            |r| r.name.clone(),
        )
        .await?;
    let role_ids: BTreeMap<String, String> = roles
        .iter()
        .map(|(name, row)| (name.clone(), row.id.clone()))
        .collect();
    run.composites(&realm_id, &document.roles, &role_ids)
        .await?;

    let clients = sync
        .items::<client::Entity, _>(
            &mut run,
            "client",
            "client_id",
            &document.clients,
            CATALOG_OMITS,
            &["secrets"],
            client::Column::RealmId,
            |r| r.client_id.clone(),
        )
        .await?;
    run.client_secrets(&document.clients, &clients).await?;

    let providers = sync
        .items::<identity_provider::Entity, _>(
            &mut run,
            "identity provider",
            "alias",
            &document.identity_providers,
            CATALOG_OMITS,
            &[],
            identity_provider::Column::RealmId,
            |r| r.alias.clone(),
        )
        .await?;
    let directories = sync
        .items::<directory::Entity, _>(
            &mut run,
            "directory",
            "name",
            &document.directories,
            CATALOG_OMITS,
            &[],
            directory::Column::RealmId,
            |r| r.name.clone(),
        )
        .await?;

    let hashes_before: BTreeMap<String, Option<String>> = user::Entity::find()
        .filter(user::Column::RealmId.eq(&realm_id))
        .all(txn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.password_hash))
        .collect();
    let users = sync
        .items::<user::Entity, _>(
            &mut run,
            "user",
            "username",
            &document.users,
            USER_OMITS,
            &[
                "roles",
                "federated_identities",
                "directory_links",
                "credentials",
            ],
            user::Column::RealmId,
            |r| r.username.clone(),
        )
        .await?;
    run.done.passwords_changed = users
        .values()
        .filter(|u| {
            hashes_before
                .get(&u.id)
                .is_some_and(|before| *before != u.password_hash)
        })
        .map(|u| u.id.clone())
        .collect();
    let linked = Linked {
        realm_id: &realm_id,
        users: &users,
        roles: &role_ids,
        providers: &providers,
        directories: &directories,
    };
    run.user_roles(&document.users, &linked).await?;
    run.federated_identities(&document.users, &linked).await?;
    run.directory_links(&document.users, &linked).await?;
    run.credentials(&document.users, &linked).await?;

    sync.items::<exchange_policy::Entity, _>(
        &mut run,
        "exchange policy",
        "client_id",
        &document.exchange_policies,
        CATALOG_OMITS,
        &[],
        exchange_policy::Column::RealmId,
        |r| r.client_id.clone(),
    )
    .await?;
    sync.items::<trusted_issuer::Entity, _>(
        &mut run,
        "trusted issuer",
        "issuer",
        &document.trusted_issuers,
        CATALOG_OMITS,
        &[],
        trusted_issuer::Column::RealmId,
        |r| r.issuer.clone(),
    )
    .await?;

    if let Some(keys) = &document.signing_keys {
        // Keys made on first use or by a rotation take the same turn (see `keys`).
        crate::store::keys::lock_for_making(txn, &realm_id).await?;
        let listed = keys
            .iter()
            .map(|key| key_of("signing key", key, "kid").map(str::to_string))
            .collect::<ImportResult<BTreeSet<String>>>()?;
        let kept = sync
            .items::<signing_key::Entity, _>(
                &mut run,
                "signing key",
                "kid",
                keys,
                KEY_OMITS,
                &[],
                signing_key::Column::RealmId,
                |r| r.kid.clone(),
            )
            .await?;
        run.retire_other_keys(&realm_id, &kept, &listed, retired_keys_published_until)
            .await?;
    }
    Ok(run.done)
}

/// The import under way: its transaction, clock and record of changes.
struct Run<'a> {
    txn: &'a Tx,
    now: DateTime<Utc>,
    done: Imported,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Unchanged,
    Updated,
    Created,
}

impl Run<'_> {
    /// The realm's row, created or brought in line with the document.
    async fn realm(&mut self, document: &RealmDocument) -> ImportResult<realm::Model> {
        let name = document
            .realm_name()
            .ok_or_else(|| invalid("realm: `name` is missing"))?;
        let existing = realm::Entity::find()
            .filter(realm::Column::Name.eq(name))
            .one(self.txn)
            .await?;
        let (base, forced) = match &existing {
            Some(row) => (row_item(row), vec![("id", json!(row.id))]),
            None => {
                let mut base = fresh(self.now);
                base.insert("id".into(), json!(crate::crypto::random::id()));
                // A realm's revocation salt travels only with its keys; a new one is drawn here.
                base.insert(
                    "revocation_salt".into(),
                    json!(crate::crypto::random::opaque_token()),
                );
                (base, Vec::new())
            }
        };
        let candidate: realm::Model =
            build("realm", &document.realm, REALM_OMITS, &[], base, &forced)?;
        crate::store::realms::to_domain(candidate.clone())
            .map_err(|e| invalid(format!("realm: {e}")))?;
        let write = self
            .put::<realm::Entity>(
                format!("realm \"{name}\""),
                existing.as_ref(),
                candidate.clone(),
            )
            .await?;
        self.done.realm_created = write == Write::Created;
        Ok(candidate)
    }

    /// Inserts `candidate`, or rewrites `existing` when they differ (stamping `updated_at`).
    async fn put<E>(
        &mut self,
        label: String,
        existing: Option<&E::Model>,
        candidate: E::Model,
    ) -> ImportResult<Write>
    where
        E: EntityTrait,
        E::Model:
            IntoActiveModel<E::ActiveModel> + PartialEq + Clone + Serialize + DeserializeOwned,
        E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    {
        let write = match existing {
            Some(old) if in_micros(old) == candidate => return Ok(Write::Unchanged),
            Some(_) => {
                let row = touched(candidate, self.now);
                row.into_active_model()
                    .reset_all()
                    .update(self.txn)
                    .await
                    .map_err(|e| taken(e, &label))?;
                Write::Updated
            }
            None => {
                E::insert(candidate.into_active_model())
                    .exec_without_returning(self.txn)
                    .await
                    .map_err(|e| taken(e, &label))?;
                Write::Created
            }
        };
        let verb = if write == Write::Created {
            "created"
        } else {
            "updated"
        };
        self.done.changes.push(format!("{verb} {label}"));
        Ok(write)
    }

    fn note(&mut self, change: String) {
        self.done.changes.push(change);
    }

    /// Makes each listed role's composites the document's.
    async fn composites(
        &mut self,
        realm_id: &str,
        roles: &[Item],
        role_ids: &BTreeMap<String, String>,
    ) -> ImportResult<()> {
        let stored = role_composite::Entity::find()
            .join(
                sea_orm::JoinType::InnerJoin,
                role_composite::Relation::Role.def(),
            )
            .filter(role::Column::RealmId.eq(realm_id))
            .all(self.txn)
            .await?;
        let mut children: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for link in &stored {
            children
                .entry(&link.role_id)
                .or_default()
                .insert(&link.child_id);
        }
        for item in roles {
            let name = key_of("role", item, "name")?;
            let Some(listed) = item.get("composites") else {
                continue;
            };
            let label = format!("role \"{name}\"");
            let wanted = names(&label, "composites", listed)?;
            let role_id = &role_ids[name];
            let mut want = BTreeSet::new();
            for child in &wanted {
                let id = role_ids.get(child.as_str()).ok_or_else(|| {
                    invalid(format!(
                        "{label}: composite \"{child}\" is not a role of the realm"
                    ))
                })?;
                want.insert(id.as_str());
            }
            let have = children.remove(role_id.as_str()).unwrap_or_default();
            for child in want.difference(&have) {
                role_composite::Entity::insert(role_composite::ActiveModel {
                    role_id: sea_orm::Set(role_id.clone()),
                    child_id: sea_orm::Set(child.to_string()),
                })
                .exec_without_returning(self.txn)
                .await
                .map_err(|e| taken(e, &format!("a composite of {label}")))?;
                self.note(format!(
                    "added composite {} to {label}",
                    name_of(role_ids, child)
                ));
            }
            for child in have.difference(&want) {
                role_composite::Entity::delete_many()
                    .filter(role_composite::Column::RoleId.eq(role_id))
                    .filter(role_composite::Column::ChildId.eq(*child))
                    .exec(self.txn)
                    .await?;
                self.note(format!(
                    "removed composite {} from {label}",
                    name_of(role_ids, child)
                ));
            }
        }
        Ok(())
    }

    /// Makes each listed client's secrets the document's, matched by their hash.
    async fn client_secrets(
        &mut self,
        items: &[Item],
        clients: &BTreeMap<String, client::Model>,
    ) -> ImportResult<()> {
        for item in items {
            let client_id = key_of("client", item, "client_id")?;
            let client = &clients[client_id];
            let label = format!("client \"{client_id}\"");
            let stored = client_secret::Entity::find()
                .filter(client_secret::Column::ClientPk.eq(&client.id))
                .all(self.txn)
                .await?;
            let mut secrets = Vec::new();
            if let Some(listed) = item.get("secrets") {
                let listed = list(&label, "secrets", listed)?;
                let mut seen = BTreeSet::new();
                for secret in listed {
                    let what = format!("{label}: a secret");
                    let hash = key_of(&what, secret, "secret_hash")?;
                    if !seen.insert(hash) {
                        return Err(invalid(format!("{label}: a secret is listed twice")));
                    }
                    let existing = stored.iter().find(|s| s.secret_hash == hash);
                    let mut forced = vec![("client_pk", json!(client.id))];
                    let base = match existing {
                        Some(row) => {
                            forced.push(("id", json!(row.id)));
                            row_item(row)
                        }
                        None => with_new_id(fresh(self.now), secret),
                    };
                    let candidate: client_secret::Model =
                        build(&what, secret, SECRET_OMITS, &[], base, &forced)?;
                    self.put::<client_secret::Entity>(
                        format!("secret of {label}"),
                        existing,
                        candidate.clone(),
                    )
                    .await?;
                    secrets.push(candidate);
                }
                for gone in stored
                    .iter()
                    .filter(|s| !seen.contains(s.secret_hash.as_str()))
                {
                    client_secret::Entity::delete_by_id(gone.id.clone())
                        .exec(self.txn)
                        .await?;
                    self.note(format!("removed a secret of {label}"));
                }
            } else {
                secrets = stored;
            }
            crate::store::clients::to_domain(client.clone(), secrets)
                .map_err(|e| invalid(format!("{label}: {e}")))?;
        }
        Ok(())
    }

    /// Makes each listed user's roles the document's.
    async fn user_roles(&mut self, users: &[Item], linked: &Linked<'_>) -> ImportResult<()> {
        let stored = user_role::Entity::find()
            .join(
                sea_orm::JoinType::InnerJoin,
                user_role::Relation::User.def(),
            )
            .filter(user::Column::RealmId.eq(linked.realm_id))
            .all(self.txn)
            .await?;
        let mut held: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for link in &stored {
            held.entry(&link.user_id).or_default().insert(&link.role_id);
        }
        for item in users {
            let username = key_of("user", item, "username")?;
            let Some(listed) = item.get("roles") else {
                continue;
            };
            let label = format!("user \"{username}\"");
            let user_id = linked.users[username].id.as_str();
            let mut want = BTreeSet::new();
            for role in names(&label, "roles", listed)? {
                let id = linked.roles.get(&role).ok_or_else(|| {
                    invalid(format!(
                        "{label}: role \"{role}\" is not a role of the realm"
                    ))
                })?;
                want.insert(id.as_str());
            }
            let have = held.remove(user_id).unwrap_or_default();
            for role_id in want.difference(&have) {
                let role = name_of(linked.roles, role_id);
                user_role::Entity::insert(user_role::ActiveModel {
                    user_id: sea_orm::Set(user_id.to_string()),
                    role_id: sea_orm::Set(role_id.to_string()),
                })
                .exec_without_returning(self.txn)
                .await
                .map_err(|e| taken(e, &format!("role {role} of {label}")))?;
                self.note(format!("granted role {role} to {label}"));
            }
            for role_id in have.difference(&want) {
                user_role::Entity::delete_many()
                    .filter(user_role::Column::UserId.eq(user_id))
                    .filter(user_role::Column::RoleId.eq(*role_id))
                    .exec(self.txn)
                    .await?;
                let role = name_of(linked.roles, role_id);
                self.note(format!("withdrew role {role} from {label}"));
            }
        }
        Ok(())
    }

    /// Makes each listed user's links to upstream identity providers the document's. A link
    /// is known by its provider and subject, so it may move from one user to another: every
    /// listed link is written before any is removed.
    async fn federated_identities(
        &mut self,
        users: &[Item],
        linked: &Linked<'_>,
    ) -> ImportResult<()> {
        let stored: BTreeMap<(String, String), federated_identity::Model> =
            federated_identity::Entity::find()
                .filter(federated_identity::Column::RealmId.eq(linked.realm_id))
                .all(self.txn)
                .await?
                .into_iter()
                .map(|f| ((f.provider_id.clone(), f.subject.clone()), f))
                .collect();
        let mut kept = BTreeSet::new();
        let mut listed_users = BTreeMap::new();
        for item in users {
            let username = key_of("user", item, "username")?;
            let Some(listed) = item.get("federated_identities") else {
                continue;
            };
            let label = format!("user \"{username}\"");
            let user_id = &linked.users[username].id;
            listed_users.insert(user_id.clone(), label.clone());
            for identity in list(&label, "federated_identities", listed)? {
                let what = format!("{label}: a federated identity");
                let alias = key_of(&what, identity, "provider")?;
                let subject = key_of(&what, identity, "subject")?;
                let provider = linked.providers.get(alias).ok_or_else(|| {
                    invalid(format!(
                        "{what}: \"{alias}\" is not an identity provider of the realm"
                    ))
                })?;
                let existing = stored.get(&(provider.id.clone(), subject.to_string()));
                if existing.is_some_and(|f| kept.contains(&f.id)) {
                    return Err(invalid(format!("{what}: listed twice")));
                }
                let mut forced = vec![
                    ("realm_id", json!(linked.realm_id)),
                    ("user_id", json!(user_id)),
                    ("provider_id", json!(provider.id)),
                ];
                let base = match existing {
                    Some(row) => {
                        forced.push(("id", json!(row.id)));
                        row_item(row)
                    }
                    None => with_new_id(fresh(self.now), identity),
                };
                let candidate: federated_identity::Model =
                    build(&what, identity, LINK_OMITS, &["provider"], base, &forced)?;
                kept.insert(candidate.id.clone());
                self.put::<federated_identity::Entity>(
                    format!("link of {label} to {alias}"),
                    existing,
                    candidate,
                )
                .await?;
            }
        }
        for gone in stored.values().filter(|f| !kept.contains(&f.id)) {
            if let Some(label) = listed_users.get(&gone.user_id) {
                federated_identity::Entity::delete_by_id(gone.id.clone())
                    .exec(self.txn)
                    .await?;
                self.note(format!("unlinked {label} from an identity provider"));
            }
        }
        Ok(())
    }

    /// Makes each listed user's links to directory entries the document's (written before
    /// any is removed, as links to identity providers are).
    async fn directory_links(&mut self, users: &[Item], linked: &Linked<'_>) -> ImportResult<()> {
        let stored: BTreeMap<(String, String), directory_link::Model> =
            directory_link::Entity::find()
                .filter(directory_link::Column::RealmId.eq(linked.realm_id))
                .all(self.txn)
                .await?
                .into_iter()
                .map(|l| ((l.directory_id.clone(), l.subject.clone()), l))
                .collect();
        let mut kept = BTreeSet::new();
        let mut listed_users = BTreeMap::new();
        for item in users {
            let username = key_of("user", item, "username")?;
            let Some(listed) = item.get("directory_links") else {
                continue;
            };
            let label = format!("user \"{username}\"");
            let user_id = &linked.users[username].id;
            listed_users.insert(user_id.clone(), label.clone());
            for link in list(&label, "directory_links", listed)? {
                let what = format!("{label}: a directory link");
                let name = key_of(&what, link, "directory")?;
                let subject = key_of(&what, link, "subject")?;
                let directory = linked.directories.get(name).ok_or_else(|| {
                    invalid(format!(
                        "{what}: \"{name}\" is not a directory of the realm"
                    ))
                })?;
                let existing = stored.get(&(directory.id.clone(), subject.to_string()));
                if existing.is_some_and(|l| kept.contains(&l.id)) {
                    return Err(invalid(format!("{what}: listed twice")));
                }
                let mut forced = vec![
                    ("realm_id", json!(linked.realm_id)),
                    ("user_id", json!(user_id)),
                    ("directory_id", json!(directory.id)),
                ];
                let base = match existing {
                    Some(row) => {
                        forced.push(("id", json!(row.id)));
                        row_item(row)
                    }
                    None => with_new_id(fresh(self.now), link),
                };
                let candidate: directory_link::Model =
                    build(&what, link, LINK_OMITS, &["directory"], base, &forced)?;
                kept.insert(candidate.id.clone());
                self.put::<directory_link::Entity>(
                    format!("link of {label} to directory {name}"),
                    existing,
                    candidate,
                )
                .await?;
            }
        }
        for gone in stored.values().filter(|l| !kept.contains(&l.id)) {
            if let Some(label) = listed_users.get(&gone.user_id) {
                directory_link::Entity::delete_by_id(gone.id.clone())
                    .exec(self.txn)
                    .await?;
                self.note(format!("unlinked {label} from a directory"));
            }
        }
        Ok(())
    }

    /// Makes each listed user's second factors and passkeys the document's, matched by id
    /// (sealed secrets are bound to it).
    async fn credentials(&mut self, users: &[Item], linked: &Linked<'_>) -> ImportResult<()> {
        let stored: BTreeMap<String, credential::Model> = credential::Entity::find()
            .filter(credential::Column::RealmId.eq(linked.realm_id))
            .all(self.txn)
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        let mut kept = BTreeSet::new();
        let mut listed_users = BTreeMap::new();
        for item in users {
            let username = key_of("user", item, "username")?;
            let Some(listed) = item.get("credentials") else {
                continue;
            };
            let label = format!("user \"{username}\"");
            let user_id = &linked.users[username].id;
            listed_users.insert(user_id.clone(), label.clone());
            for factor in list(&label, "credentials", listed)? {
                let what = format!("{label}: a credential");
                let id = key_of(&what, factor, "id")?;
                let existing = stored.get(id);
                if existing.is_some_and(|c| &c.user_id != user_id) {
                    return Err(invalid(format!("{what}: {id} belongs to another user")));
                }
                if !kept.insert(id.to_string()) {
                    return Err(invalid(format!("{what}: {id} is listed twice")));
                }
                let base = match existing {
                    Some(row) => row_item(row),
                    None => fresh(self.now),
                };
                let candidate: credential::Model = build(
                    &what,
                    factor,
                    CREDENTIAL_OMITS,
                    &[],
                    base,
                    &[
                        ("realm_id", json!(linked.realm_id)),
                        ("user_id", json!(user_id)),
                    ],
                )?;
                self.put::<credential::Entity>(
                    format!("{} credential of {label}", candidate.kind),
                    existing,
                    candidate,
                )
                .await?;
            }
        }
        for gone in stored.values().filter(|c| !kept.contains(&c.id)) {
            if let Some(label) = listed_users.get(&gone.user_id) {
                credential::Entity::delete_by_id(gone.id.clone())
                    .exec(self.txn)
                    .await?;
                self.note(format!("removed a {} credential of {label}", gone.kind));
            }
        }
        Ok(())
    }

    /// Retires the realm's active keys that the document does not carry, of the algorithms it
    /// has an active key of: the document's keys sign from now on, and tokens the others
    /// signed still verify until they expire. A key of an algorithm the document lacks (an
    /// RSA key made on first use after the export) stays, so applying the document again
    /// changes nothing.
    async fn retire_other_keys(
        &mut self,
        realm_id: &str,
        kept: &BTreeMap<String, signing_key::Model>,
        listed: &BTreeSet<String>,
        published_until: DateTime<Utc>,
    ) -> ImportResult<()> {
        let active = signing_key::Entity::find()
            .filter(signing_key::Column::RealmId.eq(realm_id))
            .filter(signing_key::Column::Active.eq(true))
            .all(self.txn)
            .await?;
        // `kept` holds every key of the realm once the document's are written.
        let covered: Vec<&str> = kept
            .values()
            .filter(|k| k.active && listed.contains(&k.kid))
            .map(|k| k.alg.as_str())
            .collect();
        let replaced = active
            .into_iter()
            .filter(|k| !listed.contains(&k.kid) && covered.contains(&k.alg.as_str()));
        for key in replaced {
            let label = format!("signing key \"{}\"", key.kid);
            let mut retired = key.clone();
            retired.active = false;
            retired.retired_at = Some(self.now);
            retired.publish_until = Some(published_until);
            self.put::<signing_key::Entity>(label, Some(&key), retired)
                .await?;
        }
        Ok(())
    }
}

/// The rows a user's nested items point at, by the names the document uses.
struct Linked<'a> {
    realm_id: &'a str,
    users: &'a BTreeMap<String, user::Model>,
    roles: &'a BTreeMap<String, String>,
    providers: &'a BTreeMap<String, identity_provider::Model>,
    directories: &'a BTreeMap<String, directory::Model>,
}

/// Imports one top-level section of a realm.
struct Sync<'a> {
    realm_id: &'a str,
}

impl Sync<'_> {
    /// Brings the realm's rows of one table in line with `items`, matched by `key_field`.
    /// Returns every row of the table afterwards (listed or not) by key, for the items that
    /// point at them.
    #[allow(clippy::too_many_arguments)]
    async fn items<E, K>(
        &self,
        run: &mut Run<'_>,
        what: &str,
        key_field: &str,
        items: &[Item],
        omits: &[&str],
        nested: &[&str],
        realm_column: E::Column,
        key: K,
    ) -> ImportResult<BTreeMap<String, E::Model>>
    where
        E: EntityTrait,
        E::Model:
            IntoActiveModel<E::ActiveModel> + PartialEq + Clone + Serialize + DeserializeOwned,
        E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
        K: Fn(&E::Model) -> String,
    {
        let mut rows: BTreeMap<String, E::Model> = E::find()
            .filter(realm_column.eq(self.realm_id))
            .all(run.txn)
            .await?
            .into_iter()
            .map(|row| (key(&row), row))
            .collect();
        let mut seen = BTreeSet::new();
        for item in items {
            let name = key_of(what, item, key_field)?;
            if !seen.insert(name) {
                return Err(invalid(format!("{what} \"{name}\" is listed twice")));
            }
            let label = format!("{what} \"{name}\"");
            let existing = rows.get(name);
            let base = match existing {
                Some(row) => row_item(row),
                None => with_new_id(fresh(run.now), item),
            };
            let forced = match existing {
                // An existing item keeps its id: other rows (and issued tokens) point at it.
                Some(row) => vec![
                    ("realm_id", json!(self.realm_id)),
                    (
                        "id",
                        row_item(row).get("id").cloned().unwrap_or(Value::Null),
                    ),
                ],
                None => vec![("realm_id", json!(self.realm_id))],
            };
            let forced: Vec<(&str, Value)> =
                forced.into_iter().filter(|(_, v)| !v.is_null()).collect();
            let candidate: E::Model = build(&label, item, omits, nested, base, &forced)?;
            if key(&candidate) != name {
                return Err(invalid(format!("{label}: `{key_field}` must be a string")));
            }
            run.put::<E>(label, existing, candidate.clone()).await?;
            rows.insert(name.to_string(), candidate);
        }
        Ok(rows)
    }
}

/// The model an item describes: `base` (the stored row, or fresh defaults) overlaid with the
/// item's columns, then `forced` (the columns that tie it to its realm and owner). Refuses
/// columns the table does not have and those a document never carries.
fn build<M: Serialize + DeserializeOwned>(
    label: &str,
    item: &Item,
    omits: &[&str],
    nested: &[&str],
    mut base: Item,
    forced: &[(&str, Value)],
) -> ImportResult<M> {
    for (column, value) in item {
        if nested.contains(&column.as_str()) {
            continue;
        }
        if omits.contains(&column.as_str()) {
            return Err(invalid(format!(
                "{label}: `{column}` is kept by the server and not part of a realm document"
            )));
        }
        base.insert(column.clone(), value.clone());
    }
    for (column, value) in forced {
        base.insert((*column).to_string(), value.clone());
    }
    truncate_timestamps(&mut base);
    let model: M = serde_path_to_error::deserialize(Value::Object(base))
        .map_err(|e| invalid(format!("{label}: {e}")))?;
    let known = row_item(&model);
    if let Some(column) = item
        .keys()
        .find(|c| !nested.contains(&c.as_str()) && !known.contains_key(*c))
    {
        return Err(invalid(format!("{label}: unknown field `{column}`")));
    }
    Ok(model)
}

/// A write refused for a unique key: the item was made meanwhile by another import (try
/// again), or the document's `id` is another item's.
fn taken(error: sea_orm::DbErr, label: &str) -> ImportError {
    if is_unique_violation(&error) {
        ImportError::Store(StoreError::Conflict(format!("{label} (or its id)")))
    } else {
        error.into()
    }
}

/// `row` with its timestamps to the microsecond.
fn in_micros<M: Serialize + DeserializeOwned + Clone>(row: &M) -> M {
    let mut columns = row_item(row);
    truncate_timestamps(&mut columns);
    serde_json::from_value(Value::Object(columns)).unwrap_or_else(|_| row.clone())
}

/// Every column of a row.
fn row_item<M: Serialize>(row: &M) -> Item {
    item_of(row, &[])
}

/// Defaults for what a new item does not say: the server-kept columns start afresh.
fn fresh(now: DateTime<Utc>) -> Item {
    let mut item = Item::new();
    for column in ["created_at", "updated_at", "last_login_at"] {
        item.insert(column.into(), json!(now));
    }
    item.insert("failed_login_count".into(), json!(0));
    item
}

/// `base` with an id for a new row: the item's own (so a restored user keeps its `sub`), or
/// a new one.
fn with_new_id(mut base: Item, item: &Item) -> Item {
    let id = match item.get("id") {
        Some(Value::String(id)) => id.clone(),
        _ => crate::crypto::random::id(),
    };
    base.insert("id".into(), json!(id));
    base
}

/// `row` with `updated_at` (where the table has one) set to `now`.
fn touched<M: Serialize + DeserializeOwned>(row: M, now: DateTime<Utc>) -> M {
    let mut columns = row_item(&row);
    if !columns.contains_key("updated_at") {
        return row;
    }
    columns.insert("updated_at".into(), json!(now));
    serde_json::from_value(Value::Object(columns)).unwrap_or(row)
}

fn key_of<'a>(what: &str, item: &'a Item, field: &str) -> ImportResult<&'a str> {
    match item.get(field) {
        Some(Value::String(key)) if !key.is_empty() => Ok(key),
        _ => Err(invalid(format!(
            "{what}: `{field}` must be a non-empty string"
        ))),
    }
}

fn list<'a>(label: &str, field: &str, value: &'a Value) -> ImportResult<Vec<&'a Item>> {
    let Value::Array(values) = value else {
        return Err(invalid(format!("{label}: `{field}` must be a list")));
    };
    values
        .iter()
        .map(|v| {
            v.as_object()
                .ok_or_else(|| invalid(format!("{label}: `{field}` must hold objects")))
        })
        .collect()
}

fn names(label: &str, field: &str, value: &Value) -> ImportResult<BTreeSet<String>> {
    let strings = value.as_array().and_then(|values| {
        values
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<BTreeSet<_>>>()
    });
    strings.ok_or_else(|| invalid(format!("{label}: `{field}` must be a list of names")))
}

fn name_of(ids: &BTreeMap<String, String>, id: &str) -> String {
    ids.iter()
        .find(|(_, v)| v.as_str() == id)
        .map(|(name, _)| format!("\"{name}\""))
        .unwrap_or_else(|| id.to_string())
}
