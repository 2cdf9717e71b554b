//! CSRF tokens: one random token per console session, echoed by every form as the hidden
//! `csrf` input and compared in constant time on every POST.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use subtle::ConstantTimeEq;

/// The name of the hidden input every console form carries.
pub const FIELD: &str = "csrf";

/// A fresh unguessable token (256 bits from the operating system).
pub fn new_token() -> Option<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

/// Whether `presented` is `expected`, without leaking where they differ.
pub fn matches(expected: &str, presented: Option<&str>) -> bool {
    match presented {
        Some(presented) => bool::from(expected.as_bytes().ct_eq(presented.as_bytes())),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_compare_exactly() {
        let a = new_token().unwrap_or_default();
        let b = new_token().unwrap_or_default();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(matches(&a, Some(&a)));
        assert!(!matches(&a, Some(&b)));
        assert!(!matches(&a, Some("")));
        assert!(!matches(&a, None));
    }
}
