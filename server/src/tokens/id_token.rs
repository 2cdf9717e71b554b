//! OpenID Connect ID tokens (OIDC Core §2): minting with `at_hash`, `nonce`, `sid` and the claims
//! of granted identity scopes, and reading an `id_token_hint`.

use serde_json::{json, Map, Value};

use crate::crypto::b64url;
use crate::domain::SigningAlg;
use crate::keys::{ActiveKey, KeyError, RealmKeys};

/// The `acr` of a sign-in with one factor; `"2"` is two factors or a user-verified passkey.
pub const ACR_ONE_FACTOR: &str = "1";
pub const ACR_TWO_FACTORS: &str = "2";

/// JWS `typ` of ID tokens.
pub const TYP_ID_TOKEN: &str = "JWT";

pub struct IdTokenInput<'a> {
    pub issuer: &'a str,
    pub sub: &'a str,
    pub client_id: &'a str,
    pub nonce: Option<&'a str>,
    pub auth_time: i64,
    /// The authentication level (CONTRACT §8): `"1"` when not given.
    pub acr: Option<&'a str>,
    pub amr: &'a [String],
    pub sid: Option<&'a str>,
    /// The access token issued alongside, for `at_hash`.
    pub access_token: Option<&'a str>,
    pub claims: Map<String, Value>,
    pub iat: i64,
    pub lifetime: i64,
}

/// `at_hash`: the left half of the access token's hash under the ID token's algorithm.
pub fn at_hash(alg: SigningAlg, access_token: &str) -> String {
    let digest = match alg {
        SigningAlg::ES256 | SigningAlg::RS256 => {
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access_token.as_bytes())
        }
        // Ed25519 signs with SHA-512, so its `at_hash` uses SHA-512 too.
        SigningAlg::EdDSA => {
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, access_token.as_bytes())
        }
    };
    let bytes = digest.as_ref();
    // Half the length is never past the end, so this split cannot fail.
    let (left, _) = bytes.split_at(bytes.len() / 2);
    b64url(left)
}

pub fn mint(key: &ActiveKey, input: IdTokenInput<'_>) -> Result<String, KeyError> {
    let mut claims = input.claims;
    claims.insert("iss".into(), json!(input.issuer));
    claims.insert("sub".into(), json!(input.sub));
    claims.insert("aud".into(), json!(input.client_id));
    claims.insert("azp".into(), json!(input.client_id));
    claims.insert("iat".into(), json!(input.iat));
    claims.insert("exp".into(), json!(input.iat + input.lifetime));
    claims.insert("auth_time".into(), json!(input.auth_time));
    claims.insert("amr".into(), json!(input.amr));
    claims.insert("acr".into(), json!(input.acr.unwrap_or(ACR_ONE_FACTOR)));
    if let Some(nonce) = input.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    if let Some(sid) = input.sid {
        claims.insert("sid".into(), json!(sid));
    }
    if let Some(access_token) = input.access_token {
        claims.insert("at_hash".into(), json!(at_hash(key.alg, access_token)));
    }
    key.sign_jwt(TYP_ID_TOKEN, &Value::Object(claims))
}

/// The claims of an ID token signed by one of `keys` for `issuer` (expired ones too), or `None`
/// if `hint` is not such a token: what an `id_token_hint` says about who it names.
pub fn hint_claims(
    keys: &RealmKeys,
    issuer: &str,
    hint: &str,
    now: i64,
) -> Option<Map<String, Value>> {
    super::verify::verify_ignoring_expiry(keys, issuer, TYP_ID_TOKEN, hint, now)
        .ok()
        .map(|t| t.claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_follows_oidc_core_example() {
        // OIDC Core A.3: access token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y" → at_hash
        // "77QmUPtjPfzWtF2AnpK9RQ" under RS256.
        assert_eq!(
            at_hash(
                SigningAlg::RS256,
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
