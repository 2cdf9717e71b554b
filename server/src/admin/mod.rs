//! Administration: the admin service (validation, secrets, audit; one implementation of
//! `admin_model::AdminPort`) and its REST face at `/admin/api` with an OpenAPI document
//! (CONTRACT §4). The console (`admin-ui`) calls the same service.

pub mod api;
pub mod openapi;
pub mod service;
mod validate;

pub use service::AdminService;
