//! Public JWK Sets of others (clients, upstream issuers, DPoP proofs): which algorithms a key
//! may verify, sets parsed into verification keys by `kid`, RFC 7638 thumbprints, and the
//! checks a JWK Set an administrator registers for a client must pass.

use std::collections::HashMap;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{json, Value};

/// The asymmetric algorithms Tessera verifies: never `none`, never an HMAC for a public key.
pub const ASYMMETRIC: [Algorithm; 9] = [
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::EdDSA,
];

/// Names of [`ASYMMETRIC`], for discovery documents.
pub const ASYMMETRIC_NAMES: [&str; 9] = [
    "ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA",
];

/// The asymmetric algorithm named `name`.
pub fn asymmetric(name: &str) -> Option<Algorithm> {
    ASYMMETRIC_NAMES
        .iter()
        .zip(ASYMMETRIC)
        .find(|(n, _)| **n == name)
        .map(|(_, alg)| alg)
}

/// A verification key and the algorithms it may verify.
pub type Key = (Vec<Algorithm>, DecodingKey);

/// Verification keys by `kid` (`""` holds those published without one; several may).
pub type KeySet = Arc<HashMap<String, Vec<Key>>>;

/// The algorithms a JWK may verify: the one it names, else those its key type allows (many
/// providers, Microsoft's among them, publish keys without `alg`). Never `none` or an HMAC.
pub fn algorithms_of(jwk: &Value) -> Vec<Algorithm> {
    if let Some(alg) = jwk["alg"].as_str() {
        return asymmetric(alg)
            .into_iter()
            .filter(|a| fits(jwk, *a))
            .collect();
    }
    ASYMMETRIC.into_iter().filter(|a| fits(jwk, *a)).collect()
}

/// Whether the key type and curve of `jwk` go with `alg`.
fn fits(jwk: &Value, alg: Algorithm) -> bool {
    match (jwk["kty"].as_str(), jwk["crv"].as_str()) {
        (Some("RSA"), _) => matches!(
            alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ),
        (Some("EC"), Some("P-256")) => alg == Algorithm::ES256,
        (Some("EC"), Some("P-384")) => alg == Algorithm::ES384,
        (Some("OKP"), Some("Ed25519")) => alg == Algorithm::EdDSA,
        _ => false,
    }
}

/// The signing keys of a JWK Set document; keys for other uses or algorithms are skipped.
pub fn parse_set(document: &Value) -> KeySet {
    let mut keys: HashMap<String, Vec<Key>> = HashMap::new();
    for jwk in document["keys"].as_array().into_iter().flatten() {
        if jwk["use"].as_str().is_some_and(|u| u != "sig") {
            continue;
        }
        let algorithms = algorithms_of(jwk);
        if algorithms.is_empty() {
            continue;
        }
        if let Ok(key) = crate::keys::decoding_key(jwk) {
            let kid = jwk["kid"].as_str().unwrap_or_default().to_string();
            keys.entry(kid).or_default().push((algorithms, key));
        }
    }
    Arc::new(keys)
}

/// The keys that may verify a JWS with this `kid` and `alg`: the key named, or every key
/// when the JWS names none.
pub fn candidates<'a>(
    keys: &'a HashMap<String, Vec<Key>>,
    kid: Option<&str>,
    alg: Algorithm,
) -> impl Iterator<Item = &'a DecodingKey> {
    let named: Vec<&'a Key> = match kid {
        Some(kid) => keys.get(kid).into_iter().flatten().collect(),
        None => keys.values().flatten().collect(),
    };
    named
        .into_iter()
        .filter(move |(algorithms, _)| algorithms.contains(&alg))
        .map(|(_, key)| key)
}

/// RFC 7638 thumbprint of a public JWK (its required members only), or `None` when the key
/// is not a complete public EC, RSA or OKP key.
pub fn thumbprint(jwk: &Value) -> Option<String> {
    let member = |name: &str| jwk.get(name).and_then(Value::as_str);
    let required = match member("kty")? {
        "EC" => json!({"crv": member("crv")?, "kty": "EC", "x": member("x")?, "y": member("y")?}),
        "RSA" => json!({"e": member("e")?, "kty": "RSA", "n": member("n")?}),
        "OKP" => json!({"crv": member("crv")?, "kty": "OKP", "x": member("x")?}),
        _ => return None,
    };
    Some(crate::keys::thumbprint(&required))
}

/// The claims of a JWT read without verification: to find whose keys verify it, or read
/// again once it has been verified. Empty when the token is not a JWT.
pub fn unverified_claims(jwt: &str) -> serde_json::Map<String, Value> {
    use base64::Engine;
    jwt.split('.')
        .nth(1)
        .and_then(|payload| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// A string claim of a JWT, read without verification.
pub fn unverified_claim(jwt: &str, name: &str) -> Option<String> {
    unverified_claims(jwt)
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Private and symmetric key members: a JWK holding any of them is not a public key.
const SECRET_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

/// The largest JWK Set a client may register or publish.
pub const MAX_SET_BYTES: usize = 64 * 1024;

/// Checks a JWK Set a client registers: an object with a non-empty `keys` array of public
/// signing keys Tessera can use, distinct `kid`s. Returns a sentence for the administrator.
pub fn check_public_set(document: &Value) -> Result<(), String> {
    if document.to_string().len() > MAX_SET_BYTES {
        return Err(format!("is larger than {} KiB", MAX_SET_BYTES / 1024));
    }
    let keys = document
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("must be a JWK Set: an object with a `keys` array")?;
    if keys.is_empty() || keys.len() > 20 {
        return Err("must hold between 1 and 20 keys".into());
    }
    let mut kids = std::collections::HashSet::new();
    for (i, jwk) in keys.iter().enumerate() {
        if !jwk.is_object() {
            return Err(format!("key {i} is not a JSON object"));
        }
        if SECRET_MEMBERS.iter().any(|m| jwk.get(m).is_some()) {
            return Err(format!(
                "key {i} holds private or symmetric key material; register public keys only"
            ));
        }
        if algorithms_of(jwk).is_empty() {
            return Err(format!(
                "key {i} is not an EC P-256/P-384, RSA or Ed25519 key (or its `alg` does not fit it)"
            ));
        }
        if crate::keys::decoding_key(jwk).is_err() || thumbprint(jwk).is_none() {
            return Err(format!("key {i} is not a valid public key"));
        }
        if jwk["kty"] == "RSA" {
            let bits = jwk["n"]
                .as_str()
                .map(|n| n.trim_end_matches('=').len() * 6)
                .unwrap_or_default();
            if bits < 2040 {
                return Err(format!("key {i} is an RSA key shorter than 2048 bits"));
            }
        }
        if let Some(kid) = jwk.get("kid") {
            let kid = kid
                .as_str()
                .ok_or(format!("key {i} has a non-string `kid`"))?;
            if !kids.insert(kid.to_string()) {
                return Err(format!("`kid` {kid} appears twice"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EC: &str = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"a"}"#;

    #[test]
    fn public_sets_pass_and_private_keys_do_not() {
        let ec: Value = serde_json::from_str(EC).unwrap();
        assert!(check_public_set(&json!({"keys": [ec.clone()]})).is_ok());
        let mut private = ec.clone();
        private["d"] = json!("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI");
        assert!(check_public_set(&json!({"keys": [private]})).is_err());
        assert!(check_public_set(&json!({"keys": [ec.clone(), ec.clone()]})).is_err());
        assert!(check_public_set(&json!({"keys": []})).is_err());
        assert!(check_public_set(&json!([ec.clone()])).is_err());
        let hmac = json!({"kty": "oct", "k": "c2VjcmV0"});
        assert!(check_public_set(&json!({"keys": [hmac]})).is_err());
        let mut wrong_alg = ec;
        wrong_alg["alg"] = json!("RS256");
        assert!(check_public_set(&json!({"keys": [wrong_alg]})).is_err());
    }

    #[test]
    fn thumbprints_use_the_required_members_only() {
        let ec: Value = serde_json::from_str(EC).unwrap();
        let mut with_extras = ec.clone();
        with_extras["use"] = json!("sig");
        assert_eq!(thumbprint(&ec), thumbprint(&with_extras));
        assert!(thumbprint(&json!({"kty": "EC", "crv": "P-256"})).is_none());
    }

    #[test]
    fn algorithms_follow_the_key_type() {
        let ec: Value = serde_json::from_str(EC).unwrap();
        assert_eq!(algorithms_of(&ec), vec![Algorithm::ES256]);
        assert!(algorithms_of(&json!({"kty": "oct"})).is_empty());
    }
}
