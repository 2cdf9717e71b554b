//! Tracing set-up: a human format by default, JSON for log shippers.

use tracing_subscriber::EnvFilter;

use crate::config::{ConfigError, LogFormat};

pub fn init(filter: &str, format: LogFormat) -> Result<(), ConfigError> {
    let filter =
        EnvFilter::try_new(filter).map_err(|e| ConfigError::new("TESSERA_LOG", e.to_string()))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    }
    .map_err(|e| ConfigError::new("TESSERA_LOG_FORMAT", e.to_string()))
}
