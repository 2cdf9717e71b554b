//! The device code grant (RFC 8628 §3.4–3.5): the device polls until the user decides.
//! `authorization_pending` while waiting, `slow_down` (and 5 s more interval from then on) when
//! polling too fast, `access_denied`, `expired_token`; an approved code is redeemed once.

use chrono::Duration;
use futures::future::BoxFuture;
use futures::FutureExt;

use super::issue::{self, UserGrant};
use super::{Grant, GrantRequest, TokenResponse};
use crate::domain::grant_type;
use crate::oauth::device::device_code_hash;
use crate::oauth::error::OAuthError;
use crate::store::{self, codes::device_status};

pub struct DeviceCode;

impl Grant for DeviceCode {
    fn grant_type(&self) -> &'static str {
        grant_type::DEVICE_CODE
    }

    fn handle<'a>(
        &'a self,
        request: GrantRequest<'a>,
    ) -> BoxFuture<'a, Result<TokenResponse, OAuthError>> {
        handle(request).boxed()
    }
}

async fn handle(request: GrantRequest<'_>) -> Result<TokenResponse, OAuthError> {
    let GrantRequest {
        state,
        realm,
        params,
        ..
    } = request;
    let client = &request.client.client;
    let db = &state.caches.store.db;
    let now = state.now();
    let code = params.require("device_code")?;
    let stored = store::codes::find_device_code(db, &device_code_hash(code))
        .await?
        .filter(|c| c.realm_id == realm.realm.id && c.client_id == client.client_id)
        .ok_or_else(|| OAuthError::invalid_grant("the device code is invalid"))?;
    if now >= stored.expires_at {
        return Err(OAuthError::expired_token(
            "the device code has expired; start over",
        ));
    }
    match stored.status.as_str() {
        device_status::PENDING => {
            let too_fast = stored
                .last_polled_at
                .is_some_and(|last| now - last < Duration::seconds(stored.interval_secs.into()));
            if too_fast {
                store::codes::record_poll(db, &stored.id, stored.interval_secs + 5, now).await?;
                return Err(OAuthError::slow_down(
                    "polling too fast: wait 5 more seconds between polls",
                ));
            }
            store::codes::record_poll(db, &stored.id, stored.interval_secs, now).await?;
            return Err(OAuthError::authorization_pending(
                "the user has not decided yet",
            ));
        }
        device_status::DENIED => {
            return Err(OAuthError::access_denied("the user denied the request"))
        }
        device_status::APPROVED => {}
        _ => {
            return Err(OAuthError::invalid_grant(
                "the device code was already used",
            ))
        }
    }
    if !store::codes::redeem_device_code(db, &stored.id).await? {
        return Err(OAuthError::invalid_grant(
            "the device code was already used",
        ));
    }
    let user_id = stored
        .user_id
        .as_deref()
        .ok_or_else(|| OAuthError::server_error("approved device code without a user"))?;
    let user = store::users::find(db, user_id)
        .await?
        .filter(|u| u.enabled)
        .ok_or_else(|| OAuthError::invalid_grant("the device code is invalid"))?;
    let scopes = crate::oauth::scope::split(&stored.scope);
    // The level of the sign-in that approved the device (a second factor raised it to 2).
    let session = match stored.session_id.as_deref() {
        Some(id) => store::sessions::find(db, id).await?,
        None => None,
    };
    let amr = match &session {
        Some(session) => store::string_list(&session.amr, "sessions.amr")?,
        None => vec!["pwd".to_string()],
    };
    let issued = issue::for_user(
        &request,
        UserGrant {
            user: &user,
            scopes: &scopes,
            auth_time: stored.auth_time.unwrap_or(now),
            acr: session.as_ref().and_then(|s| s.acr.as_deref()),
            amr: &amr,
            nonce: None,
            session_id: stored.session_id.as_deref(),
            code_id: None,
            openid: true,
            idp: session.as_ref().and_then(|s| s.idp.as_deref()),
            resources: &[],
        },
    )
    .await?;
    Ok(issued.response)
}
