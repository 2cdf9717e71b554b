//! Bringing a server up: open and migrate the database, load the master key, seed, build the
//! state, and run the background jobs.

use std::sync::Arc;
use std::time::Duration;

use migration::MigratorTrait;

use crate::accounts::Accounts;
use crate::changes::{self, Caches};
use crate::clock::Clock;
use crate::config::{ConfigError, Validated};
use crate::crypto::master_key::MasterKey;
use crate::crypto::password::Argon2Params;
use crate::crypto::secrets::SecretHasher;
use crate::directory::Directory;
use crate::keys::KeyRing;
use crate::revocation::RevocationIndex;
use crate::seeding::{self, Bootstrap, SeedReport};
use crate::sessions::BrowserStore;
use crate::state::{AppInner, AppState};
use crate::store::DatabaseKind;
use crate::store::{self, Store};
use crate::tokens::refresh::RefreshTokens;

/// A start-up failure, one line, naming the setting at fault when there is one.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Other(String),
}

/// Opens the database named by the configuration (no migration).
pub async fn open_store(config: &Validated) -> Result<Store, ConfigError> {
    let mut store = Store::connect_with(
        &config.database_url,
        config.database_kind,
        config.db_acquire_timeout,
        config.sqlite_sync,
    )
    .await
    .map_err(|e| {
        ConfigError::new(
            "TESSERA_DATABASE_URL",
            format!("cannot open the database: {e}"),
        )
    })?;
    if crate::telemetry::exporting() {
        store.trace_statements();
    }
    Ok(store)
}

pub async fn migrate(store: &Store) -> Result<(), StartError> {
    let status = migration_status(store).await?;
    if !status.newer.is_empty() {
        // A newer build has migrated this database: migrations only add, so this one runs
        // beside it (a rolling upgrade), provided it needs nothing the newer one lacks.
        if !status.pending.is_empty() {
            return Err(StartError::Other(format!(
                "the database has migrations this build does not know ({}) and lacks ones it \
                 needs ({}): it was migrated by a different line of Tessera",
                status.newer.join(", "),
                status.pending.join(", ")
            )));
        }
        tracing::warn!(
            newer = %status.newer.join(", "),
            "the database was migrated by a newer Tessera; running beside it"
        );
        return Ok(());
    }
    migration::Migrator::up(&store.db, None)
        .await
        .map_err(|e| StartError::Other(format!("database migration failed: {e}")))
}

/// Which migrations the database has, lacks, and has from a newer build.
pub async fn migration_status(store: &Store) -> Result<migration::Status, StartError> {
    migration::status(&store.db)
        .await
        .map_err(|e| StartError::Other(format!("reading the migration table failed: {e}")))
}

/// The configured master key, or for SQLite the key file beside the database.
pub fn load_master_key(config: &Validated) -> Result<MasterKey, ConfigError> {
    if let Some(encoded) = &config.master_key {
        return MasterKey::from_base64(encoded)
            .map_err(|e| ConfigError::new("TESSERA_MASTER_KEY", e.to_string()));
    }
    match config.sqlite_key_file() {
        Some(path) => {
            let (key, created) = MasterKey::load_or_create(&path)
                .map_err(|e| ConfigError::new("TESSERA_MASTER_KEY", e.to_string()))?;
            if created {
                tracing::warn!(
                    path = %path.display(),
                    "TESSERA_MASTER_KEY is not set: generated a master key file beside the database; \
                     back it up, or signing keys cannot be decrypted"
                );
            }
            Ok(key)
        }
        None if config.database_kind == DatabaseKind::Sqlite => {
            // An in-memory database lives only as long as the process, so may its key.
            Ok(MasterKey::generate())
        }
        None => Err(ConfigError::new(
            "TESSERA_MASTER_KEY",
            "is required with a Postgres database",
        )),
    }
}

/// The configured master key with its derivation root. With SQLite's key file it also
/// settles a rotation that was cut off: a staged `.key.new` file is moved into place when the
/// database already needs it, and deleted when it never came to be used. Values the key
/// cannot open are logged (they would fail only where used).
async fn master_key_in_use(config: &Validated, store: &Store) -> Result<MasterKey, ConfigError> {
    use crate::master_key_rotation::{check, resolve, RotationError};
    let failed = |e: RotationError| ConfigError::new("TESSERA_MASTER_KEY", e.to_string());
    let key_file = config
        .master_key
        .is_none()
        .then(|| config.sqlite_key_file())
        .flatten();
    let staged = key_file.as_ref().map(|path| path.with_extension("key.new"));
    let key = match (
        resolve(store, load_master_key(config)?).await,
        &key_file,
        &staged,
    ) {
        (Err(RotationError::WrongKey), Some(path), Some(staged)) if staged.exists() => {
            let new = MasterKey::load_or_create(staged)
                .map_err(|e| ConfigError::new("TESSERA_MASTER_KEY", e.to_string()))?
                .0;
            let key = resolve(store, new).await.map_err(failed)?;
            move_into_place(staged, path)
                .map_err(|e| ConfigError::new("TESSERA_MASTER_KEY", e.to_string()))?;
            tracing::warn!(path = %path.display(), "finished a master key rotation that was cut off: the key file holds the new key");
            key
        }
        (Ok(key), _, Some(staged)) if staged.exists() => {
            // The rotation that staged it never committed: the current key is still the one.
            let _ = std::fs::remove_file(staged);
            key
        }
        (resolved, _, _) => resolved.map_err(failed)?,
    };
    if let Err(e) = check(store, &key).await {
        tracing::warn!(error = %e, "a stored secret does not open with the master key");
    }
    Ok(key)
}

/// Renames `from` over `to` and makes the rename durable.
fn move_into_place(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::rename(from, to)?;
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Where the new master key is to be found after a rotation.
pub enum NewKeyHome {
    /// The operator sets `TESSERA_MASTER_KEY` to it.
    Environment,
    /// The SQLite key file beside the database now holds it.
    KeyFile(std::path::PathBuf),
}

/// Rotates the master key to `new_key` (base64); stop every server on the database first.
/// With a SQLite key file, the file is replaced once the database is done.
pub async fn rotate_master_key(
    config: &Validated,
    new_key: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(usize, NewKeyHome), StartError> {
    let new = MasterKey::from_base64(new_key)
        .map_err(|e| ConfigError::new("TESSERA_NEW_MASTER_KEY", e.to_string()))?;
    let store = open_store(config).await?;
    migrate(&store).await?;
    let failed = |e: crate::master_key_rotation::RotationError| {
        ConfigError::new("TESSERA_MASTER_KEY", e.to_string())
    };
    let current = master_key_in_use(config, &store).await?;
    let key_file = config
        .master_key
        .is_none()
        .then(|| config.sqlite_key_file())
        .flatten();
    // The new key is on disk before the database depends on it.
    let staged = key_file.as_ref().map(|path| path.with_extension("key.new"));
    if let Some(staged) = &staged {
        new.write_new_file(staged)
            .map_err(|e| ConfigError::new("TESSERA_NEW_MASTER_KEY", e.to_string()))?;
    }
    let resealed = match crate::master_key_rotation::rotate(&store, &current, new, now).await {
        Ok(count) => count,
        Err(e) => {
            if let Some(staged) = &staged {
                let _ = std::fs::remove_file(staged);
            }
            return Err(failed(e).into());
        }
    };
    let home = match (key_file, staged) {
        (Some(path), Some(staged)) => {
            move_into_place(&staged, &path).map_err(|e| {
                StartError::Other(format!(
                    "the database now needs the new key, kept in {}; moving it to {} failed: {e}",
                    staged.display(),
                    path.display()
                ))
            })?;
            NewKeyHome::KeyFile(path)
        }
        _ => NewKeyHome::Environment,
    };
    Ok((resealed, home))
}

/// A running server's state plus what seeding reported.
pub struct Started {
    pub state: AppState,
    pub seed_report: SeedReport,
}

/// Opens, migrates, seeds and builds the application state.
pub async fn start(config: &Validated, clock: Arc<dyn Clock>) -> Result<Started, StartError> {
    let store = open_store(config).await?;
    migrate(&store).await?;
    let master_key = Arc::new(master_key_in_use(config, &store).await?);
    let argon2 = config.argon2;
    let secrets = SecretHasher::new(master_key.derive("client-secret-pepper"), argon2);
    let caches = Arc::new(Caches {
        store: store.clone(),
        directory: Directory::new(store.clone(), config.cache_budget),
        keys: KeyRing::new(
            store.clone(),
            master_key.clone(),
            config.rsa_key_pool,
            config.cache_budget,
        ),
        revocations: RevocationIndex::default(),
        verified_tokens: Default::default(),
        clock: clock.clone(),
    });
    let now = clock.now();
    let mut seed_report = Bootstrap {
        store: &store,
        keys: &caches.keys,
        secrets: &secrets,
        argon2,
        admin_username: &config.admin_username,
        admin_password: config.admin_password.as_deref(),
    }
    .run(now)
    .await
    .map_err(|e| StartError::Other(format!("seeding failed: {e}")))?;
    check_master_key(&store, &caches.keys, now).await?;
    caches
        .revocations
        .reload(&store, now)
        .await
        .map_err(|e| StartError::Other(format!("loading revocations failed: {e}")))?;
    let accounts = Accounts::new(
        store.clone(),
        argon2,
        config.lockout,
        crate::ldap::Directories::new(master_key.clone()),
    )
    .map_err(|e| StartError::Other(format!("preparing password checks failed: {e}")))?;
    let refresh = RefreshTokens::new(
        store.clone(),
        master_key.derive("refresh-token-successor"),
        master_key.derive("refresh-token-pair"),
        config.refresh_grace,
        clock.clone(),
    );
    let browser_sessions = Arc::new(
        BrowserStore::open(&store)
            .await
            .map_err(|e| StartError::Other(format!("preparing the session store failed: {e}")))?,
    );
    // Libraries that build their own TLS configuration (ldap3 with the system's roots) ask
    // rustls for the process default; several providers are linked, so name it.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let http_client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        // Some APIs (GitHub's) refuse requests without one.
        .user_agent(concat!("Tessera/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| StartError::Other(format!("building the HTTP client failed: {e}")))?;
    let outbound = crate::outbound::Outbound::new()
        .map_err(|e| StartError::Other(format!("building the outbound HTTP client failed: {e}")))?;
    let state = AppState(Arc::new(AppInner {
        public_url: config.public_url.clone(),
        caches,
        master_key: master_key.clone(),
        secrets,
        accounts,
        factors: crate::factors::SecondFactors::new(store.clone(), master_key.clone()),
        mailer: crate::mail::Mailer::new(master_key.clone()),
        refresh,
        browser_sessions,
        upstreams: crate::upstream::Upstreams::new(master_key.clone(), http_client.clone()),
        http_client,
        client_keys: crate::client_keys::ClientKeys::new(outbound.clone(), master_key.clone()),
        documents: crate::client_documents::Documents::new(outbound),
        dpop: crate::dpop::Dpop::new(master_key.derive("dpop-nonce")),
        trusted_jwks: Default::default(),
        device_limiter: Default::default(),
        rate_limiters: Default::default(),
        trusted_proxies: config.trusted_proxies.clone(),
        metrics: Arc::new(crate::metrics::Metrics::new(config.metrics_realm_labels)),
        lifecycle: Default::default(),
        clock,
    }));
    if let Some(path) = &config.seed_file {
        let report = apply_seed_file(&state, argon2, path).await?;
        seed_report.created_realms.extend(report.created_realms);
    }
    Ok(Started { state, seed_report })
}

/// Reads and applies a seed file: realm documents (`.json`, one or a list) as `tessera
/// import` would, or the TOML seed format, which creates what is missing.
pub async fn apply_seed_file(
    state: &AppState,
    argon2: Argon2Params,
    path: &std::path::Path,
) -> Result<SeedReport, StartError> {
    let failed = |e: &dyn std::fmt::Display| ConfigError::new("TESSERA_SEED_FILE", e.to_string());
    let text = std::fs::read_to_string(path)
        .map_err(|e| failed(&format!("cannot read {}: {e}", path.display())))?;
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        return apply_realm_documents(state, &text)
            .await
            .map_err(|e| failed(&e).into());
    }
    let file = seed::parse(&text).map_err(|e| failed(&e))?;
    let caches = &state.caches;
    seeding::apply_file(
        &caches.store,
        &caches.keys,
        &state.secrets,
        argon2,
        &file,
        state.now(),
    )
    .await
    .map_err(|e| failed(&e).into())
}

/// Imports each realm document of a JSON seed file.
async fn apply_realm_documents(state: &AppState, text: &str) -> Result<SeedReport, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let documents: Vec<crate::realm_io::RealmDocument> = match value {
        serde_json::Value::Array(_) => serde_json::from_value(value),
        _ => serde_json::from_value(value).map(|d| vec![d]),
    }
    .map_err(|e| format!("not a realm document (or a list of them): {e}"))?;
    let mut report = SeedReport::default();
    for document in documents {
        let imported = crate::realm_io::import(state, document, false, "seed")
            .await
            .map_err(|e| e.to_string())?;
        if imported.realm_created {
            report.created_realms.push(imported.realm);
        }
    }
    Ok(report)
}

/// Fails fast when the master key cannot decrypt the stored signing keys.
async fn check_master_key(
    store: &Store,
    keys: &KeyRing,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), StartError> {
    let master = store::realms::find_by_name(&store.db, seeding::MASTER_REALM)
        .await
        .map_err(|e| StartError::Other(e.to_string()))?
        .ok_or_else(|| StartError::Other("realm master is missing".into()))?;
    match keys.realm_keys(&master.id, now).await {
        Ok(_) => Ok(()),
        Err(crate::keys::KeyRingError::MasterKey(e)) => {
            Err(ConfigError::new("TESSERA_MASTER_KEY", e.to_string()).into())
        }
        Err(e) => Err(StartError::Other(format!(
            "loading signing keys failed: {e}"
        ))),
    }
}

/// How often expired rows are swept, and how many go per statement.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
const SWEEP_BATCH: u64 = 1000;

/// Starts the change listener, the reconcile loop and the sweeper of expired rows.
pub fn spawn_background_jobs(state: &AppState) {
    changes::spawn_listeners(state.caches.clone());
    // Latency samples are folded into buckets every few seconds, scraped or not.
    let metrics = state.metrics.clone();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            ticker.tick().await;
            metrics.upkeep();
        }
    });
    let state = state.clone();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(SWEEP_EVERY);
        loop {
            ticker.tick().await;
            sweep_expired(&state).await;
            // Full rate-limit buckets are forgotten, so memory follows recent callers only.
            state.rate_limiters.sweep();
        }
    });
}

/// Deletes expired revocation entries, refresh tokens and their families, codes and device
/// codes, sessions, pending logins and mailed links, in bounded batches so no statement holds locks long and tables stay small. Returns
/// how many rows went.
pub async fn sweep_expired(state: &AppState) -> u64 {
    let db = &state.caches.store.db;
    let mut total = 0;
    for table in [
        "revocations",
        "refresh tokens",
        "codes",
        "sessions",
        "interactions",
        "upstream logins",
        "action tokens",
        "one-time ids",
    ] {
        loop {
            let now = state.now();
            let swept = match table {
                "revocations" => store::revocations::delete_expired(db, now, SWEEP_BATCH).await,
                "refresh tokens" => store::refresh::delete_expired(db, now, SWEEP_BATCH).await,
                "sessions" => store::sessions::delete_expired(db, now, SWEEP_BATCH).await,
                "interactions" => store::interactions::delete_expired(db, now, SWEEP_BATCH).await,
                "upstream logins" => {
                    store::broker_logins::delete_expired(db, now, SWEEP_BATCH).await
                }
                "action tokens" => store::mail::delete_expired_tokens(db, now).await,
                "one-time ids" => store::one_time::delete_expired(db, now, SWEEP_BATCH).await,
                _ => store::codes::delete_expired(db, now, SWEEP_BATCH).await,
            };
            match swept {
                Ok(n) => {
                    total += n;
                    if n < SWEEP_BATCH {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, table, "sweeping expired rows failed");
                    break;
                }
            }
        }
    }
    // Browser sessions: tower-sessions' own sweep of its table.
    if let Err(e) = state.browser_sessions.delete_expired().await {
        tracing::warn!(error = %e, "sweeping expired browser sessions failed");
    }
    total
}

/// Serves HTTP on `listener` with the default limits until the process is told to stop.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    serve_with(listener, state, crate::serving::ServeLimits::default()).await
}

/// Serves HTTP on `listener` with `limits` until SIGINT or SIGTERM. Then readiness turns 503,
/// the listener closes after the shutdown delay, accepted requests finish (within the drain
/// timeout) and the database pool closes.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    state: AppState,
    limits: crate::serving::ServeLimits,
) -> std::io::Result<()> {
    let router = crate::app::router(state.clone());
    let draining = state.clone();
    let stop = async move {
        shutdown_signal().await;
        draining.lifecycle.begin_draining();
        tracing::info!(
            delay_s = limits.shutdown_delay.as_secs(),
            drain_timeout_s = limits.drain_timeout.as_secs(),
            "stop signal: readiness is 503; the listener closes after the delay"
        );
        tokio::time::sleep(limits.shutdown_delay).await;
    };
    let served = crate::serving::run(listener, router, limits, stop).await;
    if let Err(e) = state.caches.store.db.close_by_ref().await {
        tracing::warn!(error = %e, "closing the database pool failed");
    }
    tracing::info!("stopped");
    served
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
