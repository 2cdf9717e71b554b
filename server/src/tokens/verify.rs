//! Verifying JWTs this realm issued: signature against the realm's published keys, issuer,
//! expiry against the caller's clock, and the token type.

use jsonwebtoken::{decode, decode_header, Validation};
use serde_json::{Map, Value};

use crate::keys::RealmKeys;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("not a JWT")]
    Malformed,
    #[error("signed by a key this realm does not publish")]
    UnknownKey,
    #[error("bad signature or claims")]
    Invalid,
    #[error("wrong token type")]
    WrongType,
    #[error("expired")]
    Expired,
    #[error("not yet valid")]
    NotYetValid,
}

/// A verified token's claims.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    pub claims: Map<String, Value>,
}

impl VerifiedToken {
    pub fn str_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    pub fn int_claim(&self, name: &str) -> Option<i64> {
        self.claims.get(name).and_then(Value::as_i64)
    }
}

/// Clock skew tolerated on `iat`/`nbf` (seconds).
const LEEWAY: i64 = 5;

/// Verifies `token` as issued by `issuer` with `keys`, of JWS type `typ`, at time `now`.
pub fn verify(
    keys: &RealmKeys,
    issuer: &str,
    typ: &str,
    token: &str,
    now: i64,
) -> Result<VerifiedToken, VerifyError> {
    verify_inner(keys, issuer, typ, token, now, true)
}

/// Like [`verify`] but accepts an expired token (an `id_token_hint` may have expired).
pub fn verify_ignoring_expiry(
    keys: &RealmKeys,
    issuer: &str,
    typ: &str,
    token: &str,
    now: i64,
) -> Result<VerifiedToken, VerifyError> {
    verify_inner(keys, issuer, typ, token, now, false)
}

fn verify_inner(
    keys: &RealmKeys,
    issuer: &str,
    typ: &str,
    token: &str,
    now: i64,
    check_expiry: bool,
) -> Result<VerifiedToken, VerifyError> {
    let header = decode_header(token).map_err(|_| VerifyError::Malformed)?;
    let kid = header.kid.as_deref().ok_or(VerifyError::UnknownKey)?;
    let key = keys.verification_key(kid).ok_or(VerifyError::UnknownKey)?;
    if header.alg != key.alg.jsonwebtoken() {
        return Err(VerifyError::Invalid);
    }
    if !header
        .typ
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case(typ))
    {
        return Err(VerifyError::WrongType);
    }
    let mut validation = Validation::new(key.alg.jsonwebtoken());
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["iss", "exp", "iat"]);
    validation.validate_aud = false;
    // Expiry is checked below against the injected clock, not the library's.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    let data = decode::<Map<String, Value>>(token, &key.key, &validation)
        .map_err(|_| VerifyError::Invalid)?;
    let verified = VerifiedToken {
        claims: data.claims,
    };
    let exp = verified.int_claim("exp").ok_or(VerifyError::Invalid)?;
    if check_expiry && exp <= now {
        return Err(VerifyError::Expired);
    }
    let iat = verified.int_claim("iat").ok_or(VerifyError::Invalid)?;
    let nbf = verified.int_claim("nbf").unwrap_or(iat);
    if iat > now + LEEWAY || nbf > now + LEEWAY {
        return Err(VerifyError::NotYetValid);
    }
    Ok(verified)
}
