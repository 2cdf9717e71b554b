//! The catalogue: scopes, API resources, claim types and token-exchange policies. Names are
//! keys; a name still in use elsewhere cannot be deleted.

use std::collections::HashSet;

use admin_model::{
    Actor, AdminError, AdminResult, ApiResourceInput, ApiResourceView, ClaimTypeInput,
    ClaimTypeView, ExchangePolicyInput, ExchangePolicyView, FieldErrors, Page, PageRequest,
    ScopeInput, ScopeView,
};
use entity::{api_resource, claim_type, client, exchange_policy, scope};
use sea_orm::sea_query::IntoCondition;
use sea_orm::{ColumnTrait, Condition, IntoActiveModel, Set, TransactionTrait};

use super::{db, list, AdminService};
use crate::admin::validate;
use crate::changes::Change;
use crate::crypto::secrets::SecretOrigin;
use crate::domain::Realm;
use crate::store::json_list;
use crate::store::rows::{self, Order};

fn scope_view(row: scope::Model) -> AdminResult<ScopeView> {
    Ok(ScopeView {
        claims: list(&row.claims, "scopes.claims")?,
        name: row.name,
        description: row.description,
        audience: row.audience,
        include_in_access_token: row.include_in_access_token,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn api_resource_view(row: api_resource::Model) -> AdminResult<ApiResourceView> {
    Ok(ApiResourceView {
        scopes: list(&row.scopes, "api_resources.scopes")?,
        has_secret: row.secret_hash.is_some(),
        name: row.name,
        display_name: row.display_name,
        enabled: row.enabled,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn claim_type_view(row: claim_type::Model) -> AdminResult<ClaimTypeView> {
    Ok(ClaimTypeView {
        name: row.name,
        description: row.description,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn policy_view(row: exchange_policy::Model) -> AdminResult<ExchangePolicyView> {
    Ok(ExchangePolicyView {
        audiences: list(&row.audiences, "exchange_policies.audiences")?,
        scopes: list(&row.scopes, "exchange_policies.scopes")?,
        subject_clients: list(&row.subject_clients, "exchange_policies.subject_clients")?,
        client_id: row.client_id,
        allow_delegation: row.allow_delegation,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// `Some(message)` when a key in an input differs from the addressed item's key.
fn key_change(field: &str, given: &Option<String>, key: &str, errors: &mut FieldErrors) {
    if given.as_deref().is_some_and(|g| g != key) {
        errors.add(field, "is the item's key and cannot change");
    }
}

fn required(field: &str, value: &Option<String>, errors: &mut FieldErrors) -> String {
    let value = value.clone().unwrap_or_default();
    if value.is_empty() {
        errors.add(field, "is required");
    }
    value
}

/// A 409 naming who still uses `item` (`holders`: what kind, which ones), or `Ok` when nobody.
fn in_use(item: &str, holders: &[(&str, Vec<String>)]) -> AdminResult<()> {
    let named: Vec<String> = holders
        .iter()
        .filter(|(_, keys)| !keys.is_empty())
        .map(|(kind, keys)| {
            let keys: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
            format!("{kind} {}", keys.join(", "))
        })
        .collect();
    if named.is_empty() {
        return Ok(());
    }
    Err(AdminError::Conflict(format!(
        "{item} is still named by {}; change or delete them first",
        named.join(" and ")
    )))
}

/// Every entry must be one of `known`, else `what` is named in the message.
fn all_known(values: &[String], known: &HashSet<String>, what: &str) -> Result<(), String> {
    validate::each(values, |v| {
        if known.contains(v) {
            Ok(())
        } else {
            Err(format!("unknown {what} `{v}`"))
        }
    })
}

impl AdminService {
    async fn names<E: sea_orm::EntityTrait>(
        &self,
        condition: Condition,
        key: E::Column,
        name: impl Fn(E::Model) -> String,
    ) -> AdminResult<HashSet<String>> {
        Ok(rows::all::<E>(self.db(), condition, key)
            .await?
            .into_iter()
            .map(name)
            .collect())
    }

    async fn scope_names(&self, realm: &Realm) -> AdminResult<HashSet<String>> {
        self.names::<scope::Entity>(
            scope::Column::RealmId.eq(&realm.id).into_condition(),
            scope::Column::Name,
            |r| r.name,
        )
        .await
    }

    async fn client_ids(&self, realm: &Realm) -> AdminResult<HashSet<String>> {
        self.names::<client::Entity>(
            client::Column::RealmId.eq(&realm.id).into_condition(),
            client::Column::ClientId,
            |r| r.client_id,
        )
        .await
    }

    /// Keys of the realm's rows of `E` whose JSON list column (`lists` reads it, named
    /// `column` for error reports) contains `name`: who still names an item.
    async fn naming<E: sea_orm::EntityTrait>(
        &self,
        realm_id: E::Column,
        realm: &Realm,
        key: E::Column,
        column: &str,
        name: &str,
        lists: impl Fn(&E::Model) -> (&serde_json::Value, String),
    ) -> AdminResult<Vec<String>> {
        let mut found = Vec::new();
        for row in rows::all::<E>(self.db(), realm_id.eq(&realm.id).into_condition(), key).await? {
            let (values, key) = lists(&row);
            if list(values, column)?.iter().any(|v| v == name) {
                found.push(key);
            }
        }
        Ok(found)
    }

    /// Refuses to delete scope `name` while clients, API resources or exchange policies name it.
    async fn scope_unused(&self, realm: &Realm, name: &str) -> AdminResult<()> {
        let holders = [
            (
                "clients",
                self.naming::<client::Entity>(
                    client::Column::RealmId,
                    realm,
                    client::Column::ClientId,
                    "clients.scopes",
                    name,
                    |c| (&c.scopes, c.client_id.clone()),
                )
                .await?,
            ),
            (
                "API resources",
                self.naming::<api_resource::Entity>(
                    api_resource::Column::RealmId,
                    realm,
                    api_resource::Column::Name,
                    "api_resources.scopes",
                    name,
                    |r| (&r.scopes, r.name.clone()),
                )
                .await?,
            ),
            (
                "exchange policies",
                self.naming::<exchange_policy::Entity>(
                    exchange_policy::Column::RealmId,
                    realm,
                    exchange_policy::Column::ClientId,
                    "exchange_policies.scopes",
                    name,
                    |p| (&p.scopes, p.client_id.clone()),
                )
                .await?,
            ),
        ];
        in_use(&format!("scope `{name}`"), &holders)
    }

    /// Refuses to delete client `client_id` while an exchange policy is its own or names it
    /// as a subject client. (Exchange policies are keyed by the client they govern.)
    pub(super) async fn client_unused(&self, realm: &Realm, client_id: &str) -> AdminResult<()> {
        let mut policies = Vec::new();
        for policy in rows::all::<exchange_policy::Entity>(
            self.db(),
            exchange_policy::Column::RealmId
                .eq(&realm.id)
                .into_condition(),
            exchange_policy::Column::ClientId,
        )
        .await?
        {
            let subjects = list(&policy.subject_clients, "exchange_policies.subject_clients")?;
            if policy.client_id == client_id || subjects.iter().any(|s| s == client_id) {
                policies.push(policy.client_id);
            }
        }
        in_use(
            &format!("client `{client_id}`"),
            &[("exchange policies", policies)],
        )
    }

    async fn publish_catalog(&self, realm: &Realm) {
        self.state
            .caches
            .publish(Change::Catalog {
                realm_id: realm.id.clone(),
            })
            .await;
    }

    // ---- scopes -------------------------------------------------------------------------

    async fn scope_row(&self, realm: &Realm, name: &str) -> AdminResult<scope::Model> {
        super::keyed_row::<scope::Entity>(
            self.db(),
            "scope",
            name,
            Condition::all()
                .add(scope::Column::RealmId.eq(&realm.id))
                .add(scope::Column::Name.eq(name)),
        )
        .await
    }

    pub async fn list_scopes(
        &self,
        realm: &str,
        page: PageRequest,
    ) -> AdminResult<Page<ScopeView>> {
        let realm = self.realm(realm).await?;
        self.page::<scope::Entity, _>(
            scope::Column::RealmId.eq(&realm.id).into_condition(),
            scope::Column::Name,
            Order::Ascending,
            &page,
            |r| r.name.clone(),
            scope_view,
        )
        .await
    }

    pub async fn get_scope(&self, realm: &str, name: &str) -> AdminResult<ScopeView> {
        let realm = self.realm(realm).await?;
        scope_view(self.scope_row(&realm, name).await?)
    }

    /// Validates a scope input against the realm's claim types and API resources.
    async fn check_scope(
        &self,
        realm: &Realm,
        input: &ScopeInput,
        errors: &mut FieldErrors,
    ) -> AdminResult<()> {
        if let Some(Some(description)) = &input.description {
            errors.check("description", validate::text(description));
        }
        if let Some(claims) = &input.claims {
            let known = self
                .names::<claim_type::Entity>(
                    claim_type::Column::RealmId.eq(&realm.id).into_condition(),
                    claim_type::Column::Name,
                    |r| r.name,
                )
                .await?;
            errors.check("claims", all_known(claims, &known, "claim type"));
        }
        if let Some(Some(audience)) = &input.audience {
            if !audience.is_empty() {
                let known = self
                    .names::<api_resource::Entity>(
                        api_resource::Column::RealmId.eq(&realm.id).into_condition(),
                        api_resource::Column::Name,
                        |r| r.name,
                    )
                    .await?;
                if !known.contains(audience) {
                    errors.add("audience", format!("unknown API resource `{audience}`"));
                }
            }
        }
        Ok(())
    }

    pub async fn create_scope(
        &self,
        actor: &Actor,
        realm: &str,
        input: ScopeInput,
    ) -> AdminResult<ScopeView> {
        let realm = self.realm(realm).await?;
        let mut errors = FieldErrors::new();
        let name = required("name", &input.name, &mut errors);
        if !name.is_empty() {
            errors.check("name", validate::scope_name(&name));
        }
        self.check_scope(&realm, &input, &mut errors).await?;
        errors.finish()?;
        let now = self.state.now();
        let row = scope::ActiveModel {
            id: Set(crate::crypto::random::id()),
            realm_id: Set(realm.id.clone()),
            name: Set(name.clone()),
            description: Set(input
                .description
                .clone()
                .flatten()
                .filter(|d| !d.is_empty())),
            claims: Set(json_list(&input.claims.clone().unwrap_or_default())),
            audience: Set(input.audience.clone().flatten().filter(|a| !a.is_empty())),
            include_in_access_token: Set(input.include_in_access_token.unwrap_or(false)),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let txn = self.db().begin().await.map_err(db)?;
        let created = scope_view(rows::insert(&txn, row, || format!("scope `{name}`")).await?)?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "scope.created",
            &name,
            super::diff(None::<&ScopeView>, Some(&created))?,
        )
        .await?;
        txn.commit().await.map_err(db)?;
        self.publish_catalog(&realm).await;
        Ok(created)
    }

    pub async fn update_scope(
        &self,
        actor: &Actor,
        realm: &str,
        name: &str,
        input: ScopeInput,
    ) -> AdminResult<ScopeView> {
        let realm = self.realm(realm).await?;
        let row = self.scope_row(&realm, name).await?;
        let mut errors = FieldErrors::new();
        key_change("name", &input.name, name, &mut errors);
        self.check_scope(&realm, &input, &mut errors).await?;
        errors.finish()?;
        let before = scope_view(row.clone())?;
        let mut active = row.into_active_model();
        if let Some(description) = &input.description {
            active.description = Set(description.clone().filter(|d| !d.is_empty()));
        }
        if let Some(claims) = &input.claims {
            active.claims = Set(json_list(claims));
        }
        if let Some(audience) = &input.audience {
            active.audience = Set(audience.clone().filter(|a| !a.is_empty()));
        }
        if let Some(include) = input.include_in_access_token {
            active.include_in_access_token = Set(include);
        }
        active.updated_at = Set(self.state.now());
        let txn = self.db().begin().await.map_err(db)?;
        let after = scope_view(rows::update(&txn, active, || format!("scope `{name}`")).await?)?;
        let changed = self
            .finish_update(
                txn,
                &realm.id,
                actor,
                "scope.updated",
                name,
                &before,
                &after,
            )
            .await?;
        if !changed {
            return Ok(before);
        }
        self.publish_catalog(&realm).await;
        Ok(after)
    }

    pub async fn delete_scope(&self, actor: &Actor, realm: &str, name: &str) -> AdminResult<()> {
        let realm = self.realm(realm).await?;
        let row = self.scope_row(&realm, name).await?;
        self.scope_unused(&realm, name).await?;
        let before = scope_view(row.clone())?;
        let txn = self.db().begin().await.map_err(db)?;
        rows::delete::<scope::Entity>(&txn, scope::Column::Id.eq(&row.id)).await?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "scope.deleted",
            name,
            super::diff(Some(&before), None::<&ScopeView>)?,
        )
        .await?;
        txn.commit().await.map_err(db)?;
        self.publish_catalog(&realm).await;
        Ok(())
    }

    // ---- API resources ------------------------------------------------------------------

    async fn api_resource_row(
        &self,
        realm: &Realm,
        name: &str,
    ) -> AdminResult<api_resource::Model> {
        super::keyed_row::<api_resource::Entity>(
            self.db(),
            "API resource",
            name,
            Condition::all()
                .add(api_resource::Column::RealmId.eq(&realm.id))
                .add(api_resource::Column::Name.eq(name)),
        )
        .await
    }

    pub async fn list_api_resources(
        &self,
        realm: &str,
        page: PageRequest,
    ) -> AdminResult<Page<ApiResourceView>> {
        let realm = self.realm(realm).await?;
        self.page::<api_resource::Entity, _>(
            api_resource::Column::RealmId.eq(&realm.id).into_condition(),
            api_resource::Column::Name,
            Order::Ascending,
            &page,
            |r| r.name.clone(),
            api_resource_view,
        )
        .await
    }

    pub async fn get_api_resource(&self, realm: &str, name: &str) -> AdminResult<ApiResourceView> {
        let realm = self.realm(realm).await?;
        api_resource_view(self.api_resource_row(&realm, name).await?)
    }

    async fn check_api_resource(
        &self,
        realm: &Realm,
        input: &ApiResourceInput,
        errors: &mut FieldErrors,
    ) -> AdminResult<()> {
        if let Some(Some(name)) = &input.display_name {
            errors.check("display_name", validate::text(name));
        }
        if let Some(scopes) = &input.scopes {
            let known = self.scope_names(realm).await?;
            errors.check("scopes", all_known(scopes, &known, "scope"));
        }
        if let Some(Some(secret)) = &input.secret {
            errors.check("secret", validate::secret(secret));
        }
        Ok(())
    }

    async fn secret_hash(
        &self,
        secret: &Option<Option<String>>,
    ) -> AdminResult<Option<Option<String>>> {
        match secret {
            None => Ok(None),
            Some(None) => Ok(Some(None)),
            Some(Some(secret)) => Ok(Some(Some(
                self.hash_secret(secret, SecretOrigin::Chosen).await?,
            ))),
        }
    }

    pub async fn create_api_resource(
        &self,
        actor: &Actor,
        realm: &str,
        input: ApiResourceInput,
    ) -> AdminResult<ApiResourceView> {
        let realm = self.realm(realm).await?;
        let mut errors = FieldErrors::new();
        let name = required("name", &input.name, &mut errors);
        if !name.is_empty() {
            errors.check("name", validate::audience(&name));
        }
        self.check_api_resource(&realm, &input, &mut errors).await?;
        errors.finish()?;
        let secret_hash = self.secret_hash(&input.secret).await?.flatten();
        let now = self.state.now();
        let row = api_resource::ActiveModel {
            id: Set(crate::crypto::random::id()),
            realm_id: Set(realm.id.clone()),
            name: Set(name.clone()),
            display_name: Set(input
                .display_name
                .clone()
                .flatten()
                .filter(|d| !d.is_empty())),
            scopes: Set(json_list(&input.scopes.clone().unwrap_or_default())),
            secret_hash: Set(secret_hash),
            enabled: Set(input.enabled.unwrap_or(true)),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let txn = self.db().begin().await.map_err(db)?;
        let created =
            api_resource_view(rows::insert(&txn, row, || format!("API resource `{name}`")).await?)?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "api_resource.created",
            &name,
            super::diff(None::<&ApiResourceView>, Some(&created))?,
        )
        .await?;
        txn.commit().await.map_err(db)?;
        self.publish_catalog(&realm).await;
        Ok(created)
    }

    pub async fn update_api_resource(
        &self,
        actor: &Actor,
        realm: &str,
        name: &str,
        input: ApiResourceInput,
    ) -> AdminResult<ApiResourceView> {
        let realm = self.realm(realm).await?;
        let row = self.api_resource_row(&realm, name).await?;
        let mut errors = FieldErrors::new();
        key_change("name", &input.name, name, &mut errors);
        self.check_api_resource(&realm, &input, &mut errors).await?;
        errors.finish()?;
        let secret_hash = self.secret_hash(&input.secret).await?;
        let before = api_resource_view(row.clone())?;
        let mut active = row.into_active_model();
        if let Some(display_name) = &input.display_name {
            active.display_name = Set(display_name.clone().filter(|d| !d.is_empty()));
        }
        if let Some(scopes) = &input.scopes {
            active.scopes = Set(json_list(scopes));
        }
        if let Some(hash) = secret_hash {
            active.secret_hash = Set(hash);
        }
        if let Some(enabled) = input.enabled {
            active.enabled = Set(enabled);
        }
        active.updated_at = Set(self.state.now());
        let txn = self.db().begin().await.map_err(db)?;
        let after = api_resource_view(
            rows::update(&txn, active, || format!("API resource `{name}`")).await?,
        )?;
        let changed = self
            .finish_update(
                txn,
                &realm.id,
                actor,
                "api_resource.updated",
                name,
                &before,
                &after,
            )
            .await?;
        if !changed {
            return Ok(before);
        }
        self.publish_catalog(&realm).await;
        Ok(after)
    }

    pub async fn delete_api_resource(
        &self,
        actor: &Actor,
        realm: &str,
        name: &str,
    ) -> AdminResult<()> {
        let realm = self.realm(realm).await?;
        let row = self.api_resource_row(&realm, name).await?;
        let scopes: Vec<String> = rows::all::<scope::Entity>(
            self.db(),
            Condition::all()
                .add(scope::Column::RealmId.eq(&realm.id))
                .add(scope::Column::Audience.eq(name)),
            scope::Column::Name,
        )
        .await?
        .into_iter()
        .map(|s| s.name)
        .collect();
        in_use(&format!("API resource `{name}`"), &[("scopes", scopes)])?;
        let before = api_resource_view(row.clone())?;
        let txn = self.db().begin().await.map_err(db)?;
        rows::delete::<api_resource::Entity>(&txn, api_resource::Column::Id.eq(&row.id)).await?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "api_resource.deleted",
            name,
            super::diff(Some(&before), None::<&ApiResourceView>)?,
        )
        .await?;
        txn.commit().await.map_err(db)?;
        self.publish_catalog(&realm).await;
        Ok(())
    }

    // ---- claim types --------------------------------------------------------------------

    async fn claim_type_row(&self, realm: &Realm, name: &str) -> AdminResult<claim_type::Model> {
        super::keyed_row::<claim_type::Entity>(
            self.db(),
            "claim type",
            name,
            Condition::all()
                .add(claim_type::Column::RealmId.eq(&realm.id))
                .add(claim_type::Column::Name.eq(name)),
        )
        .await
    }

    pub async fn list_claim_types(
        &self,
        realm: &str,
        page: PageRequest,
    ) -> AdminResult<Page<ClaimTypeView>> {
        let realm = self.realm(realm).await?;
        self.page::<claim_type::Entity, _>(
            claim_type::Column::RealmId.eq(&realm.id).into_condition(),
            claim_type::Column::Name,
            Order::Ascending,
            &page,
            |r| r.name.clone(),
            claim_type_view,
        )
        .await
    }

    pub async fn get_claim_type(&self, realm: &str, name: &str) -> AdminResult<ClaimTypeView> {
        let realm = self.realm(realm).await?;
        claim_type_view(self.claim_type_row(&realm, name).await?)
    }

    pub async fn create_claim_type(
        &self,
        actor: &Actor,
        realm: &str,
        input: ClaimTypeInput,
    ) -> AdminResult<ClaimTypeView> {
        let realm = self.realm(realm).await?;
        let mut errors = FieldErrors::new();
        let name = required("name", &input.name, &mut errors);
        if !name.is_empty() {
            errors.check("name", validate::identifier(&name, 128));
        }
        if let Some(Some(description)) = &input.description {
            errors.check("description", validate::text(description));
        }
        errors.finish()?;
        let now = self.state.now();
        let row = claim_type::ActiveModel {
            id: Set(crate::crypto::random::id()),
            realm_id: Set(realm.id.clone()),
            name: Set(name.clone()),
            description: Set(input
                .description
                .clone()
                .flatten()
                .filter(|d| !d.is_empty())),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let txn = self.db().begin().await.map_err(db)?;
        let created =
            claim_type_view(rows::insert(&txn, row, || format!("claim type `{name}`")).await?)?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "claim_type.created",
            &name,
            super::diff(None::<&ClaimTypeView>, Some(&created))?,
        )
        .await?;
        txn.commit().await.map_err(db)?;
        Ok(created)
    }

    pub async fn update_claim_type(
        &self,
        actor: &Actor,
        realm: &str,
        name: &str,
        input: ClaimTypeInput,
    ) -> AdminResult<ClaimTypeView> {
        let realm = self.realm(realm).await?;
        let row = self.claim_type_row(&realm, name).await?;
        let mut errors = FieldErrors::new();
        key_change("name", &input.name, name, &mut errors);
        if let Some(Some(description)) = &input.description {
            errors.check("description", validate::text(description));
        }
        errors.finish()?;
        let before = claim_type_view(row.clone())?;
        let mut active = row.into_active_model();
        if let Some(description) = &input.description {
            active.description = Set(description.clone().filter(|d| !d.is_empty()));
        }
        active.updated_at = Set(self.state.now());
        let txn = self.db().begin().await.map_err(db)?;
        let after =
            claim_type_view(rows::update(&txn, active, || format!("claim type `{name}`")).await?)?;
        let changed = self
            .finish_update(
                txn,
                &realm.id,
                actor,
                "claim_type.updated",
                name,
                &before,
                &after,
            )
            .await?;
        if !changed {
            return Ok(before);
        }
        Ok(after)
    }

    pub async fn delete_claim_type(
        &self,
        actor: &Actor,
        realm: &str,
        name: &str,
    ) -> AdminResult<()> {
        let realm = self.realm(realm).await?;
        let row = self.claim_type_row(&realm, name).await?;
        let scopes = self
            .naming::<scope::Entity>(
                scope::Column::RealmId,
                &realm,
                scope::Column::Name,
                "scopes.claims",
                name,
                |s| (&s.claims, s.name.clone()),
            )
            .await?;
        in_use(&format!("claim type `{name}`"), &[("scopes", scopes)])?;
        let before = claim_type_view(row.clone())?;
        let txn = self.db().begin().await.map_err(db)?;
        rows::delete::<claim_type::Entity>(&txn, claim_type::Column::Id.eq(&row.id)).await?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "claim_type.deleted",
            name,
            super::diff(Some(&before), None::<&ClaimTypeView>)?,
        )
        .await?;
        txn.commit().await.map_err(db)?;
        Ok(())
    }

    // ---- exchange policies --------------------------------------------------------------

    async fn policy_row(
        &self,
        realm: &Realm,
        client_id: &str,
    ) -> AdminResult<exchange_policy::Model> {
        super::keyed_row::<exchange_policy::Entity>(
            self.db(),
            "exchange policy of",
            client_id,
            Condition::all()
                .add(exchange_policy::Column::RealmId.eq(&realm.id))
                .add(exchange_policy::Column::ClientId.eq(client_id)),
        )
        .await
    }

    pub async fn list_exchange_policies(
        &self,
        realm: &str,
        page: PageRequest,
    ) -> AdminResult<Page<ExchangePolicyView>> {
        let realm = self.realm(realm).await?;
        self.page::<exchange_policy::Entity, _>(
            exchange_policy::Column::RealmId
                .eq(&realm.id)
                .into_condition(),
            exchange_policy::Column::ClientId,
            Order::Ascending,
            &page,
            |r| r.client_id.clone(),
            policy_view,
        )
        .await
    }

    pub async fn get_exchange_policy(
        &self,
        realm: &str,
        client_id: &str,
    ) -> AdminResult<ExchangePolicyView> {
        let realm = self.realm(realm).await?;
        policy_view(self.policy_row(&realm, client_id).await?)
    }

    async fn check_policy(
        &self,
        realm: &Realm,
        input: &ExchangePolicyInput,
        errors: &mut FieldErrors,
    ) -> AdminResult<()> {
        if let Some(audiences) = &input.audiences {
            if audiences.is_empty() {
                errors.add("audiences", "name at least one audience");
            }
            errors.check("audiences", validate::each(audiences, validate::audience));
        }
        if let Some(scopes) = &input.scopes {
            let known = self.scope_names(realm).await?;
            errors.check("scopes", all_known(scopes, &known, "scope"));
        }
        if let Some(subjects) = &input.subject_clients {
            let known = self.client_ids(realm).await?;
            errors.check("subject_clients", all_known(subjects, &known, "client"));
        }
        Ok(())
    }

    pub async fn create_exchange_policy(
        &self,
        actor: &Actor,
        realm: &str,
        input: ExchangePolicyInput,
    ) -> AdminResult<ExchangePolicyView> {
        let realm = self.realm(realm).await?;
        let mut errors = FieldErrors::new();
        let client_id = required("client_id", &input.client_id, &mut errors);
        if !client_id.is_empty() && !self.client_ids(&realm).await?.contains(&client_id) {
            errors.add("client_id", format!("unknown client `{client_id}`"));
        }
        if input.audiences.is_none() {
            errors.add("audiences", "is required");
        }
        self.check_policy(&realm, &input, &mut errors).await?;
        errors.finish()?;
        let now = self.state.now();
        let row = exchange_policy::ActiveModel {
            id: Set(crate::crypto::random::id()),
            realm_id: Set(realm.id.clone()),
            client_id: Set(client_id.clone()),
            audiences: Set(json_list(&input.audiences.clone().unwrap_or_default())),
            scopes: Set(json_list(&input.scopes.clone().unwrap_or_default())),
            subject_clients: Set(json_list(
                &input.subject_clients.clone().unwrap_or_default(),
            )),
            allow_delegation: Set(input.allow_delegation.unwrap_or(false)),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let txn = self.db().begin().await.map_err(db)?;
        let created = policy_view(
            rows::insert(&txn, row, || format!("exchange policy of `{client_id}`")).await?,
        )?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "exchange_policy.created",
            &client_id,
            super::diff(None::<&ExchangePolicyView>, Some(&created))?,
        )
        .await?;
        txn.commit().await.map_err(db)?;
        Ok(created)
    }

    pub async fn update_exchange_policy(
        &self,
        actor: &Actor,
        realm: &str,
        client_id: &str,
        input: ExchangePolicyInput,
    ) -> AdminResult<ExchangePolicyView> {
        let realm = self.realm(realm).await?;
        let row = self.policy_row(&realm, client_id).await?;
        let mut errors = FieldErrors::new();
        key_change("client_id", &input.client_id, client_id, &mut errors);
        self.check_policy(&realm, &input, &mut errors).await?;
        errors.finish()?;
        let before = policy_view(row.clone())?;
        let mut active = row.into_active_model();
        if let Some(audiences) = &input.audiences {
            active.audiences = Set(json_list(audiences));
        }
        if let Some(scopes) = &input.scopes {
            active.scopes = Set(json_list(scopes));
        }
        if let Some(subjects) = &input.subject_clients {
            active.subject_clients = Set(json_list(subjects));
        }
        if let Some(allow) = input.allow_delegation {
            active.allow_delegation = Set(allow);
        }
        active.updated_at = Set(self.state.now());
        let txn = self.db().begin().await.map_err(db)?;
        let after = policy_view(
            rows::update(&txn, active, || format!("exchange policy of `{client_id}`")).await?,
        )?;
        let changed = self
            .finish_update(
                txn,
                &realm.id,
                actor,
                "exchange_policy.updated",
                client_id,
                &before,
                &after,
            )
            .await?;
        if !changed {
            return Ok(before);
        }
        Ok(after)
    }

    pub async fn delete_exchange_policy(
        &self,
        actor: &Actor,
        realm: &str,
        client_id: &str,
    ) -> AdminResult<()> {
        let realm = self.realm(realm).await?;
        let row = self.policy_row(&realm, client_id).await?;
        let before = policy_view(row.clone())?;
        let txn = self.db().begin().await.map_err(db)?;
        rows::delete::<exchange_policy::Entity>(&txn, exchange_policy::Column::Id.eq(&row.id))
            .await?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "exchange_policy.deleted",
            client_id,
            super::diff(Some(&before), None::<&ExchangePolicyView>)?,
        )
        .await?;
        txn.commit().await.map_err(db)?;
        Ok(())
    }
}
