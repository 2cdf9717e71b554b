//! The TOML seed file (`TESSERA_SEED_FILE`, `tessera seed --file`). Unknown keys are errors so
//! a typo never silently drops a setting. See `seed/examples/acme.toml` and the README.

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot parse the seed file: {0}")]
    Toml(#[from] toml::de::Error),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    #[serde(default)]
    pub realms: Vec<RealmSeed>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealmSeed {
    pub name: String,
    pub display_name: Option<String>,
    #[serde(default)]
    pub decentralized: bool,
    /// Access tokens: `ES256` (default), `RS256` or `EdDSA`.
    pub signing_alg: Option<String>,
    /// ID tokens: `RS256` (default), `ES256` or `EdDSA`.
    pub id_token_signing_alg: Option<String>,
    /// `realm` (default), `client` or `shared`.
    pub cookie_mode: Option<String>,
    pub access_token_lifetime: Option<i64>,
    pub refresh_token_lifetime: Option<i64>,
    /// Sliding window of a refresh token (renewed on each use, never past the absolute lifetime).
    pub refresh_token_sliding_lifetime: Option<i64>,
    pub id_token_lifetime: Option<i64>,
    pub code_lifetime: Option<i64>,
    pub device_code_lifetime: Option<i64>,
    /// Seconds (0–300) in which a retried refresh gets the same tokens; 0 makes any reuse
    /// revoke the family. Empty: the realm's, then the server's default.
    pub refresh_reuse_grace: Option<i64>,
    /// Second factors: `off`, `optional` (default) or `required`.
    #[serde(default)]
    pub mfa: Option<String>,
    #[serde(default)]
    pub scopes: Vec<ScopeSeed>,
    #[serde(default)]
    pub api_resources: Vec<ApiResourceSeed>,
    #[serde(default)]
    pub clients: Vec<ClientSeed>,
    #[serde(default)]
    pub users: Vec<UserSeed>,
    #[serde(default)]
    pub exchange_policies: Vec<ExchangePolicySeed>,
    #[serde(default)]
    pub trusted_issuers: Vec<TrustedIssuerSeed>,
}

/// Which client may exchange tokens (RFC 8693), for which audiences and scopes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangePolicySeed {
    pub client_id: String,
    pub audiences: Vec<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Clients whose tokens may be exchanged; empty means any.
    #[serde(default)]
    pub subject_clients: Vec<String>,
    #[serde(default)]
    pub allow_delegation: bool,
}

/// An issuer whose JWTs token exchange accepts, with the URL of its JWKS.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedIssuerSeed {
    pub issuer: String,
    pub jwks_url: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeSeed {
    pub name: String,
    pub description: Option<String>,
    /// Claim types released when the scope is granted.
    #[serde(default)]
    pub claims: Vec<String>,
    /// Audience (API resource) the scope belongs to.
    pub audience: Option<String>,
    /// Whether the scope's claims also go into access tokens (not only ID tokens and userinfo).
    #[serde(default)]
    pub include_in_access_token: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiResourceSeed {
    /// The audience value tokens for this API carry.
    pub name: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Secret with which the API authenticates at the introspection endpoint.
    pub secret: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSeed {
    pub client_id: String,
    pub display_name: Option<String>,
    #[serde(default)]
    pub public: bool,
    /// Required for confidential clients in a seed file (it is never printed).
    pub secret: Option<String>,
    pub grant_types: Vec<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub audiences: Vec<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    pub require_pkce: Option<bool>,
    #[serde(default)]
    pub require_consent: bool,
    #[serde(default)]
    pub allow_arbitrary_claims: bool,
    pub access_token_lifetime: Option<i64>,
    pub refresh_token_lifetime: Option<i64>,
    /// Sliding window of a refresh token (renewed on each use, never past the absolute lifetime).
    pub refresh_token_sliding_lifetime: Option<i64>,
    pub id_token_lifetime: Option<i64>,
    pub code_lifetime: Option<i64>,
    pub device_code_lifetime: Option<i64>,
    /// Seconds (0–300) in which a retried refresh gets the same tokens; 0 makes any reuse
    /// revoke the family. Empty: the realm's, then the server's default.
    pub refresh_reuse_grace: Option<i64>,
    /// Second factors: `inherit` (default) or `required`.
    #[serde(default)]
    pub mfa: Option<String>,
    /// Overrides the realm's access-token algorithm.
    pub access_token_signing_alg: Option<String>,
    /// Overrides the realm's ID-token algorithm.
    pub id_token_signing_alg: Option<String>,
    /// Where signed logout tokens are POSTed when a session of this client ends.
    pub backchannel_logout_uri: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSeed {
    pub username: String,
    pub password: Option<String>,
    pub email: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    /// Arbitrary claims, e.g. `{ name = "Alice", department = "R&D" }`.
    #[serde(default)]
    pub claims: toml::Table,
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn enabled() -> bool {
    true
}

/// Parses a seed file's text.
pub fn parse(text: &str) -> Result<SeedFile, SeedError> {
    Ok(toml::from_str(text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses() {
        let file = parse(include_str!("../examples/acme.toml")).unwrap();
        let acme = &file.realms[0];
        assert_eq!(acme.name, "acme");
        assert!(!acme.clients.is_empty());
        assert!(!acme.users.is_empty());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = parse("[[realms]]\nname = \"x\"\nsigning_algo = \"ES256\"\n").unwrap_err();
        assert!(err.to_string().contains("signing_algo"), "{err}");
    }
}
