//! End-to-end tests: the real server on an ephemeral port, driven by real clients. One test
//! binary for the whole suite (every extra binary costs a full link).

// The workspace lints against unwrap/expect/panic/indexing are for library code; test helpers
// may fail loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

mod aborted_requests;
mod account_console;
mod admin_api;
mod admin_openapi;
mod architecture;
mod authorization_code;
mod bounded_caches;
mod browser;
mod cli;
mod client_credentials;
mod client_documents;
mod console;
mod console_http;
mod db_outage;
mod decentralized;
mod device;
mod discovery;
mod dpop;
mod email;
mod exchange;
mod federation;
mod graceful_shutdown;
mod hostile_connections;
mod interactions;
mod introspection;
mod keys;
mod ldap;
mod loopback_redirects;
mod master_key;
mod mcp;
mod multiprocess;
mod openid_client;
mod passkeys;
mod password;
mod planb;
mod races;
mod rate_limits;
mod realms_as_code;
mod refresh;
mod registration;
mod resource_server;
mod revocation;
mod roles;
mod second_factor;
mod seeding;
mod session_cookies;
mod signed_requests;
mod traces;
mod user_sessions;
mod webdriver;
