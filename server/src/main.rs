//! `tessera`: parse configuration, then serve, migrate, seed or rotate keys.

use std::process::ExitCode;
use std::sync::Arc;

use chrono::Duration;
use clap::Parser;
use server::clock::{Clock, SystemClock};
use server::config::{Cli, Command, KeysCommand, MasterKeyCommand};
use server::startup::{self, StartError};
use server::{realm_io, seeding, store};

/// mimalloc: the hot paths allocate many small, short-lived buffers, where it beats glibc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), StartError> {
    let config = cli.settings.validate()?;
    let telemetry = server::telemetry::init(
        &cli.settings.log,
        cli.settings.log_format,
        config.otlp_traces_url.as_deref(),
    )?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let outcome = command(cli.command.unwrap_or(Command::Serve), config, clock).await;
    telemetry.shutdown().await;
    outcome
}

async fn command(
    command: Command,
    config: server::config::Validated,
    clock: Arc<dyn Clock>,
) -> Result<(), StartError> {
    match command {
        Command::Serve => serve(config, clock).await,
        Command::Migrate { status: false } => {
            let store = startup::open_store(&config).await?;
            startup::migrate(&store).await?;
            println!("database migrated");
            Ok(())
        }
        Command::Migrate { status: true } => {
            let store = startup::open_store(&config).await?;
            let status = startup::migration_status(&store).await?;
            for name in &status.applied {
                println!("applied  {name}");
            }
            for name in &status.pending {
                println!("pending  {name}");
            }
            for name in &status.newer {
                println!("newer    {name}  (applied by a newer Tessera)");
            }
            println!(
                "{} applied, {} pending, {} newer",
                status.applied.len(),
                status.pending.len(),
                status.newer.len()
            );
            Ok(())
        }
        Command::Seed { file } => {
            let started = startup::start(&config, clock.clone()).await?;
            let state = &started.state;
            let argon2 = config.argon2;
            let report = startup::apply_seed_file(state, argon2, &file).await?;
            report_admin_password(&started.seed_report, &config);
            println!("seed applied; realms created: {:?}", report.created_realms);
            Ok(())
        }
        Command::Export {
            realm,
            include_keys,
            output,
        } => {
            let started = startup::start(&config, clock.clone()).await?;
            report_admin_password(&started.seed_report, &config);
            let document = realm_io::export(&started.state, &realm, include_keys, "cli")
                .await
                .map_err(|e| StartError::Other(format!("export failed: {e}")))?;
            let mut text = serde_json::to_string_pretty(&document)
                .map_err(|e| StartError::Other(e.to_string()))?;
            text.push('\n');
            match output {
                // Owner-only: it holds password hashes, and with the keys the sealed secrets.
                Some(path) => server::crypto::write_owner_only(&path, text.as_bytes(), true)
                    .map_err(|e| {
                        StartError::Other(format!("cannot write {}: {e}", path.display()))
                    })?,
                None => print!("{text}"),
            }
            Ok(())
        }
        Command::Import { file, dry_run } => {
            let document = read_document(&file)?;
            let started = startup::start(&config, clock.clone()).await?;
            report_admin_password(&started.seed_report, &config);
            let report = realm_io::import(&started.state, document, dry_run, "cli")
                .await
                .map_err(|e| StartError::Other(format!("import failed: {e}")))?;
            for change in &report.changes {
                println!("{change}");
            }
            let outcome = match (report.changes.len(), dry_run) {
                (0, _) => "already matches the document; nothing to change".to_string(),
                (n, true) => format!("{n} change(s) would be made (dry run: none made)"),
                (n, false) => format!("{n} change(s) made"),
            };
            println!("realm `{}`: {outcome}", report.realm);
            Ok(())
        }
        Command::MasterKey {
            command: MasterKeyCommand::Rotate { new_key },
        } => {
            let (resealed, home) =
                startup::rotate_master_key(&config, &new_key, clock.now()).await?;
            println!("master key rotated: {resealed} sealed values now use the new key");
            match home {
                startup::NewKeyHome::KeyFile(path) => {
                    println!("the key file {} holds the new key", path.display())
                }
                startup::NewKeyHome::Environment => {
                    println!("start every server with TESSERA_MASTER_KEY set to the new key")
                }
            }
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Rotate { realm },
        } => {
            let started = startup::start(&config, clock.clone()).await?;
            report_admin_password(&started.seed_report, &config);
            let state = &started.state;
            let found = store::realms::find_by_name(&state.caches.store.db, &realm)
                .await
                .map_err(|e| StartError::Other(e.to_string()))?
                .ok_or_else(|| StartError::Other(format!("realm `{realm}` does not exist")))?;
            let grace = server::keys::rotation_grace(&state.caches.store, &found)
                .await
                .map_err(|e| StartError::Other(e.to_string()))?;
            let kids = state
                .caches
                .keys
                .rotate(&found.id, Duration::seconds(grace), clock.now())
                .await
                .map_err(|e| StartError::Other(format!("rotation failed: {e}")))?;
            state
                .caches
                .publish(server::changes::Change::Keys {
                    realm_id: found.id.clone(),
                })
                .await;
            println!("realm `{realm}`: new active keys {}", kids.join(", "));
            println!("previous keys stay published for {grace} s");
            Ok(())
        }
    }
}

async fn serve(config: server::config::Validated, clock: Arc<dyn Clock>) -> Result<(), StartError> {
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| {
            server::config::ConfigError::new(
                "TESSERA_BIND",
                format!("cannot listen on {}: {e}", config.bind),
            )
        })?;
    let started = startup::start(&config, clock).await?;
    report_admin_password(&started.seed_report, &config);
    startup::spawn_background_jobs(&started.state);
    tracing::info!(
        address = %config.bind,
        admin = %format!("{}/admin", config.public_url),
        issuer_default = %started.state.issuer("default"),
        "tessera is serving"
    );
    startup::serve_with(listener, started.state, config.serve)
        .await
        .map_err(|e| StartError::Other(format!("server failed: {e}")))
}

/// A realm document from a file, or from standard input for `-`.
fn read_document(path: &std::path::Path) -> Result<realm_io::RealmDocument, StartError> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| StartError::Other(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| StartError::Other(format!("{}: not a realm document: {e}", path.display())))
}

/// Prints the generated bootstrap password once, on the terminal only (never into logs).
fn report_admin_password(report: &seeding::SeedReport, config: &server::config::Validated) {
    if let Some(password) = &report.generated_admin_password {
        println!();
        println!("  Tessera bootstrap administrator (realm `master`), shown only this once:");
        println!("    username: {}", config.admin_username);
        println!("    password: {password}");
        println!("  Admin console: {}/admin", config.public_url);
        println!();
    }
}
