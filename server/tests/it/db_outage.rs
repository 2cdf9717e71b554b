//! A database outage for real (CONTRACT §1): the test runs its own throwaway Postgres cluster,
//! stops it under a running server, and checks the 503s with `Retry-After` in each endpoint's
//! format, the readiness flip, what memory still serves, and the recovery once it is back.
//!
//! Runs when `TESSERA_TEST_DATABASE_URL` is set, like every Postgres test; then the Postgres
//! server binaries (`initdb`, `pg_ctl`) must be on the machine.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::password::{APP, PEOPLE_SEED};
use crate::common::{
    basic_header, Backend, Options, Response, TestServer, BILLING, PG_ENV, SERVICES_SEED,
};

/// A Postgres cluster in a temporary directory, stopped when dropped.
struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres: bool,
    _dir: tempfile::TempDir,
}

/// The directory of `initdb` and `pg_ctl`: on PATH, or the newest under /usr/lib/postgresql.
fn postgres_bin() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("pg_ctl").is_file() && dir.join("initdb").is_file() {
                return Some(dir);
            }
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("pg_ctl").is_file() && bin.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Cluster {
    fn command(&self, program: &str) -> Command {
        command(&self.bin, self.as_postgres, program)
    }

    fn init() -> Cluster {
        let bin = postgres_bin().unwrap_or_else(|| {
            panic!(
                "{PG_ENV} is set, so the outage test runs, but no Postgres server binaries \
                 (initdb, pg_ctl) were found on PATH or under /usr/lib/postgresql/*/bin; \
                 install the Postgres server package (e.g. postgresql-15)"
            )
        });
        // initdb refuses to run as root: the cluster belongs to the `postgres` user then.
        let as_postgres = is_root();
        let dir = tempfile::tempdir().expect("temp dir");
        if as_postgres {
            run(Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(dir.path()));
        }
        let data = dir.path().join("data");
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            probe.local_addr().expect("port").port()
        };
        run(command(&bin, as_postgres, "initdb")
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "-D"])
            .arg(&data));
        let cluster = Cluster {
            bin,
            data,
            port,
            as_postgres,
            _dir: dir,
        };
        cluster.start();
        cluster
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn start(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.data.display()
        );
        run(self
            .command("pg_ctl")
            .args(["-w", "-t", "30", "-D"])
            .arg(&self.data)
            .args(["-o", &options, "-l"])
            .arg(self.data.join("server.log"))
            .arg("start"));
    }

    fn stop(&self) {
        run(self
            .command("pg_ctl")
            .args(["-w", "-m", "fast", "-D"])
            .arg(&self.data)
            .arg("stop"));
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-m", "immediate", "-D"])
            .arg(&self.data)
            .arg("stop")
            .output();
    }
}

fn command(bin: &Path, as_postgres: bool, program: &str) -> Command {
    if as_postgres {
        let mut command = Command::new("runuser");
        command
            .args(["-u", "postgres", "--"])
            .arg(bin.join(program));
        command
    } else {
        Command::new(bin.join(program))
    }
}

fn run(command: &mut Command) {
    let out = command.output().expect("the command starts");
    assert!(
        out.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn assert_unavailable(response: &Response, what: &str) {
    assert_eq!(response.status, 503, "{what}: {}", response.text);
    assert!(
        response.header("retry-after").is_some(),
        "{what}: 503 without Retry-After"
    );
}

async fn password_grant(server: &TestServer) -> Response {
    server
        .password_grant("people", APP, "alice", "alice-password", Some("openid"))
        .await
}

async fn get(server: &TestServer, path: &str, token: Option<&str>) -> Response {
    let mut request = server.http.get(server.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    Response::from(request.send().await.expect("request is sent")).await
}

/// A Plan B revocation-list reader.
const PLANB_SEED: &str = r#"
[[realms]]
name = "planb"

[[realms.scopes]]
name = "revocations:read"

[[realms.clients]]
client_id = "reader"
secret = "reader-secret"
grant_types = ["client_credentials"]
scopes = ["revocations:read"]
"#;

/// Documents served from the caches once they have been loaded.
const MEMORY_SERVED: [&str; 2] = [
    "/realms/services/.well-known/jwks.json",
    "/realms/services/.well-known/openid-configuration",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_outage_answers_503_and_recovers() {
    if std::env::var(PG_ENV).is_err() {
        eprintln!("skipped: {PG_ENV} is not set");
        return;
    }
    let cluster = Cluster::init();
    let acquire = Duration::from_secs(2);
    let server = TestServer::start_with(
        Backend::Postgres,
        Options {
            db_acquire_timeout: acquire,
            postgres_admin_url: Some(cluster.url()),
            ..Options::default()
        },
    )
    .await
    .expect("the server starts on the throwaway cluster");
    server.seed(SERVICES_SEED).await;
    server.seed(PEOPLE_SEED).await;
    server.seed(PLANB_SEED).await;

    // Before: everything works, and the caches hold clients and keys.
    let admin = server
        .password_grant(
            "master",
            ("admin-cli", ""),
            "admin",
            "admin-password-1",
            None,
        )
        .await;
    assert_eq!(admin.status, 200, "{}", admin.text);
    let admin_token = admin.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(password_grant(&server).await.status, 200);
    let access = server
        .client_token("services", BILLING.0, BILLING.1, Some("orders.read"))
        .await;
    assert_eq!(get(&server, "/readyz", None).await.status, 200);
    assert_eq!(
        get(&server, "/admin/api/realms", Some(&admin_token))
            .await
            .status,
        200
    );
    let reader = server
        .client_token("planb", "reader", "reader-secret", Some("revocations:read"))
        .await;
    let lists = get(&server, "/realms/planb/revocations", Some(&reader)).await;
    assert_eq!(lists.status, 200, "{}", lists.text);
    for path in MEMORY_SERVED {
        assert_eq!(get(&server, path, None).await.status, 200, "{path}");
    }

    cluster.stop();
    let down = Instant::now();

    // Readiness flips within a second.
    let ready = get(&server, "/readyz", None).await;
    let readyz_flip = down.elapsed();
    assert_unavailable(&ready, "/readyz");
    assert!(readyz_flip < Duration::from_secs(1), "{readyz_flip:?}");

    // A protocol endpoint: RFC 6749 JSON, within the acquire timeout.
    let started = Instant::now();
    let grant = password_grant(&server).await;
    let grant_time = started.elapsed();
    assert_unavailable(&grant, "password grant");
    assert_eq!(
        grant.body["error"], "temporarily_unavailable",
        "{}",
        grant.text
    );
    assert!(
        grant_time < acquire + Duration::from_millis(900),
        "password grant answered after {grant_time:?}"
    );

    // The admin API: its own error object.
    let started = Instant::now();
    let listing = get(&server, "/admin/api/realms", Some(&admin_token)).await;
    let admin_time = started.elapsed();
    assert_unavailable(&listing, "admin API");
    assert_eq!(listing.body["error"], "temporarily_unavailable");
    assert!(listing.body["message"].is_string(), "{}", listing.text);
    assert!(admin_time < acquire + Duration::from_millis(900));

    // Plan B: problem details.
    let lists = get(&server, "/realms/planb/revocations", Some(&reader)).await;
    assert_unavailable(&lists, "Plan B revocation lists");
    assert_eq!(
        lists.header("content-type"),
        Some("application/problem+json"),
        "{}",
        lists.text
    );
    assert_eq!(lists.body["status"], 503, "{}", lists.text);

    // What memory holds is still served.
    for path in MEMORY_SERVED {
        let response = get(&server, path, None).await;
        assert_eq!(response.status, 200, "{path}: {}", response.text);
    }
    let introspected = server
        .http
        .post(server.url("/realms/services/connect/introspect"))
        .header("Authorization", basic_header(BILLING.0, BILLING.1))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(introspected.status(), 200);
    let introspected: serde_json::Value = introspected.json().await.unwrap();
    assert_eq!(introspected["active"], true, "{introspected}");
    let cached = server
        .post_form(
            "/realms/services/connect/token",
            &[("grant_type", "client_credentials")],
            Some(BILLING),
        )
        .await;
    assert_eq!(cached.status, 200, "cached client: {}", cached.text);

    // Readiness stays down for the whole outage.
    assert_eq!(get(&server, "/readyz", None).await.status, 503);

    cluster.start();
    let back = Instant::now();
    let recovery = loop {
        let grant = password_grant(&server).await;
        if grant.status == 200 {
            break back.elapsed();
        }
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "no recovery: {} {}",
            grant.status,
            grant.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(get(&server, "/readyz", None).await.status, 200);
    assert_eq!(
        get(&server, "/admin/api/realms", Some(&admin_token))
            .await
            .status,
        200
    );
    eprintln!(
        "outage: /readyz 503 after {readyz_flip:?}; password grant 503 after {grant_time:?}; \
         admin API 503 after {admin_time:?}; recovered {recovery:?} after the restart"
    );
    drop(server);
    drop(cluster);
}
