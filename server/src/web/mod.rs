//! The pages people use: login, consent and logout confirmation, rendered on the server, and the
//! browser sessions behind them.

pub mod consent;
pub mod device;
pub mod html;
pub mod login;
pub mod session;
