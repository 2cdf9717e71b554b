//! Clients and their hashed secrets.

use chrono::{DateTime, Utc};
use entity::{client, client_secret};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter, Set,
};

use super::rows::{self, Keyset, Order};
use super::{conflict_or_db, json_list, string_list, Conn, StoreError, StoreResult};
use crate::domain::SigningAlg;
use crate::domain::{
    Client, ClientMfa, ClientSecurity, LifetimeOverrides, StoredSecret, TokenAuthMethod,
};

/// A client's row as stored, for the admin service's views.
pub type ClientRow = client::Model;

/// What is needed to create a client; the secret arrives already hashed.
#[derive(Debug, Clone, Default)]
pub struct NewClient {
    pub client_id: String,
    pub display_name: Option<String>,
    pub public: bool,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub audiences: Vec<String>,
    pub roles: Vec<String>,
    pub require_pkce: bool,
    pub require_consent: bool,
    pub allow_arbitrary_claims: bool,
    pub always_issue_refresh_token: bool,
    pub lifetimes: LifetimeOverrides,
    pub access_token_signing_alg: Option<SigningAlg>,
    pub id_token_signing_alg: Option<SigningAlg>,
    pub backchannel_logout_uri: Option<String>,
    pub mfa: ClientMfa,
    pub enabled: bool,
    pub secret_hash: Option<String>,
    /// The new secret sealed with the master key, for `client_secret_jwt` clients.
    pub secret_sealed: Option<String>,
    pub security: ClientSecurity,
}

pub(crate) fn to_domain(
    row: client::Model,
    secrets: Vec<client_secret::Model>,
) -> StoreResult<Client> {
    let alg = |s: Option<String>| -> StoreResult<Option<SigningAlg>> {
        s.map(|s| {
            SigningAlg::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("unknown alg {s}")))
        })
        .transpose()
    };
    Ok(Client {
        grant_types: string_list(&row.grant_types, "clients.grant_types")?,
        redirect_uris: string_list(&row.redirect_uris, "clients.redirect_uris")?,
        post_logout_redirect_uris: string_list(
            &row.post_logout_redirect_uris,
            "clients.post_logout_redirect_uris",
        )?,
        scopes: string_list(&row.scopes, "clients.scopes")?,
        audiences: string_list(&row.audiences, "clients.audiences")?,
        roles: string_list(&row.roles, "clients.roles")?,
        lifetimes: LifetimeOverrides {
            access_token: row.access_token_lifetime,
            refresh_token: row.refresh_token_lifetime,
            refresh_token_sliding: row.refresh_token_sliding_lifetime,
            id_token: row.id_token_lifetime,
            code: row.code_lifetime,
            device_code: row.device_code_lifetime,
            refresh_reuse_grace: row.refresh_reuse_grace,
        },
        access_token_signing_alg: alg(row.access_token_signing_alg)?,
        id_token_signing_alg: alg(row.id_token_signing_alg)?,
        secrets: secrets
            .into_iter()
            .map(|s| StoredSecret {
                hash: s.secret_hash,
                sealed: s.sealed,
                expires_at: s.expires_at,
            })
            .collect(),
        pk: row.id,
        realm_id: row.realm_id,
        client_id: row.client_id,
        display_name: row.display_name,
        public: row.public,
        require_pkce: row.require_pkce,
        require_consent: row.require_consent,
        allow_arbitrary_claims: row.allow_arbitrary_claims,
        always_issue_refresh_token: row.always_issue_refresh_token,
        backchannel_logout_uri: row.backchannel_logout_uri,
        mfa: ClientMfa::parse(&row.mfa)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown client mfa policy {}", row.mfa)))?,
        enabled: row.enabled,
        security: ClientSecurity {
            auth_method: row
                .token_endpoint_auth_method
                .as_deref()
                .map(|m| {
                    TokenAuthMethod::parse(m)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown auth method {m}")))
                })
                .transpose()?,
            jwks: row.jwks,
            jwks_uri: row.jwks_uri,
            require_par: row.require_par,
            require_signed_request_object: row.require_signed_request_object,
            dpop_bound_access_tokens: row.dpop_bound_access_tokens,
        },
    })
}

/// The client with its secrets, in one round trip.
pub async fn find(db: &impl Conn, realm_id: &str, client_id: &str) -> StoreResult<Option<Client>> {
    let found = client::Entity::find()
        .filter(client::Column::RealmId.eq(realm_id))
        .filter(client::Column::ClientId.eq(client_id))
        .find_with_related(client_secret::Entity)
        .all(db)
        .await?;
    found
        .into_iter()
        .next()
        .map(|(row, secrets)| to_domain(row, secrets))
        .transpose()
}

/// A stored client as its settings, to change some and write them back with [`update`].
pub fn settings(row: &ClientRow) -> StoreResult<NewClient> {
    let alg = |s: &Option<String>| -> StoreResult<Option<SigningAlg>> {
        s.as_deref()
            .map(|s| {
                SigningAlg::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown alg {s}")))
            })
            .transpose()
    };
    Ok(NewClient {
        client_id: row.client_id.clone(),
        display_name: row.display_name.clone(),
        public: row.public,
        grant_types: string_list(&row.grant_types, "clients.grant_types")?,
        redirect_uris: string_list(&row.redirect_uris, "clients.redirect_uris")?,
        post_logout_redirect_uris: string_list(
            &row.post_logout_redirect_uris,
            "clients.post_logout_redirect_uris",
        )?,
        scopes: string_list(&row.scopes, "clients.scopes")?,
        audiences: string_list(&row.audiences, "clients.audiences")?,
        roles: string_list(&row.roles, "clients.roles")?,
        require_pkce: row.require_pkce,
        require_consent: row.require_consent,
        allow_arbitrary_claims: row.allow_arbitrary_claims,
        always_issue_refresh_token: row.always_issue_refresh_token,
        lifetimes: LifetimeOverrides {
            access_token: row.access_token_lifetime,
            refresh_token: row.refresh_token_lifetime,
            refresh_token_sliding: row.refresh_token_sliding_lifetime,
            id_token: row.id_token_lifetime,
            code: row.code_lifetime,
            device_code: row.device_code_lifetime,
            refresh_reuse_grace: row.refresh_reuse_grace,
        },
        access_token_signing_alg: alg(&row.access_token_signing_alg)?,
        id_token_signing_alg: alg(&row.id_token_signing_alg)?,
        backchannel_logout_uri: row.backchannel_logout_uri.clone(),
        mfa: ClientMfa::parse(&row.mfa).unwrap_or_default(),
        enabled: row.enabled,
        secret_hash: None,
        secret_sealed: None,
        security: ClientSecurity {
            auth_method: row
                .token_endpoint_auth_method
                .as_deref()
                .and_then(TokenAuthMethod::parse),
            jwks: row.jwks.clone(),
            jwks_uri: row.jwks_uri.clone(),
            require_par: row.require_par,
            require_signed_request_object: row.require_signed_request_object,
            dpop_bound_access_tokens: row.dpop_bound_access_tokens,
        },
    })
}

pub async fn insert(
    db: &impl Conn,
    realm_id: &str,
    new: &NewClient,
    now: DateTime<Utc>,
) -> StoreResult<Client> {
    let pk = crate::crypto::random::id();
    let row = client::ActiveModel {
        id: Set(pk.clone()),
        realm_id: Set(realm_id.to_string()),
        client_id: Set(new.client_id.clone()),
        display_name: Set(new.display_name.clone()),
        public: Set(new.public),
        grant_types: Set(json_list(&new.grant_types)),
        redirect_uris: Set(json_list(&new.redirect_uris)),
        post_logout_redirect_uris: Set(json_list(&new.post_logout_redirect_uris)),
        scopes: Set(json_list(&new.scopes)),
        audiences: Set(json_list(&new.audiences)),
        roles: Set(json_list(&new.roles)),
        require_pkce: Set(new.require_pkce),
        require_consent: Set(new.require_consent),
        allow_arbitrary_claims: Set(new.allow_arbitrary_claims),
        always_issue_refresh_token: Set(new.always_issue_refresh_token),
        access_token_lifetime: Set(new.lifetimes.access_token),
        refresh_token_lifetime: Set(new.lifetimes.refresh_token),
        refresh_token_sliding_lifetime: Set(new.lifetimes.refresh_token_sliding),
        id_token_lifetime: Set(new.lifetimes.id_token),
        code_lifetime: Set(new.lifetimes.code),
        device_code_lifetime: Set(new.lifetimes.device_code),
        refresh_reuse_grace: Set(new.lifetimes.refresh_reuse_grace),
        access_token_signing_alg: Set(new.access_token_signing_alg.map(|a| a.as_str().into())),
        id_token_signing_alg: Set(new.id_token_signing_alg.map(|a| a.as_str().into())),
        backchannel_logout_uri: Set(new.backchannel_logout_uri.clone()),
        mfa: Set(new.mfa.as_str().to_string()),
        enabled: Set(new.enabled),
        token_endpoint_auth_method: Set(new.security.auth_method.map(|m| m.as_str().to_string())),
        jwks: Set(new.security.jwks.clone()),
        jwks_uri: Set(new.security.jwks_uri.clone()),
        require_par: Set(new.security.require_par),
        require_signed_request_object: Set(new.security.require_signed_request_object),
        dpop_bound_access_tokens: Set(new.security.dpop_bound_access_tokens),
        registration_token_hash: Set(None),
        registered_via: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| conflict_or_db(e, || format!("client `{}`", new.client_id)))?;
    let mut secrets = Vec::new();
    if let Some(hash) = &new.secret_hash {
        secrets.push(insert_secret(db, &pk, hash, new.secret_sealed.as_deref(), now).await?);
    }
    to_domain(row, secrets)
}

pub async fn insert_secret(
    db: &impl Conn,
    client_pk: &str,
    secret_hash: &str,
    sealed: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<client_secret::Model> {
    Ok(client_secret::ActiveModel {
        id: Set(crate::crypto::random::id()),
        client_pk: Set(client_pk.to_string()),
        secret_hash: Set(secret_hash.to_string()),
        description: Set(None),
        sealed: Set(sealed.map(str::to_string)),
        created_at: Set(now),
        expires_at: Set(None),
    }
    .insert(db)
    .await?)
}

/// Every client's access and ID token lifetime overrides in a realm.
pub async fn token_lifetimes(
    db: &impl Conn,
    realm_id: &str,
) -> StoreResult<Vec<(Option<i64>, Option<i64>)>> {
    use sea_orm::QuerySelect;
    Ok(client::Entity::find()
        .select_only()
        .column(client::Column::AccessTokenLifetime)
        .column(client::Column::IdTokenLifetime)
        .filter(client::Column::RealmId.eq(realm_id))
        .into_tuple()
        .all(db)
        .await?)
}

/// Every client's refresh-token lifetime override in a realm.
pub async fn refresh_lifetimes(db: &impl Conn, realm_id: &str) -> StoreResult<Vec<Option<i64>>> {
    use sea_orm::QuerySelect;
    Ok(client::Entity::find()
        .select_only()
        .column(client::Column::RefreshTokenLifetime)
        .filter(client::Column::RealmId.eq(realm_id))
        .into_tuple()
        .all(db)
        .await?)
}

/// One keyset page of the realm's clients, by client id.
pub async fn page(
    db: &impl Conn,
    realm_id: &str,
    keyset: &Keyset,
) -> StoreResult<(Vec<ClientRow>, bool)> {
    rows::page::<client::Entity>(
        db,
        client::Column::RealmId.eq(realm_id),
        client::Column::ClientId,
        Order::Ascending,
        keyset,
    )
    .await
}

/// Every client of the realm, by client id.
pub async fn in_realm(db: &impl Conn, realm_id: &str) -> StoreResult<Vec<ClientRow>> {
    rows::all::<client::Entity>(
        db,
        client::Column::RealmId.eq(realm_id),
        client::Column::ClientId,
    )
    .await
}

pub async fn find_row(
    db: &impl Conn,
    realm_id: &str,
    client_id: &str,
) -> StoreResult<Option<ClientRow>> {
    rows::one::<client::Entity>(
        db,
        Condition::all()
            .add(client::Column::RealmId.eq(realm_id))
            .add(client::Column::ClientId.eq(client_id)),
    )
    .await
}

pub async fn has_secret(db: &impl Conn, client_pk: &str) -> StoreResult<bool> {
    Ok(
        rows::count::<client_secret::Entity>(db, client_secret::Column::ClientPk.eq(client_pk))
            .await?
            > 0,
    )
}

/// Which of the clients `client_pks` have a secret.
pub async fn with_secret(
    db: &impl Conn,
    client_pks: Vec<String>,
) -> StoreResult<std::collections::HashSet<String>> {
    Ok(rows::all::<client_secret::Entity>(
        db,
        client_secret::Column::ClientPk.is_in(client_pks),
        client_secret::Column::Id,
    )
    .await?
    .into_iter()
    .map(|s| s.client_pk)
    .collect())
}

/// Writes `settings` (all but the client id and secret) over `row`.
pub async fn update(
    db: &impl Conn,
    row: ClientRow,
    settings: &NewClient,
    now: DateTime<Utc>,
) -> StoreResult<ClientRow> {
    let mut active = row.into_active_model();
    active.display_name = Set(settings.display_name.clone());
    active.public = Set(settings.public);
    active.grant_types = Set(json_list(&settings.grant_types));
    active.redirect_uris = Set(json_list(&settings.redirect_uris));
    active.post_logout_redirect_uris = Set(json_list(&settings.post_logout_redirect_uris));
    active.scopes = Set(json_list(&settings.scopes));
    active.audiences = Set(json_list(&settings.audiences));
    active.roles = Set(json_list(&settings.roles));
    active.require_pkce = Set(settings.require_pkce);
    active.require_consent = Set(settings.require_consent);
    active.allow_arbitrary_claims = Set(settings.allow_arbitrary_claims);
    active.always_issue_refresh_token = Set(settings.always_issue_refresh_token);
    active.access_token_lifetime = Set(settings.lifetimes.access_token);
    active.refresh_token_lifetime = Set(settings.lifetimes.refresh_token);
    active.refresh_token_sliding_lifetime = Set(settings.lifetimes.refresh_token_sliding);
    active.id_token_lifetime = Set(settings.lifetimes.id_token);
    active.code_lifetime = Set(settings.lifetimes.code);
    active.device_code_lifetime = Set(settings.lifetimes.device_code);
    active.refresh_reuse_grace = Set(settings.lifetimes.refresh_reuse_grace);
    active.access_token_signing_alg = Set(settings
        .access_token_signing_alg
        .map(|a| a.as_str().to_string()));
    active.id_token_signing_alg = Set(settings
        .id_token_signing_alg
        .map(|a| a.as_str().to_string()));
    active.backchannel_logout_uri = Set(settings.backchannel_logout_uri.clone());
    active.mfa = Set(settings.mfa.as_str().to_string());
    active.enabled = Set(settings.enabled);
    active.token_endpoint_auth_method = Set(settings
        .security
        .auth_method
        .map(|m| m.as_str().to_string()));
    active.jwks = Set(settings.security.jwks.clone());
    active.jwks_uri = Set(settings.security.jwks_uri.clone());
    active.require_par = Set(settings.security.require_par);
    active.require_signed_request_object = Set(settings.security.require_signed_request_object);
    active.dpop_bound_access_tokens = Set(settings.security.dpop_bound_access_tokens);
    active.updated_at = Set(now);
    Ok(active.update(db).await?)
}

/// Records how a self-registered client came and the hash of its (new) registration access
/// token (RFC 7592 rotates it on every update). With `replacing`, only if that is still the
/// stored hash: of two updates with one token, one wins. Returns whether it was written.
pub async fn set_registration(
    db: &impl Conn,
    client_pk: &str,
    token_hash: &str,
    via: &str,
    replacing: Option<&str>,
) -> StoreResult<bool> {
    use sea_orm::sea_query::Expr;
    let mut update = client::Entity::update_many()
        .col_expr(
            client::Column::RegistrationTokenHash,
            Expr::value(token_hash),
        )
        .col_expr(client::Column::RegisteredVia, Expr::value(via))
        .filter(client::Column::Id.eq(client_pk));
    if let Some(old) = replacing {
        update = update.filter(client::Column::RegistrationTokenHash.eq(old));
    }
    Ok(update.exec(db).await?.rows_affected == 1)
}

/// Deletes a self-registered client if `token_hash` is still its registration access token.
pub async fn delete_registered(
    db: &impl Conn,
    client_pk: &str,
    token_hash: &str,
) -> StoreResult<bool> {
    Ok(client::Entity::delete_many()
        .filter(client::Column::Id.eq(client_pk))
        .filter(client::Column::RegistrationTokenHash.eq(token_hash))
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

pub async fn delete_secrets(db: &impl Conn, client_pk: &str) -> StoreResult<u64> {
    rows::delete::<client_secret::Entity>(db, client_secret::Column::ClientPk.eq(client_pk)).await
}

pub async fn delete(db: &impl Conn, client_pk: &str) -> StoreResult<u64> {
    rows::delete::<client::Entity>(db, client::Column::Id.eq(client_pk)).await
}
