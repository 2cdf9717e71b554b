//! Schema-only types: the closed sets of strings the server accepts, named so the OpenAPI
//! document states them as enums (the input fields themselves stay `String`). The server's
//! validators are the reference; an integration test checks the two agree.

use serde::Serialize;
use utoipa::ToSchema;

/// A token signing algorithm.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub enum SigningAlgName {
    ES256,
    RS256,
    EdDSA,
}

/// How the login session cookie is scoped.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CookieModeName {
    Realm,
    Client,
    Shared,
}

/// A realm's second-factor policy.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RealmMfaName {
    Off,
    Optional,
    Required,
}

/// How the connection to a realm's SMTP server is protected.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurityName {
    None,
    Starttls,
    Tls,
}

/// A client's second-factor policy.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ClientMfaName {
    Inherit,
    Required,
}

/// How a client authenticates at the token endpoint (RFC 7591 §2).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuthMethodName {
    ClientSecretBasic,
    ClientSecretPost,
    ClientSecretJwt,
    PrivateKeyJwt,
    None,
}

/// Who may register clients of a realm by themselves.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationPolicyName {
    Off,
    InitialToken,
    Open,
}

/// A security profile a realm enforces.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SecurityProfileName {
    Fapi2,
}

/// An OAuth grant type a client may use.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub enum GrantTypeName {
    #[serde(rename = "authorization_code")]
    AuthorizationCode,
    #[serde(rename = "client_credentials")]
    ClientCredentials,
    #[serde(rename = "password")]
    Password,
    #[serde(rename = "refresh_token")]
    RefreshToken,
    #[serde(rename = "urn:ietf:params:oauth:grant-type:token-exchange")]
    TokenExchange,
    #[serde(rename = "urn:ietf:params:oauth:grant-type:device_code")]
    DeviceCode,
    #[serde(rename = "public_refresh_token")]
    PublicRefreshToken,
}

/// The kind of a new revocation.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum RevocationKindName {
    Token,
    Claim,
    Global,
}

/// A key that appears in URLs and tokens: a client id, username, role or claim name.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(pattern = r"^[A-Za-z0-9._:@~+-]{1,128}$")]
pub struct Identifier(pub String);

/// A scope token (RFC 6749 §3.3): printable ASCII except space, `"` and `\`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(pattern = r"^[!#-\[\]-~]{1,128}$")]
pub struct ScopeName(pub String);

/// An audience (API resource name): 1 to 256 bytes, no spaces or control characters.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(pattern = r"^[^\s\u0000-\u001f\u007f-\u009f]{1,256}$")]
pub struct AudienceName(pub String);

/// An absolute redirect URI (at most 2048 bytes), compared exactly: no spaces or control
/// characters, no fragment, no wildcard; not a `javascript`, `data`, `vbscript`, `file`,
/// `about`, `blob` or `filesystem` URI; plain `http` only for `localhost` and loopback hosts.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(pattern = r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s#*\u0000-\u001f\u007f-\u009f]+$")]
pub struct RedirectUri(pub String);
