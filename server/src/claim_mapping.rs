//! Copying another system's attributes onto a local user: an upstream provider's claims or a
//! directory entry's attributes, each mapped to `username`, `email`, `name` or a local claim.
//! One place decides what a mapped value may become, for federation and directories alike.

use serde_json::{Map, Value};

use crate::validation::{is_email, is_identifier, json_contains_nul, RESERVED_CLAIMS};

/// Where a mapped value goes, besides a local claim of that name.
pub const USERNAME: &str = "username";
pub const EMAIL: &str = "email";
pub const NAME: &str = "name";

/// The most a mapped claim's value may take, serialized.
const MAX_CLAIM_BYTES: usize = 4096;

/// Why an administrator may not map to `target`, if they may not.
pub fn refuse_target(target: &str) -> Option<String> {
    if [USERNAME, EMAIL, NAME].contains(&target) {
        return None;
    }
    if !is_identifier(target, 128) {
        return Some(format!(
            "local claim `{target}`: use letters, digits and `. _ - : @ ~ +` only"
        ));
    }
    RESERVED_CLAIMS
        .contains(&target)
        .then(|| format!("`{target}` is set by Tessera itself and cannot be mapped"))
}

/// What the mappings make of the other system's account. Values that would not be valid here
/// (a username with spaces, an address that is none, a reserved claim) are left out.
#[derive(Debug, Default, Clone)]
pub struct Mapped {
    pub username: Option<String>,
    pub email: Option<String>,
    /// Local claims, `name` among them.
    pub claims: Map<String, Value>,
}

impl Mapped {
    /// Puts `value` where `target` says.
    pub fn assign(&mut self, target: &str, value: &Value) {
        let text = value.as_str().map(str::trim);
        match target {
            USERNAME => self.username = text.filter(|t| is_identifier(t, 128)).map(str::to_string),
            EMAIL => self.email = text.filter(|t| is_email(t)).map(str::to_string),
            NAME => {
                if let Some(name) = text
                    .filter(|t| !t.is_empty() && t.len() <= 200 && !t.contains(char::is_control))
                {
                    self.claims
                        .insert(NAME.into(), Value::String(name.to_string()));
                }
            }
            claim if refuse_target(claim).is_none() => {
                let small = serde_json::to_vec(value).map_or(0, |b| b.len()) <= MAX_CLAIM_BYTES;
                if small && !json_contains_nul(value) {
                    self.claims.insert(claim.to_string(), value.clone());
                }
            }
            _ => {}
        }
    }

    pub fn name(&self) -> Option<&str> {
        self.claims.get(NAME).and_then(Value::as_str)
    }
}
