//! Recovery codes: ten single-use codes shown once, for when the authenticator is lost. Each has
//! 80 random bits, so a keyed SHA-256 is enough at rest (no slow hash needed to resist guessing).

/// How many codes a user gets at a time.
pub const COUNT: usize = 10;
/// Characters of a code (without the dashes), 5 bits each.
const LEN: usize = 16;
/// Crockford's base32 alphabet, lower case: no i, l, o or u to confuse with digits.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Fresh codes as shown to the user: `xxxx-xxxx-xxxx-xxxx`.
pub fn generate() -> Vec<String> {
    (0..COUNT).map(|_| one()).collect()
}

fn one() -> String {
    let random = crate::crypto::random::bytes::<LEN>();
    let chars: Vec<char> = random
        .iter()
        .map(|b| char::from(ALPHABET.get(usize::from(b & 31)).copied().unwrap_or(b'a')))
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A code as typed, in the form that is hashed: dashes and spaces dropped, lower case. `None`
/// when it cannot be a recovery code.
pub fn normalize(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (code.len() == LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// The stored form of a normalized code.
pub fn hash(pepper: &[u8; 32], normalized: &str) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, pepper);
    crate::crypto::b64url(aws_lc_rs::hmac::sign(&key, normalized.as_bytes()).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_formatted_and_normalize() {
        let codes = generate();
        assert_eq!(codes.len(), COUNT);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), COUNT);
        for code in &codes {
            assert_eq!(code.len(), 19);
            let normal = normalize(code).unwrap();
            assert_eq!(
                normalize(&code.to_uppercase().replace('-', " ")),
                Some(normal)
            );
        }
        assert_eq!(normalize("123456"), None);
        assert_eq!(normalize("abcd-abcd-abcd-abc!"), None);
        let pepper = [7u8; 32];
        assert_ne!(hash(&pepper, "a"), hash(&[8u8; 32], "a"));
    }
}
