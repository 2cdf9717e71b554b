//! Field rules of admin inputs. Each returns the message shown next to the field.

use crate::domain::grant_type;
use crate::domain::SigningAlg;

type Rule = Result<(), String>;

pub const MIN_SECRET_LENGTH: usize = 16;
const MAX_TEXT: usize = 200;
const MAX_LIST: usize = 100;

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

pub fn realm_name(name: &str) -> Rule {
    if crate::validation::is_realm_name(name) {
        Ok(())
    } else {
        Err(
            "use 1 to 63 lowercase letters, digits, `-` or `_`, starting with a letter or digit"
                .into(),
        )
    }
}

/// Display names, descriptions: printable, at most 200 characters.
pub fn text(value: &str) -> Rule {
    if value.chars().count() > MAX_TEXT {
        return Err(format!("at most {MAX_TEXT} characters"));
    }
    if has_control(value) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

/// Keys that appear in URLs and tokens: client ids, usernames, role names, claim names.
pub fn identifier(value: &str, max: usize) -> Rule {
    if value.is_empty() {
        return Err("is required".into());
    }
    if value.len() > max {
        return Err(format!("at most {max} characters"));
    }
    if !crate::validation::is_identifier(value, max) {
        return Err("use letters, digits and `. _ - : @ ~ +` only".into());
    }
    Ok(())
}

/// Mappings of another system's attributes (`source` names what they are) onto a local user:
/// see `claim_mapping`.
pub fn mappings(mappings: &std::collections::BTreeMap<String, String>, source: &str) -> Rule {
    if mappings.len() > 64 {
        return Err("at most 64 mappings".into());
    }
    for (from, to) in mappings {
        identifier(from, 128).map_err(|e| format!("{source} `{from}`: {e}"))?;
        if let Some(refusal) = crate::claim_mapping::refuse_target(to) {
            return Err(refusal);
        }
    }
    Ok(())
}

/// A scope token (RFC 6749 §3.3: printable ASCII except space, `"` and `\`).
pub fn scope_name(value: &str) -> Rule {
    if value.is_empty() || value.len() > 128 {
        return Err("1 to 128 characters".into());
    }
    if !value
        .bytes()
        .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
    {
        return Err("printable ASCII without spaces, `\"` or `\\`".into());
    }
    Ok(())
}

/// An audience / API resource name: printable, no spaces.
pub fn audience(value: &str) -> Rule {
    if value.is_empty() || value.len() > 256 {
        return Err("1 to 256 characters".into());
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".into());
    }
    Ok(())
}

pub fn signing_alg(value: &str) -> Result<SigningAlg, String> {
    SigningAlg::parse(value).ok_or_else(|| "one of ES256, RS256, EdDSA".into())
}

pub fn grant_types(values: &[String]) -> Rule {
    if values.is_empty() {
        return Err("choose at least one grant type".into());
    }
    match values
        .iter()
        .find(|g| !grant_type::ALL.contains(&g.as_str()))
    {
        Some(unknown) => Err(format!(
            "unknown grant type `{unknown}`; known: {}",
            grant_type::ALL.join(", ")
        )),
        None => Ok(()),
    }
}

/// The longest URI a client may register.
const MAX_URI: usize = 2048;

/// Schemes whose "redirect" a browser would run or read locally instead of handing the code to
/// a client.
const UNSAFE_SCHEMES: [&str; 7] = [
    "javascript",
    "data",
    "vbscript",
    "file",
    "about",
    "blob",
    "filesystem",
];

/// A URI exactly as stored and compared: bounded, and without the spaces and control
/// characters a URL parser would silently drop (so the stored string could never match).
fn uri_text(value: &str) -> Rule {
    if value.len() > MAX_URI {
        return Err(format!("URIs may be at most {MAX_URI} characters"));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("URIs must not contain spaces or control characters".into());
    }
    Ok(())
}

/// Redirect URIs are matched exactly (RFC 9700 §4.1.3): absolute, no fragment, no wildcard.
/// Private-use schemes of native apps (RFC 8252 §7.1) are fine; script and local schemes not.
pub fn redirect_uri(value: &str) -> Rule {
    uri_text(value)?;
    let url = url::Url::parse(value).map_err(|_| format!("`{value}` is not an absolute URI"))?;
    if UNSAFE_SCHEMES.contains(&url.scheme()) {
        return Err(format!(
            "`{value}`: a {} URI cannot receive a redirect",
            url.scheme()
        ));
    }
    if url.fragment().is_some() {
        return Err(format!("`{value}` must not contain a fragment"));
    }
    if value.contains('*') {
        return Err(format!(
            "`{value}`: wildcards are not allowed; URIs match exactly"
        ));
    }
    if url.scheme() == "http" && !is_loopback(&url) && url.host_str() != Some("localhost") {
        // Plain http leaks codes on the network; only local development may use it.
        return Err(format!(
            "`{value}`: http is allowed for localhost and loopback addresses only"
        ));
    }
    Ok(())
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    }
}

/// A URL the server itself calls (back-channel logout): http(s) only.
pub fn server_url(value: &str) -> Rule {
    uri_text(value)?;
    let url = url::Url::parse(value).map_err(|_| "not an absolute URL".to_string())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("must be an http or https URL".into());
    }
    if url.fragment().is_some() {
        return Err("must not contain a fragment".into());
    }
    Ok(())
}

pub fn list_size(values: &[String]) -> Rule {
    if values.len() > MAX_LIST {
        return Err(format!("at most {MAX_LIST} entries"));
    }
    Ok(())
}

/// Every entry passes `rule`; the first failure is reported.
pub fn each(values: &[String], rule: impl Fn(&str) -> Rule) -> Rule {
    list_size(values)?;
    let mut seen = std::collections::HashSet::new();
    for value in values {
        if value.is_empty() {
            return Err("entries must not be empty".into());
        }
        rule(value)?;
        if !seen.insert(value) {
            return Err(format!("`{value}` is listed twice"));
        }
    }
    Ok(())
}

pub fn lifetime(value: Option<i64>) -> Rule {
    match value {
        Some(v) if !(1..=crate::validation::MAX_LIFETIME).contains(&v) => Err(format!(
            "between 1 and {} seconds, or empty to inherit",
            crate::validation::MAX_LIFETIME
        )),
        _ => Ok(()),
    }
}

/// A refresh reuse grace: 0 (any reuse revokes the family) up to `MAX_REUSE_GRACE` seconds.
pub fn reuse_grace(value: Option<i64>) -> Rule {
    match value {
        Some(v) if !(0..=crate::validation::MAX_REUSE_GRACE).contains(&v) => Err(format!(
            "between 0 and {} seconds, or empty to inherit",
            crate::validation::MAX_REUSE_GRACE
        )),
        _ => Ok(()),
    }
}

pub fn password(value: &str) -> Rule {
    crate::validation::password(value)
}

pub fn secret(value: &str) -> Rule {
    if value.chars().count() < MIN_SECRET_LENGTH {
        return Err(format!("at least {MIN_SECRET_LENGTH} characters"));
    }
    if value.len() > 512 || has_control(value) {
        return Err("at most 512 printable characters".into());
    }
    Ok(())
}

pub fn email(value: &str) -> Rule {
    if crate::validation::is_email(value) {
        Ok(())
    } else {
        Err("not an email address".into())
    }
}

pub use crate::validation::RESERVED_CLAIMS;

pub fn user_claims(claims: &serde_json::Map<String, serde_json::Value>) -> Rule {
    if claims.len() > 64 {
        return Err("at most 64 claims".into());
    }
    for name in claims.keys() {
        identifier(name, 128).map_err(|m| format!("claim `{name}`: {m}"))?;
        if RESERVED_CLAIMS.contains(&name.as_str()) {
            return Err(format!(
                "`{name}` is set by Tessera and cannot be stored on a user"
            ));
        }
    }
    if crate::validation::json_contains_nul(&serde_json::Value::Object(claims.clone())) {
        return Err("claim values must not contain NUL characters".into());
    }
    if serde_json::to_string(claims).map_or(0, |s| s.len()) > 16 * 1024 {
        return Err("at most 16 KiB of claims".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_exact_and_safe() {
        assert!(redirect_uri("https://app.example/cb").is_ok());
        assert!(redirect_uri("http://127.0.0.1:8080/cb").is_ok());
        assert!(redirect_uri("http://localhost/cb").is_ok());
        assert!(redirect_uri("com.example.app:/callback").is_ok());
        assert!(redirect_uri("http://app.example/cb").is_err());
        assert!(redirect_uri("https://app.example/cb#x").is_err());
        assert!(redirect_uri("https://*.example/cb").is_err());
        assert!(redirect_uri("/relative").is_err());
        for unsafe_uri in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,hi",
            "file:///etc/passwd",
        ] {
            assert!(redirect_uri(unsafe_uri).is_err(), "{unsafe_uri}");
        }
        // A URL parser drops these; the stored string would never match what clients send.
        for garbled in [
            "https://app.example/c\nb",
            "https://app.example/c\u{0}b",
            "https://app.example/c b",
            "\thttps://app.example/cb",
        ] {
            assert!(redirect_uri(garbled).is_err(), "{garbled:?}");
            assert!(server_url(garbled).is_err(), "{garbled:?}");
        }
        let long = format!("https://app.example/{}", "a".repeat(MAX_URI));
        assert!(redirect_uri(&long).is_err());
        assert!(server_url(&long).is_err());
    }

    #[test]
    fn list_entries_are_not_empty() {
        let err = each(&[String::new()], |v| identifier(v, 128)).unwrap_err();
        assert_eq!(err, "entries must not be empty");
    }

    #[test]
    fn identifiers_and_scopes() {
        assert!(identifier("web-app_1.v2", 128).is_ok());
        assert!(identifier("", 128).is_err());
        assert!(identifier("a b", 128).is_err());
        assert!(identifier("a/b", 128).is_err());
        assert!(scope_name("read:orders").is_ok());
        assert!(scope_name("a b").is_err());
        assert!(scope_name("a\"b").is_err());
    }

    #[test]
    fn reserved_claims_are_refused() {
        let mut claims = serde_json::Map::new();
        claims.insert("department".into(), "sales".into());
        assert!(user_claims(&claims).is_ok());
        claims.insert("nested".into(), serde_json::json!({"a": ["b\u{0}"]}));
        assert!(user_claims(&claims).is_err(), "NUL deep inside a value");
        claims.remove("nested");
        claims.insert("sub".into(), "x".into());
        assert!(user_claims(&claims).is_err());
    }
}
