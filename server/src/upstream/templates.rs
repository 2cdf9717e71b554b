//! Settings prefilled for well-known providers (`template` on the admin API). An
//! administrator's own values override each of them.

use super::Kind;

pub struct Template {
    pub name: &'static str,
    pub display_name: &'static str,
    pub kind: Kind,
    pub issuer: Option<&'static str>,
    pub authorization_endpoint: Option<&'static str>,
    pub token_endpoint: Option<&'static str>,
    pub userinfo_endpoint: Option<&'static str>,
    pub scopes: &'static str,
    pub subject_claim: &'static str,
    pub claim_mappings: &'static [(&'static str, &'static str)],
    /// What the administrator must still give (shown in the validation error).
    pub needs_issuer: Option<&'static str>,
}

/// What OpenID Connect providers say of a person, and where it goes locally.
pub const OIDC_MAPPINGS: &[(&str, &str)] = &[
    ("preferred_username", "username"),
    ("email", "email"),
    ("name", "name"),
];

pub const TEMPLATES: &[Template] = &[
    Template {
        name: "google",
        display_name: "Google",
        kind: Kind::Oidc,
        issuer: Some("https://accounts.google.com"),
        authorization_endpoint: None,
        token_endpoint: None,
        userinfo_endpoint: None,
        scopes: "openid email profile",
        subject_claim: "sub",
        // Google has no username: the address stands in for one (see `federation`).
        claim_mappings: &[("email", "email"), ("name", "name")],
        needs_issuer: None,
    },
    Template {
        name: "microsoft",
        display_name: "Microsoft",
        kind: Kind::Oidc,
        // Entra ID signs with the tenant's issuer; the tenant is the administrator's to give.
        issuer: None,
        authorization_endpoint: None,
        token_endpoint: None,
        userinfo_endpoint: None,
        scopes: "openid email profile",
        subject_claim: "sub",
        claim_mappings: OIDC_MAPPINGS,
        needs_issuer: Some("https://login.microsoftonline.com/{tenant-id}/v2.0"),
    },
    Template {
        name: "github",
        display_name: "GitHub",
        kind: Kind::OAuth2,
        issuer: None,
        authorization_endpoint: Some("https://github.com/login/oauth/authorize"),
        token_endpoint: Some("https://github.com/login/oauth/access_token"),
        userinfo_endpoint: Some("https://api.github.com/user"),
        scopes: "read:user user:email",
        subject_claim: "id",
        claim_mappings: &[("login", "username"), ("email", "email"), ("name", "name")],
        needs_issuer: None,
    },
    Template {
        name: "gitlab",
        display_name: "GitLab",
        kind: Kind::Oidc,
        issuer: Some("https://gitlab.com"),
        authorization_endpoint: None,
        token_endpoint: None,
        userinfo_endpoint: None,
        scopes: "openid email profile",
        subject_claim: "sub",
        claim_mappings: &[
            ("nickname", "username"),
            ("email", "email"),
            ("name", "name"),
        ],
        needs_issuer: None,
    },
];

pub fn find(name: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.name == name)
}
