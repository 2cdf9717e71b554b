//! Upstream identity providers (federation): a realm's collection, by alias. Templates prefill
//! well-known providers; the client secret is sealed with the master key and never shown; every
//! change is audited. Links of users to upstream accounts are read and removed here too.

use std::collections::BTreeMap;

use admin_model::{
    Actor, AdminError, AdminResult, ConnectionCheck, FederatedLinkView, FieldErrors,
    IdentityProviderAdmin, IdentityProviderInput, IdentityProviderView, Page, PageRequest,
};
use async_trait::async_trait;

use super::catalog::{key_change, required};
use super::AdminService;
use crate::admin::validate;
use crate::domain::Realm;
use crate::store;
use crate::store::identity_providers::IdentityProviderRow;
use crate::upstream::{templates, ClientAuth, Kind, Provider, SyncMode};

impl AdminService {
    fn provider_view(&self, realm: &Realm, row: IdentityProviderRow) -> IdentityProviderView {
        let claim_mappings =
            store::string_map(&row.claim_mappings, "identity_providers.claim_mappings")
                .unwrap_or_default();
        IdentityProviderView {
            redirect_uri: format!(
                "{}/realms/{}/broker/{}/callback",
                self.state.public_url, realm.name, row.alias
            ),
            alias: row.alias,
            kind: row.kind,
            display_name: row.display_name,
            enabled: row.enabled,
            template: row.template,
            issuer: row.issuer,
            authorization_endpoint: row.authorization_endpoint,
            token_endpoint: row.token_endpoint,
            userinfo_endpoint: row.userinfo_endpoint,
            jwks_uri: row.jwks_uri,
            client_id: row.client_id,
            client_secret_set: row.client_secret_sealed.is_some(),
            client_auth_method: row.client_auth_method,
            scopes: row.scopes.split_whitespace().map(str::to_string).collect(),
            pkce: row.pkce,
            subject_claim: row.subject_claim,
            claim_mappings,
            sync_mode: row.sync_mode,
            link_by_verified_email: row.link_by_verified_email,
            create_users: row.create_users,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }

    async fn provider_row(&self, realm: &Realm, alias: &str) -> AdminResult<IdentityProviderRow> {
        super::keyed(
            "identity provider",
            alias,
            store::identity_providers::find(self.db(), &realm.id, alias),
        )
        .await
    }
}

/// Sets `target` from `given` (a nullable URL field) after checking it.
fn url_field(
    field: &str,
    given: &Option<Option<String>>,
    target: &mut Option<String>,
    errors: &mut FieldErrors,
) {
    if let Some(value) = given {
        let value = value.clone().filter(|v| !v.is_empty());
        if let Some(url) = &value {
            errors.check(field, validate::server_url(url));
        }
        *target = value;
    }
}

/// Applies `input` over `row` (a new row prefilled from its template, or the stored one) and
/// checks the result as a whole.
fn apply(
    row: &mut IdentityProviderRow,
    input: &IdentityProviderInput,
    sealed_secret: Option<Option<String>>,
    errors: &mut FieldErrors,
) {
    if let Some(kind) = &input.kind {
        match Kind::parse(kind) {
            Some(kind) => row.kind = kind.as_str().to_string(),
            None => errors.add("kind", "must be `oidc` or `oauth2`"),
        }
    }
    if let Some(name) = &input.display_name {
        errors.check("display_name", validate::text(name));
        if name.trim().is_empty() {
            errors.add("display_name", "must not be empty");
        }
        row.display_name = name.clone();
    }
    if let Some(enabled) = input.enabled {
        row.enabled = enabled;
    }
    url_field("issuer", &input.issuer, &mut row.issuer, errors);
    url_field(
        "authorization_endpoint",
        &input.authorization_endpoint,
        &mut row.authorization_endpoint,
        errors,
    );
    url_field(
        "token_endpoint",
        &input.token_endpoint,
        &mut row.token_endpoint,
        errors,
    );
    url_field(
        "userinfo_endpoint",
        &input.userinfo_endpoint,
        &mut row.userinfo_endpoint,
        errors,
    );
    url_field("jwks_uri", &input.jwks_uri, &mut row.jwks_uri, errors);
    if let Some(client_id) = &input.client_id {
        errors.check("client_id", validate::text(client_id));
        if client_id.is_empty() || client_id.len() > 255 {
            errors.add("client_id", "1 to 255 characters");
        }
        row.client_id = client_id.clone();
    }
    if let Some(Some(secret)) = &input.client_secret {
        if secret.is_empty() || secret.len() > 1024 || secret.chars().any(char::is_control) {
            errors.add("client_secret", "1 to 1024 printable characters");
        }
    }
    if let Some(sealed) = sealed_secret {
        row.client_secret_sealed = sealed;
    }
    if let Some(method) = &input.client_auth_method {
        match ClientAuth::parse(method) {
            Some(method) => row.client_auth_method = method.as_str().to_string(),
            None => errors.add(
                "client_auth_method",
                "must be `client_secret_basic` or `client_secret_post`",
            ),
        }
    }
    if let Some(scopes) = &input.scopes {
        errors.check("scopes", validate::each(scopes, validate::scope_name));
        row.scopes = scopes.join(" ");
    }
    if let Some(pkce) = input.pkce {
        row.pkce = pkce;
    }
    if let Some(claim) = &input.subject_claim {
        errors.check("subject_claim", validate::identifier(claim, 128));
        row.subject_claim = claim.clone();
    }
    if let Some(mappings) = &input.claim_mappings {
        errors.check(
            "claim_mappings",
            validate::mappings(mappings, "upstream claim"),
        );
        row.claim_mappings = serde_json::to_value(mappings).unwrap_or_default();
    }
    if let Some(mode) = &input.sync_mode {
        match SyncMode::parse(mode) {
            Some(mode) => row.sync_mode = mode.as_str().to_string(),
            None => errors.add("sync_mode", "must be `import` or `force`"),
        }
    }
    if let Some(link) = input.link_by_verified_email {
        row.link_by_verified_email = link;
    }
    if let Some(create) = input.create_users {
        row.create_users = create;
    }
    // The whole: what a sign-in needs to find the upstream and validate it.
    match Kind::parse(&row.kind) {
        Some(Kind::Oidc) => {
            if row.issuer.is_none() {
                let hint = row
                    .template
                    .as_deref()
                    .and_then(templates::find)
                    .and_then(|t| t.needs_issuer)
                    .map(|example| format!(" (for example {example})"))
                    .unwrap_or_default();
                errors.add(
                    "issuer",
                    format!("an OpenID Connect provider needs its issuer{hint}"),
                );
            }
            // OIDC Core §5.7: only `sub` (with the issuer) identifies an account for good.
            if row.subject_claim != "sub" {
                errors.add(
                    "subject_claim",
                    "an OpenID Connect provider identifies accounts by `sub`",
                );
            }
            if !row.scopes.split_whitespace().any(|s| s == "openid") {
                errors.add(
                    "scopes",
                    "an OpenID Connect provider needs the scope `openid`",
                );
            }
        }
        Some(Kind::OAuth2) => {
            for (field, value) in [
                ("authorization_endpoint", &row.authorization_endpoint),
                ("token_endpoint", &row.token_endpoint),
                ("userinfo_endpoint", &row.userinfo_endpoint),
            ] {
                if value.is_none() {
                    errors.add(field, "a plain OAuth 2 provider needs it");
                }
            }
        }
        None => {}
    }
}

/// A new provider's row before the input: the template's settings, or OpenID Connect defaults.
fn prefilled(
    realm: &Realm,
    alias: &str,
    template: Option<&templates::Template>,
    now: chrono::DateTime<chrono::Utc>,
) -> IdentityProviderRow {
    let mappings: BTreeMap<&str, &str> = template
        .map(|t| t.claim_mappings)
        .unwrap_or(templates::OIDC_MAPPINGS)
        .iter()
        .copied()
        .collect();
    IdentityProviderRow {
        id: crate::crypto::random::id(),
        realm_id: realm.id.clone(),
        alias: alias.to_string(),
        kind: template.map_or(Kind::Oidc, |t| t.kind).as_str().to_string(),
        display_name: template.map_or(alias.to_string(), |t| t.display_name.to_string()),
        enabled: true,
        template: template.map(|t| t.name.to_string()),
        issuer: template.and_then(|t| t.issuer).map(str::to_string),
        authorization_endpoint: template
            .and_then(|t| t.authorization_endpoint)
            .map(str::to_string),
        token_endpoint: template.and_then(|t| t.token_endpoint).map(str::to_string),
        userinfo_endpoint: template
            .and_then(|t| t.userinfo_endpoint)
            .map(str::to_string),
        jwks_uri: None,
        client_id: String::new(),
        client_secret_sealed: None,
        client_auth_method: ClientAuth::Basic.as_str().to_string(),
        scopes: template
            .map_or("openid email profile", |t| t.scopes)
            .to_string(),
        pkce: true,
        subject_claim: template.map_or("sub", |t| t.subject_claim).to_string(),
        claim_mappings: serde_json::to_value(mappings).unwrap_or_default(),
        sync_mode: SyncMode::Import.as_str().to_string(),
        link_by_verified_email: false,
        create_users: true,
        created_at: now,
        updated_at: now,
    }
}

#[async_trait]
impl IdentityProviderAdmin for AdminService {
    async fn list_identity_providers(
        &self,
        realm: &str,
        page: PageRequest,
    ) -> AdminResult<Page<IdentityProviderView>> {
        let realm = self.realm(realm).await?;
        let keyset = super::keyset(&page)?;
        let (rows, more) = store::identity_providers::page(self.db(), &realm.id, &keyset).await?;
        super::page_of(
            rows,
            more,
            |r| r.alias.clone(),
            |r| Ok(self.provider_view(&realm, r)),
        )
    }

    async fn get_identity_provider(
        &self,
        realm: &str,
        alias: &str,
    ) -> AdminResult<IdentityProviderView> {
        let realm = self.realm(realm).await?;
        let row = self.provider_row(&realm, alias).await?;
        Ok(self.provider_view(&realm, row))
    }

    async fn create_identity_provider(
        &self,
        actor: &Actor,
        realm: &str,
        input: IdentityProviderInput,
    ) -> AdminResult<IdentityProviderView> {
        let realm = self.realm(realm).await?;
        let mut errors = FieldErrors::new();
        let alias = required("alias", &input.alias, &mut errors);
        if !alias.is_empty() {
            errors.check("alias", validate::identifier(&alias, 64));
        }
        let template = match input.template.as_deref() {
            Some(name) => match templates::find(name) {
                Some(template) => Some(template),
                None => {
                    errors.add(
                        "template",
                        "must be `google`, `microsoft`, `github` or `gitlab`",
                    );
                    None
                }
            },
            None => None,
        };
        if input.client_id.is_none() {
            errors.add("client_id", "is required");
        }
        let now = self.state.now();
        let mut row = prefilled(&realm, &alias, template, now);
        let sealed = input.client_secret.clone().map(|s| {
            s.filter(|s| !s.is_empty())
                .map(|s| self.state.upstreams.seal_secret(&s))
        });
        apply(&mut row, &input, sealed, &mut errors);
        errors.finish()?;
        let txn = self.begin().await?;
        let row = store::identity_providers::insert(&txn, row).await?;
        let created = self.provider_view(&realm, row);
        self.audit(
            &txn,
            &realm.id,
            actor,
            "identity_provider.created",
            &alias,
            super::diff(None::<&IdentityProviderView>, Some(&created))?,
        )
        .await?;
        txn.commit().await?;
        Ok(created)
    }

    async fn update_identity_provider(
        &self,
        actor: &Actor,
        realm: &str,
        alias: &str,
        input: IdentityProviderInput,
    ) -> AdminResult<IdentityProviderView> {
        let realm = self.realm(realm).await?;
        let row = self.provider_row(&realm, alias).await?;
        let mut errors = FieldErrors::new();
        key_change("alias", &input.alias, alias, &mut errors);
        if input.template.is_some() {
            errors.add("template", "applies when a provider is created");
        }
        let before = self.provider_view(&realm, row.clone());
        let mut updated = row;
        let sealed = input.client_secret.clone().map(|s| {
            s.filter(|s| !s.is_empty())
                .map(|s| self.state.upstreams.seal_secret(&s))
        });
        let secret_changed = sealed.is_some();
        apply(&mut updated, &input, sealed, &mut errors);
        errors.finish()?;
        // Links hold subjects of the upstream as it is: another issuer, kind or subject claim
        // would read others' accounts as theirs.
        let identity_changes = updated.issuer != before.issuer
            || updated.kind != before.kind
            || updated.subject_claim != before.subject_claim;
        if identity_changes {
            let links =
                store::federated_identities::count_of_provider(self.db(), &updated.id).await?;
            if links > 0 {
                return Err(AdminError::Conflict(format!(
                    "{links} users are linked to accounts of this provider as it is; another \
                     issuer, kind or subject claim would read other accounts as theirs. Add a \
                     new provider instead, or remove this one (and its links) first"
                )));
            }
        }
        let txn = self.begin().await?;
        let updated = store::identity_providers::replace(&txn, updated, self.state.now()).await?;
        let after = self.provider_view(&realm, updated);
        let changed = self
            .finish_update_with_secret(
                txn,
                &realm.id,
                actor,
                "identity_provider.updated",
                alias,
                &before,
                &after,
                secret_changed.then_some(("identity_provider.secret_changed", "client_secret")),
            )
            .await?;
        Ok(if changed { after } else { before })
    }

    async fn delete_identity_provider(
        &self,
        actor: &Actor,
        realm: &str,
        alias: &str,
    ) -> AdminResult<()> {
        let realm = self.realm(realm).await?;
        let row = self.provider_row(&realm, alias).await?;
        let before = self.provider_view(&realm, row.clone());
        let txn = self.begin().await?;
        store::identity_providers::delete(&txn, &row.id).await?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "identity_provider.deleted",
            alias,
            super::diff(Some(&before), None::<&IdentityProviderView>)?,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    async fn test_identity_provider(
        &self,
        realm: &str,
        alias: &str,
    ) -> AdminResult<ConnectionCheck> {
        let realm = self.realm(realm).await?;
        let row = self.provider_row(&realm, alias).await?;
        let Some(provider) = Provider::from_row(&row) else {
            tracing::error!(alias, "a stored identity provider is unreadable");
            return Err(AdminError::Internal);
        };
        Ok(match self.state.upstreams.check(&provider).await {
            Ok(check) => ConnectionCheck {
                ok: true,
                error: None,
                issuer: check.endpoints.issuer,
                authorization_endpoint: Some(check.endpoints.authorization),
                token_endpoint: Some(check.endpoints.token),
                userinfo_endpoint: check.endpoints.userinfo,
                jwks_uri: check.endpoints.jwks,
                signing_keys: check.signing_keys,
            },
            Err(error) => ConnectionCheck {
                ok: false,
                error: Some(error.to_string()),
                issuer: provider.issuer,
                authorization_endpoint: provider.authorization_endpoint,
                token_endpoint: provider.token_endpoint,
                userinfo_endpoint: provider.userinfo_endpoint,
                jwks_uri: provider.jwks_uri,
                signing_keys: None,
            },
        })
    }

    async fn list_user_links(&self, realm: &str, id: &str) -> AdminResult<Vec<FederatedLinkView>> {
        let realm = self.realm(realm).await?;
        let user = super::keyed(
            "user",
            id,
            store::users::find_in_realm(self.db(), &realm.id, id),
        )
        .await?;
        Ok(store::federated_identities::of_user(self.db(), &user.id)
            .await?
            .into_iter()
            .map(|l| FederatedLinkView {
                provider: l.alias,
                display_name: l.display_name,
                subject: l.link.subject,
                upstream_username: l.link.upstream_username,
                created_at: l.link.created_at,
                last_login_at: l.link.last_login_at,
            })
            .collect())
    }

    async fn delete_user_link(
        &self,
        actor: &Actor,
        realm: &str,
        id: &str,
        alias: &str,
    ) -> AdminResult<()> {
        let realm = self.realm(realm).await?;
        let user = super::keyed(
            "user",
            id,
            store::users::find_in_realm(self.db(), &realm.id, id),
        )
        .await?;
        let provider = self.provider_row(&realm, alias).await?;
        let txn = self.begin().await?;
        let removed = store::federated_identities::delete(&txn, &user.id, &provider.id).await?;
        if removed == 0 {
            return Err(AdminError::not_found(format!(
                "link of user `{id}` to `{alias}`"
            )));
        }
        self.audit(
            &txn,
            &realm.id,
            actor,
            "user.idp_unlinked",
            &user.id,
            serde_json::json!({"provider": alias}),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
}
