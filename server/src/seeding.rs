//! Idempotent seeding: realm `master` with the bootstrap admin and `admin-cli`, realm `default`,
//! the standard scopes of every new realm, and the optional TOML seed file.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::crypto::password::Argon2Params;
use crate::crypto::secrets::{SecretHasher, SecretOrigin};
use crate::crypto::{password, random};
use crate::domain::SigningAlg;
use crate::domain::{grant_type, ClientMfa, CookieMode, LifetimeOverrides, Realm, RealmMfa};
use crate::keys::{KeyRing, KeyRingError};
use crate::store::{self, realms::NewRealm, Store, StoreError};

pub const MASTER_REALM: &str = "master";

/// The realm the alias routes (`/connect/*`, `/oauth2/*`) serve.
pub const DEFAULT_REALM: &str = "default";
pub const ADMIN_ROLE: &str = "admin";
pub const ADMIN_CLI: &str = "admin-cli";

#[derive(Debug, thiserror::Error)]
pub enum SeedingError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keys(#[from] KeyRingError),
    #[error("seed file: {0}")]
    File(String),
}

/// The outcome worth telling the operator about.
#[derive(Debug, Default)]
pub struct SeedReport {
    /// Set only when the bootstrap admin was created now with a generated password.
    pub generated_admin_password: Option<String>,
    pub created_realms: Vec<String>,
}

/// Creates a realm with its standard scopes, claim types and a signing key per algorithm,
/// all in one transaction. Returns `None` when the realm already exists.
pub async fn create_realm(
    store: &Store,
    keys: &KeyRing,
    new: &NewRealm,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<Realm>, SeedingError> {
    if store::realms::find_by_name(&store.db, &new.name)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let key_set = keys.generate_initial().await?;
    let txn = store.begin().await?;
    let realm = match store::realms::insert(&txn, new, now).await {
        Ok(realm) => realm,
        // Another process created it between our check and insert.
        Err(StoreError::Conflict(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    standard_catalogue(&txn, &realm.id, now).await?;
    KeyRing::insert_set(&txn, &realm.id, key_set, now).await?;
    store::audit::record(
        &txn,
        store::audit::NewEvent {
            realm_id: Some(&realm.id),
            kind: "realm.created",
            actor,
            target: Some(&realm.name),
            detail: serde_json::json!({"before": null, "after": {
                "name": realm.name,
                "display_name": realm.display_name,
                "enabled": realm.enabled,
                "decentralized": realm.decentralized,
                "signing_alg": realm.signing_alg.as_str(),
                "id_token_signing_alg": realm.id_token_signing_alg.as_str(),
                "cookie_mode": realm.cookie_mode.as_str(),
            }}),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Some(realm))
}

/// The standard claim types and scopes every new realm starts with.
pub async fn standard_catalogue(
    txn: &store::Tx,
    realm_id: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for (name, description) in seed::STANDARD_CLAIM_TYPES {
        store::catalog::ensure_claim_type(txn, realm_id, name, Some(description), now).await?;
    }
    for scope in seed::STANDARD_SCOPES {
        store::catalog::ensure_scope(
            txn,
            realm_id,
            &store::catalog::NewScope {
                name: scope.name.to_string(),
                description: Some(scope.description.to_string()),
                claims: scope.claims.iter().map(|c| c.to_string()).collect(),
                audience: None,
                include_in_access_token: false,
            },
            now,
        )
        .await?;
    }
    Ok(())
}

/// Everything that must exist for a fresh server to be usable.
pub struct Bootstrap<'a> {
    pub store: &'a Store,
    pub keys: &'a KeyRing,
    pub secrets: &'a SecretHasher,
    pub argon2: Argon2Params,
    pub admin_username: &'a str,
    pub admin_password: Option<&'a str>,
}

impl Bootstrap<'_> {
    pub async fn run(&self, now: DateTime<Utc>) -> Result<SeedReport, SeedingError> {
        let mut report = SeedReport::default();
        for name in [MASTER_REALM, DEFAULT_REALM] {
            if create_realm(self.store, self.keys, &NewRealm::named(name), "system", now)
                .await?
                .is_some()
            {
                report.created_realms.push(name.to_string());
            }
        }
        let master = store::realms::find_by_name(&self.store.db, MASTER_REALM)
            .await?
            .ok_or_else(|| StoreError::NotFound("realm master".into()))?;
        self.ensure_admin_cli(&master, now).await?;
        report.generated_admin_password = self.ensure_admin(&master, now).await?;
        Ok(report)
    }

    async fn ensure_admin_cli(
        &self,
        master: &Realm,
        now: DateTime<Utc>,
    ) -> Result<(), SeedingError> {
        if store::clients::find(&self.store.db, &master.id, ADMIN_CLI)
            .await?
            .is_some()
        {
            return Ok(());
        }
        let client = store::clients::NewClient {
            client_id: ADMIN_CLI.into(),
            display_name: Some("Admin command line".into()),
            public: true,
            grant_types: vec![
                grant_type::PASSWORD.into(),
                grant_type::REFRESH_TOKEN.into(),
            ],
            scopes: ["openid", "profile", "email", "roles", "offline_access"]
                .map(String::from)
                .to_vec(),
            require_pkce: true,
            enabled: true,
            ..Default::default()
        };
        match store::clients::insert(&self.store.db, &master.id, &client, now).await {
            Ok(_) | Err(StoreError::Conflict(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Creates the bootstrap admin unless a user of that name exists (it is never overwritten).
    async fn ensure_admin(
        &self,
        master: &Realm,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, SeedingError> {
        if store::users::find_by_username(&self.store.db, &master.id, self.admin_username)
            .await?
            .is_some()
        {
            return Ok(None);
        }
        let (password, generated) = match self.admin_password {
            Some(p) => (p.to_string(), false),
            None => (random::opaque_token()[..24].to_string(), true),
        };
        let hash = hash_password(password.clone(), self.argon2).await?;
        let txn = self.store.begin().await?;
        let user = store::users::NewUser {
            username: self.admin_username.to_string(),
            password_hash: Some(hash),
            email: None,
            claims: Value::Object(Default::default()),
            roles: vec![ADMIN_ROLE.to_string()],
            enabled: true,
        };
        match store::users::insert(&txn, &master.id, &user, now).await {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        txn.commit().await?;
        Ok(generated.then_some(password))
    }
}

async fn hash_password(password: String, params: Argon2Params) -> Result<String, SeedingError> {
    tokio::task::spawn_blocking(move || password::hash(&password, params))
        .await
        .map_err(|e| SeedingError::File(e.to_string()))?
        .map_err(|e| SeedingError::File(e.to_string()))
}

/// Applies a parsed seed file; what exists already is left untouched.
pub async fn apply_file(
    store: &Store,
    keys: &KeyRing,
    secrets: &SecretHasher,
    argon2: Argon2Params,
    file: &seed::SeedFile,
    now: DateTime<Utc>,
) -> Result<SeedReport, SeedingError> {
    let mut report = SeedReport::default();
    for realm_seed in &file.realms {
        let new = realm_from_seed(realm_seed)?;
        if create_realm(store, keys, &new, "system", now)
            .await?
            .is_some()
        {
            report.created_realms.push(new.name.clone());
        }
        let realm = store::realms::find_by_name(&store.db, &new.name)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("realm {}", new.name)))?;
        for scope in &realm_seed.scopes {
            store::catalog::ensure_scope(
                &store.db,
                &realm.id,
                &store::catalog::NewScope {
                    name: scope.name.clone(),
                    description: scope.description.clone(),
                    claims: scope.claims.clone(),
                    audience: scope.audience.clone(),
                    include_in_access_token: scope.include_in_access_token,
                },
                now,
            )
            .await?;
        }
        for resource in &realm_seed.api_resources {
            let secret_hash = match &resource.secret {
                Some(secret) => Some(hash_chosen_secret(secrets, secret.clone()).await?),
                None => None,
            };
            store::catalog::ensure_api_resource(
                &store.db,
                &realm.id,
                &resource.name,
                &resource.scopes,
                secret_hash,
                now,
            )
            .await?;
        }
        for client in &realm_seed.clients {
            if store::clients::find(&store.db, &realm.id, &client.client_id)
                .await?
                .is_some()
            {
                continue;
            }
            let new_client = client_from_seed(client)?;
            let mut new_client = new_client;
            if let Some(secret) = &client.secret {
                new_client.secret_hash = Some(hash_chosen_secret(secrets, secret.clone()).await?);
            }
            match store::clients::insert(&store.db, &realm.id, &new_client, now).await {
                Ok(_) | Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
            // Roles named by clients belong to the realm's collection, as users' do.
            for role in &new_client.roles {
                store::users::ensure_role(&store.db, &realm.id, role, now).await?;
            }
        }
        for user in &realm_seed.users {
            if store::users::find_by_username(&store.db, &realm.id, &user.username)
                .await?
                .is_some()
            {
                continue;
            }
            let password_hash = match &user.password {
                Some(p) => Some(hash_password(p.clone(), argon2).await?),
                None => None,
            };
            let claims = serde_json::to_value(&user.claims)
                .map_err(|e| SeedingError::File(e.to_string()))?;
            let txn = store.begin().await?;
            let new_user = store::users::NewUser {
                username: user.username.clone(),
                password_hash,
                email: user.email.clone(),
                claims,
                roles: user.roles.clone(),
                enabled: user.enabled,
            };
            match store::users::insert(&txn, &realm.id, &new_user, now).await {
                Ok(_) => txn.commit().await?,
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        for policy in &realm_seed.exchange_policies {
            let policy = store::exchange::ExchangePolicy {
                client_id: policy.client_id.clone(),
                audiences: policy.audiences.clone(),
                scopes: policy.scopes.clone(),
                subject_clients: policy.subject_clients.clone(),
                allow_delegation: policy.allow_delegation,
                max_delegation_depth: 3,
            };
            match store::exchange::insert_policy(&store.db, &realm.id, &policy, now).await {
                Ok(()) | Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        for trusted in &realm_seed.trusted_issuers {
            match store::exchange::insert_trusted_issuer(
                &store.db,
                &realm.id,
                &trusted.issuer,
                &trusted.jwks_url,
                now,
            )
            .await
            {
                Ok(()) | Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(report)
}

async fn hash_chosen_secret(
    secrets: &SecretHasher,
    secret: String,
) -> Result<String, SeedingError> {
    // argon2 runs inline: seeding is start-up work, not a request path.
    secrets
        .hash(&secret, SecretOrigin::Chosen)
        .map_err(|e| SeedingError::File(e.to_string()))
}

fn realm_from_seed(seed: &seed::RealmSeed) -> Result<NewRealm, SeedingError> {
    let bad = |what: String| SeedingError::File(format!("realm `{}`: {what}", seed.name));
    if !crate::validation::is_realm_name(&seed.name) {
        return Err(bad(
            "invalid realm name (a-z, 0-9, _ and -, at most 63)".into()
        ));
    }
    let signing_alg = parse_alg(&seed.signing_alg, "signing_alg")
        .map_err(bad)?
        .unwrap_or(SigningAlg::ES256);
    let id_token_signing_alg = parse_alg(&seed.id_token_signing_alg, "id_token_signing_alg")
        .map_err(bad)?
        .unwrap_or(SigningAlg::RS256);
    let cookie_mode = match &seed.cookie_mode {
        Some(m) => CookieMode::parse(m).ok_or_else(|| bad(format!("unknown cookie_mode `{m}`")))?,
        None => CookieMode::Realm,
    };
    let lifetimes = LifetimeOverrides {
        access_token: seed.access_token_lifetime,
        refresh_token: seed.refresh_token_lifetime,
        refresh_token_sliding: seed.refresh_token_sliding_lifetime,
        id_token: seed.id_token_lifetime,
        code: seed.code_lifetime,
        device_code: seed.device_code_lifetime,
        refresh_reuse_grace: seed.refresh_reuse_grace,
    };
    crate::validation::lifetimes(&lifetimes).map_err(|e| bad(e.to_string()))?;
    Ok(NewRealm {
        name: seed.name.clone(),
        display_name: seed.display_name.clone(),
        enabled: true,
        decentralized: seed.decentralized,
        signing_alg,
        id_token_signing_alg,
        cookie_mode,
        lifetimes,
        mfa: match &seed.mfa {
            Some(m) => RealmMfa::parse(m).ok_or_else(|| bad(format!("unknown mfa `{m}`")))?,
            None => RealmMfa::default(),
        },
        security: Default::default(),
    })
}

fn client_from_seed(seed: &seed::ClientSeed) -> Result<store::clients::NewClient, SeedingError> {
    let bad = |what: String| SeedingError::File(format!("client `{}`: {what}", seed.client_id));
    if let Some(g) = seed
        .grant_types
        .iter()
        .find(|g| !grant_type::ALL.contains(&g.as_str()))
    {
        return Err(bad(format!("unknown grant type `{g}`")));
    }
    if !seed.public && seed.secret.is_none() {
        return Err(bad(
            "a confidential client needs a `secret` in a seed file".into()
        ));
    }
    if seed.public && seed.secret.is_some() {
        return Err(bad("a public client has no secret".into()));
    }
    let lifetimes = LifetimeOverrides {
        access_token: seed.access_token_lifetime,
        refresh_token: seed.refresh_token_lifetime,
        refresh_token_sliding: seed.refresh_token_sliding_lifetime,
        id_token: seed.id_token_lifetime,
        code: seed.code_lifetime,
        device_code: seed.device_code_lifetime,
        refresh_reuse_grace: seed.refresh_reuse_grace,
    };
    crate::validation::lifetimes(&lifetimes).map_err(|e| bad(e.to_string()))?;
    Ok(store::clients::NewClient {
        client_id: seed.client_id.clone(),
        display_name: seed.display_name.clone(),
        public: seed.public,
        grant_types: seed.grant_types.clone(),
        redirect_uris: seed.redirect_uris.clone(),
        post_logout_redirect_uris: seed.post_logout_redirect_uris.clone(),
        scopes: seed.scopes.clone(),
        audiences: seed.audiences.clone(),
        roles: seed.roles.clone(),
        require_pkce: seed.require_pkce.unwrap_or(true),
        require_consent: seed.require_consent,
        allow_arbitrary_claims: seed.allow_arbitrary_claims,
        always_issue_refresh_token: false,
        lifetimes,
        access_token_signing_alg: parse_alg(
            &seed.access_token_signing_alg,
            "access_token_signing_alg",
        )
        .map_err(bad)?,
        id_token_signing_alg: parse_alg(&seed.id_token_signing_alg, "id_token_signing_alg")
            .map_err(bad)?,
        backchannel_logout_uri: seed.backchannel_logout_uri.clone(),
        mfa: match &seed.mfa {
            Some(m) => ClientMfa::parse(m).ok_or_else(|| bad(format!("unknown mfa `{m}`")))?,
            None => ClientMfa::default(),
        },
        enabled: true,
        ..Default::default()
    })
}

fn parse_alg(value: &Option<String>, field: &str) -> Result<Option<SigningAlg>, String> {
    value
        .as_deref()
        .map(|a| {
            SigningAlg::parse(a)
                .ok_or_else(|| format!("unknown {field} `{a}` (ES256, RS256 or EdDSA)"))
        })
        .transpose()
}
