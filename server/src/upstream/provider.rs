//! A realm's upstream provider as the broker uses it, read from its stored row.

use std::collections::BTreeMap;

use crate::store::identity_providers::IdentityProviderRow;

/// How the upstream speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// OpenID Connect: an ID token, validated against the upstream's keys.
    Oidc,
    /// Plain OAuth 2: who signed in comes from a userinfo URL alone.
    OAuth2,
}

impl Kind {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "oidc" => Some(Self::Oidc),
            "oauth2" => Some(Self::OAuth2),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Oidc => "oidc",
            Self::OAuth2 => "oauth2",
        }
    }
}

/// How Tessera authenticates to the upstream's token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    Basic,
    Post,
}

impl ClientAuth {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "client_secret_basic" => Some(Self::Basic),
            "client_secret_post" => Some(Self::Post),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Basic => "client_secret_basic",
            Self::Post => "client_secret_post",
        }
    }
}

/// When mapped claims are copied to the local user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// At the first login, which creates the user.
    Import,
    /// At every login.
    Force,
}

impl SyncMode {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "import" => Some(Self::Import),
            "force" => Some(Self::Force),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Import => "import",
            Self::Force => "force",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Provider {
    pub id: String,
    pub realm_id: String,
    pub alias: String,
    pub kind: Kind,
    pub display_name: String,
    pub enabled: bool,
    pub issuer: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
    pub client_id: String,
    pub client_secret_sealed: Option<String>,
    pub client_auth: ClientAuth,
    pub scopes: Vec<String>,
    pub pkce: bool,
    pub subject_claim: String,
    /// Upstream claim → `username` | `email` | `name` | a local claim.
    pub claim_mappings: BTreeMap<String, String>,
    pub sync: SyncMode,
    pub link_by_verified_email: bool,
    pub create_users: bool,
}

impl Provider {
    /// The provider a stored row describes; `None` when the row holds values no version of
    /// Tessera writes.
    pub fn from_row(row: &IdentityProviderRow) -> Option<Self> {
        let claim_mappings =
            crate::store::string_map(&row.claim_mappings, "identity_providers.claim_mappings")
                .ok()?;
        Some(Self {
            id: row.id.clone(),
            realm_id: row.realm_id.clone(),
            alias: row.alias.clone(),
            kind: Kind::parse(&row.kind)?,
            display_name: row.display_name.clone(),
            enabled: row.enabled,
            issuer: row.issuer.clone(),
            authorization_endpoint: row.authorization_endpoint.clone(),
            token_endpoint: row.token_endpoint.clone(),
            userinfo_endpoint: row.userinfo_endpoint.clone(),
            jwks_uri: row.jwks_uri.clone(),
            client_id: row.client_id.clone(),
            client_secret_sealed: row.client_secret_sealed.clone(),
            client_auth: ClientAuth::parse(&row.client_auth_method)?,
            scopes: row.scopes.split_whitespace().map(str::to_string).collect(),
            pkce: row.pkce,
            subject_claim: row.subject_claim.clone(),
            claim_mappings,
            sync: SyncMode::parse(&row.sync_mode)?,
            link_by_verified_email: row.link_by_verified_email,
            create_users: row.create_users,
        })
    }
}
