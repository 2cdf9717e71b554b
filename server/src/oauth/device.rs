//! Device authorization (RFC 8628 §3.1–3.3): a device without a browser gets a `device_code`
//! to poll with and a short `user_code` the user types at `/realms/{realm}/device`.

use axum::extract::State;
use axum::response::Response;
use chrono::Duration;
use serde_json::json;

use super::client_auth;
use super::error::OAuthError;
use super::form::OAuthForm;
use super::token::no_store_json;
use crate::crypto::{b64url, random, sha256};
use crate::domain::{grant_type, Lifetimes};
use crate::state::{AppState, RealmCtx};
use crate::store::{self, codes::NewDeviceCode};

/// RFC 8628 §6.1: consonants only, no look-alikes, no vowels (no words).
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Seconds a device should wait between polls.
pub const DEFAULT_INTERVAL: i32 = 5;

/// A fresh user code, 8 characters (about 34.6 bits).
pub fn new_user_code() -> String {
    // The remainder is always an index into the alphabet, so no byte is ever skipped.
    random::bytes::<8>()
        .iter()
        .filter_map(|b| USER_CODE_ALPHABET.get(usize::from(*b) % USER_CODE_ALPHABET.len()))
        .map(|c| char::from(*c))
        .collect()
}

/// `XXXXXXXX` → `XXXX-XXXX`, as shown to people.
pub fn display_user_code(code: &str) -> String {
    format!("{}-{}", &code[..4], &code[4..])
}

/// What a person typed → the stored form: letters only, upper case.
pub fn normalize_user_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

pub fn device_code_hash(device_code: &str) -> String {
    b64url(sha256(device_code.as_bytes()))
}

/// `POST /realms/{realm}/connect/device_authorization`
pub async fn device_authorization(
    State(state): State<AppState>,
    realm: RealmCtx,
    form: OAuthForm,
) -> Result<Response, OAuthError> {
    let ip = state.client_ip(form.peer, &form.headers);
    state
        .limit_ip(&realm.realm, crate::rate_limit::Group::Device, ip)
        .map_err(OAuthError::rate_limited)?;
    let caller = client_auth::authenticate(
        &state,
        &realm,
        &form.headers,
        &form.params,
        "/connect/device_authorization",
    )
    .await?;
    let client = &caller.client;
    // Public clients are named, not proven: their allowance is not anyone's to spend.
    if !client.public {
        state
            .limit_client(
                &realm.realm,
                crate::rate_limit::Group::Device,
                &client.client_id,
            )
            .map_err(OAuthError::rate_limited)?;
    }
    if !client.allows_grant(grant_type::DEVICE_CODE) {
        return Err(OAuthError::unauthorized_client(
            "the client may not use the device flow",
        ));
    }
    let scopes = match form.params.get("scope") {
        Some(raw) => {
            let requested = super::scope::parse(raw)?;
            super::scope::ensure_allowed(&requested, &client.scopes)?;
            requested
        }
        None => client
            .scopes
            .iter()
            .filter(|s| *s != "offline_access")
            .cloned()
            .collect(),
    };
    let now = state.now();
    let lifetime = Lifetimes::resolve(&client.lifetimes, &realm.realm.lifetimes).device_code;
    let device_code = random::opaque_token();
    // A collision of user codes is rare but possible: draw again.
    let mut user_code = None;
    for _ in 0..5 {
        let candidate = new_user_code();
        let stored = store::codes::insert_device_code(
            &state.caches.store.db,
            &realm.realm.id,
            NewDeviceCode {
                device_code_hash: device_code_hash(&device_code),
                user_code: candidate.clone(),
                client_id: client.client_id.clone(),
                scope: scopes.join(" "),
                interval_secs: DEFAULT_INTERVAL,
                expires_at: now + Duration::seconds(lifetime),
            },
            now,
        )
        .await?;
        if stored {
            user_code = Some(candidate);
            break;
        }
    }
    let user_code = user_code.ok_or_else(|| OAuthError::temporarily_unavailable("try again"))?;
    let shown = display_user_code(&user_code);
    let verification_uri = format!("{}/device", realm.issuer);
    let body = json!({
        "device_code": device_code,
        "user_code": shown,
        "verification_uri": verification_uri,
        "verification_uri_complete": format!("{verification_uri}?user_code={shown}"),
        "expires_in": lifetime,
        "interval": DEFAULT_INTERVAL,
    });
    Ok(no_store_json(body.to_string().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_unambiguous_and_forgiving() {
        let code = new_user_code();
        assert_eq!(code.len(), 8);
        assert!(code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)));
        let shown = display_user_code(&code);
        assert_eq!(shown.len(), 9);
        assert_eq!(normalize_user_code(&shown.to_lowercase()), code);
        assert_eq!(normalize_user_code(" bcdf ghjk "), "BCDFGHJK");
    }
}
