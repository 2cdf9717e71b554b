//! Pre-signs the JWTs of `bench/run`'s signed measures, which wrk's Lua cannot make: client
//! assertions (`private_key_jwt`) and DPoP proofs, each with its own `jti` (both are single
//! use), one per line on stdout.
//!
//!   bench-sign key FILE                          P-256 key: PKCS#8 in FILE, public JWK on stdout
//!   bench-sign assertion FILE COUNT CLIENT AUD    COUNT assertions of CLIENT for AUD
//!   bench-sign dpop FILE COUNT URL                COUNT proofs for POST URL

use std::io::{BufWriter, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;

type Failure = Box<dyn std::error::Error>;

fn public_jwk(key: &EcdsaKeyPair) -> serde_json::Value {
    // Uncompressed point: 0x04 || x || y.
    let point = key.public_key().as_ref();
    let (x, y) = point.get(1..).unwrap_or_default().split_at(32);
    json!({
        "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "bench",
        "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y),
    })
}

fn load(file: &str) -> Result<EcdsaKeyPair, Failure> {
    let pkcs8 = std::fs::read(file)?;
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
        .map_err(|_| "the key file is not a P-256 PKCS#8 key".into())
}

fn sign(
    key: &EcdsaKeyPair,
    rng: &SystemRandom,
    header: &str,
    claims: &serde_json::Value,
) -> Result<String, Failure> {
    let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature = key
        .sign(rng, input.as_bytes())
        .map_err(|_| "signing failed")?;
    Ok(format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(signature.as_ref())
    ))
}

fn jti(rng: &SystemRandom) -> Result<String, Failure> {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes).map_err(|_| "no randomness")?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| {
        args.get(i)
            .cloned()
            .ok_or("missing argument; see the file's doc")
    };
    let rng = SystemRandom::new();
    // Not Tessera: no clock to inject; the JWTs carry the wall clock's time.
    #[allow(clippy::disallowed_methods)]
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let mut out = BufWriter::new(std::io::stdout().lock());
    match arg(0)?.as_str() {
        "key" => {
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(|_| "generating the key failed")?;
            std::fs::write(arg(1)?, pkcs8.as_ref())?;
            writeln!(out, "{}", public_jwk(&load(&arg(1)?)?))?;
        }
        "assertion" => {
            let key = load(&arg(1)?)?;
            let count: usize = arg(2)?.parse()?;
            let (client, aud) = (arg(3)?, arg(4)?);
            let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","kid":"bench","typ":"JWT"}"#);
            for _ in 0..count {
                let claims = json!({
                    "iss": client, "sub": client, "aud": aud,
                    "exp": now + 590, "iat": now, "jti": jti(&rng)?,
                });
                writeln!(out, "{}", sign(&key, &rng, &header, &claims)?)?;
            }
        }
        "dpop" => {
            let key = load(&arg(1)?)?;
            let count: usize = arg(2)?.parse()?;
            let url = arg(3)?;
            let header = URL_SAFE_NO_PAD.encode(
                json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": public_jwk(&key)}).to_string(),
            );
            for _ in 0..count {
                let claims = json!({"htm": "POST", "htu": url, "iat": now, "jti": jti(&rng)?});
                writeln!(out, "{}", sign(&key, &rng, &header, &claims)?)?;
            }
        }
        other => return Err(format!("unknown command {other}").into()),
    }
    Ok(())
}
