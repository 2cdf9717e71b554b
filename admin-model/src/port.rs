//! The operations of the admin service. The REST API and the console both call these, so a
//! rule (validation, secret hashing, audit) lives in exactly one implementation.

use async_trait::async_trait;

use crate::*;

pub type AdminResult<T> = Result<T, AdminError>;

/// Every admin operation, one trait per resource so each is implemented beside its rules.
/// Realms are addressed by name; everything that changes state takes the [`Actor`] so the
/// audit event can say who. Calls through `dyn AdminPort` reach every operation.
pub trait AdminPort:
    AdminAuth
    + RealmAdmin
    + ClientAdmin
    + UserAdmin
    + RoleAdmin
    + IdentityProviderAdmin
    + DirectoryAdmin
    + CatalogAdmin
    + OperationsAdmin
{
}

impl<T> AdminPort for T where
    T: AdminAuth
        + RealmAdmin
        + ClientAdmin
        + UserAdmin
        + RoleAdmin
        + IdentityProviderAdmin
        + DirectoryAdmin
        + CatalogAdmin
        + OperationsAdmin
{
}

/// Who may administer: bearer tokens and console credentials of realm `master`.
#[async_trait]
pub trait AdminAuth: Send + Sync {
    /// Who holds this bearer access token of realm `master`, if it may administer.
    async fn authenticate_token(&self, token: &str) -> AdminResult<Actor>;
    /// Who has these console credentials (realm `master`, role `admin`). `code` is a TOTP or
    /// recovery code, needed where realm `master`'s policy asks the user for a second factor.
    async fn authenticate_password(
        &self,
        username: &str,
        password: &str,
        code: Option<&str>,
    ) -> AdminResult<Actor>;
    /// Whether the actor still may administer (still enabled, still holding the role).
    async fn still_admin(&self, actor: &Actor) -> AdminResult<bool>;
}

/// Realms, addressed by name.
#[async_trait]
pub trait RealmAdmin: Send + Sync {
    async fn list_realms(&self, page: PageRequest) -> AdminResult<Page<RealmView>>;
    async fn get_realm(&self, realm: &str) -> AdminResult<RealmView>;
    async fn create_realm(&self, actor: &Actor, input: RealmInput) -> AdminResult<RealmView>;
    async fn update_realm(
        &self,
        actor: &Actor,
        realm: &str,
        input: RealmInput,
    ) -> AdminResult<RealmView>;
    async fn delete_realm(&self, actor: &Actor, realm: &str) -> AdminResult<()>;
    async fn realm_summary(&self, realm: &str) -> AdminResult<RealmSummary>;
    /// The realm's SMTP settings (404 when it has none).
    async fn get_smtp(&self, realm: &str) -> AdminResult<SmtpView>;
    async fn put_smtp(&self, actor: &Actor, realm: &str, input: SmtpInput)
        -> AdminResult<SmtpView>;
    async fn delete_smtp(&self, actor: &Actor, realm: &str) -> AdminResult<()>;
    /// The salt of the realm's revocation lists; reading it is audited.
    async fn revocation_salt(&self, actor: &Actor, realm: &str) -> AdminResult<RevocationSaltView>;
    /// The realm as one JSON document (realms as code). With `include_keys` it carries the
    /// signing keys and sealed secrets, still encrypted with the master key, and is audited.
    async fn export_realm(
        &self,
        actor: &Actor,
        realm: &str,
        include_keys: bool,
    ) -> AdminResult<serde_json::Value>;
    /// Brings the realm a document names in line with it, creating it if need be, in one
    /// transaction; `dry_run` reports the changes and makes none.
    async fn import_realm(
        &self,
        actor: &Actor,
        document: serde_json::Value,
        dry_run: bool,
    ) -> AdminResult<ImportReport>;
}

/// Clients of a realm and their secrets.
#[async_trait]
pub trait ClientAdmin: Send + Sync {
    async fn list_clients(&self, realm: &str, page: PageRequest) -> AdminResult<Page<ClientView>>;
    async fn get_client(&self, realm: &str, client_id: &str) -> AdminResult<ClientView>;
    async fn create_client(
        &self,
        actor: &Actor,
        realm: &str,
        input: ClientInput,
    ) -> AdminResult<ClientCreated>;
    async fn update_client(
        &self,
        actor: &Actor,
        realm: &str,
        client_id: &str,
        input: ClientInput,
    ) -> AdminResult<ClientView>;
    async fn delete_client(&self, actor: &Actor, realm: &str, client_id: &str) -> AdminResult<()>;
    async fn rotate_client_secret(
        &self,
        actor: &Actor,
        realm: &str,
        client_id: &str,
    ) -> AdminResult<ClientSecret>;
    /// Initial access tokens of a realm whose registration policy is `initial_token`.
    async fn list_initial_access_tokens(
        &self,
        realm: &str,
    ) -> AdminResult<Vec<InitialAccessTokenView>>;
    async fn create_initial_access_token(
        &self,
        actor: &Actor,
        realm: &str,
        input: InitialAccessTokenInput,
    ) -> AdminResult<InitialAccessTokenCreated>;
    async fn delete_initial_access_token(
        &self,
        actor: &Actor,
        realm: &str,
        id: &str,
    ) -> AdminResult<()>;
}

/// Users of a realm: profile, password, lockout.
#[async_trait]
pub trait UserAdmin: Send + Sync {
    /// Users, ordered by username; `username` filters by prefix.
    async fn list_users(
        &self,
        realm: &str,
        username: Option<&str>,
        page: PageRequest,
    ) -> AdminResult<Page<UserView>>;
    async fn get_user(&self, realm: &str, id: &str) -> AdminResult<UserView>;
    async fn create_user(
        &self,
        actor: &Actor,
        realm: &str,
        input: UserInput,
    ) -> AdminResult<UserView>;
    async fn update_user(
        &self,
        actor: &Actor,
        realm: &str,
        id: &str,
        input: UserInput,
    ) -> AdminResult<UserView>;
    async fn delete_user(&self, actor: &Actor, realm: &str, id: &str) -> AdminResult<()>;
    async fn set_user_password(
        &self,
        actor: &Actor,
        realm: &str,
        id: &str,
        password: &str,
    ) -> AdminResult<UserView>;
    async fn unlock_user(&self, actor: &Actor, realm: &str, id: &str) -> AdminResult<UserView>;
    /// The user's second factors (secrets never shown).
    async fn list_credentials(&self, realm: &str, id: &str) -> AdminResult<Vec<CredentialView>>;
    /// Removes one (a reset: the user enrols again when a second factor is required).
    async fn delete_credential(
        &self,
        actor: &Actor,
        realm: &str,
        id: &str,
        credential: &str,
    ) -> AdminResult<()>;
    /// The user's live sessions, newest first.
    async fn list_user_sessions(&self, realm: &str, id: &str) -> AdminResult<Vec<SessionView>>;
    /// Ends every live session of the user (refresh tokens revoked, back-channel logout sent);
    /// returns how many ended.
    async fn end_user_sessions(&self, actor: &Actor, realm: &str, id: &str) -> AdminResult<usize>;
    /// Replaces the actions the user takes at their next sign-in.
    async fn set_required_actions(
        &self,
        actor: &Actor,
        realm: &str,
        id: &str,
        actions: Vec<String>,
    ) -> AdminResult<UserView>;
    /// Sets the user's TOTP secret (imported, or generated), replacing any they had.
    async fn set_totp(
        &self,
        actor: &Actor,
        realm: &str,
        id: &str,
        input: TotpInput,
    ) -> AdminResult<TotpCreated>;
}

/// A realm's roles, addressed by name.
#[async_trait]
pub trait RoleAdmin: Send + Sync {
    async fn list_roles(&self, realm: &str, page: PageRequest) -> AdminResult<Page<RoleView>>;
    async fn get_role(&self, realm: &str, name: &str) -> AdminResult<RoleView>;
    async fn create_role(
        &self,
        actor: &Actor,
        realm: &str,
        input: RoleInput,
    ) -> AdminResult<RoleView>;
    async fn update_role(
        &self,
        actor: &Actor,
        realm: &str,
        name: &str,
        input: RoleInput,
    ) -> AdminResult<RoleView>;
    /// Removes the role from its users and from the roles including it; refused while a
    /// client holds it.
    async fn delete_role(&self, actor: &Actor, realm: &str, name: &str) -> AdminResult<()>;
}

/// A realm's upstream identity providers (federation), addressed by alias, and users' links
/// to upstream accounts.
#[async_trait]
pub trait IdentityProviderAdmin: Send + Sync {
    async fn list_identity_providers(
        &self,
        realm: &str,
        page: PageRequest,
    ) -> AdminResult<Page<IdentityProviderView>>;
    async fn get_identity_provider(
        &self,
        realm: &str,
        alias: &str,
    ) -> AdminResult<IdentityProviderView>;
    async fn create_identity_provider(
        &self,
        actor: &Actor,
        realm: &str,
        input: IdentityProviderInput,
    ) -> AdminResult<IdentityProviderView>;
    async fn update_identity_provider(
        &self,
        actor: &Actor,
        realm: &str,
        alias: &str,
        input: IdentityProviderInput,
    ) -> AdminResult<IdentityProviderView>;
    /// Removes the provider and every link to it (its users stay).
    async fn delete_identity_provider(
        &self,
        actor: &Actor,
        realm: &str,
        alias: &str,
    ) -> AdminResult<()>;
    /// Fetches the provider's discovery document and keys, as a sign-in would.
    async fn test_identity_provider(
        &self,
        realm: &str,
        alias: &str,
    ) -> AdminResult<ConnectionCheck>;
    async fn list_user_links(&self, realm: &str, id: &str) -> AdminResult<Vec<FederatedLinkView>>;
    async fn delete_user_link(
        &self,
        actor: &Actor,
        realm: &str,
        id: &str,
        alias: &str,
    ) -> AdminResult<()>;
}

/// A realm's LDAP / Active Directory directories, addressed by name.
#[async_trait]
pub trait DirectoryAdmin: Send + Sync {
    async fn list_directories(
        &self,
        realm: &str,
        page: PageRequest,
    ) -> AdminResult<Page<DirectoryView>>;
    async fn get_directory(&self, realm: &str, name: &str) -> AdminResult<DirectoryView>;
    async fn create_directory(
        &self,
        actor: &Actor,
        realm: &str,
        input: DirectoryInput,
    ) -> AdminResult<DirectoryView>;
    async fn update_directory(
        &self,
        actor: &Actor,
        realm: &str,
        name: &str,
        input: DirectoryInput,
    ) -> AdminResult<DirectoryView>;
    /// Removes the directory and its links (the users made from it stay, without a password).
    async fn delete_directory(&self, actor: &Actor, realm: &str, name: &str) -> AdminResult<()>;
    /// Connects, binds as the service account and reads the user base.
    async fn test_directory(&self, realm: &str, name: &str) -> AdminResult<DirectoryCheck>;
}

/// What tokens may carry: scopes, API resources, claim types, exchange policies.
#[async_trait]
pub trait CatalogAdmin: Send + Sync {
    async fn list_scopes(&self, realm: &str, page: PageRequest) -> AdminResult<Page<ScopeView>>;
    async fn get_scope(&self, realm: &str, name: &str) -> AdminResult<ScopeView>;
    async fn create_scope(
        &self,
        actor: &Actor,
        realm: &str,
        input: ScopeInput,
    ) -> AdminResult<ScopeView>;
    async fn update_scope(
        &self,
        actor: &Actor,
        realm: &str,
        name: &str,
        input: ScopeInput,
    ) -> AdminResult<ScopeView>;
    async fn delete_scope(&self, actor: &Actor, realm: &str, name: &str) -> AdminResult<()>;
    async fn list_api_resources(
        &self,
        realm: &str,
        page: PageRequest,
    ) -> AdminResult<Page<ApiResourceView>>;
    async fn get_api_resource(&self, realm: &str, name: &str) -> AdminResult<ApiResourceView>;
    async fn create_api_resource(
        &self,
        actor: &Actor,
        realm: &str,
        input: ApiResourceInput,
    ) -> AdminResult<ApiResourceView>;
    async fn update_api_resource(
        &self,
        actor: &Actor,
        realm: &str,
        name: &str,
        input: ApiResourceInput,
    ) -> AdminResult<ApiResourceView>;
    async fn delete_api_resource(&self, actor: &Actor, realm: &str, name: &str) -> AdminResult<()>;
    async fn list_claim_types(
        &self,
        realm: &str,
        page: PageRequest,
    ) -> AdminResult<Page<ClaimTypeView>>;
    async fn get_claim_type(&self, realm: &str, name: &str) -> AdminResult<ClaimTypeView>;
    async fn create_claim_type(
        &self,
        actor: &Actor,
        realm: &str,
        input: ClaimTypeInput,
    ) -> AdminResult<ClaimTypeView>;
    async fn update_claim_type(
        &self,
        actor: &Actor,
        realm: &str,
        name: &str,
        input: ClaimTypeInput,
    ) -> AdminResult<ClaimTypeView>;
    async fn delete_claim_type(&self, actor: &Actor, realm: &str, name: &str) -> AdminResult<()>;
    async fn list_exchange_policies(
        &self,
        realm: &str,
        page: PageRequest,
    ) -> AdminResult<Page<ExchangePolicyView>>;
    async fn get_exchange_policy(
        &self,
        realm: &str,
        client_id: &str,
    ) -> AdminResult<ExchangePolicyView>;
    async fn create_exchange_policy(
        &self,
        actor: &Actor,
        realm: &str,
        input: ExchangePolicyInput,
    ) -> AdminResult<ExchangePolicyView>;
    async fn update_exchange_policy(
        &self,
        actor: &Actor,
        realm: &str,
        client_id: &str,
        input: ExchangePolicyInput,
    ) -> AdminResult<ExchangePolicyView>;
    async fn delete_exchange_policy(
        &self,
        actor: &Actor,
        realm: &str,
        client_id: &str,
    ) -> AdminResult<()>;
}

/// Running a realm: signing keys, revocations, sessions, the audit log.
#[async_trait]
pub trait OperationsAdmin: Send + Sync {
    /// Published keys, active first.
    async fn list_keys(&self, realm: &str) -> AdminResult<Vec<KeyView>>;
    /// Publishes new active keys; the old ones stay published until their tokens expire.
    async fn rotate_keys(&self, actor: &Actor, realm: &str) -> AdminResult<Vec<KeyView>>;
    async fn list_revocations(
        &self,
        realm: &str,
        page: PageRequest,
    ) -> AdminResult<Page<RevocationView>>;
    async fn create_revocation(
        &self,
        actor: &Actor,
        realm: &str,
        input: RevocationInput,
    ) -> AdminResult<RevocationView>;
    async fn delete_revocation(&self, actor: &Actor, realm: &str, id: &str) -> AdminResult<()>;
    /// Live sessions, newest first.
    async fn list_sessions(&self, realm: &str, page: PageRequest)
        -> AdminResult<Page<SessionView>>;
    /// Ends the session, its refresh tokens, and tells its clients (back-channel logout).
    async fn end_session(&self, actor: &Actor, realm: &str, id: &str) -> AdminResult<()>;
    async fn list_events(&self, realm: &str, filter: EventFilter) -> AdminResult<Page<EventView>>;
}
