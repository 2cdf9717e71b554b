//! Tessera: a realm-aware OpenID Connect and OAuth 2 authorization server.
//!
//! The binary `tessera` (see `main.rs`) parses configuration and calls [`startup`]; the
//! integration tests start the same server in-process on an ephemeral port.

pub mod accounts;
pub mod admin;
pub mod app;
pub mod body;
pub mod bounded_cache;
pub mod cache_stats;
pub mod changes;
pub mod claim_mapping;
pub mod client_documents;
pub mod client_ip;
pub mod client_keys;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod directory;
pub mod domain;
pub mod dpop;
pub mod every_request;
pub mod factors;
pub mod federation;
pub mod health;
pub mod jose;
pub mod keys;
pub mod ldap;
pub mod lifecycle;
pub mod limiter;
pub mod mail;
pub mod master_key_rotation;
pub mod metrics;
pub mod oauth;
pub mod outage;
pub mod outbound;
pub mod planb;
pub mod rate_limit;
pub mod realm_io;
pub mod revocation;
pub mod seeding;
pub mod self_service;
pub mod serving;
pub mod sessions;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod tokens;
pub mod upstream;
pub mod validation;
pub mod web;
