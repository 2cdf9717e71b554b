//! Realms: create (with standard scopes, claim types and keys), settings, SMTP settings, delete.

use admin_model::{
    Actor, AdminError, AdminResult, FieldErrors, GroupLimitsView, ImportReport, OperationsAdmin,
    Page, PageRequest, RateLimitsInput, RateLimitsView, RealmAdmin, RealmInput, RealmSummary,
    RealmView, RevocationSaltView, SmtpInput, SmtpView,
};
use async_trait::async_trait;

use super::AdminService;
use crate::admin::validate;
use crate::changes::Change;
use crate::domain::{
    CookieMode, RealmMfa, RegistrationPolicy, SecurityProfile, DEFAULT_SELF_SERVICE_SCOPES,
};
use crate::mail::Security;
use crate::rate_limit::{Group, Rate, RateLimits};
use crate::seeding::MASTER_REALM;
use crate::store;
use crate::store::realms::{NewRealm, RealmRow};

fn smtp_view(row: store::mail::StoredSmtp) -> SmtpView {
    SmtpView {
        host: row.host,
        port: u16::try_from(row.port).unwrap_or_default(),
        security: row.security,
        username: row.username,
        has_password: row.password_sealed.is_some(),
        from: row.from_address,
        updated_at: row.updated_at,
    }
}

impl AdminService {
    fn realm_view(&self, row: RealmRow) -> RealmView {
        RealmView {
            issuer: self.state.issuer(&row.name),
            name: row.name,
            display_name: row.display_name,
            enabled: row.enabled,
            decentralized: row.decentralized,
            signing_alg: row.signing_alg,
            id_token_signing_alg: row.id_token_signing_alg,
            cookie_mode: row.cookie_mode,
            access_token_lifetime: row.access_token_lifetime,
            refresh_token_lifetime: row.refresh_token_lifetime,
            refresh_token_sliding_lifetime: row.refresh_token_sliding_lifetime,
            id_token_lifetime: row.id_token_lifetime,
            code_lifetime: row.code_lifetime,
            device_code_lifetime: row.device_code_lifetime,
            refresh_reuse_grace: row.refresh_reuse_grace,
            mfa: row.mfa,
            require_par: row.require_par,
            use_dpop_nonce: row.use_dpop_nonce,
            profile: row.profile,
            allow_private_fetch: row.allow_private_fetch,
            registration: row.registration,
            client_id_metadata_documents: row.client_id_metadata_documents,
            self_service_scopes: store::realms::self_service_scopes_of(
                row.self_service_scopes.as_deref(),
            )
            .unwrap_or_else(|| DEFAULT_SELF_SERVICE_SCOPES.map(String::from).to_vec()),
            rate_limits: rate_limits_view(&store::realms::rate_limits_of(
                row.rate_limits.as_deref(),
            )),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }

    async fn realm_row(&self, name: &str) -> AdminResult<RealmRow> {
        let realm = self.realm(name).await?;
        store::realms::find_row(self.db(), &realm.id)
            .await?
            .ok_or_else(|| AdminError::not_found(format!("realm `{name}`")))
    }
}

fn rate_limits_view(limits: &RateLimits) -> RateLimitsView {
    let group = |group: Group| {
        let limits = limits.group(group);
        GroupLimitsView {
            per_ip: limits.per_ip.map(|r| r.to_string()),
            per_client: limits.per_client.map(|r| r.to_string()),
        }
    };
    RateLimitsView {
        token: group(Group::Token),
        login: group(Group::Login),
        device: group(Group::Device),
        registration: group(Group::Registration),
    }
}

fn apply_rate_limits(limits: &mut RateLimits, input: &RateLimitsInput, errors: &mut FieldErrors) {
    let groups = [
        (Group::Token, &input.token),
        (Group::Login, &input.login),
        (Group::Device, &input.device),
        (Group::Registration, &input.registration),
    ];
    for (group, changes) in groups {
        let Some(changes) = changes else {
            continue;
        };
        let name = group.label();
        let slot = limits.group_mut(group);
        for (member, change, target) in [
            ("per_ip", &changes.per_ip, &mut slot.per_ip),
            ("per_client", &changes.per_client, &mut slot.per_client),
        ] {
            match change {
                None => {}
                Some(None) => *target = None,
                Some(Some(text)) => match Rate::parse(text) {
                    Some(rate) => *target = Some(rate),
                    None => errors.add(
                        &format!("rate_limits.{name}.{member}"),
                        "N/second, N/minute or N/hour, N from 1 to 1000000, or null",
                    ),
                },
            }
        }
    }
}

/// Applies the input's settings to `realm`, collecting field errors.
fn apply(realm: &mut NewRealm, input: &RealmInput, errors: &mut FieldErrors) {
    if let Some(display_name) = &input.display_name {
        if let Some(text) = display_name {
            errors.check("display_name", validate::text(text));
        }
        realm.display_name = display_name.clone().filter(|s| !s.is_empty());
    }
    if let Some(enabled) = input.enabled {
        realm.enabled = enabled;
    }
    if let Some(decentralized) = input.decentralized {
        realm.decentralized = decentralized;
    }
    if let Some(alg) = &input.signing_alg {
        match validate::signing_alg(alg) {
            Ok(alg) => realm.signing_alg = alg,
            Err(m) => errors.add("signing_alg", m),
        }
    }
    if let Some(alg) = &input.id_token_signing_alg {
        match validate::signing_alg(alg) {
            Ok(alg) => realm.id_token_signing_alg = alg,
            Err(m) => errors.add("id_token_signing_alg", m),
        }
    }
    if let Some(mode) = &input.cookie_mode {
        match CookieMode::parse(mode) {
            Some(mode) => realm.cookie_mode = mode,
            None => errors.add("cookie_mode", "one of realm, client, shared"),
        }
    }
    let lifetimes = [
        (
            "access_token_lifetime",
            input.access_token_lifetime,
            &mut realm.lifetimes.access_token,
        ),
        (
            "refresh_token_lifetime",
            input.refresh_token_lifetime,
            &mut realm.lifetimes.refresh_token,
        ),
        (
            "refresh_token_sliding_lifetime",
            input.refresh_token_sliding_lifetime,
            &mut realm.lifetimes.refresh_token_sliding,
        ),
        (
            "id_token_lifetime",
            input.id_token_lifetime,
            &mut realm.lifetimes.id_token,
        ),
        (
            "code_lifetime",
            input.code_lifetime,
            &mut realm.lifetimes.code,
        ),
        (
            "device_code_lifetime",
            input.device_code_lifetime,
            &mut realm.lifetimes.device_code,
        ),
    ];
    for (field, value, slot) in lifetimes {
        if let Some(value) = value {
            errors.check(field, validate::lifetime(value));
            *slot = value;
        }
    }
    if let Some(value) = input.refresh_reuse_grace {
        errors.check("refresh_reuse_grace", validate::reuse_grace(value));
        realm.lifetimes.refresh_reuse_grace = value;
    }
    if let Some(mfa) = &input.mfa {
        match RealmMfa::parse(mfa) {
            Some(mfa) => realm.mfa = mfa,
            None => errors.add("mfa", "one of off, optional, required"),
        }
    }
    if let Some(value) = input.require_par {
        realm.security.require_par = value;
    }
    if let Some(value) = input.use_dpop_nonce {
        realm.security.use_dpop_nonce = value;
    }
    if let Some(value) = input.allow_private_fetch {
        realm.security.allow_private_fetch = value;
    }
    if let Some(value) = input.client_id_metadata_documents {
        realm.security.client_id_metadata_documents = value;
    }
    if let Some(scopes) = &input.self_service_scopes {
        errors.check(
            "self_service_scopes",
            validate::each(scopes, validate::scope_name),
        );
        // The default list is kept as "default", so it follows the default if that changes.
        realm.security.self_service_scopes =
            (*scopes != DEFAULT_SELF_SERVICE_SCOPES).then(|| scopes.clone());
    }
    if let Some(input) = &input.rate_limits {
        apply_rate_limits(&mut realm.security.rate_limits, input, errors);
    }
    if let Some(policy) = &input.registration {
        match RegistrationPolicy::parse(policy) {
            Some(policy) => realm.security.registration = policy,
            None => errors.add("registration", "one of off, initial_token, open"),
        }
    }
    match input
        .profile
        .as_ref()
        .map(|p| p.as_deref().filter(|s| !s.is_empty()))
    {
        None => {}
        Some(None) => realm.security.profile = None,
        Some(Some(name)) => match SecurityProfile::parse(name) {
            Some(profile) => realm.security.profile = Some(profile),
            None => errors.add("profile", "fapi2, or null for none"),
        },
    }
}

#[async_trait]
impl RealmAdmin for AdminService {
    async fn list_realms(&self, page: PageRequest) -> AdminResult<Page<RealmView>> {
        let (rows, more) = store::realms::page(self.db(), &super::keyset(&page)?).await?;
        super::page_of(
            rows,
            more,
            |row| row.name.clone(),
            |row| Ok(self.realm_view(row)),
        )
    }

    async fn get_realm(&self, name: &str) -> AdminResult<RealmView> {
        Ok(self.realm_view(self.realm_row(name).await?))
    }

    async fn create_realm(&self, actor: &Actor, input: RealmInput) -> AdminResult<RealmView> {
        let mut errors = FieldErrors::new();
        let name = input.name.clone().unwrap_or_default();
        if name.is_empty() {
            errors.add("name", "is required");
        } else {
            errors.check("name", validate::realm_name(&name));
        }
        let mut new = NewRealm::named(&name);
        apply(&mut new, &input, &mut errors);
        errors.finish()?;
        let now = self.state.now();
        let created = crate::seeding::create_realm(
            &self.state.caches.store,
            &self.state.caches.keys,
            &new,
            &actor.label(),
            now,
        )
        .await
        .map_err(super::internal)?
        .ok_or_else(|| AdminError::Conflict(format!("realm `{name}` already exists")))?;
        self.state
            .caches
            .publish(Change::Realm { name: created.name })
            .await;
        self.get_realm(&name).await
    }

    async fn update_realm(
        &self,
        actor: &Actor,
        name: &str,
        input: RealmInput,
    ) -> AdminResult<RealmView> {
        let row = self.realm_row(name).await?;
        let mut errors = FieldErrors::new();
        if input.name.as_deref().is_some_and(|n| n != name) {
            errors.add("name", "is the realm's key and cannot change");
        }
        if name == MASTER_REALM && input.enabled == Some(false) {
            errors.add(
                "enabled",
                "realm master holds the administrators and stays enabled",
            );
        }
        // The stored settings, read as everywhere else, with the input applied on top.
        let current = store::realms::to_domain(row.clone())?;
        let mut merged = NewRealm {
            name: current.name,
            display_name: current.display_name,
            enabled: current.enabled,
            decentralized: current.decentralized,
            signing_alg: current.signing_alg,
            id_token_signing_alg: current.id_token_signing_alg,
            cookie_mode: current.cookie_mode,
            lifetimes: current.lifetimes,
            mfa: current.mfa,
            security: current.security,
        };
        apply(&mut merged, &input, &mut errors);
        if let Some(scopes) = &input.self_service_scopes {
            let known = store::catalog::scope_names(self.db(), &row.id)
                .await?
                .into_iter()
                .collect();
            errors.check(
                "self_service_scopes",
                super::catalog::all_known(scopes, &known, "scope"),
            );
        }
        errors.finish()?;
        let before = self.realm_view(row.clone());
        let txn = self.begin().await?;
        let updated = store::realms::update(&txn, row, &merged, self.state.now()).await?;
        let after = self.realm_view(updated.clone());
        let changed = self
            .finish_update(
                txn,
                &updated.id,
                actor,
                "realm.updated",
                name,
                &before,
                &after,
            )
            .await?;
        if !changed {
            return Ok(before);
        }
        self.state
            .caches
            .publish(Change::Realm {
                name: name.to_string(),
            })
            .await;
        Ok(after)
    }

    async fn delete_realm(&self, actor: &Actor, name: &str) -> AdminResult<()> {
        if name == MASTER_REALM {
            return Err(AdminError::Conflict(
                "realm master holds the administrators and cannot be deleted".into(),
            ));
        }
        let row = self.realm_row(name).await?;
        let master = self.realm(MASTER_REALM).await?;
        let before = self.realm_view(row.clone());
        let txn = self.begin().await?;
        store::realms::delete(&txn, &row.id).await?;
        // Recorded in realm master: the deleted realm's own trail goes with it.
        self.audit(
            &txn,
            &master.id,
            actor,
            "realm.deleted",
            name,
            super::diff(Some(&before), None::<&RealmView>)?,
        )
        .await?;
        txn.commit().await?;
        let caches = &self.state.caches;
        caches
            .publish(Change::Realm {
                name: name.to_string(),
            })
            .await;
        caches
            .publish(Change::Keys {
                realm_id: row.id.clone(),
            })
            .await;
        caches.publish(Change::Catalog { realm_id: row.id }).await;
        caches.publish(Change::Revocations).await;
        Ok(())
    }

    async fn revocation_salt(&self, actor: &Actor, name: &str) -> AdminResult<RevocationSaltView> {
        let realm = self.realm(name).await?;
        self.audit(
            self.db(),
            &realm.id,
            actor,
            "realm.revocation_salt_read",
            &realm.id,
            serde_json::Value::Null,
        )
        .await?;
        Ok(RevocationSaltView {
            salt: realm.revocation_salt,
            hash_algorithm: "SHA-256".to_string(),
        })
    }

    async fn export_realm(
        &self,
        actor: &Actor,
        name: &str,
        include_keys: bool,
    ) -> AdminResult<serde_json::Value> {
        let document =
            crate::realm_io::export(&self.state, name, include_keys, &actor.label()).await?;
        serde_json::to_value(document).map_err(super::internal)
    }

    async fn import_realm(
        &self,
        actor: &Actor,
        document: serde_json::Value,
        dry_run: bool,
    ) -> AdminResult<ImportReport> {
        let document: crate::realm_io::RealmDocument =
            serde_path_to_error::deserialize(document)
                .map_err(|e| AdminError::BadRequest(format!("not a realm document: {e}")))?;
        Ok(crate::realm_io::import(&self.state, document, dry_run, &actor.label()).await?)
    }

    async fn get_smtp(&self, name: &str) -> AdminResult<SmtpView> {
        let realm = self.realm(name).await?;
        let row = store::mail::smtp(self.db(), &realm.id)
            .await?
            .ok_or_else(|| AdminError::not_found(format!("SMTP settings of realm `{name}`")))?;
        Ok(smtp_view(row))
    }

    async fn put_smtp(&self, actor: &Actor, name: &str, input: SmtpInput) -> AdminResult<SmtpView> {
        let realm = self.realm(name).await?;
        let mut errors = FieldErrors::new();
        let host = input.host.trim();
        if host.is_empty()
            || host.len() > 253
            || host
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '/')
        {
            errors.add("host", "a host name or address");
        }
        if input.port == 0 {
            errors.add("port", "1 to 65535");
        }
        if Security::parse(&input.security).is_none() {
            errors.add("security", "one of none, starttls, tls");
        }
        if !crate::mail::is_sender(&input.from) {
            errors.add("from", "an email address, or `Name <address>`");
        }
        if let Some(username) = &input.username {
            errors.check("username", validate::text(username));
        }
        if let Some(Some(password)) = &input.password {
            if password.len() > 1024 || password.contains('\0') {
                errors.add("password", "at most 1024 bytes, no NUL");
            }
        }
        errors.finish()?;
        let before = store::mail::smtp(self.db(), &realm.id).await?;
        let password_sealed = match &input.password {
            None => before.as_ref().and_then(|b| b.password_sealed.clone()),
            Some(None) => None,
            Some(Some(password)) => Some(self.state.mailer.seal_password(&realm.id, password)),
        };
        let row = store::mail::StoredSmtp {
            realm_id: realm.id.clone(),
            host: host.to_string(),
            port: i32::from(input.port),
            security: input.security.clone(),
            username: input.username.clone().filter(|u| !u.is_empty()),
            password_sealed,
            from_address: input.from.trim().to_string(),
            updated_at: self.state.now(),
        };
        let txn = self.begin().await?;
        let saved = store::mail::put_smtp(&txn, row).await?;
        let after = smtp_view(saved.clone());
        self.audit(
            &txn,
            &realm.id,
            actor,
            "realm.smtp_set",
            &realm.id,
            super::diff(before.map(smtp_view).as_ref(), Some(&after))?,
        )
        .await?;
        txn.commit().await?;
        Ok(after)
    }

    async fn delete_smtp(&self, actor: &Actor, name: &str) -> AdminResult<()> {
        let realm = self.realm(name).await?;
        let txn = self.begin().await?;
        if !store::mail::delete_smtp(&txn, &realm.id).await? {
            return Err(AdminError::not_found(format!(
                "SMTP settings of realm `{name}`"
            )));
        }
        self.audit(
            &txn,
            &realm.id,
            actor,
            "realm.smtp_removed",
            &realm.id,
            serde_json::json!({}),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    async fn realm_summary(&self, name: &str) -> AdminResult<RealmSummary> {
        let row = self.realm_row(name).await?;
        let counts = store::realms::counts(self.db(), &row.id, self.state.now()).await?;
        let recent = self
            .list_events(
                name,
                admin_model::EventFilter {
                    limit: Some(8),
                    ..Default::default()
                },
            )
            .await?;
        Ok(RealmSummary {
            clients: counts.clients,
            users: counts.users,
            scopes: counts.scopes,
            api_resources: counts.api_resources,
            active_sessions: counts.active_sessions,
            published_keys: counts.published_keys,
            recent_events: recent.items,
            realm: self.realm_view(row),
        })
    }
}
