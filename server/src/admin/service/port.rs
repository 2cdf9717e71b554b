//! `AdminPort` for the service: each operation delegates to the inherent method of the same
//! name (defined beside its resource).

use admin_model::*;
use async_trait::async_trait;

use super::AdminService;

#[async_trait]
impl AdminPort for AdminService {
    async fn authenticate_token(&self, token: &str) -> AdminResult<Actor> {
        AdminService::authenticate_token(self, token).await
    }
    async fn authenticate_password(&self, username: &str, password: &str) -> AdminResult<Actor> {
        AdminService::authenticate_password(self, username, password).await
    }
    async fn still_admin(&self, actor: &Actor) -> AdminResult<bool> {
        AdminService::still_admin(self, actor).await
    }
    async fn list_realms(&self, page: PageRequest) -> AdminResult<Page<RealmView>> {
        AdminService::list_realms(self, page).await
    }
    async fn get_realm(&self, realm: &str) -> AdminResult<RealmView> {
        AdminService::get_realm(self, realm).await
    }
    async fn create_realm(&self, actor: &Actor, input: RealmInput) -> AdminResult<RealmView> {
        AdminService::create_realm(self, actor, input).await
    }
    async fn update_realm(
        &self,
        actor: &Actor,
        realm: &str,
        input: RealmInput,
    ) -> AdminResult<RealmView> {
        AdminService::update_realm(self, actor, realm, input).await
    }
    async fn delete_realm(&self, actor: &Actor, realm: &str) -> AdminResult<()> {
        AdminService::delete_realm(self, actor, realm).await
    }
    async fn realm_summary(&self, realm: &str) -> AdminResult<RealmSummary> {
        AdminService::realm_summary(self, realm).await
    }
    async fn list_clients(&self, realm: &str, page: PageRequest) -> AdminResult<Page<ClientView>> {
        AdminService::list_clients(self, realm, page).await
    }
    async fn get_client(&self, realm: &str, client_id: &str) -> AdminResult<ClientView> {
        AdminService::get_client(self, realm, client_id).await
    }
    async fn create_client(
        &self,
        actor: &Actor,
        realm: &str,
        input: ClientInput,
    ) -> AdminResult<ClientCreated> {
        AdminService::create_client(self, actor, realm, input).await
    }
    async fn update_client(
        &self,
        actor: &Actor,
        realm: &str,
        client_id: &str,
        input: ClientInput,
    ) -> AdminResult<ClientView> {
        AdminService::update_client(self, actor, realm, client_id, input).await
    }
    async fn delete_client(&self, actor: &Actor, realm: &str, client_id: &str) -> AdminResult<()> {
        AdminService::delete_client(self, actor, realm, client_id).await
    }
    async fn rotate_client_secret(
        &self,
        actor: &Actor,
        realm: &str,
        client_id: &str,
    ) -> AdminResult<ClientSecret> {
        AdminService::rotate_client_secret(self, actor, realm, client_id).await
    }
    async fn list_users(
        &self,
        realm: &str,
        username: Option<&str>,
        page: PageRequest,
    ) -> AdminResult<Page<UserView>> {
        AdminService::list_users(self, realm, username, page).await
    }
    async fn get_user(&self, realm: &str, id: &str) -> AdminResult<UserView> {
        AdminService::get_user(self, realm, id).await
    }
    async fn create_user(
        &self,
        actor: &Actor,
        realm: &str,
        input: UserInput,
    ) -> AdminResult<UserView> {
        AdminService::create_user(self, actor, realm, input).await
    }
    async fn update_user(
        &self,
        actor: &Actor,
        realm: &str,
        id: &str,
        input: UserInput,
    ) -> AdminResult<UserView> {
        AdminService::update_user(self, actor, realm, id, input).await
    }
    async fn delete_user(&self, actor: &Actor, realm: &str, id: &str) -> AdminResult<()> {
        AdminService::delete_user(self, actor, realm, id).await
    }
    async fn set_user_password(
        &self,
        actor: &Actor,
        realm: &str,
        id: &str,
        password: &str,
    ) -> AdminResult<UserView> {
        AdminService::set_user_password(self, actor, realm, id, password).await
    }
    async fn unlock_user(&self, actor: &Actor, realm: &str, id: &str) -> AdminResult<UserView> {
        AdminService::unlock_user(self, actor, realm, id).await
    }
    async fn list_scopes(&self, realm: &str, page: PageRequest) -> AdminResult<Page<ScopeView>> {
        AdminService::list_scopes(self, realm, page).await
    }
    async fn get_scope(&self, realm: &str, name: &str) -> AdminResult<ScopeView> {
        AdminService::get_scope(self, realm, name).await
    }
    async fn create_scope(
        &self,
        actor: &Actor,
        realm: &str,
        input: ScopeInput,
    ) -> AdminResult<ScopeView> {
        AdminService::create_scope(self, actor, realm, input).await
    }
    async fn update_scope(
        &self,
        actor: &Actor,
        realm: &str,
        name: &str,
        input: ScopeInput,
    ) -> AdminResult<ScopeView> {
        AdminService::update_scope(self, actor, realm, name, input).await
    }
    async fn delete_scope(&self, actor: &Actor, realm: &str, name: &str) -> AdminResult<()> {
        AdminService::delete_scope(self, actor, realm, name).await
    }
    async fn list_api_resources(
        &self,
        realm: &str,
        page: PageRequest,
    ) -> AdminResult<Page<ApiResourceView>> {
        AdminService::list_api_resources(self, realm, page).await
    }
    async fn get_api_resource(&self, realm: &str, name: &str) -> AdminResult<ApiResourceView> {
        AdminService::get_api_resource(self, realm, name).await
    }
    async fn create_api_resource(
        &self,
        actor: &Actor,
        realm: &str,
        input: ApiResourceInput,
    ) -> AdminResult<ApiResourceView> {
        AdminService::create_api_resource(self, actor, realm, input).await
    }
    async fn update_api_resource(
        &self,
        actor: &Actor,
        realm: &str,
        name: &str,
        input: ApiResourceInput,
    ) -> AdminResult<ApiResourceView> {
        AdminService::update_api_resource(self, actor, realm, name, input).await
    }
    async fn delete_api_resource(&self, actor: &Actor, realm: &str, name: &str) -> AdminResult<()> {
        AdminService::delete_api_resource(self, actor, realm, name).await
    }
    async fn list_claim_types(
        &self,
        realm: &str,
        page: PageRequest,
    ) -> AdminResult<Page<ClaimTypeView>> {
        AdminService::list_claim_types(self, realm, page).await
    }
    async fn get_claim_type(&self, realm: &str, name: &str) -> AdminResult<ClaimTypeView> {
        AdminService::get_claim_type(self, realm, name).await
    }
    async fn create_claim_type(
        &self,
        actor: &Actor,
        realm: &str,
        input: ClaimTypeInput,
    ) -> AdminResult<ClaimTypeView> {
        AdminService::create_claim_type(self, actor, realm, input).await
    }
    async fn update_claim_type(
        &self,
        actor: &Actor,
        realm: &str,
        name: &str,
        input: ClaimTypeInput,
    ) -> AdminResult<ClaimTypeView> {
        AdminService::update_claim_type(self, actor, realm, name, input).await
    }
    async fn delete_claim_type(&self, actor: &Actor, realm: &str, name: &str) -> AdminResult<()> {
        AdminService::delete_claim_type(self, actor, realm, name).await
    }
    async fn list_exchange_policies(
        &self,
        realm: &str,
        page: PageRequest,
    ) -> AdminResult<Page<ExchangePolicyView>> {
        AdminService::list_exchange_policies(self, realm, page).await
    }
    async fn get_exchange_policy(
        &self,
        realm: &str,
        client_id: &str,
    ) -> AdminResult<ExchangePolicyView> {
        AdminService::get_exchange_policy(self, realm, client_id).await
    }
    async fn create_exchange_policy(
        &self,
        actor: &Actor,
        realm: &str,
        input: ExchangePolicyInput,
    ) -> AdminResult<ExchangePolicyView> {
        AdminService::create_exchange_policy(self, actor, realm, input).await
    }
    async fn update_exchange_policy(
        &self,
        actor: &Actor,
        realm: &str,
        client_id: &str,
        input: ExchangePolicyInput,
    ) -> AdminResult<ExchangePolicyView> {
        AdminService::update_exchange_policy(self, actor, realm, client_id, input).await
    }
    async fn delete_exchange_policy(
        &self,
        actor: &Actor,
        realm: &str,
        client_id: &str,
    ) -> AdminResult<()> {
        AdminService::delete_exchange_policy(self, actor, realm, client_id).await
    }
    async fn list_keys(&self, realm: &str) -> AdminResult<Vec<KeyView>> {
        AdminService::list_keys(self, realm).await
    }
    async fn rotate_keys(&self, actor: &Actor, realm: &str) -> AdminResult<Vec<KeyView>> {
        AdminService::rotate_keys(self, actor, realm).await
    }
    async fn list_revocations(
        &self,
        realm: &str,
        page: PageRequest,
    ) -> AdminResult<Page<RevocationView>> {
        AdminService::list_revocations(self, realm, page).await
    }
    async fn create_revocation(
        &self,
        actor: &Actor,
        realm: &str,
        input: RevocationInput,
    ) -> AdminResult<RevocationView> {
        AdminService::create_revocation(self, actor, realm, input).await
    }
    async fn delete_revocation(&self, actor: &Actor, realm: &str, id: &str) -> AdminResult<()> {
        AdminService::delete_revocation(self, actor, realm, id).await
    }
    async fn list_sessions(
        &self,
        realm: &str,
        page: PageRequest,
    ) -> AdminResult<Page<SessionView>> {
        AdminService::list_sessions(self, realm, page).await
    }
    async fn end_session(&self, actor: &Actor, realm: &str, id: &str) -> AdminResult<()> {
        AdminService::end_session(self, actor, realm, id).await
    }
    async fn list_events(&self, realm: &str, filter: EventFilter) -> AdminResult<Page<EventView>> {
        AdminService::list_events(self, realm, filter).await
    }
}
