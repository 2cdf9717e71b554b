//! The master key: AES-256-GCM under which private signing keys are encrypted at rest.

use std::path::Path;

use aws_lc_rs::aead::{Aad, RandomizedNonceKey, AES_256_GCM, NONCE_LEN};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("must be 32 bytes encoded as base64")]
    Malformed,
    #[error("cannot read or write the key file {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("a stored private key cannot be decrypted (wrong TESSERA_MASTER_KEY?)")]
    Decrypt,
}

/// The 32-byte master key with its AEAD context, and the root that subkeys derive from: the
/// key itself, or after a rotation the key it replaced (so derived keys outlive rotations).
pub struct MasterKey {
    raw: [u8; 32],
    aead: RandomizedNonceKey,
    root: [u8; 32],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    pub fn from_bytes(raw: [u8; 32]) -> Self {
        // AES-256-GCM accepts any 32-byte key.
        #[allow(clippy::expect_used)]
        let aead = RandomizedNonceKey::new(&AES_256_GCM, &raw).expect("32-byte AES key");
        Self {
            raw,
            aead,
            root: raw,
        }
    }

    /// This key deriving its subkeys from `root` instead of itself.
    pub fn with_derivation_root(mut self, root: [u8; 32]) -> Self {
        self.root = root;
        self
    }

    /// The root subkeys derive from (sealed in the database by a rotation).
    pub fn derivation_root(&self) -> [u8; 32] {
        self.root
    }

    /// Whether two keys seal alike.
    pub fn same_key_as(&self, other: &MasterKey) -> bool {
        super::constant_time_eq(&self.raw, &other.raw)
    }

    /// Parses the base64 form used in `TESSERA_MASTER_KEY` and key files.
    pub fn from_base64(encoded: &str) -> Result<Self, MasterKeyError> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|_| MasterKeyError::Malformed)?;
        let raw: [u8; 32] = bytes.try_into().map_err(|_| MasterKeyError::Malformed)?;
        Ok(Self::from_bytes(raw))
    }

    pub fn generate() -> Self {
        Self::from_bytes(super::random::bytes::<32>())
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.raw)
    }

    /// Loads the key file, or creates it (mode 0600) with a fresh key. Returns whether it was created.
    pub fn load_or_create(path: &Path) -> Result<(Self, bool), MasterKeyError> {
        let file_error = |source| MasterKeyError::File {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Ok((Self::from_base64(&text)?, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                super::write_owner_only(path, key.to_base64().as_bytes(), false)
                    .map_err(file_error)?;
                Ok((key, true))
            }
            Err(e) => Err(file_error(e)),
        }
    }

    /// Writes this key to a new file (mode 0600); an existing file is an error.
    pub fn write_new_file(&self, path: &Path) -> Result<(), MasterKeyError> {
        super::write_owner_only(path, self.to_base64().as_bytes(), false).map_err(|source| {
            MasterKeyError::File {
                path: path.display().to_string(),
                source,
            }
        })
    }

    /// Encrypts `plaintext`; the result is base64(nonce || ciphertext || tag).
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> String {
        let mut buffer = plaintext.to_vec();
        // Sealing with a valid key and a random nonce cannot fail short of an RNG failure.
        #[allow(clippy::expect_used)]
        let nonce = self
            .aead
            .seal_in_place_append_tag(Aad::from(context), &mut buffer)
            .expect("AES-GCM seal");
        let mut out = nonce.as_ref().to_vec();
        out.extend_from_slice(&buffer);
        STANDARD.encode(out)
    }

    /// Decrypts what [`MasterKey::seal`] produced with the same `context`.
    pub fn open(&self, sealed: &str, context: &[u8]) -> Result<Vec<u8>, MasterKeyError> {
        let bytes = STANDARD
            .decode(sealed)
            .map_err(|_| MasterKeyError::Decrypt)?;
        if bytes.len() < NONCE_LEN {
            return Err(MasterKeyError::Decrypt);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = aws_lc_rs::aead::Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| MasterKeyError::Decrypt)?;
        let mut buffer = ciphertext.to_vec();
        let plain = self
            .aead
            .open_in_place(nonce, Aad::from(context), &mut buffer)
            .map_err(|_| MasterKeyError::Decrypt)?;
        Ok(plain.to_vec())
    }

    /// Derives an independent 32-byte subkey for another purpose (HMAC keys, salts).
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &self.root);
        let tag = aws_lc_rs::hmac::sign(&key, purpose.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_round_trip_and_bind_context() {
        let key = MasterKey::generate();
        let sealed = key.seal(b"secret key", b"kid-1");
        assert_eq!(key.open(&sealed, b"kid-1").unwrap(), b"secret key");
        assert!(key.open(&sealed, b"kid-2").is_err());
        assert!(MasterKey::generate().open(&sealed, b"kid-1").is_err());
        assert!(key.open("not base64!", b"kid-1").is_err());
    }

    #[test]
    fn parses_only_32_byte_keys() {
        let key = MasterKey::generate();
        assert!(MasterKey::from_base64(&key.to_base64()).is_ok());
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert!(MasterKey::from_base64("***").is_err());
    }
}
