//! The catalogue: scopes, API resources, claim types and token-exchange policies. Names are
//! keys; a name still in use elsewhere cannot be deleted.

use std::collections::HashSet;

use admin_model::{
    Actor, AdminError, AdminResult, ApiResourceInput, ApiResourceView, CatalogAdmin,
    ClaimTypeInput, ClaimTypeView, ExchangePolicyInput, ExchangePolicyView, FieldErrors, Page,
    PageRequest, ScopeInput, ScopeView,
};
use async_trait::async_trait;

use super::{list, AdminService};
use crate::admin::validate;
use crate::changes::Change;
use crate::crypto::secrets::SecretOrigin;
use crate::domain::Realm;
use crate::store;
use crate::store::catalog::{
    ApiResourceChanges, ApiResourceRow, ClaimTypeRow, NewApiResource, NewScope, ScopeChanges,
    ScopeRow,
};
use crate::store::exchange::{ExchangePolicy, PolicyChanges, PolicyRow};

fn scope_view(row: ScopeRow) -> AdminResult<ScopeView> {
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

fn api_resource_view(row: ApiResourceRow) -> AdminResult<ApiResourceView> {
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

fn claim_type_view(row: ClaimTypeRow) -> AdminResult<ClaimTypeView> {
    Ok(ClaimTypeView {
        name: row.name,
        description: row.description,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn policy_view(row: PolicyRow) -> AdminResult<ExchangePolicyView> {
    Ok(ExchangePolicyView {
        audiences: list(&row.audiences, "exchange_policies.audiences")?,
        scopes: list(&row.scopes, "exchange_policies.scopes")?,
        subject_clients: list(&row.subject_clients, "exchange_policies.subject_clients")?,
        client_id: row.client_id,
        allow_delegation: row.allow_delegation,
        max_delegation_depth: row.max_delegation_depth,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// `Some(message)` when a key in an input differs from the addressed item's key.
pub(super) fn key_change(field: &str, given: &Option<String>, key: &str, errors: &mut FieldErrors) {
    if given.as_deref().is_some_and(|g| g != key) {
        errors.add(field, "is the item's key and cannot change");
    }
}

pub(super) fn required(field: &str, value: &Option<String>, errors: &mut FieldErrors) -> String {
    let value = value.clone().unwrap_or_default();
    if value.is_empty() {
        errors.add(field, "is required");
    }
    value
}

/// A 409 naming who still uses `item` (`holders`: what kind, which ones), or `Ok` when nobody.
pub(super) fn in_use(item: &str, holders: &[(&str, Vec<String>)]) -> AdminResult<()> {
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
pub(super) fn all_known(
    values: &[String],
    known: &HashSet<String>,
    what: &str,
) -> Result<(), String> {
    validate::each(values, |v| {
        if known.contains(v) {
            Ok(())
        } else {
            Err(format!("unknown {what} `{v}`"))
        }
    })
}

/// Keys of `rows` whose JSON list column (`lists` reads it, named `column` for error
/// reports) contains `name`: who still names an item.
pub(super) fn naming<R>(
    rows: Vec<R>,
    column: &str,
    name: &str,
    lists: impl Fn(&R) -> (&serde_json::Value, String),
) -> AdminResult<Vec<String>> {
    let mut found = Vec::new();
    for row in &rows {
        let (values, key) = lists(row);
        if list(values, column)?.iter().any(|v| v == name) {
            found.push(key);
        }
    }
    Ok(found)
}

impl AdminService {
    async fn scope_names(&self, realm: &Realm) -> AdminResult<HashSet<String>> {
        Ok(store::catalog::scope_names(self.db(), &realm.id)
            .await?
            .into_iter()
            .collect())
    }

    async fn client_ids(&self, realm: &Realm) -> AdminResult<HashSet<String>> {
        Ok(store::clients::in_realm(self.db(), &realm.id)
            .await?
            .into_iter()
            .map(|c| c.client_id)
            .collect())
    }

    /// Refuses to delete scope `name` while clients, API resources or exchange policies name it.
    async fn scope_unused(&self, realm: &Realm, name: &str) -> AdminResult<()> {
        let db = self.db();
        let holders = [
            (
                "clients",
                naming(
                    store::clients::in_realm(db, &realm.id).await?,
                    "clients.scopes",
                    name,
                    |c| (&c.scopes, c.client_id.clone()),
                )?,
            ),
            (
                "API resources",
                naming(
                    store::catalog::api_resources_in(db, &realm.id).await?,
                    "api_resources.scopes",
                    name,
                    |r| (&r.scopes, r.name.clone()),
                )?,
            ),
            (
                "exchange policies",
                naming(
                    store::exchange::policies_in(db, &realm.id).await?,
                    "exchange_policies.scopes",
                    name,
                    |p| (&p.scopes, p.client_id.clone()),
                )?,
            ),
        ];
        in_use(&format!("scope `{name}`"), &holders)
    }

    /// Refuses to delete client `client_id` while an exchange policy is its own or names it
    /// as a subject client. (Exchange policies are keyed by the client they govern.)
    pub(super) async fn client_unused(&self, realm: &Realm, client_id: &str) -> AdminResult<()> {
        let mut policies = Vec::new();
        for policy in store::exchange::policies_in(self.db(), &realm.id).await? {
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

    pub(super) async fn publish_catalog(&self, realm: &Realm) {
        self.state
            .caches
            .publish(Change::Catalog {
                realm_id: realm.id.clone(),
            })
            .await;
    }

    // ---- scopes -------------------------------------------------------------------------

    async fn scope_row(&self, realm: &Realm, name: &str) -> AdminResult<ScopeRow> {
        super::keyed(
            "scope",
            name,
            store::catalog::find_scope(self.db(), &realm.id, name),
        )
        .await
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
            let known: HashSet<String> = store::catalog::claim_type_names(self.db(), &realm.id)
                .await?
                .into_iter()
                .collect();
            errors.check("claims", all_known(claims, &known, "claim type"));
        }
        if let Some(Some(audience)) = &input.audience {
            if !audience.is_empty() {
                let known = store::catalog::api_resources_in(self.db(), &realm.id).await?;
                if !known.iter().any(|r| &r.name == audience) {
                    errors.add("audience", format!("unknown API resource `{audience}`"));
                }
            }
        }
        Ok(())
    }

    // ---- API resources ------------------------------------------------------------------

    async fn api_resource_row(&self, realm: &Realm, name: &str) -> AdminResult<ApiResourceRow> {
        super::keyed(
            "API resource",
            name,
            store::catalog::find_api_resource(self.db(), &realm.id, name),
        )
        .await
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

    // ---- claim types --------------------------------------------------------------------

    async fn claim_type_row(&self, realm: &Realm, name: &str) -> AdminResult<ClaimTypeRow> {
        super::keyed(
            "claim type",
            name,
            store::catalog::find_claim_type(self.db(), &realm.id, name),
        )
        .await
    }

    // ---- exchange policies --------------------------------------------------------------

    async fn policy_row(&self, realm: &Realm, client_id: &str) -> AdminResult<PolicyRow> {
        super::keyed(
            "exchange policy of",
            client_id,
            store::exchange::find_policy(self.db(), &realm.id, client_id),
        )
        .await
    }

    async fn check_policy(
        &self,
        realm: &Realm,
        input: &ExchangePolicyInput,
        errors: &mut FieldErrors,
    ) -> AdminResult<()> {
        if input
            .max_delegation_depth
            .is_some_and(|d| !(1..=10).contains(&d))
        {
            errors.add("max_delegation_depth", "between 1 and 10 actors");
        }
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
}

#[async_trait]
impl CatalogAdmin for AdminService {
    async fn list_scopes(&self, realm: &str, page: PageRequest) -> AdminResult<Page<ScopeView>> {
        let realm = self.realm(realm).await?;
        let keyset = super::keyset(&page)?;
        let (rows, more) = store::catalog::scope_page(self.db(), &realm.id, &keyset).await?;
        super::page_of(rows, more, |r| r.name.clone(), scope_view)
    }

    async fn get_scope(&self, realm: &str, name: &str) -> AdminResult<ScopeView> {
        let realm = self.realm(realm).await?;
        scope_view(self.scope_row(&realm, name).await?)
    }

    async fn create_scope(
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
        let new = NewScope {
            name: name.clone(),
            description: input
                .description
                .clone()
                .flatten()
                .filter(|d| !d.is_empty()),
            claims: input.claims.clone().unwrap_or_default(),
            audience: input.audience.clone().flatten().filter(|a| !a.is_empty()),
            include_in_access_token: input.include_in_access_token.unwrap_or(false),
        };
        let txn = self.begin().await?;
        let created = scope_view(store::catalog::insert_scope(&txn, &realm.id, &new, now).await?)?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "scope.created",
            &name,
            super::diff(None::<&ScopeView>, Some(&created))?,
        )
        .await?;
        txn.commit().await?;
        self.publish_catalog(&realm).await;
        Ok(created)
    }

    async fn update_scope(
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
        let changes = ScopeChanges {
            description: input
                .description
                .as_ref()
                .map(|d| d.clone().filter(|d| !d.is_empty())),
            claims: input.claims.clone(),
            audience: input
                .audience
                .as_ref()
                .map(|a| a.clone().filter(|a| !a.is_empty())),
            include_in_access_token: input.include_in_access_token,
        };
        let txn = self.begin().await?;
        let after =
            scope_view(store::catalog::update_scope(&txn, row, changes, self.state.now()).await?)?;
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

    async fn delete_scope(&self, actor: &Actor, realm: &str, name: &str) -> AdminResult<()> {
        let realm = self.realm(realm).await?;
        let row = self.scope_row(&realm, name).await?;
        self.scope_unused(&realm, name).await?;
        let before = scope_view(row.clone())?;
        let txn = self.begin().await?;
        store::catalog::delete_scope(&txn, &row.id).await?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "scope.deleted",
            name,
            super::diff(Some(&before), None::<&ScopeView>)?,
        )
        .await?;
        txn.commit().await?;
        self.publish_catalog(&realm).await;
        Ok(())
    }

    async fn list_api_resources(
        &self,
        realm: &str,
        page: PageRequest,
    ) -> AdminResult<Page<ApiResourceView>> {
        let realm = self.realm(realm).await?;
        let keyset = super::keyset(&page)?;
        let (rows, more) = store::catalog::api_resource_page(self.db(), &realm.id, &keyset).await?;
        super::page_of(rows, more, |r| r.name.clone(), api_resource_view)
    }

    async fn get_api_resource(&self, realm: &str, name: &str) -> AdminResult<ApiResourceView> {
        let realm = self.realm(realm).await?;
        api_resource_view(self.api_resource_row(&realm, name).await?)
    }

    async fn create_api_resource(
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
        let new = NewApiResource {
            name: name.clone(),
            display_name: input
                .display_name
                .clone()
                .flatten()
                .filter(|d| !d.is_empty()),
            scopes: input.scopes.clone().unwrap_or_default(),
            secret_hash,
            enabled: input.enabled.unwrap_or(true),
        };
        let txn = self.begin().await?;
        let created = api_resource_view(
            store::catalog::insert_api_resource(&txn, &realm.id, &new, now).await?,
        )?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "api_resource.created",
            &name,
            super::diff(None::<&ApiResourceView>, Some(&created))?,
        )
        .await?;
        txn.commit().await?;
        self.publish_catalog(&realm).await;
        Ok(created)
    }

    async fn update_api_resource(
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
        let changes = ApiResourceChanges {
            display_name: input
                .display_name
                .as_ref()
                .map(|d| d.clone().filter(|d| !d.is_empty())),
            scopes: input.scopes.clone(),
            secret_hash,
            enabled: input.enabled,
        };
        let txn = self.begin().await?;
        let after = api_resource_view(
            store::catalog::update_api_resource(&txn, row, changes, self.state.now()).await?,
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

    async fn delete_api_resource(&self, actor: &Actor, realm: &str, name: &str) -> AdminResult<()> {
        let realm = self.realm(realm).await?;
        let row = self.api_resource_row(&realm, name).await?;
        let scopes = store::catalog::scopes_with_audience(self.db(), &realm.id, name).await?;
        in_use(&format!("API resource `{name}`"), &[("scopes", scopes)])?;
        let before = api_resource_view(row.clone())?;
        let txn = self.begin().await?;
        store::catalog::delete_api_resource(&txn, &row.id).await?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "api_resource.deleted",
            name,
            super::diff(Some(&before), None::<&ApiResourceView>)?,
        )
        .await?;
        txn.commit().await?;
        self.publish_catalog(&realm).await;
        Ok(())
    }

    async fn list_claim_types(
        &self,
        realm: &str,
        page: PageRequest,
    ) -> AdminResult<Page<ClaimTypeView>> {
        let realm = self.realm(realm).await?;
        let keyset = super::keyset(&page)?;
        let (rows, more) = store::catalog::claim_type_page(self.db(), &realm.id, &keyset).await?;
        super::page_of(rows, more, |r| r.name.clone(), claim_type_view)
    }

    async fn get_claim_type(&self, realm: &str, name: &str) -> AdminResult<ClaimTypeView> {
        let realm = self.realm(realm).await?;
        claim_type_view(self.claim_type_row(&realm, name).await?)
    }

    async fn create_claim_type(
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
        let description = input
            .description
            .clone()
            .flatten()
            .filter(|d| !d.is_empty());
        let txn = self.begin().await?;
        let created = claim_type_view(
            store::catalog::insert_claim_type(&txn, &realm.id, &name, description, now).await?,
        )?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "claim_type.created",
            &name,
            super::diff(None::<&ClaimTypeView>, Some(&created))?,
        )
        .await?;
        txn.commit().await?;
        Ok(created)
    }

    async fn update_claim_type(
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
        let description = input
            .description
            .as_ref()
            .map(|d| d.clone().filter(|d| !d.is_empty()));
        let txn = self.begin().await?;
        let after = claim_type_view(
            store::catalog::update_claim_type(&txn, row, description, self.state.now()).await?,
        )?;
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

    async fn delete_claim_type(&self, actor: &Actor, realm: &str, name: &str) -> AdminResult<()> {
        let realm = self.realm(realm).await?;
        let row = self.claim_type_row(&realm, name).await?;
        let scopes = naming(
            store::catalog::scopes_in(self.db(), &realm.id).await?,
            "scopes.claims",
            name,
            |s| (&s.claims, s.name.clone()),
        )?;
        in_use(&format!("claim type `{name}`"), &[("scopes", scopes)])?;
        let before = claim_type_view(row.clone())?;
        let txn = self.begin().await?;
        store::catalog::delete_claim_type(&txn, &row.id).await?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "claim_type.deleted",
            name,
            super::diff(Some(&before), None::<&ClaimTypeView>)?,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    async fn list_exchange_policies(
        &self,
        realm: &str,
        page: PageRequest,
    ) -> AdminResult<Page<ExchangePolicyView>> {
        let realm = self.realm(realm).await?;
        let keyset = super::keyset(&page)?;
        let (rows, more) = store::exchange::policy_page(self.db(), &realm.id, &keyset).await?;
        super::page_of(rows, more, |r| r.client_id.clone(), policy_view)
    }

    async fn get_exchange_policy(
        &self,
        realm: &str,
        client_id: &str,
    ) -> AdminResult<ExchangePolicyView> {
        let realm = self.realm(realm).await?;
        policy_view(self.policy_row(&realm, client_id).await?)
    }

    async fn create_exchange_policy(
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
        let policy = ExchangePolicy {
            client_id: client_id.clone(),
            audiences: input.audiences.clone().unwrap_or_default(),
            scopes: input.scopes.clone().unwrap_or_default(),
            subject_clients: input.subject_clients.clone().unwrap_or_default(),
            allow_delegation: input.allow_delegation.unwrap_or(false),
            max_delegation_depth: input.max_delegation_depth.unwrap_or(3),
        };
        let txn = self.begin().await?;
        let created =
            policy_view(store::exchange::insert_policy_row(&txn, &realm.id, &policy, now).await?)?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "exchange_policy.created",
            &client_id,
            super::diff(None::<&ExchangePolicyView>, Some(&created))?,
        )
        .await?;
        txn.commit().await?;
        Ok(created)
    }

    async fn update_exchange_policy(
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
        let changes = PolicyChanges {
            audiences: input.audiences.clone(),
            scopes: input.scopes.clone(),
            subject_clients: input.subject_clients.clone(),
            allow_delegation: input.allow_delegation,
            max_delegation_depth: input.max_delegation_depth,
        };
        let txn = self.begin().await?;
        let after = policy_view(
            store::exchange::update_policy(&txn, row, changes, self.state.now()).await?,
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

    async fn delete_exchange_policy(
        &self,
        actor: &Actor,
        realm: &str,
        client_id: &str,
    ) -> AdminResult<()> {
        let realm = self.realm(realm).await?;
        let row = self.policy_row(&realm, client_id).await?;
        let before = policy_view(row.clone())?;
        let txn = self.begin().await?;
        store::exchange::delete_policy(&txn, &row.id).await?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "exchange_policy.deleted",
            client_id,
            super::diff(Some(&before), None::<&ExchangePolicyView>)?,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
}
