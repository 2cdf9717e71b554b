//! Rules on names and values shared by seeding and the admin API.

use crate::domain::LifetimeOverrides;

/// Realm names match `^[a-z0-9][a-z0-9_-]{0,62}$` (CONTRACT §2).
pub fn is_realm_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() <= 63
        && bytes
            .first()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'-')
}

/// Whether a JSON value holds NUL in any string or member name. JSON allows `"\u0000"`, but
/// no token consumer wants it and Postgres `jsonb` cannot store it.
pub fn json_contains_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(json_contains_nul),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k.contains('\0') || json_contains_nul(v)),
        _ => false,
    }
}

/// The longest lifetime Tessera accepts for anything: ten years.
pub const MAX_LIFETIME: i64 = 10 * 365 * 24 * 3600;

/// The longest refresh reuse grace: a retry window, not a second lifetime (RFC 9700 §4.14.2).
pub const MAX_REUSE_GRACE: i64 = 300;

#[derive(Debug, thiserror::Error)]
#[error("{field} must be between {min} and {max} seconds")]
pub struct LifetimeError {
    pub field: &'static str,
    pub min: i64,
    pub max: i64,
}

pub fn lifetimes(l: &LifetimeOverrides) -> Result<(), LifetimeError> {
    let fields = [
        ("access_token_lifetime", l.access_token),
        ("refresh_token_lifetime", l.refresh_token),
        ("refresh_token_sliding_lifetime", l.refresh_token_sliding),
        ("id_token_lifetime", l.id_token),
        ("code_lifetime", l.code),
        ("device_code_lifetime", l.device_code),
    ];
    for (field, value) in fields {
        if value.is_some_and(|v| !(1..=MAX_LIFETIME).contains(&v)) {
            return Err(LifetimeError {
                field,
                min: 1,
                max: MAX_LIFETIME,
            });
        }
    }
    if l.refresh_reuse_grace
        .is_some_and(|v| !(0..=MAX_REUSE_GRACE).contains(&v))
    {
        return Err(LifetimeError {
            field: "refresh_reuse_grace",
            min: 0,
            max: MAX_REUSE_GRACE,
        });
    }
    Ok(())
}

/// The shortest password accepted when one is set (by an administrator or by the user).
pub const MIN_PASSWORD_LENGTH: usize = 8;

/// The rules a new password follows, wherever it is set.
pub fn password(value: &str) -> Result<(), String> {
    let length = value.chars().count();
    if length < MIN_PASSWORD_LENGTH {
        return Err(format!("at least {MIN_PASSWORD_LENGTH} characters"));
    }
    if length > 1024 {
        return Err("at most 1024 characters".into());
    }
    if value.contains('\0') {
        return Err("must not contain NUL".into());
    }
    Ok(())
}

/// Whether `value` passes for an email address: one `@`-separated local part and a dotted
/// domain, no spaces or control characters, at most 254 bytes. Deliverability is the mail's
/// business; this only keeps nonsense out.
pub fn is_email(value: &str) -> bool {
    value.len() <= 254
        && !value.chars().any(char::is_control)
        && !value.contains(char::is_whitespace)
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
}

/// A key that appears in URLs and tokens (client ids, usernames, role and claim names): 1 to
/// `max` characters of letters, digits and `. _ - : @ ~ +`.
pub fn is_identifier(value: &str, max: usize) -> bool {
    !value.is_empty()
        && value.len() <= max
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-:@~+".contains(c))
}

/// Claims Tessera sets itself; a user record may not override them.
pub const RESERVED_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "sid",
    "idp",
    "at_hash",
    "c_hash",
    "scope",
    "client_id",
    "act",
    "cnf",
    "roles",
    "email",
    "email_verified",
    "preferred_username",
];

/// A redirect URI a client registers for itself (RFC 8252 §7, RFC 9700 §2.1): https anywhere;
/// http only on loopback (native apps on an ephemeral port); a private-use scheme only in
/// reverse-domain form (`com.example.app:/cb`). Never a fragment.
pub fn self_service_redirect_uri(uri: &str) -> Result<(), &'static str> {
    if uri.len() > 2048 || uri.chars().any(char::is_control) {
        return Err("not a usable URI");
    }
    let parsed = url::Url::parse(uri).map_err(|_| "not an absolute URI")?;
    if parsed.fragment().is_some() {
        return Err("a redirect URI has no fragment");
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => match parsed.host() {
            Some(url::Host::Ipv4(ip)) if ip.is_loopback() => Ok(()),
            Some(url::Host::Ipv6(ip)) if ip.is_loopback() => Ok(()),
            Some(url::Host::Domain("localhost")) => Ok(()),
            _ => Err("http is allowed only on loopback; use https"),
        },
        scheme if scheme.contains('.') => Ok(()),
        _ => Err("use https, http on loopback, or a private-use scheme in reverse-domain form"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realm_names() {
        for ok in ["master", "a", "acme-1", "a_b", "0abc"] {
            assert!(is_realm_name(ok), "{ok}");
        }
        for bad in ["", "-a", "_a", "A", "a b", "a/b", &"a".repeat(64)] {
            assert!(!is_realm_name(bad), "{bad}");
        }
    }
}
