//! Signing key material: generation, the public JWK (RFC 7517/7518), the RFC 7638 `kid`,
//! and key pairs parsed once so the hot path signs without re-parsing.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING,
    RSA_PKCS1_SHA256,
};
use serde_json::{json, Value};

use crate::crypto::{b64url, sha256};
use crate::domain::SigningAlg;

// `SigningAlg` itself is shared vocabulary (`crate::domain`); its JWT form belongs here.
impl SigningAlg {
    pub fn jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        match self {
            SigningAlg::ES256 => jsonwebtoken::Algorithm::ES256,
            SigningAlg::RS256 => jsonwebtoken::Algorithm::RS256,
            SigningAlg::EdDSA => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key generation failed")]
    Generate,
    #[error("stored key material is invalid: {0}")]
    Invalid(&'static str),
    #[error("signing failed")]
    Sign,
}

/// A freshly generated key: its private PKCS#8 document and public JWK.
pub struct GeneratedKey {
    pub alg: SigningAlg,
    pub kid: String,
    pub public_jwk: Value,
    pub pkcs8: Vec<u8>,
}

/// Generates a key for `alg` (P-256, RSA-2048 or Ed25519).
pub fn generate(alg: SigningAlg) -> Result<GeneratedKey, KeyError> {
    let pkcs8 = match alg {
        SigningAlg::ES256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .and_then(|k| k.to_pkcs8v1())
            .map_err(|_| KeyError::Generate)?
            .as_ref()
            .to_vec(),
        SigningAlg::RS256 => RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| KeyError::Generate)?
            .as_der()
            .map_err(|_| KeyError::Generate)?
            .as_ref()
            .to_vec(),
        SigningAlg::EdDSA => Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| KeyError::Generate)?
            .as_ref()
            .to_vec(),
    };
    let pair = ParsedKeyPair::from_pkcs8(alg, &pkcs8)?;
    let thumbprint_members = pair.thumbprint_members()?;
    let kid = thumbprint(&thumbprint_members);
    let mut public_jwk = thumbprint_members;
    if let Value::Object(map) = &mut public_jwk {
        map.insert("kid".into(), json!(kid));
        map.insert("alg".into(), json!(alg.as_str()));
        map.insert("use".into(), json!("sig"));
    }
    Ok(GeneratedKey {
        alg,
        kid,
        public_jwk,
        pkcs8,
    })
}

/// RFC 7638: SHA-256 over the required members, lexicographically ordered, no whitespace.
/// `serde_json`'s default map is ordered, so serialising the object gives exactly that form.
pub fn thumbprint(required_members: &Value) -> String {
    b64url(sha256(required_members.to_string().as_bytes()))
}

/// A private key parsed once, ready to sign.
pub enum ParsedKeyPair {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
    Ed(Ed25519KeyPair),
}

impl ParsedKeyPair {
    pub fn from_pkcs8(alg: SigningAlg, der: &[u8]) -> Result<Self, KeyError> {
        Ok(match alg {
            SigningAlg::ES256 => Self::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(|_| KeyError::Invalid("ES256 PKCS#8"))?,
            ),
            SigningAlg::RS256 => Self::Rsa(
                RsaKeyPair::from_pkcs8(der).map_err(|_| KeyError::Invalid("RS256 PKCS#8"))?,
            ),
            SigningAlg::EdDSA => Self::Ed(
                Ed25519KeyPair::from_pkcs8(der).map_err(|_| KeyError::Invalid("Ed25519 PKCS#8"))?,
            ),
        })
    }

    /// The JWK members RFC 7638 hashes for this key type.
    pub fn thumbprint_members(&self) -> Result<Value, KeyError> {
        Ok(match self {
            Self::Ec(k) => {
                // Uncompressed SEC1 point: 0x04 || x || y.
                let (x, y) = match k.public_key().as_ref() {
                    [0x04, coordinates @ ..] if coordinates.len() == 64 => coordinates.split_at(32),
                    _ => return Err(KeyError::Generate),
                };
                json!({"crv": "P-256", "kty": "EC", "x": b64url(x), "y": b64url(y)})
            }
            Self::Rsa(k) => {
                let public = k.public_key();
                json!({
                    "e": b64url(public.exponent().big_endian_without_leading_zero()),
                    "kty": "RSA",
                    "n": b64url(public.modulus().big_endian_without_leading_zero()),
                })
            }
            Self::Ed(k) => {
                json!({"crv": "Ed25519", "kty": "OKP", "x": b64url(k.public_key().as_ref())})
            }
        })
    }

    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match self {
            Self::Ec(k) => k
                .sign(&SystemRandom::new(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| KeyError::Sign),
            Self::Rsa(k) => {
                let mut signature = vec![0u8; k.public_modulus_len()];
                k.sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message,
                    &mut signature,
                )
                .map_err(|_| KeyError::Sign)?;
                Ok(signature)
            }
            Self::Ed(k) => Ok(k.sign(message).as_ref().to_vec()),
        }
    }
}

/// Builds a verification key from a published JWK.
pub fn decoding_key(jwk: &Value) -> Result<jsonwebtoken::DecodingKey, KeyError> {
    let member = |name: &'static str| {
        jwk.get(name)
            .and_then(Value::as_str)
            .ok_or(KeyError::Invalid(name))
    };
    match member("kty")? {
        "EC" => jsonwebtoken::DecodingKey::from_ec_components(member("x")?, member("y")?),
        "RSA" => jsonwebtoken::DecodingKey::from_rsa_components(member("n")?, member("e")?),
        "OKP" => jsonwebtoken::DecodingKey::from_ed_components(member("x")?),
        _ => return Err(KeyError::Invalid("kty")),
    }
    .map_err(|_| KeyError::Invalid("public JWK"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_example_thumbprint() {
        // The RSA key of RFC 7638 §3.1 and its published thumbprint.
        let members = json!({
            "e": "AQAB",
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        });
        assert_eq!(
            thumbprint(&members),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn every_alg_generates_signs_and_verifies_through_its_jwk() {
        for alg in SigningAlg::ALL {
            let key = generate(alg).unwrap();
            assert_eq!(key.public_jwk["kid"], json!(key.kid));
            assert!(
                key.public_jwk.get("d").is_none(),
                "no private member published"
            );
            let pair = ParsedKeyPair::from_pkcs8(alg, &key.pkcs8).unwrap();
            let signature = pair.sign(b"header.payload").unwrap();
            let decoding = decoding_key(&key.public_jwk).unwrap();
            assert!(jsonwebtoken::crypto::verify(
                &b64url(&signature),
                b"header.payload",
                &decoding,
                alg.jsonwebtoken()
            )
            .unwrap());
        }
    }
}
