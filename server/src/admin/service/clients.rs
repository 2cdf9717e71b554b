//! Clients: create (a confidential client's secret is generated unless chosen, returned once,
//! stored hashed), change, rotate the secret, delete.

use std::collections::HashSet;

use admin_model::{
    Actor, AdminError, AdminResult, ClientAdmin, ClientCreated, ClientInput, ClientSecret,
    ClientView, FieldErrors, InitialAccessTokenCreated, InitialAccessTokenInput,
    InitialAccessTokenView, Page, PageRequest,
};
use async_trait::async_trait;

use super::{list, AdminService};
use crate::admin::validate;
use crate::changes::Change;
use crate::crypto::secrets::{SecretHasher, SecretOrigin};
use crate::domain::{grant_type, ClientMfa, Realm, TokenAuthMethod};
use crate::store;
use crate::store::clients::{ClientRow, NewClient};

/// Scopes a new interactive client may request when the admin names none.
const DEFAULT_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// Grants that need the client to authenticate.
const CONFIDENTIAL_ONLY: [&str; 2] = [grant_type::CLIENT_CREDENTIALS, grant_type::TOKEN_EXCHANGE];

fn initial_token_view(row: store::registration::InitialAccessTokenRow) -> InitialAccessTokenView {
    InitialAccessTokenView {
        id: row.id,
        description: row.description,
        remaining_uses: row.remaining_uses,
        created_at: row.created_at,
        expires_at: row.expires_at,
    }
}

fn view(row: ClientRow, has_secret: bool) -> AdminResult<ClientView> {
    Ok(ClientView {
        grant_types: list(&row.grant_types, "clients.grant_types")?,
        redirect_uris: list(&row.redirect_uris, "clients.redirect_uris")?,
        post_logout_redirect_uris: list(
            &row.post_logout_redirect_uris,
            "clients.post_logout_redirect_uris",
        )?,
        scopes: list(&row.scopes, "clients.scopes")?,
        audiences: list(&row.audiences, "clients.audiences")?,
        roles: list(&row.roles, "clients.roles")?,
        client_id: row.client_id,
        display_name: row.display_name,
        public: row.public,
        require_pkce: row.require_pkce,
        require_consent: row.require_consent,
        allow_arbitrary_claims: row.allow_arbitrary_claims,
        always_issue_refresh_token: row.always_issue_refresh_token,
        access_token_lifetime: row.access_token_lifetime,
        refresh_token_lifetime: row.refresh_token_lifetime,
        refresh_token_sliding_lifetime: row.refresh_token_sliding_lifetime,
        id_token_lifetime: row.id_token_lifetime,
        code_lifetime: row.code_lifetime,
        device_code_lifetime: row.device_code_lifetime,
        refresh_reuse_grace: row.refresh_reuse_grace,
        access_token_signing_alg: row.access_token_signing_alg,
        id_token_signing_alg: row.id_token_signing_alg,
        backchannel_logout_uri: row.backchannel_logout_uri,
        mfa: row.mfa,
        token_endpoint_auth_method: row.token_endpoint_auth_method,
        jwks: row
            .jwks
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(super::internal)?,
        jwks_uri: row.jwks_uri,
        require_par: row.require_par,
        require_signed_request_object: row.require_signed_request_object,
        dpop_bound_access_tokens: row.dpop_bound_access_tokens,
        registered_via: row.registered_via,
        enabled: row.enabled,
        has_secret,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// The client as its current settings, to merge a PATCH into.
fn settings(row: &ClientRow) -> AdminResult<NewClient> {
    store::clients::settings(row).map_err(super::internal)
}

/// Applies `input` to `client`, recording messages for malformed fields.
fn apply(client: &mut NewClient, input: &ClientInput, errors: &mut FieldErrors) {
    macro_rules! set {
        ($field:ident) => {
            if let Some(value) = input.$field.clone() {
                client.$field = value;
            }
        };
    }
    set!(grant_types);
    set!(public);
    set!(redirect_uris);
    set!(post_logout_redirect_uris);
    set!(scopes);
    set!(audiences);
    set!(roles);
    set!(require_pkce);
    set!(require_consent);
    set!(allow_arbitrary_claims);
    set!(always_issue_refresh_token);
    set!(enabled);
    let security = &mut client.security;
    if let Some(value) = input.require_par {
        security.require_par = value;
    }
    if let Some(value) = input.require_signed_request_object {
        security.require_signed_request_object = value;
    }
    if let Some(value) = input.dpop_bound_access_tokens {
        security.dpop_bound_access_tokens = value;
    }
    match input
        .token_endpoint_auth_method
        .as_ref()
        .map(|m| m.as_deref().filter(|s| !s.is_empty()))
    {
        None => {}
        Some(None) => security.auth_method = None,
        Some(Some(name)) => match TokenAuthMethod::parse(name) {
            Some(method) => security.auth_method = Some(method),
            None => errors.add(
                "token_endpoint_auth_method",
                "one of client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, none",
            ),
        },
    }
    match &input.jwks {
        None => {}
        Some(None) => security.jwks = None,
        Some(Some(set)) => match crate::jose::check_public_set(set) {
            Ok(()) => security.jwks = Some(set.to_string()),
            Err(why) => errors.add("jwks", why),
        },
    }
    if let Some(uri) = &input.jwks_uri {
        security.jwks_uri = uri.clone().filter(|s| !s.is_empty());
    }
    if let Some(name) = &input.display_name {
        client.display_name = name.clone().filter(|s| !s.is_empty());
    }
    if let Some(uri) = &input.backchannel_logout_uri {
        client.backchannel_logout_uri = uri.clone().filter(|s| !s.is_empty());
    }
    let lifetimes = [
        (
            input.access_token_lifetime,
            &mut client.lifetimes.access_token,
        ),
        (
            input.refresh_token_lifetime,
            &mut client.lifetimes.refresh_token,
        ),
        (
            input.refresh_token_sliding_lifetime,
            &mut client.lifetimes.refresh_token_sliding,
        ),
        (input.id_token_lifetime, &mut client.lifetimes.id_token),
        (input.code_lifetime, &mut client.lifetimes.code),
        (
            input.device_code_lifetime,
            &mut client.lifetimes.device_code,
        ),
    ];
    for (value, slot) in lifetimes {
        if let Some(value) = value {
            *slot = value;
        }
    }
    if let Some(value) = input.refresh_reuse_grace {
        client.lifetimes.refresh_reuse_grace = value;
    }
    if let Some(mfa) = &input.mfa {
        match ClientMfa::parse(mfa) {
            Some(mfa) => client.mfa = mfa,
            None => errors.add("mfa", "one of inherit, required"),
        }
    }
    for (field, value, slot) in [
        (
            "access_token_signing_alg",
            &input.access_token_signing_alg,
            &mut client.access_token_signing_alg,
        ),
        (
            "id_token_signing_alg",
            &input.id_token_signing_alg,
            &mut client.id_token_signing_alg,
        ),
    ] {
        match value
            .as_ref()
            .map(|v| v.as_deref().filter(|s| !s.is_empty()))
        {
            None => {}
            Some(None) => *slot = None,
            Some(Some(alg)) => match validate::signing_alg(alg) {
                Ok(alg) => *slot = Some(alg),
                Err(m) => errors.add(field, m),
            },
        }
    }
}

/// The rules every client must satisfy, checked on the merged result of create or PATCH.
fn check(client: &NewClient, scopes_of_realm: &HashSet<String>, errors: &mut FieldErrors) {
    errors.check("client_id", validate::identifier(&client.client_id, 128));
    if let Some(name) = &client.display_name {
        errors.check("display_name", validate::text(name));
    }
    errors.check("grant_types", validate::grant_types(&client.grant_types));
    errors.check(
        "grant_types",
        validate::each(&client.grant_types, |_| Ok(())),
    );
    if client.public {
        if let Some(grant) = client
            .grant_types
            .iter()
            .find(|g| CONFIDENTIAL_ONLY.contains(&g.as_str()))
        {
            errors.add(
                "grant_types",
                format!(
                    "`{grant}` needs a confidential client; public clients cannot authenticate"
                ),
            );
        }
    }
    errors.check(
        "redirect_uris",
        validate::each(&client.redirect_uris, validate::redirect_uri),
    );
    if client.allows_redirects() && client.redirect_uris.is_empty() {
        errors.add(
            "redirect_uris",
            "authorization_code needs at least one redirect URI",
        );
    }
    errors.check(
        "post_logout_redirect_uris",
        validate::each(&client.post_logout_redirect_uris, validate::redirect_uri),
    );
    errors.check(
        "scopes",
        validate::each(&client.scopes, |s| {
            if scopes_of_realm.contains(s) {
                Ok(())
            } else {
                Err(format!("unknown scope `{s}`; create it first"))
            }
        }),
    );
    errors.check(
        "audiences",
        validate::each(&client.audiences, validate::audience),
    );
    errors.check(
        "roles",
        validate::each(&client.roles, |r| validate::identifier(r, 128)),
    );
    for (field, value) in [
        ("access_token_lifetime", client.lifetimes.access_token),
        ("refresh_token_lifetime", client.lifetimes.refresh_token),
        (
            "refresh_token_sliding_lifetime",
            client.lifetimes.refresh_token_sliding,
        ),
        ("id_token_lifetime", client.lifetimes.id_token),
        ("code_lifetime", client.lifetimes.code),
        ("device_code_lifetime", client.lifetimes.device_code),
    ] {
        errors.check(field, validate::lifetime(value));
    }
    errors.check(
        "refresh_reuse_grace",
        validate::reuse_grace(client.lifetimes.refresh_reuse_grace),
    );
    if let Some(uri) = &client.backchannel_logout_uri {
        errors.check("backchannel_logout_uri", validate::server_url(uri));
    }
    check_security(client, errors);
}

/// The client's keys and authentication method must fit together.
fn check_security(client: &NewClient, errors: &mut FieldErrors) {
    let security = &client.security;
    if let Some(uri) = &security.jwks_uri {
        errors.check("jwks_uri", validate::server_url(uri));
        if security.jwks.is_some() {
            errors.add("jwks_uri", "give jwks or jwks_uri, not both");
        }
    }
    match (security.auth_method, client.public) {
        (Some(TokenAuthMethod::None), false) => errors.add(
            "token_endpoint_auth_method",
            "none is for public clients; a confidential client authenticates",
        ),
        (Some(method), true) if method != TokenAuthMethod::None => errors.add(
            "token_endpoint_auth_method",
            "a public client has no secret or key: use none",
        ),
        (Some(TokenAuthMethod::PrivateKeyJwt), _) if !security.has_keys() => errors.add(
            "token_endpoint_auth_method",
            "private_key_jwt needs the client's public keys: set jwks or jwks_uri",
        ),
        _ => {}
    }
    if security.require_signed_request_object && !security.has_keys() {
        errors.add(
            "require_signed_request_object",
            "signed request objects need the client's public keys: set jwks or jwks_uri",
        );
    }
}

trait Redirects {
    fn allows_redirects(&self) -> bool;
}

impl Redirects for NewClient {
    fn allows_redirects(&self) -> bool {
        self.grant_types
            .iter()
            .any(|g| g == grant_type::AUTHORIZATION_CODE)
    }
}

impl AdminService {
    /// Generated secrets get the fast keyed hash; chosen ones argon2, off the async threads.
    pub(super) async fn hash_secret(
        &self,
        secret: &str,
        origin: SecretOrigin,
    ) -> AdminResult<String> {
        match origin {
            SecretOrigin::Generated => self
                .state
                .secrets
                .hash(secret, origin)
                .map_err(super::internal),
            SecretOrigin::Chosen => self
                .state
                .accounts
                .hash_password(secret)
                .await
                .map_err(super::internal),
        }
    }

    async fn client_row(&self, realm: &Realm, client_id: &str) -> AdminResult<ClientRow> {
        self.client_row_in(self.db(), realm, client_id).await
    }

    async fn has_secret(&self, client_pk: &str) -> AdminResult<bool> {
        Ok(store::clients::has_secret(self.db(), client_pk).await?)
    }

    async fn client_view(&self, row: ClientRow) -> AdminResult<ClientView> {
        let has_secret = self.has_secret(&row.id).await?;
        view(row, has_secret)
    }

    async fn realm_scope_names(&self, realm: &Realm) -> AdminResult<HashSet<String>> {
        Ok(store::catalog::scope_names(self.db(), &realm.id)
            .await?
            .into_iter()
            .collect())
    }

    async fn client_row_in(
        &self,
        db: &impl store::Conn,
        realm: &Realm,
        client_id: &str,
    ) -> AdminResult<ClientRow> {
        super::keyed(
            "client",
            client_id,
            store::clients::find_row(db, &realm.id, client_id),
        )
        .await
    }

    async fn publish_client(&self, realm: &Realm, client_id: &str) {
        self.state
            .caches
            .publish(Change::Client {
                realm_id: realm.id.clone(),
                client_id: client_id.to_string(),
            })
            .await;
    }
}

/// Adds the roles a client is given that the realm's collection lacks, as user assignments
/// do, so that callers naming roles freely (CONTRACT §4) keep working and the collection
/// lists every role in use.
async fn add_missing_roles(
    db: &impl crate::store::Conn,
    realm_id: &str,
    roles: &[String],
    now: chrono::DateTime<chrono::Utc>,
) -> AdminResult<()> {
    for role in roles {
        store::users::ensure_role(db, realm_id, role, now).await?;
    }
    Ok(())
}

#[async_trait]
impl ClientAdmin for AdminService {
    async fn list_clients(&self, realm: &str, page: PageRequest) -> AdminResult<Page<ClientView>> {
        let realm = self.realm(realm).await?;
        let keyset = super::keyset(&page)?;
        let (rows, more) = store::clients::page(self.db(), &realm.id, &keyset).await?;
        let page = super::page_of(rows, more, |row| row.client_id.clone(), Ok)?;
        let pks: Vec<String> = page.items.iter().map(|c| c.id.clone()).collect();
        let with_secret = store::clients::with_secret(self.db(), pks).await?;
        let items = page
            .items
            .into_iter()
            .map(|row| {
                let has_secret = with_secret.contains(&row.id);
                view(row, has_secret)
            })
            .collect::<AdminResult<Vec<_>>>()?;
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }

    async fn get_client(&self, realm: &str, client_id: &str) -> AdminResult<ClientView> {
        let realm = self.realm(realm).await?;
        let row = self.client_row(&realm, client_id).await?;
        self.client_view(row).await
    }

    async fn create_client(
        &self,
        actor: &Actor,
        realm: &str,
        input: ClientInput,
    ) -> AdminResult<ClientCreated> {
        let realm = self.realm(realm).await?;
        let mut errors = FieldErrors::new();
        let mut client = NewClient {
            client_id: input.client_id.clone().unwrap_or_default(),
            require_pkce: true,
            enabled: true,
            ..Default::default()
        };
        if input.grant_types.is_none() {
            errors.add("grant_types", "is required");
        }
        apply(&mut client, &input, &mut errors);
        if input.scopes.is_none()
            && client
                .grant_types
                .iter()
                .any(|g| g != grant_type::CLIENT_CREDENTIALS)
        {
            client.scopes = DEFAULT_SCOPES.map(String::from).to_vec();
        }
        let scopes = self.realm_scope_names(&realm).await?;
        check(&client, &scopes, &mut errors);
        let secret = match (&input.client_secret, client.public) {
            (Some(_), true) => {
                errors.add("client_secret", "public clients have no secret");
                None
            }
            (Some(chosen), false) => {
                errors.check("client_secret", validate::secret(chosen));
                Some((chosen.clone(), SecretOrigin::Chosen))
            }
            (None, false) => Some((SecretHasher::generate(), SecretOrigin::Generated)),
            (None, true) => None,
        };
        errors.finish()?;
        if let Some((plain, origin)) = &secret {
            client.secret_hash = Some(self.hash_secret(plain, *origin).await?);
            if client.security.auth_method == Some(TokenAuthMethod::ClientSecretJwt) {
                client.secret_sealed = Some(self.state.client_keys.seal_secret(plain));
            }
        }
        let now = self.state.now();
        let txn = self.begin().await?;
        store::clients::insert(&txn, &realm.id, &client, now).await?;
        add_missing_roles(&txn, &realm.id, &client.roles, now).await?;
        let row = self.client_row_in(&txn, &realm, &client.client_id).await?;
        let created = view(row, secret.is_some())?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "client.created",
            &client.client_id,
            super::diff(None::<&ClientView>, Some(&created))?,
        )
        .await?;
        txn.commit().await?;
        self.publish_client(&realm, &client.client_id).await;
        Ok(ClientCreated {
            client: created,
            client_secret: secret.map(|(plain, _)| plain),
        })
    }

    async fn update_client(
        &self,
        actor: &Actor,
        realm: &str,
        client_id: &str,
        input: ClientInput,
    ) -> AdminResult<ClientView> {
        let realm = self.realm(realm).await?;
        let row = self.client_row(&realm, client_id).await?;
        let mut errors = FieldErrors::new();
        if input.client_id.as_deref().is_some_and(|c| c != client_id) {
            errors.add("client_id", "is the client's key and cannot change");
        }
        if input.client_secret.is_some() {
            errors.add(
                "client_secret",
                "cannot be set here; rotate it with POST …/clients/{client_id}/secret",
            );
        }
        let mut client = settings(&row)?;
        apply(&mut client, &input, &mut errors);
        let scopes = self.realm_scope_names(&realm).await?;
        check(&client, &scopes, &mut errors);
        errors.finish()?;
        let before = self.client_view(row.clone()).await?;
        let txn = self.begin().await?;
        let updated = store::clients::update(&txn, row, &client, self.state.now()).await?;
        add_missing_roles(&txn, &realm.id, &client.roles, self.state.now()).await?;
        if client.public {
            // A public client cannot use a secret; none may linger.
            store::clients::delete_secrets(&txn, &updated.id).await?;
        }
        let has_secret = !client.public && before.has_secret;
        let after = view(updated, has_secret)?;
        let changed = self
            .finish_update(
                txn,
                &realm.id,
                actor,
                "client.updated",
                client_id,
                &before,
                &after,
            )
            .await?;
        if !changed {
            return Ok(before);
        }
        self.publish_client(&realm, client_id).await;
        Ok(after)
    }

    async fn delete_client(&self, actor: &Actor, realm: &str, client_id: &str) -> AdminResult<()> {
        let realm = self.realm(realm).await?;
        let row = self.client_row(&realm, client_id).await?;
        self.client_unused(&realm, client_id).await?;
        let before = self.client_view(row.clone()).await?;
        let txn = self.begin().await?;
        store::clients::delete(&txn, &row.id).await?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "client.deleted",
            client_id,
            super::diff(Some(&before), None::<&ClientView>)?,
        )
        .await?;
        txn.commit().await?;
        self.publish_client(&realm, client_id).await;
        Ok(())
    }

    async fn rotate_client_secret(
        &self,
        actor: &Actor,
        realm: &str,
        client_id: &str,
    ) -> AdminResult<ClientSecret> {
        let realm = self.realm(realm).await?;
        let row = self.client_row(&realm, client_id).await?;
        if row.public {
            return Err(AdminError::Conflict(format!(
                "client `{client_id}` is public and has no secret"
            )));
        }
        let plain = SecretHasher::generate();
        let hash = self.hash_secret(&plain, SecretOrigin::Generated).await?;
        let now = self.state.now();
        let txn = self.begin().await?;
        store::clients::delete_secrets(&txn, &row.id).await?;
        // An HMAC key must be readable to verify client_secret_jwt assertions.
        let sealed = (row.token_endpoint_auth_method.as_deref()
            == Some(TokenAuthMethod::ClientSecretJwt.as_str()))
        .then(|| self.state.client_keys.seal_secret(&plain));
        store::clients::insert_secret(&txn, &row.id, &hash, sealed.as_deref(), now).await?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "client.secret_rotated",
            client_id,
            super::diff(None::<&ClientView>, None::<&ClientView>)?,
        )
        .await?;
        txn.commit().await?;
        self.publish_client(&realm, client_id).await;
        Ok(ClientSecret {
            client_id: client_id.to_string(),
            client_secret: plain,
        })
    }

    async fn list_initial_access_tokens(
        &self,
        realm: &str,
    ) -> AdminResult<Vec<InitialAccessTokenView>> {
        let realm = self.realm(realm).await?;
        Ok(store::registration::list(self.db(), &realm.id)
            .await?
            .into_iter()
            .map(initial_token_view)
            .collect())
    }

    async fn create_initial_access_token(
        &self,
        actor: &Actor,
        realm: &str,
        input: InitialAccessTokenInput,
    ) -> AdminResult<InitialAccessTokenCreated> {
        let realm = self.realm(realm).await?;
        let mut errors = FieldErrors::new();
        let count = input.count.unwrap_or(1);
        if !(1..=1000).contains(&count) {
            errors.add("count", "between 1 and 1000 registrations");
        }
        let expires_in = input.expires_in.unwrap_or(86_400);
        if !(60..=31_536_000).contains(&expires_in) {
            errors.add("expires_in", "between 60 seconds and a year");
        }
        if let Some(description) = &input.description {
            errors.check("description", validate::text(description));
        }
        errors.finish()?;
        let now = self.state.now();
        let token = crate::crypto::random::opaque_token();
        let row = store::registration::InitialAccessTokenRow {
            id: crate::crypto::random::id(),
            realm_id: realm.id.clone(),
            token_hash: crate::crypto::b64url(crate::crypto::sha256(token.as_bytes())),
            description: input.description.filter(|d| !d.is_empty()),
            remaining_uses: count,
            created_at: now,
            expires_at: now + chrono::Duration::seconds(expires_in),
        };
        let view = initial_token_view(row.clone());
        let txn = self.begin().await?;
        store::registration::insert(&txn, row).await?;
        self.audit(
            &txn,
            &realm.id,
            actor,
            "initial_access_token.created",
            &view.id,
            super::diff(None::<&InitialAccessTokenView>, Some(&view))?,
        )
        .await?;
        txn.commit().await?;
        Ok(InitialAccessTokenCreated { view, token })
    }

    async fn delete_initial_access_token(
        &self,
        actor: &Actor,
        realm: &str,
        id: &str,
    ) -> AdminResult<()> {
        let realm = self.realm(realm).await?;
        let txn = self.begin().await?;
        if store::registration::delete(&txn, &realm.id, id).await? == 0 {
            return Err(AdminError::not_found(format!(
                "initial access token `{id}`"
            )));
        }
        self.audit(
            &txn,
            &realm.id,
            actor,
            "initial_access_token.deleted",
            id,
            super::diff(
                None::<&InitialAccessTokenView>,
                None::<&InitialAccessTokenView>,
            )?,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
}
