//! The domain as the protocol sees it: realms and clients in plain Rust types, decoded once
//! from their rows and cached (see `directory`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The JWS algorithms Tessera signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlg {
    ES256,
    RS256,
    EdDSA,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 3] = [SigningAlg::ES256, SigningAlg::RS256, SigningAlg::EdDSA];
    /// The algorithms whose keys take microseconds to make: a new realm gets these at once,
    /// and an RSA key (tens of milliseconds) on first use.
    pub const EAGER: [SigningAlg; 2] = [SigningAlg::ES256, SigningAlg::EdDSA];

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::ES256 => "ES256",
            SigningAlg::RS256 => "RS256",
            SigningAlg::EdDSA => "EdDSA",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl std::fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// System defaults of the lifetime hierarchy (CONTRACT §3), in seconds.
pub mod default_lifetime {
    pub const ACCESS_TOKEN: i64 = 3600;
    pub const REFRESH_TOKEN: i64 = 30 * 24 * 3600;
    pub const REFRESH_TOKEN_SLIDING: i64 = 14 * 24 * 3600;
    pub const ID_TOKEN: i64 = 3600;
    pub const CODE: i64 = 60;
    pub const DEVICE_CODE: i64 = 600;
}

/// Per-realm or per-client overrides; `None` defers to the next level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifetimeOverrides {
    pub access_token: Option<i64>,
    pub refresh_token: Option<i64>,
    pub refresh_token_sliding: Option<i64>,
    pub id_token: Option<i64>,
    pub code: Option<i64>,
    pub device_code: Option<i64>,
    /// Seconds in which a rotated refresh token may come back as a retry; 0 allows none.
    pub refresh_reuse_grace: Option<i64>,
}

/// Lifetimes after resolving client override → realm default → system default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    pub access_token: i64,
    pub refresh_token: i64,
    pub refresh_token_sliding: i64,
    pub id_token: i64,
    pub code: i64,
    pub device_code: i64,
    /// Client → realm; `None` defers to the system default (`TESSERA_REFRESH_GRACE`, 0).
    pub refresh_reuse_grace: Option<i64>,
}

impl Lifetimes {
    pub fn resolve(client: &LifetimeOverrides, realm: &LifetimeOverrides) -> Self {
        use default_lifetime as d;
        let pick = |c: Option<i64>, r: Option<i64>, s: i64| c.or(r).unwrap_or(s);
        Self {
            access_token: pick(client.access_token, realm.access_token, d::ACCESS_TOKEN),
            refresh_token: pick(client.refresh_token, realm.refresh_token, d::REFRESH_TOKEN),
            refresh_token_sliding: pick(
                client.refresh_token_sliding,
                realm.refresh_token_sliding,
                d::REFRESH_TOKEN_SLIDING,
            ),
            id_token: pick(client.id_token, realm.id_token, d::ID_TOKEN),
            code: pick(client.code, realm.code, d::CODE),
            device_code: pick(client.device_code, realm.device_code, d::DEVICE_CODE),
            refresh_reuse_grace: client.refresh_reuse_grace.or(realm.refresh_reuse_grace),
        }
    }
}

/// How a realm's login session cookie is scoped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CookieMode {
    /// One cookie per realm (default).
    Realm,
    /// One cookie per client.
    Client,
    /// One cookie shared by every realm.
    Shared,
}

impl CookieMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CookieMode::Realm => "realm",
            CookieMode::Client => "client",
            CookieMode::Shared => "shared",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "realm" => Some(Self::Realm),
            "client" => Some(Self::Client),
            "shared" => Some(Self::Shared),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Realm {
    pub id: String,
    pub name: String,
    pub display_name: Option<String>,
    pub enabled: bool,
    pub decentralized: bool,
    pub signing_alg: SigningAlg,
    pub id_token_signing_alg: SigningAlg,
    pub cookie_mode: CookieMode,
    pub lifetimes: LifetimeOverrides,
    pub mfa: RealmMfa,
    pub revocation_salt: String,
    pub security: RealmSecurity,
}

/// A realm's rules for signed requests and sender-constrained tokens (CONTRACT §10).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RealmSecurity {
    /// Every authorization request must be pushed first (RFC 9126).
    pub require_par: bool,
    /// DPoP proofs must carry a nonce the server handed out (RFC 9449 §8).
    pub use_dpop_nonce: bool,
    pub profile: Option<SecurityProfile>,
    /// Client-supplied URLs may point at private, link-local and loopback addresses.
    pub allow_private_fetch: bool,
    /// Who may register clients at the registration endpoint (RFC 7591).
    pub registration: RegistrationPolicy,
    /// An `https://` client_id is the URL of the client's metadata document.
    pub client_id_metadata_documents: bool,
    /// The scopes clients that identify themselves (open registration, metadata documents)
    /// may ask for; `None`: [`DEFAULT_SELF_SERVICE_SCOPES`].
    pub self_service_scopes: Option<Vec<String>>,
    /// Requests per address and per client on the token, sign-in, device and registration
    /// endpoints.
    pub rate_limits: crate::rate_limit::RateLimits,
}

/// What self-identifying clients may ask for unless the realm says otherwise: signing a user
/// in, nothing that reaches an API.
pub const DEFAULT_SELF_SERVICE_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

impl RealmSecurity {
    /// The scopes clients that identify themselves may ask for.
    pub fn self_service_scopes(&self) -> Vec<&str> {
        match &self.self_service_scopes {
            Some(scopes) => scopes.iter().map(String::as_str).collect(),
            None => DEFAULT_SELF_SERVICE_SCOPES.to_vec(),
        }
    }
}

/// Who may register clients of a realm by themselves (CONTRACT §11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegistrationPolicy {
    /// Only administrators make clients.
    #[default]
    Off,
    /// Software holding an initial access token an administrator made.
    InitialToken,
    /// Anyone, within the open policy: public code + PKCE clients, safe redirect URIs, the
    /// standard OpenID scopes, rate limited per address.
    Open,
}

impl RegistrationPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationPolicy::Off => "off",
            RegistrationPolicy::InitialToken => "initial_token",
            RegistrationPolicy::Open => "open",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "off" => Some(Self::Off),
            "initial_token" => Some(Self::InitialToken),
            "open" => Some(Self::Open),
            _ => None,
        }
    }
}

impl RealmSecurity {
    pub fn fapi2(&self) -> bool {
        self.profile == Some(SecurityProfile::Fapi2)
    }

    /// Whether authorization requests of `client` must be pushed.
    pub fn par_required(&self, client: &Client) -> bool {
        self.require_par || self.fapi2() || client.security.require_par
    }
}

/// A security profile whose rules a realm enforces as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityProfile {
    /// FAPI 2.0 Security Profile: PAR, PKCE S256, confidential clients authenticating with
    /// `private_key_jwt`, sender-constrained (DPoP) tokens, `iss` in responses, short codes.
    Fapi2,
}

impl SecurityProfile {
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityProfile::Fapi2 => "fapi2",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        (s == "fapi2").then_some(Self::Fapi2)
    }
}

/// How a client authenticates at the token endpoint and its siblings (RFC 7591 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenAuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    ClientSecretJwt,
    PrivateKeyJwt,
    None,
}

impl TokenAuthMethod {
    pub const ALL: [TokenAuthMethod; 5] = [
        TokenAuthMethod::ClientSecretBasic,
        TokenAuthMethod::ClientSecretPost,
        TokenAuthMethod::ClientSecretJwt,
        TokenAuthMethod::PrivateKeyJwt,
        TokenAuthMethod::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenAuthMethod::ClientSecretBasic => "client_secret_basic",
            TokenAuthMethod::ClientSecretPost => "client_secret_post",
            TokenAuthMethod::ClientSecretJwt => "client_secret_jwt",
            TokenAuthMethod::PrivateKeyJwt => "private_key_jwt",
            TokenAuthMethod::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// A client's keys and its rules for signed requests and sender-constrained tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientSecurity {
    /// The one method the client must use; `None` accepts both secret methods (or `none` for
    /// a public client), as before methods were configurable.
    pub auth_method: Option<TokenAuthMethod>,
    /// The client's public JWK Set (JSON text), validated when it was saved.
    pub jwks: Option<String>,
    /// Where the client publishes its JWK Set.
    pub jwks_uri: Option<String>,
    pub require_par: bool,
    pub require_signed_request_object: bool,
    /// Access tokens only with a DPoP proof: bound to the client's key (RFC 9449 §5.2).
    pub dpop_bound_access_tokens: bool,
}

impl ClientSecurity {
    /// Whether the client has public keys to verify its signatures with.
    pub fn has_keys(&self) -> bool {
        self.jwks.is_some() || self.jwks_uri.is_some()
    }
}

/// A realm's second-factor policy (CONTRACT §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RealmMfa {
    /// Passwords only: no second factor is asked, even of users who enrolled one.
    Off,
    /// Users who enrolled a second factor use it; others sign in with a password.
    #[default]
    Optional,
    /// Everyone uses a second factor; users without one enrol right after the password.
    Required,
}

impl RealmMfa {
    pub fn as_str(self) -> &'static str {
        match self {
            RealmMfa::Off => "off",
            RealmMfa::Optional => "optional",
            RealmMfa::Required => "required",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "off" => Some(Self::Off),
            "optional" => Some(Self::Optional),
            "required" => Some(Self::Required),
            _ => None,
        }
    }
}

/// A client's second-factor policy: the realm's, or a second factor for every login to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientMfa {
    #[default]
    Inherit,
    Required,
}

impl ClientMfa {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientMfa::Inherit => "inherit",
            ClientMfa::Required => "required",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "inherit" => Some(Self::Inherit),
            "required" => Some(Self::Required),
            _ => None,
        }
    }
}

/// What an administrator may ask a user to do at their next sign-in (CONTRACT §8).
pub mod required_action {
    pub const UPDATE_PASSWORD: &str = "update_password";
    pub const CONFIGURE_TOTP: &str = "configure_totp";
    /// Needs the realm's SMTP settings and an email address on the account.
    pub const VERIFY_EMAIL: &str = "verify_email";

    /// The actions a sign-in carries out.
    pub const SUPPORTED: [&str; 3] = [UPDATE_PASSWORD, CONFIGURE_TOTP, VERIFY_EMAIL];
}

/// The grant types Tessera knows (CONTRACT §3).
pub mod grant_type {
    pub const AUTHORIZATION_CODE: &str = "authorization_code";
    pub const CLIENT_CREDENTIALS: &str = "client_credentials";
    pub const PASSWORD: &str = "password";
    pub const REFRESH_TOKEN: &str = "refresh_token";
    pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
    pub const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
    pub const PUBLIC_REFRESH_TOKEN: &str = "public_refresh_token";

    pub const ALL: [&str; 7] = [
        AUTHORIZATION_CODE,
        CLIENT_CREDENTIALS,
        PASSWORD,
        REFRESH_TOKEN,
        TOKEN_EXCHANGE,
        DEVICE_CODE,
        PUBLIC_REFRESH_TOKEN,
    ];
}

#[derive(Debug, Clone)]
pub struct StoredSecret {
    pub hash: String,
    /// The secret itself, sealed with the master key; kept only for `client_secret_jwt`.
    pub sealed: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct Client {
    /// Row id (stable across client_id renames).
    pub pk: String,
    pub realm_id: String,
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
    pub secrets: Vec<StoredSecret>,
    pub security: ClientSecurity,
}

impl Client {
    pub fn allows_grant(&self, grant: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant)
    }
}

/// An API resource: an audience owning scopes, optionally allowed to introspect.
#[derive(Debug, Clone)]
pub struct ApiResource {
    pub name: String,
    pub scopes: Vec<String>,
    pub secret_hash: Option<String>,
    pub enabled: bool,
}

/// A scope of the realm and the claims granting it releases.
#[derive(Debug, Clone)]
pub struct ScopeDef {
    pub name: String,
    pub claims: Vec<String>,
    pub audience: Option<String>,
    pub include_in_access_token: bool,
}

/// A realm's scopes, API resources and composite roles, cached together for the hot paths.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub scopes: Vec<ScopeDef>,
    pub api_resources: Vec<ApiResource>,
    /// Each composite role with the roles it includes directly.
    pub role_composites: std::collections::BTreeMap<String, Vec<String>>,
}

impl Catalog {
    /// The roles `direct` grant: each of them and, through composites, every role they
    /// include, transitively; sorted, each once. Cycles (which the admin refuses to create)
    /// end where a role is met again.
    pub fn effective_roles(&self, direct: &[String]) -> Vec<String> {
        if self.role_composites.is_empty() {
            let mut roles = direct.to_vec();
            roles.sort();
            roles.dedup();
            return roles;
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut pending: Vec<&str> = direct.iter().map(String::as_str).collect();
        while let Some(role) = pending.pop() {
            if seen.insert(role.to_string()) {
                if let Some(children) = self.role_composites.get(role) {
                    pending.extend(children.iter().map(String::as_str));
                }
            }
        }
        seen.into_iter().collect()
    }

    pub fn scope(&self, name: &str) -> Option<&ScopeDef> {
        self.scopes.iter().find(|s| s.name == name)
    }

    /// The audiences owning any of `scopes`: enabled API resources listing them and the
    /// scopes' own `audience`.
    pub fn owners_of<'a>(&'a self, scopes: &'a [String]) -> impl Iterator<Item = &'a String> + 'a {
        let resources = self
            .api_resources
            .iter()
            .filter(|r| r.enabled && r.scopes.iter().any(|s| scopes.contains(s)))
            .map(|r| &r.name);
        let declared = self
            .scopes
            .iter()
            .filter(|s| scopes.contains(&s.name))
            .filter_map(|s| s.audience.as_ref());
        resources.chain(declared)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_roles_expand_transitively_and_survive_cycles() {
        let owned = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let mut catalog = Catalog::default();
        assert_eq!(
            catalog.effective_roles(&owned(&["b", "a", "b"])),
            ["a", "b"]
        );
        catalog
            .role_composites
            .insert("admin".into(), owned(&["editor", "viewer"]));
        catalog
            .role_composites
            .insert("editor".into(), owned(&["viewer", "writer"]));
        catalog
            .role_composites
            .insert("loop".into(), owned(&["loop2"]));
        catalog
            .role_composites
            .insert("loop2".into(), owned(&["loop"]));
        assert_eq!(
            catalog.effective_roles(&owned(&["admin"])),
            ["admin", "editor", "viewer", "writer"]
        );
        assert_eq!(catalog.effective_roles(&owned(&["viewer"])), ["viewer"]);
        assert_eq!(
            catalog.effective_roles(&owned(&["loop"])),
            ["loop", "loop2"]
        );
    }

    #[test]
    fn lifetimes_resolve_client_then_realm_then_system() {
        let client = LifetimeOverrides {
            access_token: Some(60),
            ..Default::default()
        };
        let realm = LifetimeOverrides {
            access_token: Some(600),
            id_token: Some(120),
            ..Default::default()
        };
        let l = Lifetimes::resolve(&client, &realm);
        assert_eq!(l.access_token, 60);
        assert_eq!(l.id_token, 120);
        assert_eq!(l.refresh_token, default_lifetime::REFRESH_TOKEN);
        assert_eq!(l.code, 60);
        assert_eq!(l.device_code, 600);
    }
}
