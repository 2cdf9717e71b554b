//! Roles: a realm's managed collection, with composites (a role including others). Names
//! are keys. Tokens carry a holder's roles with everything their composites include, so the
//! role graph is part of the cached catalogue and every change here republishes it.

use std::collections::{BTreeMap, HashMap, HashSet};

use admin_model::{
    Actor, AdminError, AdminResult, FieldErrors, Page, PageRequest, RoleAdmin, RoleInput, RoleView,
};
use async_trait::async_trait;

use super::catalog::{all_known, in_use, key_change, naming, required};
use super::AdminService;
use crate::admin::validate;
use crate::domain::{Catalog, Realm};
use crate::seeding::{ADMIN_ROLE, MASTER_REALM};
use crate::store;
use crate::store::roles::RoleRow;

type Graph = BTreeMap<String, Vec<String>>;

fn role_view(row: RoleRow, graph: &Graph) -> RoleView {
    RoleView {
        composites: graph.get(&row.name).cloned().unwrap_or_default(),
        name: row.name,
        description: row.description,
        created_at: row.created_at,
    }
}

/// The roles whose holders hold `target` through `graph`: `target` itself and every composite
/// reaching it.
pub(super) fn roles_granting(graph: &Graph, target: &str) -> Vec<String> {
    let catalog = Catalog {
        role_composites: graph.clone(),
        ..Default::default()
    };
    let mut granting: Vec<String> = graph
        .keys()
        .filter(|role| {
            catalog
                .effective_roles(std::slice::from_ref(role))
                .iter()
                .any(|r| r == target)
        })
        .cloned()
        .collect();
    granting.push(target.to_string());
    granting
}

/// Field errors for the composites of `name` in a realm whose roles are `ids`' keys and whose
/// graph is `graph`: each must exist, none may be the role itself, and none may include it
/// (directly or through others), which would make a cycle.
fn check_composites(
    name: &str,
    composites: &[String],
    ids: &HashMap<String, String>,
    graph: &Graph,
    errors: &mut FieldErrors,
) {
    errors.check(
        "composites",
        validate::each(composites, |r| validate::identifier(r, 128)),
    );
    let known: HashSet<String> = ids.keys().cloned().collect();
    errors.check("composites", all_known(composites, &known, "role"));
    if composites.iter().any(|c| c == name) {
        errors.add("composites", "a role cannot include itself");
        return;
    }
    let catalog = Catalog {
        role_composites: graph.clone(),
        ..Default::default()
    };
    if let Some(cycle) = composites.iter().find(|c| {
        catalog
            .effective_roles(std::slice::from_ref(c))
            .iter()
            .any(|r| r == name)
    }) {
        errors.add(
            "composites",
            format!("`{cycle}` already includes `{name}`: that would make a cycle"),
        );
    }
}

impl AdminService {
    async fn role_row(&self, realm: &Realm, name: &str) -> AdminResult<RoleRow> {
        super::keyed("role", name, store::roles::find(self.db(), &realm.id, name)).await
    }

    async fn role_graph(&self, realm: &Realm) -> AdminResult<Graph> {
        Ok(store::roles::composites(self.db(), &realm.id).await?)
    }

    /// Refuses a change to realm `master`'s roles after which no enabled user would hold
    /// `admin` (directly or through a composite): nobody could administer any more.
    async fn keep_admin_reachable(&self, realm: &Realm, graph_after: &Graph) -> AdminResult<()> {
        if realm.name != MASTER_REALM {
            return Ok(());
        }
        let granting = roles_granting(graph_after, ADMIN_ROLE);
        let holders = store::users::enabled_holders_of(self.db(), &realm.id, &granting).await?;
        if holders.is_empty() {
            return Err(AdminError::Conflict(format!(
                "after this change no enabled user of realm master would hold the role \
                 `{ADMIN_ROLE}`; give one the role first"
            )));
        }
        Ok(())
    }

    /// The realm's roles, name → id: what composites may name, and the ids they are stored by.
    async fn role_ids(&self, realm: &Realm) -> AdminResult<HashMap<String, String>> {
        Ok(store::roles::all(self.db(), &realm.id)
            .await?
            .into_iter()
            .map(|r| (r.name, r.id))
            .collect())
    }
}

/// The ids of `names` (checked to exist) in `ids`.
fn ids_of(ids: &HashMap<String, String>, names: &[String]) -> Vec<String> {
    names.iter().filter_map(|n| ids.get(n).cloned()).collect()
}

fn deduplicated(values: &[String]) -> Vec<String> {
    let mut values = values.to_vec();
    values.sort();
    values.dedup();
    values
}

#[async_trait]
impl RoleAdmin for AdminService {
    async fn list_roles(&self, realm: &str, page: PageRequest) -> AdminResult<Page<RoleView>> {
        let realm = self.realm(realm).await?;
        let keyset = super::keyset(&page)?;
        let (rows, more) = store::roles::page(self.db(), &realm.id, &keyset).await?;
        let graph = self.role_graph(&realm).await?;
        super::page_of(rows, more, |r| r.name.clone(), |r| Ok(role_view(r, &graph)))
    }

    async fn get_role(&self, realm: &str, name: &str) -> AdminResult<RoleView> {
        let realm = self.realm(realm).await?;
        let row = self.role_row(&realm, name).await?;
        Ok(role_view(row, &self.role_graph(&realm).await?))
    }

    async fn create_role(
        &self,
        actor: &Actor,
        realm: &str,
        input: RoleInput,
    ) -> AdminResult<RoleView> {
        let realm = self.realm(realm).await?;
        let mut errors = FieldErrors::new();
        let name = required("name", &input.name, &mut errors);
        if !name.is_empty() {
            errors.check("name", validate::identifier(&name, 128));
        }
        if let Some(Some(description)) = &input.description {
            errors.check("description", validate::text(description));
        }
        let composites = deduplicated(input.composites.as_deref().unwrap_or_default());
        let mut graph = self.role_graph(&realm).await?;
        let ids = self.role_ids(&realm).await?;
        if !composites.is_empty() {
            check_composites(&name, &composites, &ids, &graph, &mut errors);
        }
        errors.finish()?;
        let description = input.description.flatten().filter(|d| !d.is_empty());
        let child_ids = ids_of(&ids, &composites);
        let txn = self.begin().await?;
        let row =
            store::roles::insert(&txn, &realm.id, &name, description, self.state.now()).await?;
        store::roles::set_composites(&txn, &row.id, &child_ids).await?;
        if !composites.is_empty() {
            graph.insert(name.clone(), composites);
        }
        let created = role_view(row, &graph);
        self.audit(
            &txn,
            &realm.id,
            actor,
            "role.created",
            &name,
            super::diff(None::<&RoleView>, Some(&created))?,
        )
        .await?;
        txn.commit().await?;
        self.publish_catalog(&realm).await;
        Ok(created)
    }

    async fn update_role(
        &self,
        actor: &Actor,
        realm: &str,
        name: &str,
        input: RoleInput,
    ) -> AdminResult<RoleView> {
        let realm = self.realm(realm).await?;
        let row = self.role_row(&realm, name).await?;
        let mut errors = FieldErrors::new();
        key_change("name", &input.name, name, &mut errors);
        if let Some(Some(description)) = &input.description {
            errors.check("description", validate::text(description));
        }
        let graph = self.role_graph(&realm).await?;
        let mut graph_after = graph.clone();
        // Read before the transaction: on SQLite it holds the only writer connection.
        let ids = self.role_ids(&realm).await?;
        if let Some(composites) = &input.composites {
            let composites = deduplicated(composites);
            // The role's own current composites do not count toward a cycle.
            graph_after.remove(name);
            check_composites(name, &composites, &ids, &graph_after, &mut errors);
            if !composites.is_empty() {
                graph_after.insert(name.to_string(), composites);
            }
        }
        errors.finish()?;
        self.keep_admin_reachable(&realm, &graph_after).await?;
        let before = role_view(row.clone(), &graph);
        let children = graph_after.get(name).cloned().unwrap_or_default();
        let child_ids = ids_of(&ids, &children);
        let txn = self.begin().await?;
        let mut updated = row.clone();
        if let Some(description) = &input.description {
            let description = description.clone().filter(|d| !d.is_empty());
            updated = store::roles::set_description(&txn, row.clone(), description).await?;
        }
        if input.composites.is_some() {
            store::roles::set_composites(&txn, &row.id, &child_ids).await?;
        }
        let after = role_view(updated, &graph_after);
        let changed = self
            .finish_update(txn, &realm.id, actor, "role.updated", name, &before, &after)
            .await?;
        if !changed {
            return Ok(before);
        }
        self.publish_catalog(&realm).await;
        Ok(after)
    }

    async fn delete_role(&self, actor: &Actor, realm: &str, name: &str) -> AdminResult<()> {
        let realm = self.realm(realm).await?;
        let row = self.role_row(&realm, name).await?;
        let clients = naming(
            store::clients::in_realm(self.db(), &realm.id).await?,
            "clients.roles",
            name,
            |c| (&c.roles, c.client_id.clone()),
        )?;
        in_use(&format!("role `{name}`"), &[("clients", clients)])?;
        let graph = self.role_graph(&realm).await?;
        let mut graph_after = graph.clone();
        graph_after.remove(name);
        for children in graph_after.values_mut() {
            children.retain(|c| c != name);
        }
        graph_after.retain(|_, children| !children.is_empty());
        if realm.name == MASTER_REALM && name == ADMIN_ROLE {
            return Err(AdminError::Conflict(format!(
                "the role `{ADMIN_ROLE}` of realm master is what lets anyone administer; it \
                 cannot be deleted"
            )));
        }
        self.keep_admin_reachable(&realm, &graph_after).await?;
        let before = role_view(row.clone(), &graph);
        let txn = self.begin().await?;
        store::roles::delete(&txn, &row.id).await?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "role.deleted",
            name,
            super::diff(Some(&before), None::<&RoleView>)?,
        )
        .await?;
        txn.commit().await?;
        self.publish_catalog(&realm).await;
        Ok(())
    }
}
