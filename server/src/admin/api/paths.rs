//! The path parameters of the admin API, by name: each route's `{…}` keys as one struct.

use serde::Deserialize;

/// `/realms/{realm}…`
#[derive(Debug, Deserialize)]
pub struct RealmPath {
    pub realm: String,
}

/// `/realms/{realm}/clients/{client_id}…` and `/realms/{realm}/exchange-policies/{client_id}`.
#[derive(Debug, Deserialize)]
pub struct ClientPath {
    pub realm: String,
    pub client_id: String,
}

/// Items keyed by name: `/realms/{realm}/scopes/{name}`, `…/api-resources/{name}`,
/// `…/claim-types/{name}`.
#[derive(Debug, Deserialize)]
pub struct NamePath {
    pub realm: String,
    pub name: String,
}

/// Items keyed by id: `/realms/{realm}/users/{id}…`, `…/revocations/{id}`, `…/sessions/{id}`.
#[derive(Debug, Deserialize)]
pub struct IdPath {
    pub realm: String,
    pub id: String,
}

/// `/realms/{realm}/users/{id}/credentials/{credential}`
#[derive(Debug, Deserialize)]
pub struct CredentialPath {
    pub realm: String,
    pub id: String,
    pub credential: String,
}

/// `/realms/{realm}/identity-providers/{alias}…`
#[derive(Debug, Deserialize)]
pub struct AliasPath {
    pub realm: String,
    pub alias: String,
}

/// `/realms/{realm}/users/{id}/links/{alias}`
#[derive(Debug, Deserialize)]
pub struct UserLinkPath {
    pub realm: String,
    pub id: String,
    pub alias: String,
}
