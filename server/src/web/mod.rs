//! The pages people use: login, consent, device verification and logout confirmation, rendered
//! on the server. This is the browser edge: it turns the protocol's decisions into HTML and
//! redirects; the protocol (`oauth/`) never imports it.

pub mod account;
pub mod authorize;
pub mod broker;
pub mod consent;
pub mod device;
pub mod html;
pub mod interaction;
pub mod login;
pub mod logout;
pub mod passkeys;
pub mod reset;
pub mod second_factor;
pub mod update_password;
pub mod verify_email;

/// Where a browser's sign-in comes from: its address (forwarded by a trusted proxy, or the
/// peer's) and its `User-Agent`.
pub fn device_of(
    state: &crate::state::AppState,
    peer: std::net::SocketAddr,
    headers: &axum::http::HeaderMap,
) -> crate::store::sessions::Device {
    let user_agent = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    // Behind trusted proxies, the address they forward.
    let ip = state.client_ip(Some(peer.ip()), headers);
    crate::store::sessions::Device::new(Some(ip.to_string()), user_agent)
}
