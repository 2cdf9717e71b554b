//! Scope strings (RFC 6749 §3.3): parsing and checking against what a client may ask for.

use super::error::OAuthError;

/// Splits a space-delimited scope string, refusing characters outside `scope-token`
/// (`%x21 / %x23-5B / %x5D-7E`). Duplicates collapse; order of first appearance is kept.
pub fn parse(raw: &str) -> Result<Vec<String>, OAuthError> {
    let mut scopes: Vec<String> = Vec::new();
    for token in raw.split(' ').filter(|t| !t.is_empty()) {
        let valid = token
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
        if !valid {
            return Err(OAuthError::invalid_scope(format!(
                "`{}` is not a valid scope token",
                token.escape_default()
            )));
        }
        if !scopes.iter().any(|s| s == token) {
            scopes.push(token.to_string());
        }
    }
    Ok(scopes)
}

/// Splits a scope string that was validated when it was granted (stored grants, token claims).
pub fn split(granted: &str) -> Vec<String> {
    granted
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Checks every requested scope is one the client may ask for.
pub fn ensure_allowed(requested: &[String], allowed: &[String]) -> Result<(), OAuthError> {
    match requested.iter().find(|s| !allowed.contains(s)) {
        Some(s) => Err(OAuthError::invalid_scope(format!(
            "the client may not request scope `{s}`"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates_scope_tokens() {
        assert_eq!(parse("a  b a").unwrap(), vec!["a", "b"]);
        assert!(parse("a\"b").is_err());
        assert!(parse("a\\b").is_err());
        assert!(parse("ä").is_err());
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn refuses_scopes_outside_the_allowed_set() {
        let allowed = vec!["a".to_string(), "b".to_string()];
        assert!(ensure_allowed(&["a".into()], &allowed).is_ok());
        assert_eq!(
            ensure_allowed(&["c".into()], &allowed).unwrap_err().code,
            super::super::error::ErrorCode::InvalidScope
        );
    }
}
