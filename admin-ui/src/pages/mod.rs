//! One module per console area; each owns its routes' handlers and components.

pub mod login;
