//! The console's URLs, built in one place so every link percent-encodes its keys.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but RFC 3986 unreserved characters is encoded in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One path segment or query value, percent-encoded.
pub fn enc(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

pub const HOME: &str = "/admin";
pub const LOGIN: &str = "/admin/login";
pub const LOGOUT: &str = "/admin/logout";
pub const REALMS: &str = "/admin/realms";
/// The new-realm form. Create forms live under `new/` so that no key, not even `new`, can
/// shadow them.
pub const NEW_REALM: &str = "/admin/new/realm";

/// A realm's dashboard.
pub fn realm(realm: &str) -> String {
    format!("/admin/realms/{}", enc(realm))
}

/// A page of a realm: `section` is a collection or a page such as `keys`.
pub fn section(realm: &str, section: &str) -> String {
    format!("/admin/realms/{}/{section}", enc(realm))
}

/// The form that creates an item of `collection`.
pub fn new_item(realm: &str, collection: &str) -> String {
    format!("/admin/realms/{}/new/{collection}", enc(realm))
}

/// One item of a collection.
pub fn item(realm: &str, collection: &str, key: &str) -> String {
    format!("/admin/realms/{}/{collection}/{}", enc(realm), enc(key))
}

/// Whether `next` is a console path it is safe to return to after sign-in.
pub fn safe_next(next: &str) -> bool {
    (next == HOME || next.starts_with("/admin/"))
        && !next.contains("//")
        && !next.contains('\\')
        && next.chars().all(|c| c.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_encoded_and_next_is_checked() {
        assert_eq!(
            item("acme", "clients", "a/b c"),
            "/admin/realms/acme/clients/a%2Fb%20c"
        );
        assert!(safe_next("/admin/realms/acme/clients"));
        assert!(!safe_next("//evil.example/admin"));
        assert!(!safe_next("/admin//evil"));
        assert!(!safe_next("https://evil.example"));
        assert!(!safe_next("/adminx"));
    }
}
