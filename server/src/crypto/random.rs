//! Randomness for identifiers, opaque tokens and salts, from the OS generator.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// Fills a fixed-size array from the system CSPRNG.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // The system RNG only fails when the OS cannot provide entropy at all; nothing can
    // be issued safely then, so this is one of the few places a panic is the right answer.
    #[allow(clippy::expect_used)]
    SystemRandom::new()
        .fill(&mut out)
        .expect("the operating system's random number generator failed");
    out
}

/// An opaque bearer value with 256 bits of entropy (refresh tokens, codes, generated secrets).
pub fn opaque_token() -> String {
    super::b64url(bytes::<32>())
}

/// A fresh identifier for a database row.
pub fn id() -> String {
    uuid::Uuid::now_v7().to_string()
}
