//! Every option of `tessera` (CONTRACT §1): a clap flag with an environment fallback.

use crate::store::DatabaseKind;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Tessera: a realm-aware OpenID Connect and OAuth 2 authorization server.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate, seed and serve HTTP (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate {
        /// List applied, pending and newer migrations instead; changes nothing.
        #[arg(long)]
        status: bool,
    },
    /// Apply a seed file (idempotently) and exit: TOML, or realm documents as JSON.
    Seed {
        /// Path of the seed file (`.json`: one realm document or a list of them).
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// Print a realm as one JSON document (realms as code), on standard output or to a file.
    Export {
        /// Name of the realm.
        #[arg(long, value_name = "REALM")]
        realm: String,
        /// Include the signing keys and sealed secrets (still encrypted with the master key,
        /// so only a server with the same TESSERA_MASTER_KEY can use them).
        #[arg(long)]
        include_keys: bool,
        /// Write the document here instead of standard output.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Bring a realm in line with a JSON document from `export` (creating it if need be);
    /// the same document twice changes nothing, and a failed import changes nothing.
    Import {
        /// The document (`-` for standard input).
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Print the changes the import would make, and make none.
        #[arg(long)]
        dry_run: bool,
    },
    /// Manage the master key.
    MasterKey {
        #[command(subcommand)]
        command: MasterKeyCommand,
    },
    /// Manage realm signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum MasterKeyCommand {
    /// Seal every signing key and stored secret with a new master key, in one transaction.
    /// Stop every server on the database first; start them again with the new key.
    Rotate {
        /// The new key: 32 random bytes, base64 (`openssl rand -base64 32`). Pass it in the
        /// environment rather than on the command line.
        #[arg(long, env = "TESSERA_NEW_MASTER_KEY", hide_env_values = true)]
        new_key: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new active key set to a realm; old keys stay published until their tokens expire.
    Rotate {
        /// Name of the realm.
        #[arg(long, value_name = "REALM")]
        realm: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// SeaORM database URL: `sqlite://…` (embedded) or `postgres://…`.
    #[arg(
        long,
        env = "TESSERA_DATABASE_URL",
        default_value = "sqlite://tessera.db?mode=rwc"
    )]
    pub database_url: String,

    /// Address the HTTP server listens on.
    #[arg(long, env = "TESSERA_BIND", default_value = "127.0.0.1:7791")]
    pub bind: String,

    /// External base URL; every realm's issuer is `{public_url}/realms/{realm}`.
    #[arg(
        long,
        env = "TESSERA_PUBLIC_URL",
        default_value = "http://localhost:7791"
    )]
    pub public_url: String,

    /// Username of the bootstrap administrator of realm `master`.
    #[arg(long, env = "TESSERA_ADMIN_USERNAME", default_value = "admin")]
    pub admin_username: String,

    /// Password of the bootstrap administrator; generated and printed once when absent.
    /// Never overwrites an existing user.
    #[arg(long, env = "TESSERA_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// 32-byte base64 key encrypting private signing keys at rest. Generated into a key
    /// file beside a SQLite database when absent; required for Postgres.
    #[arg(long, env = "TESSERA_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,

    /// Seed file applied idempotently at start: realm documents as JSON (`.json`, imported as
    /// by `tessera import`) or the TOML seed format (creates what is missing).
    #[arg(long, env = "TESSERA_SEED_FILE")]
    pub seed_file: Option<PathBuf>,

    /// argon2id memory cost in KiB for user passwords and chosen secrets (OWASP: 19456).
    #[arg(long, env = "TESSERA_ARGON2_MEMORY_KIB", default_value_t = 19 * 1024)]
    pub argon2_memory_kib: u32,

    /// argon2id passes (OWASP: 2).
    #[arg(long, env = "TESSERA_ARGON2_ITERATIONS", default_value_t = 2)]
    pub argon2_iterations: u32,

    /// argon2id lanes (OWASP: 1).
    #[arg(long, env = "TESSERA_ARGON2_PARALLELISM", default_value_t = 1)]
    pub argon2_parallelism: u32,

    /// Failed sign-ins within the window that lock an account; 0 disables lockout.
    #[arg(long, env = "TESSERA_LOCKOUT_THRESHOLD", default_value_t = 5)]
    pub lockout_threshold: u32,

    /// Window (seconds) in which failed sign-ins are counted.
    #[arg(long, env = "TESSERA_LOCKOUT_WINDOW", default_value_t = 900)]
    pub lockout_window: i64,

    /// How long (seconds) a locked account stays locked.
    #[arg(long, env = "TESSERA_LOCKOUT_DURATION", default_value_t = 900)]
    pub lockout_duration: i64,

    /// Server default of the refresh reuse grace (realms and clients may set their own): seconds
    /// in which a retried refresh gets the same successor pair. 0: any reuse of a rotated refresh
    /// token revokes its family (RFC 9700 §4.14.2).
    #[arg(long, env = "TESSERA_REFRESH_GRACE", default_value_t = 0)]
    pub refresh_grace: i64,

    /// Seconds a request waits for a database connection before answering 503.
    #[arg(long, env = "TESSERA_DB_ACQUIRE_TIMEOUT", default_value_t = 2)]
    pub db_acquire_timeout: u64,

    /// RSA keys generated ahead, so a realm's first RS256 signature (or a key rotation) does
    /// not wait for one (0: none).
    #[arg(long, env = "TESSERA_RSA_KEY_POOL", default_value_t = 2)]
    pub rsa_key_pool: usize,

    /// MiB of memory for the caches of realm settings, clients, catalogues and keys; the
    /// realms least used are evicted beyond it and read again on their next request.
    #[arg(long, env = "TESSERA_CACHE_MIB", default_value_t = crate::bounded_cache::DEFAULT_CACHE_MIB)]
    pub cache_mib: u64,

    /// SQLite only: `normal` syncs the write-ahead log at checkpoints (a power loss may drop
    /// the last commits, never corrupt the database); `full` syncs every commit.
    #[arg(long, env = "TESSERA_SQLITE_SYNCHRONOUS", default_value = "normal")]
    pub sqlite_synchronous: String,

    /// Most client connections held open at once; further ones are closed on accept.
    #[arg(long, env = "TESSERA_MAX_CONNECTIONS", default_value_t = crate::serving::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,

    /// Seconds a client has to send a whole request head once it has begun one.
    #[arg(long, env = "TESSERA_HEADER_READ_TIMEOUT", default_value_t = 10)]
    pub header_read_timeout: u64,

    /// Seconds a connection may sit with no request before it is closed (keep-alive idle).
    #[arg(long, env = "TESSERA_IDLE_TIMEOUT", default_value_t = 60)]
    pub idle_timeout: u64,

    /// Label metrics by realm (tokens issued, sign-ins, rate limits). Turn it off with very
    /// many realms, to keep the number of time series bounded.
    #[arg(long, env = "TESSERA_METRICS_REALM_LABELS", default_value_t = true, action = clap::ArgAction::Set)]
    pub metrics_realm_labels: bool,

    /// OpenTelemetry collector to send traces to over OTLP/HTTP (protobuf), such as
    /// `http://localhost:4318`; `/v1/traces` is appended unless given. Off when unset.
    /// `OTEL_SERVICE_NAME` and `OTEL_BSP_*` tune the service name and batching.
    #[arg(long, env = "TESSERA_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,

    /// Proxies whose forwarding header (TESSERA_FORWARDED_HEADER) names the client's address,
    /// for rate limits and session records: comma-separated addresses and CIDR networks. None by default, so
    /// clients cannot choose the address they are counted under.
    #[arg(long, env = "TESSERA_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,

    /// The header trusted proxies name the client in: `x-forwarded-for` or `forwarded`
    /// (RFC 7239). Only this one is read.
    #[arg(
        long,
        env = "TESSERA_FORWARDED_HEADER",
        default_value = "x-forwarded-for"
    )]
    pub forwarded_header: String,

    /// Seconds between a stop signal (SIGTERM, SIGINT) and closing the listener, while
    /// readiness answers 503 so load balancers take the process out (0 to 300).
    #[arg(long, env = "TESSERA_SHUTDOWN_DELAY", default_value_t = 0)]
    pub shutdown_delay: u64,

    /// Seconds accepted requests get to finish once the listener has closed; connections
    /// still open then are cut.
    #[arg(long, env = "TESSERA_SHUTDOWN_DRAIN", default_value_t = 30)]
    pub shutdown_drain: u64,

    /// Tracing filter (e.g. `info`, `tessera=debug,sqlx=warn`).
    #[arg(long, env = "TESSERA_LOG", default_value = "info")]
    pub log: String,

    /// Log format.
    #[arg(long, env = "TESSERA_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// The OTLP/HTTP traces URL of a collector's base URL (or of the traces URL itself).
fn otlp_traces_url(endpoint: &str) -> Result<String, ConfigError> {
    let url = url::Url::parse(endpoint.trim())
        .map_err(|e| ConfigError::new("TESSERA_OTLP_ENDPOINT", format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::new(
            "TESSERA_OTLP_ENDPOINT",
            "must be an http:// or https:// URL of an OTLP/HTTP collector",
        ));
    }
    let base = url.as_str().trim_end_matches('/');
    Ok(if base.ends_with("/v1/traces") {
        base.to_string()
    } else {
        format!("{base}/v1/traces")
    })
}

/// A configuration problem, always naming the variable at fault.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

impl ConfigError {
    pub fn new(variable: &'static str, message: impl Into<String>) -> Self {
        Self {
            variable,
            message: message.into(),
        }
    }
}

/// Settings checked and parsed into the types the server uses.
#[derive(Debug, Clone)]
pub struct Validated {
    pub database_url: String,
    pub database_kind: DatabaseKind,
    pub bind: SocketAddr,
    /// Public base URL without a trailing slash.
    pub public_url: String,
    pub admin_username: String,
    pub admin_password: Option<String>,
    pub master_key: Option<String>,
    pub seed_file: Option<PathBuf>,
    pub argon2: crate::crypto::password::Argon2Params,
    pub lockout: crate::accounts::LockoutPolicy,
    pub refresh_grace: chrono::Duration,
    /// How long a request waits for a database connection before answering 503.
    pub db_acquire_timeout: std::time::Duration,
    /// How SQLite commits.
    pub sqlite_sync: crate::store::SqliteSync,
    /// RSA keys generated ahead of first use.
    pub rsa_key_pool: usize,
    /// Memory for the realm caches.
    pub cache_budget: crate::bounded_cache::CacheBudget,
    /// Connection cap and timeouts of the HTTP listener.
    pub serve: crate::serving::ServeLimits,
    pub trusted_proxies: crate::client_ip::TrustedProxies,
    pub metrics_realm_labels: bool,
    /// Where traces go (the full OTLP/HTTP traces URL), if anywhere.
    pub otlp_traces_url: Option<String>,
}

impl Settings {
    /// Checks every option that can be checked without I/O.
    pub fn validate(&self) -> Result<Validated, ConfigError> {
        let database_kind = database_kind(&self.database_url)?;
        let bind: SocketAddr = self.bind.parse().map_err(|_| {
            ConfigError::new(
                "TESSERA_BIND",
                format!("`{}` is not an address like 127.0.0.1:7791", self.bind),
            )
        })?;
        let public_url = parse_public_url(&self.public_url)?;
        if self.admin_username.trim().is_empty() {
            return Err(ConfigError::new(
                "TESSERA_ADMIN_USERNAME",
                "must not be empty",
            ));
        }
        if let Some(password) = &self.admin_password {
            if password.chars().count() < 8 {
                return Err(ConfigError::new(
                    "TESSERA_ADMIN_PASSWORD",
                    "must have at least 8 characters",
                ));
            }
        }
        if let Some(key) = &self.master_key {
            crate::crypto::master_key::MasterKey::from_base64(key)
                .map_err(|e| ConfigError::new("TESSERA_MASTER_KEY", e.to_string()))?;
        }
        if database_kind == DatabaseKind::Postgres && self.master_key.is_none() {
            return Err(ConfigError::new(
                "TESSERA_MASTER_KEY",
                "is required with a Postgres database (32 random bytes, base64)",
            ));
        }
        let argon2 = crate::crypto::password::Argon2Params {
            memory_kib: self.argon2_memory_kib,
            iterations: self.argon2_iterations,
            parallelism: self.argon2_parallelism,
        };
        argon2.validate().map_err(|e| {
            ConfigError::new(
                "TESSERA_ARGON2_MEMORY_KIB",
                format!("invalid argon2 parameters: {e}"),
            )
        })?;
        let seconds = |variable: &'static str, value: i64, min: i64| {
            if (min..=crate::validation::MAX_LIFETIME).contains(&value) {
                Ok(chrono::Duration::seconds(value))
            } else {
                Err(ConfigError::new(
                    variable,
                    format!(
                        "must be between {min} and {} seconds",
                        crate::validation::MAX_LIFETIME
                    ),
                ))
            }
        };
        let lockout = crate::accounts::LockoutPolicy {
            threshold: self.lockout_threshold,
            window: seconds("TESSERA_LOCKOUT_WINDOW", self.lockout_window, 1)?,
            duration: seconds("TESSERA_LOCKOUT_DURATION", self.lockout_duration, 1)?,
        };
        let refresh_grace = seconds("TESSERA_REFRESH_GRACE", self.refresh_grace, 0)?;
        let timeout = |variable: &'static str, value: u64| {
            if (1..=3600).contains(&value) {
                Ok(std::time::Duration::from_secs(value))
            } else {
                Err(ConfigError::new(
                    variable,
                    "must be between 1 and 3600 seconds",
                ))
            }
        };
        let db_acquire_timeout = timeout("TESSERA_DB_ACQUIRE_TIMEOUT", self.db_acquire_timeout)?;
        let sqlite_sync =
            crate::store::SqliteSync::parse(&self.sqlite_synchronous).ok_or_else(|| {
                ConfigError::new("TESSERA_SQLITE_SYNCHRONOUS", "must be normal or full")
            })?;
        if self.max_connections == 0 {
            return Err(ConfigError::new(
                "TESSERA_MAX_CONNECTIONS",
                "must be at least 1",
            ));
        }
        let serve = crate::serving::ServeLimits {
            max_connections: self.max_connections,
            header_read_timeout: timeout("TESSERA_HEADER_READ_TIMEOUT", self.header_read_timeout)?,
            idle_timeout: timeout("TESSERA_IDLE_TIMEOUT", self.idle_timeout)?,
            shutdown_delay: if self.shutdown_delay <= 300 {
                std::time::Duration::from_secs(self.shutdown_delay)
            } else {
                return Err(ConfigError::new(
                    "TESSERA_SHUTDOWN_DELAY",
                    "must be between 0 and 300 seconds",
                ));
            },
            drain_timeout: timeout("TESSERA_SHUTDOWN_DRAIN", self.shutdown_drain)?,
        };
        let forwarded_header = crate::client_ip::ForwardedHeader::parse(&self.forwarded_header)
            .ok_or_else(|| {
                ConfigError::new(
                    "TESSERA_FORWARDED_HEADER",
                    "must be x-forwarded-for or forwarded",
                )
            })?;
        let trusted_proxies =
            crate::client_ip::TrustedProxies::parse(&self.trusted_proxies, forwarded_header)
                .map_err(|why| ConfigError::new("TESSERA_TRUSTED_PROXIES", why))?;
        if self.rsa_key_pool > 64 {
            return Err(ConfigError::new("TESSERA_RSA_KEY_POOL", "at most 64"));
        }
        if !(1..=1024 * 1024).contains(&self.cache_mib) {
            return Err(ConfigError::new(
                "TESSERA_CACHE_MIB",
                "must be between 1 and 1048576 (MiB)",
            ));
        }
        let otlp_traces_url = self
            .otlp_endpoint
            .as_deref()
            .filter(|e| !e.trim().is_empty())
            .map(otlp_traces_url)
            .transpose()?;
        Ok(Validated {
            otlp_traces_url,
            metrics_realm_labels: self.metrics_realm_labels,
            trusted_proxies,
            db_acquire_timeout,
            sqlite_sync,
            rsa_key_pool: self.rsa_key_pool,
            cache_budget: crate::bounded_cache::CacheBudget::from_mib(self.cache_mib),
            serve,
            argon2,
            lockout,
            refresh_grace,
            database_url: self.database_url.clone(),
            database_kind,
            bind,
            public_url,
            admin_username: self.admin_username.clone(),
            admin_password: self.admin_password.clone(),
            master_key: self.master_key.clone(),
            seed_file: self.seed_file.clone(),
        })
    }
}

fn database_kind(url: &str) -> Result<DatabaseKind, ConfigError> {
    if url.starts_with("sqlite:") {
        Ok(DatabaseKind::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        url::Url::parse(url)
            .map_err(|e| ConfigError::new("TESSERA_DATABASE_URL", format!("malformed URL: {e}")))?;
        Ok(DatabaseKind::Postgres)
    } else {
        Err(ConfigError::new(
            "TESSERA_DATABASE_URL",
            "must start with sqlite:// or postgres://",
        ))
    }
}

fn parse_public_url(raw: &str) -> Result<String, ConfigError> {
    let url = url::Url::parse(raw)
        .map_err(|e| ConfigError::new("TESSERA_PUBLIC_URL", format!("malformed URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::new(
            "TESSERA_PUBLIC_URL",
            "must be an http or https URL",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::new(
            "TESSERA_PUBLIC_URL",
            "must not carry a query or fragment",
        ));
    }
    Ok(raw.trim_end_matches('/').to_string())
}

impl Validated {
    /// Where the generated master key lives for an embedded SQLite database.
    pub fn sqlite_key_file(&self) -> Option<PathBuf> {
        if self.database_kind != DatabaseKind::Sqlite {
            return None;
        }
        let rest = self
            .database_url
            .trim_start_matches("sqlite:")
            .trim_start_matches("//");
        let path = rest.split('?').next().unwrap_or_default();
        if path.is_empty() || path == ":memory:" {
            return None;
        }
        Some(PathBuf::from(format!("{path}.master.key")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Cli::parse_from(["tessera"]).settings
    }

    #[test]
    fn defaults_validate() {
        let v = settings().validate().expect("defaults are valid");
        assert_eq!(v.bind.port(), 7791);
        assert_eq!(v.public_url, "http://localhost:7791");
        assert_eq!(
            v.sqlite_key_file(),
            Some(PathBuf::from("tessera.db.master.key"))
        );
    }

    #[test]
    fn bad_values_name_their_variable() {
        let mut s = settings();
        s.bind = "nonsense".into();
        assert_eq!(s.validate().unwrap_err().variable, "TESSERA_BIND");

        let mut s = settings();
        s.database_url = "mysql://x".into();
        assert_eq!(s.validate().unwrap_err().variable, "TESSERA_DATABASE_URL");

        let mut s = settings();
        s.database_url = "postgres://postgres@127.0.0.1/x".into();
        assert_eq!(s.validate().unwrap_err().variable, "TESSERA_MASTER_KEY");

        let mut s = settings();
        s.public_url = "ftp://x".into();
        assert_eq!(s.validate().unwrap_err().variable, "TESSERA_PUBLIC_URL");
    }
}
