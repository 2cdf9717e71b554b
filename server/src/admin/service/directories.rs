//! LDAP / Active Directory directories of a realm, by name. The bind password is sealed with
//! the master key and never shown; every change is audited.

use std::collections::BTreeMap;

use admin_model::{
    Actor, AdminError, AdminResult, DirectoryAdmin, DirectoryCheck, DirectoryInput, DirectoryView,
    FieldErrors, Page, PageRequest,
};
use async_trait::async_trait;

use super::catalog::{key_change, required};
use super::AdminService;
use crate::admin::validate;
use crate::claim_mapping;
use crate::domain::Realm;
use crate::ldap::Directory;
use crate::store;
use crate::store::directories::DirectoryRow;

fn directory_view(row: DirectoryRow) -> DirectoryView {
    DirectoryView {
        attribute_mappings: store::string_map(
            &row.attribute_mappings,
            "directories.attribute_mappings",
        )
        .unwrap_or_default(),
        group_roles: store::string_map(&row.group_roles, "directories.group_roles")
            .unwrap_or_default(),
        name: row.name,
        enabled: row.enabled,
        url: row.url,
        starttls: row.starttls,
        bind_dn: row.bind_dn,
        bind_password_set: row.bind_password_sealed.is_some(),
        tls_ca_certificate: row.tls_ca_certificate,
        user_base_dn: row.user_base_dn,
        user_filter: row.user_filter,
        subject_attribute: row.subject_attribute,
        group_base_dn: row.group_base_dn,
        group_filter: row.group_filter,
        group_name_attribute: row.group_name_attribute,
        timeout_seconds: row.timeout_seconds,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

/// A DN or filter: 1 to 1024 characters, no control characters.
fn ldap_text(value: &str) -> Result<(), String> {
    if value.is_empty() || value.len() > 1024 || value.chars().any(char::is_control) {
        return Err("1 to 1024 characters, no control characters".into());
    }
    Ok(())
}

/// A search filter: LDAP text in parentheses, naming `placeholder`.
fn filter(value: &str, placeholder: &str) -> Result<(), String> {
    ldap_text(value)?;
    if !(value.starts_with('(') && value.ends_with(')')) {
        return Err("must be an LDAP filter in parentheses".into());
    }
    if !value.contains(placeholder) {
        return Err(format!("must contain `{placeholder}`"));
    }
    Ok(())
}

fn apply(
    row: &mut DirectoryRow,
    input: &DirectoryInput,
    sealed_password: Option<Option<String>>,
    errors: &mut FieldErrors,
) {
    if let Some(enabled) = input.enabled {
        row.enabled = enabled;
    }
    if let Some(url) = &input.url {
        match url::Url::parse(url) {
            Ok(parsed)
                if matches!(parsed.scheme(), "ldap" | "ldaps") && parsed.host_str().is_some() => {}
            _ => errors.add("url", "must be an ldap:// or ldaps:// URL"),
        }
        row.url = url.clone();
    }
    if let Some(starttls) = input.starttls {
        row.starttls = starttls;
    }
    if row.starttls && row.url.starts_with("ldaps://") {
        errors.add("starttls", "an ldaps:// URL is encrypted already");
    }
    if let Some(bind_dn) = &input.bind_dn {
        let bind_dn = bind_dn.clone().filter(|d| !d.is_empty());
        if let Some(dn) = &bind_dn {
            errors.check("bind_dn", ldap_text(dn));
        }
        row.bind_dn = bind_dn;
    }
    if let Some(Some(password)) = &input.bind_password {
        if password.len() > 1024 || password.chars().any(char::is_control) {
            errors.add("bind_password", "at most 1024 printable characters");
        }
    }
    if let Some(sealed) = sealed_password {
        row.bind_password_sealed = sealed;
    }
    if let Some(pem) = &input.tls_ca_certificate {
        let pem = pem.clone().filter(|p| !p.trim().is_empty());
        if let Some(pem) = &pem {
            if pem.len() > 65536 || crate::ldap::pem_certificates(pem).is_empty() {
                errors.add(
                    "tls_ca_certificate",
                    "must hold PEM certificates (-----BEGIN CERTIFICATE-----)",
                );
            }
        }
        row.tls_ca_certificate = pem;
    }
    if let Some(base) = &input.user_base_dn {
        errors.check("user_base_dn", ldap_text(base));
        row.user_base_dn = base.clone();
    }
    if let Some(user_filter) = &input.user_filter {
        errors.check("user_filter", filter(user_filter, "{username}"));
        row.user_filter = user_filter.clone();
    }
    if let Some(attribute) = &input.subject_attribute {
        errors.check("subject_attribute", validate::identifier(attribute, 128));
        row.subject_attribute = attribute.clone();
    }
    if let Some(mappings) = &input.attribute_mappings {
        errors.check(
            "attribute_mappings",
            validate::mappings(mappings, "attribute"),
        );
        row.attribute_mappings = serde_json::to_value(mappings).unwrap_or_default();
    }
    if let Some(base) = &input.group_base_dn {
        let base = base.clone().filter(|b| !b.is_empty());
        if let Some(base) = &base {
            errors.check("group_base_dn", ldap_text(base));
        }
        row.group_base_dn = base;
    }
    if let Some(group_filter) = &input.group_filter {
        errors.check("group_filter", filter(group_filter, "{"));
        row.group_filter = group_filter.clone();
    }
    if let Some(attribute) = &input.group_name_attribute {
        errors.check("group_name_attribute", validate::identifier(attribute, 128));
        row.group_name_attribute = attribute.clone();
    }
    if let Some(roles) = &input.group_roles {
        for (group, role) in roles {
            errors.check("group_roles", ldap_text(group));
            if let Err(e) = validate::identifier(role, 128) {
                errors.add("group_roles", format!("role `{role}`: {e}"));
            }
        }
        row.group_roles = serde_json::to_value(roles).unwrap_or_default();
    }
    // An empty password turns a bind with a DN into an unauthenticated bind (RFC 4513 §5.1.2),
    // which many servers accept.
    if row.bind_dn.is_some() && row.bind_password_sealed.is_none() {
        errors.add(
            "bind_password",
            "a bind DN needs its password (without one the bind is unauthenticated)",
        );
    }
    let encrypted = row.starttls || row.url.starts_with("ldaps://");
    if row.tls_ca_certificate.is_some() && !encrypted {
        errors.add(
            "tls_ca_certificate",
            "applies to ldaps:// or StartTLS; the connection is not encrypted",
        );
    }
    if let Some(timeout) = input.timeout_seconds {
        if !(1..=60).contains(&timeout) {
            errors.add("timeout_seconds", "1 to 60 seconds");
        }
        row.timeout_seconds = timeout;
    }
}

impl AdminService {
    async fn directory_row(&self, realm: &Realm, name: &str) -> AdminResult<DirectoryRow> {
        super::keyed(
            "directory",
            name,
            store::directories::find(self.db(), &realm.id, name),
        )
        .await
    }

    fn sealed_bind_password(&self, input: &DirectoryInput) -> Option<Option<String>> {
        input.bind_password.clone().map(|p| {
            p.filter(|p| !p.is_empty())
                .map(|p| self.state.accounts.directories.seal_bind_password(&p))
        })
    }
}

#[async_trait]
impl DirectoryAdmin for AdminService {
    async fn list_directories(
        &self,
        realm: &str,
        page: PageRequest,
    ) -> AdminResult<Page<DirectoryView>> {
        let realm = self.realm(realm).await?;
        let keyset = super::keyset(&page)?;
        let (rows, more) = store::directories::page(self.db(), &realm.id, &keyset).await?;
        super::page_of(rows, more, |r| r.name.clone(), |r| Ok(directory_view(r)))
    }

    async fn get_directory(&self, realm: &str, name: &str) -> AdminResult<DirectoryView> {
        let realm = self.realm(realm).await?;
        Ok(directory_view(self.directory_row(&realm, name).await?))
    }

    async fn create_directory(
        &self,
        actor: &Actor,
        realm: &str,
        input: DirectoryInput,
    ) -> AdminResult<DirectoryView> {
        let realm = self.realm(realm).await?;
        let mut errors = FieldErrors::new();
        let name = required("name", &input.name, &mut errors);
        if !name.is_empty() {
            errors.check("name", validate::identifier(&name, 64));
        }
        required("url", &input.url, &mut errors);
        required("user_base_dn", &input.user_base_dn, &mut errors);
        let now = self.state.now();
        let mappings: BTreeMap<&str, &str> = [
            ("uid", claim_mapping::USERNAME),
            ("mail", claim_mapping::EMAIL),
            ("cn", claim_mapping::NAME),
        ]
        .into();
        let mut row = DirectoryRow {
            id: crate::crypto::random::id(),
            realm_id: realm.id.clone(),
            name: name.clone(),
            enabled: true,
            url: String::new(),
            starttls: false,
            bind_dn: None,
            bind_password_sealed: None,
            tls_ca_certificate: None,
            user_base_dn: String::new(),
            user_filter: "(uid={username})".into(),
            subject_attribute: "entryUUID".into(),
            attribute_mappings: serde_json::to_value(mappings).unwrap_or_default(),
            group_base_dn: None,
            group_filter: "(member={dn})".into(),
            group_name_attribute: "cn".into(),
            group_roles: serde_json::json!({}),
            timeout_seconds: 5,
            created_at: now,
            updated_at: now,
        };
        let sealed = self.sealed_bind_password(&input);
        apply(&mut row, &input, sealed, &mut errors);
        errors.finish()?;
        let txn = self.begin().await?;
        let created = directory_view(store::directories::insert(&txn, row).await?);
        self.audit(
            &txn,
            &realm.id,
            actor,
            "directory.created",
            &name,
            super::diff(None::<&DirectoryView>, Some(&created))?,
        )
        .await?;
        txn.commit().await?;
        Ok(created)
    }

    async fn update_directory(
        &self,
        actor: &Actor,
        realm: &str,
        name: &str,
        input: DirectoryInput,
    ) -> AdminResult<DirectoryView> {
        let realm = self.realm(realm).await?;
        let row = self.directory_row(&realm, name).await?;
        let mut errors = FieldErrors::new();
        key_change("name", &input.name, name, &mut errors);
        let before = directory_view(row.clone());
        let mut updated = row;
        let sealed = self.sealed_bind_password(&input);
        let password_changed = sealed.is_some();
        apply(&mut updated, &input, sealed, &mut errors);
        errors.finish()?;
        // Links hold the entries' ids as this attribute gives them.
        if updated.subject_attribute != before.subject_attribute {
            let links = store::directories::count_links(self.db(), &updated.id).await?;
            if links > 0 {
                return Err(AdminError::Conflict(format!(
                    "{links} users were made from entries identified by `{}`; another \
                     attribute would not find them again",
                    before.subject_attribute
                )));
            }
        }
        let txn = self.begin().await?;
        let after =
            directory_view(store::directories::replace(&txn, updated, self.state.now()).await?);
        let changed = self
            .finish_update_with_secret(
                txn,
                &realm.id,
                actor,
                "directory.updated",
                name,
                &before,
                &after,
                password_changed.then_some(("directory.updated", "bind_password")),
            )
            .await?;
        Ok(if changed { after } else { before })
    }

    async fn delete_directory(&self, actor: &Actor, realm: &str, name: &str) -> AdminResult<()> {
        let realm = self.realm(realm).await?;
        let row = self.directory_row(&realm, name).await?;
        let before = directory_view(row.clone());
        let txn = self.begin().await?;
        store::directories::delete(&txn, &row.id).await?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "directory.deleted",
            name,
            super::diff(Some(&before), None::<&DirectoryView>)?,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    async fn test_directory(&self, realm: &str, name: &str) -> AdminResult<DirectoryCheck> {
        let realm = self.realm(realm).await?;
        let row = self.directory_row(&realm, name).await?;
        let Some(directory) = Directory::from_row(&row) else {
            tracing::error!(name, "a stored directory is unreadable");
            return Err(AdminError::Internal);
        };
        Ok(
            match self.state.accounts.directories.check(&directory).await {
                Ok(reachable) => DirectoryCheck {
                    ok: reachable.base_found,
                    error: (!reachable.base_found)
                        .then(|| "the user base DN was not found or cannot be read".to_string()),
                    user_base_found: reachable.base_found,
                },
                Err(error) => DirectoryCheck {
                    ok: false,
                    error: Some(error.to_string()),
                    user_base_found: false,
                },
            },
        )
    }
}
