//! Time-based one-time passwords (RFC 6238) as authenticator apps speak them: SHA-1, six digits,
//! 30-second steps, one step of clock skew either way. Which step a code matched is returned, so
//! the caller can accept each code once (§5.2).

use totp_rs::{Algorithm, Secret, Totp};

/// Bytes of a generated secret (160 bits, RFC 4226 §4's recommendation).
pub const SECRET_LEN: usize = 20;
/// The shortest secret accepted on import (80 bits, what older systems generated).
pub const MIN_IMPORTED_LEN: usize = 10;
const DIGITS: u8 = 6;
const STEP_SECONDS: u64 = 30;
const SKEW_STEPS: u8 = 1;

/// A fresh random secret.
pub fn generate_secret() -> Vec<u8> {
    crate::crypto::random::bytes::<SECRET_LEN>().to_vec()
}

/// The base32 text of a secret (what users type into an app without a camera).
pub fn to_base32(secret: &[u8]) -> String {
    Secret::from(secret.to_vec()).to_base32()
}

/// Why an imported secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("is not base32 (letters A-Z and digits 2-7)")]
    NotBase32,
    #[error("is shorter than 80 bits (16 base32 characters)")]
    TooShort,
    #[error("is longer than 512 bits")]
    TooLong,
}

/// Parses a base32 secret as other systems export it (spaces and padding allowed, any case).
pub fn parse_base32(text: &str) -> Result<Vec<u8>, SecretError> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=' && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if cleaned.is_empty() || !cleaned.chars().all(|c| matches!(c, 'A'..='Z' | '2'..='7')) {
        return Err(SecretError::NotBase32);
    }
    let bytes = Secret::try_from_base32(cleaned)
        .map_err(|_| SecretError::NotBase32)?
        .as_bytes()
        .to_vec();
    if bytes.len() < MIN_IMPORTED_LEN {
        return Err(SecretError::TooShort);
    }
    if bytes.len() > 64 {
        return Err(SecretError::TooLong);
    }
    Ok(bytes)
}

fn totp(secret: &[u8], issuer: &str, account: &str) -> Totp {
    totp_rs::Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(SKEW_STEPS.into())
        .with_step_duration(STEP_SECONDS)
        .with_secret(secret.to_vec())
        .with_issuer(Some(issuer))
        .with_account_name(account)
        // Imported secrets may be shorter than the 128 bits the strict builder wants.
        .build_noncompliant()
}

/// Whether `code` looks like a TOTP code (six digits, spaces allowed as apps show them).
pub fn looks_like_code(code: &str) -> bool {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    digits.len() == usize::from(DIGITS) && digits.chars().all(|c| c.is_ascii_digit())
}

/// The time step whose code `code` is, within the skew around `unix_time`.
pub fn matching_step(secret: &[u8], code: &str, unix_time: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if !looks_like_code(&code) {
        return None;
    }
    let time = u64::try_from(unix_time).ok()?;
    let step = totp(secret, "", "").check(&code, time)?;
    i64::try_from(step).ok()
}

/// The code of the step containing `unix_time` (tests and tools).
pub fn code_at(secret: &[u8], unix_time: i64) -> String {
    let time = u64::try_from(unix_time).unwrap_or_default();
    totp(secret, "", "").generate(time).to_string()
}

/// The `otpauth://totp/…` URI apps read from the QR code (Key Uri Format).
pub fn otpauth_uri(secret: &[u8], issuer: &str, account: &str) -> String {
    let issuer_enc =
        percent_encoding::utf8_percent_encode(issuer, percent_encoding::NON_ALPHANUMERIC);
    let account_enc =
        percent_encoding::utf8_percent_encode(account, percent_encoding::NON_ALPHANUMERIC);
    format!(
        "otpauth://totp/{issuer_enc}:{account_enc}?secret={}&issuer={issuer_enc}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        to_base32(secret)
    )
}

/// `uri` as an inline SVG QR code, rendered on the server so the page needs no script.
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 (8-digit vectors, last six digits).
    #[test]
    fn rfc6238_vectors() {
        let secret = b"12345678901234567890";
        for (time, eight) in [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
        ] {
            assert_eq!(code_at(secret, time), eight[2..]);
            assert_eq!(matching_step(secret, &eight[2..], time), Some(time / 30));
        }
    }

    #[test]
    fn one_step_of_skew_either_way_and_no_more() {
        let secret = generate_secret();
        let now = 1_800_000_015;
        let code = code_at(&secret, now);
        assert_eq!(matching_step(&secret, &code, now + 30), Some(now / 30));
        assert_eq!(matching_step(&secret, &code, now - 30), Some(now / 30));
        assert_eq!(matching_step(&secret, &code, now + 60), None);
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
    }

    #[test]
    fn base32_import() {
        let secret = generate_secret();
        assert_eq!(parse_base32(&to_base32(&secret)).unwrap(), secret);
        assert_eq!(
            parse_base32(&to_base32(&secret).to_lowercase()).unwrap(),
            secret
        );
        assert_eq!(parse_base32("JBSW Y3DP EHPK 3PXP").unwrap().len(), 10);
        assert_eq!(parse_base32("not base32!"), Err(SecretError::NotBase32));
        assert_eq!(parse_base32("11111111"), Err(SecretError::NotBase32));
        assert_eq!(parse_base32("JBSWY3DP"), Err(SecretError::TooShort));
        assert_eq!(parse_base32(""), Err(SecretError::NotBase32));
    }

    #[test]
    fn uri_and_qr() {
        let uri = otpauth_uri(b"12345678901234567890", "Acme Corp", "alice@example.com");
        assert!(uri.starts_with("otpauth://totp/Acme%20Corp:alice%40example%2Ecom?secret="));
        assert!(uri.contains("&issuer=Acme%20Corp&"));
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.contains("<svg"));
    }
}
