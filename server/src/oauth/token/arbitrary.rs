//! Decentralized mode (CONTRACT §6): in a realm without a user store, a client trusted with
//! `allow_arbitrary_claims` supplies the token's content itself — `arbitrary-claims` (a JSON
//! object placed at the top level of the token) and `arbitrary-scopes` — on the password or
//! client-credentials grant with `handler=arbitrary-claims-service`. Tessera still owns the
//! token's protocol claims, its signature and its life in flight.

use serde_json::{Map, Value};

use super::GrantRequest;
use crate::oauth::error::OAuthError;
use crate::tokens::claims::PROTOCOL_CLAIMS;

pub const HANDLER: &str = "arbitrary-claims-service";

/// Limits on caller-supplied content, so a token stays a token.
const MAX_CLAIMS_BYTES: usize = 8 * 1024;
const MAX_CLAIMS: usize = 64;
const MAX_DEPTH: usize = 5;
const MAX_SCOPES: usize = 64;

/// What the caller supplied.
#[derive(Debug, Default)]
pub struct ArbitraryContent {
    pub claims: Map<String, Value>,
    pub scopes: Vec<String>,
}

/// The caller-supplied content when the request names the handler; `None` otherwise.
pub fn from_request(request: &GrantRequest<'_>) -> Result<Option<ArbitraryContent>, OAuthError> {
    let params = request.params;
    let Some(handler) = params.get("handler") else {
        return Ok(None);
    };
    if handler != HANDLER {
        return Err(OAuthError::invalid_request(format!(
            "unknown handler `{handler}`"
        )));
    }
    if !request.client.client.allow_arbitrary_claims {
        return Err(OAuthError::unauthorized_client(
            "the client may not supply arbitrary claims",
        ));
    }
    if !request.realm.realm.decentralized {
        return Err(OAuthError::invalid_request(
            "this realm keeps its own users; arbitrary claims are for decentralized realms",
        ));
    }
    let claims = match params.get("arbitrary-claims") {
        Some(raw) => parse_claims(raw)?,
        None => Map::new(),
    };
    let scopes = match params.get("arbitrary-scopes") {
        Some(raw) => parse_scopes(raw)?,
        None => Vec::new(),
    };
    Ok(Some(ArbitraryContent { claims, scopes }))
}

fn parse_claims(raw: &str) -> Result<Map<String, Value>, OAuthError> {
    if raw.len() > MAX_CLAIMS_BYTES {
        return Err(OAuthError::invalid_request(format!(
            "arbitrary-claims may be at most {MAX_CLAIMS_BYTES} bytes"
        )));
    }
    let value: Value = serde_json::from_str(raw)
        .map_err(|_| OAuthError::invalid_request("arbitrary-claims must be a JSON object"))?;
    let Value::Object(claims) = value else {
        return Err(OAuthError::invalid_request(
            "arbitrary-claims must be a JSON object",
        ));
    };
    if claims.len() > MAX_CLAIMS {
        return Err(OAuthError::invalid_request(format!(
            "arbitrary-claims may hold at most {MAX_CLAIMS} claims"
        )));
    }
    if let Some(name) = claims
        .keys()
        .find(|k| PROTOCOL_CLAIMS.contains(&k.as_str()))
    {
        return Err(OAuthError::invalid_request(format!(
            "the registered claim `{name}` cannot be overridden"
        )));
    }
    if claims.values().any(|v| depth(v) > MAX_DEPTH) {
        return Err(OAuthError::invalid_request(format!(
            "arbitrary-claims may nest at most {MAX_DEPTH} levels"
        )));
    }
    if crate::validation::json_contains_nul(&Value::Object(claims.clone())) {
        return Err(OAuthError::invalid_request(
            "arbitrary-claims must not contain NUL characters",
        ));
    }
    Ok(claims)
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Space- or tab-separated scope tokens (RFC 6749 §3.3 syntax).
fn parse_scopes(raw: &str) -> Result<Vec<String>, OAuthError> {
    let normalised = raw.replace('\t', " ");
    let scopes = crate::oauth::scope::parse(&normalised)
        .map_err(|e| OAuthError::invalid_request(format!("arbitrary-scopes: {}", e.description)))?;
    if scopes.len() > MAX_SCOPES {
        return Err(OAuthError::invalid_request(format!(
            "arbitrary-scopes may hold at most {MAX_SCOPES} scopes"
        )));
    }
    Ok(scopes)
}

/// Requested scopes followed by the arbitrary ones, without repeats.
pub fn merged_scopes(requested: &[String], arbitrary: &[String]) -> Vec<String> {
    let mut all = requested.to_vec();
    for scope in arbitrary {
        if !all.contains(scope) {
            all.push(scope.clone());
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_limited_and_registered_names_refused() {
        assert!(parse_claims(r#"{"naguid":"1234abcd","In":"Flames","n":[1,{"a":true}]}"#).is_ok());
        for bad in [
            r#"["not","an","object"]"#,
            r#"{"sub":"root"}"#,
            r#"{"exp":1}"#,
            r#"{"act":{}}"#,
            "not json",
            r#"{"deep":[[[[[[1]]]]]]}"#,
            r#"{"nul":"a\u0000b"}"#,
            r#"{"a\u0000":1}"#,
        ] {
            assert!(parse_claims(bad).is_err(), "{bad}");
        }
        let many: Map<String, Value> = (0..65).map(|i| (format!("c{i}"), Value::from(i))).collect();
        assert!(parse_claims(&Value::Object(many).to_string()).is_err());
        assert!(parse_claims(&format!(r#"{{"big":"{}"}}"#, "x".repeat(9000))).is_err());
    }

    #[test]
    fn scopes_split_on_spaces_and_tabs() {
        assert_eq!(
            parse_scopes("A quick\tbrown  fox").unwrap(),
            vec!["A", "quick", "brown", "fox"]
        );
        assert!(parse_scopes("bad\"scope").is_err());
        assert_eq!(
            merged_scopes(
                &["arbitrary".into(), "offline_access".into()],
                &["A".into(), "arbitrary".into()]
            ),
            vec!["arbitrary", "offline_access", "A"]
        );
    }
}
