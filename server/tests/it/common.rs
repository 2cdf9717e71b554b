//! The test harness: a real Tessera on an ephemeral port over SQLite or Postgres.

#![allow(dead_code)]

use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;
use server::clock::SystemClock;
use server::config::Validated;
use server::state::AppState;
use server::store::DatabaseKind;

/// The database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Set to a Postgres URL (whose user may create databases) to run every storage test on
/// Postgres as well; each test gets a fresh database.
pub const PG_ENV: &str = "TESSERA_TEST_DATABASE_URL";

pub struct TestServer {
    pub base: String,
    pub state: AppState,
    pub database_url: String,
    pub master_key: String,
    pub http: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
    postgres: Option<PgDatabase>,
}

/// A per-test Postgres database, dropped with the server.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs outside async; a private runtime on a plain thread does the cleanup.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(db) = Database::connect(&admin_url).await {
                    let _ = db
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                }
            });
        })
        .join();
    }
}

/// Replaces the database name (the URL path) of a Postgres URL.
fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("TESSERA_TEST_DATABASE_URL is a URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

/// Knobs a test may turn; the defaults suit most tests.
#[derive(Debug, Clone)]
pub struct Options {
    pub refresh_grace: chrono::Duration,
    pub lockout: server::accounts::LockoutPolicy,
    /// Connection cap and timeouts of the listener.
    pub serve: server::serving::ServeLimits,
    /// Memory for the realm caches (`TESSERA_CACHE_MIB`).
    pub cache_budget: server::bounded_cache::CacheBudget,
    pub db_acquire_timeout: std::time::Duration,
    /// For `Backend::Postgres`: the server to create the test database on, instead of
    /// `TESSERA_TEST_DATABASE_URL` (a test's own throwaway cluster, say).
    pub postgres_admin_url: Option<String>,
    /// Publish the server as `http://localhost:<port>` rather than its loopback address
    /// (WebAuthn needs a domain name for its relying party).
    pub localhost: bool,
    /// The master key (base64); a new one when `None`.
    pub master_key: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            // The server default (CONTRACT §3): any reuse revokes; clients opt into a grace.
            refresh_grace: chrono::Duration::zero(),
            lockout: server::accounts::LockoutPolicy {
                threshold: 3,
                window: chrono::Duration::minutes(5),
                duration: chrono::Duration::minutes(5),
            },
            serve: server::serving::ServeLimits::default(),
            cache_budget: server::bounded_cache::CacheBudget::default(),
            db_acquire_timeout: server::store::DEFAULT_ACQUIRE_TIMEOUT,
            postgres_admin_url: None,
            localhost: false,
            master_key: None,
        }
    }
}

/// Cheap argon2 so tests spend their time on behaviour, not hashing.
pub const TEST_ARGON2: server::crypto::password::Argon2Params =
    server::crypto::password::Argon2Params {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };

impl TestServer {
    /// Starts a server on `backend`; `None` for Postgres when no test database is configured.
    pub async fn start(backend: Backend) -> Option<Self> {
        Self::start_with(backend, Options::default()).await
    }

    pub async fn start_with(backend: Backend, options: Options) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, postgres) = match backend {
            Backend::Sqlite => (
                format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("tessera.db").display()
                ),
                None,
            ),
            Backend::Postgres => {
                let admin_url = match &options.postgres_admin_url {
                    Some(url) => url.clone(),
                    None => std::env::var(PG_ENV).ok()?,
                };
                let name = format!("tessera_t_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(&admin_url)
                    .await
                    .expect("connect to the Postgres test server");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create a test database");
                let url = with_database(&admin_url, &name);
                (url, Some(PgDatabase { admin_url, name }))
            }
        };
        let master_key = options
            .master_key
            .clone()
            .unwrap_or_else(|| server::crypto::master_key::MasterKey::generate().to_base64());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let base = if options.localhost {
            format!("http://localhost:{}", addr.port())
        } else {
            format!("http://{addr}")
        };
        let config = Validated {
            database_url: database_url.clone(),
            database_kind: match backend {
                Backend::Sqlite => DatabaseKind::Sqlite,
                Backend::Postgres => DatabaseKind::Postgres,
            },
            bind: addr,
            public_url: base.clone(),
            admin_username: "admin".into(),
            admin_password: Some("admin-password-1".into()),
            master_key: Some(master_key.clone()),
            seed_file: None,
            argon2: TEST_ARGON2,
            lockout: options.lockout,
            refresh_grace: options.refresh_grace,
            db_acquire_timeout: options.db_acquire_timeout,
            sqlite_sync: server::store::SqliteSync::default(),
            // Every test server would pre-generate RSA keys on the shared cores.
            rsa_key_pool: 0,
            cache_budget: options.cache_budget,
            serve: options.serve,
            trusted_proxies: Default::default(),
            metrics_realm_labels: true,
            otlp_traces_url: None,
        };
        let started = server::startup::start(&config, Arc::new(SystemClock))
            .await
            .expect("server starts");
        server::startup::spawn_background_jobs(&started.state);
        let state = started.state.clone();
        let limits = options.serve;
        let server = tokio::spawn(async move {
            let _ = server::startup::serve_with(listener, started.state, limits).await;
        });
        let started = Self {
            base,
            state,
            database_url,
            master_key,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
            server,
            _dir: dir,
            postgres,
        };
        // Every `admin()` call signs the administrator in with the password grant of the public
        // `admin-cli`, which counts against realm master's sign-in limit; tests make far more
        // calls than a person would. Raised in the database, so no audit event tells of it.
        started
            .sql(r#"UPDATE realms SET rate_limits = '{"login": {"per_ip": "1000000/second"}}' WHERE name = 'master'"#)
            .await;
        started
            .state
            .caches
            .publish(server::changes::Change::Realm {
                name: "master".into(),
            })
            .await;
        Some(started)
    }

    pub fn issuer(&self, realm: &str) -> String {
        format!("{}/realms/{realm}", self.base)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Applies a TOML seed document through the real seeding path.
    pub async fn seed(&self, toml: &str) {
        let file = seed::parse(toml).expect("test seed parses");
        server::seeding::apply_file(
            &self.state.caches.store,
            &self.state.caches.keys,
            &self.state.secrets,
            TEST_ARGON2,
            &file,
            self.state.now(),
        )
        .await
        .expect("test seed applies");
    }

    /// POSTs a form to `path`, returning status, headers and the JSON body.
    pub async fn post_form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> Response {
        let mut request = self.http.post(self.url(path)).form(form);
        if let Some((id, secret)) = basic {
            request = request.header("Authorization", basic_header(id, secret));
        }
        Response::from(request.send().await.expect("request is sent")).await
    }

    /// A client-credentials token of `realm` for a client with a secret.
    pub async fn client_token(
        &self,
        realm: &str,
        client_id: &str,
        secret: &str,
        scope: Option<&str>,
    ) -> String {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let response = self
            .post_form(
                &format!("/realms/{realm}/connect/token"),
                &form,
                Some((client_id, secret)),
            )
            .await;
        assert_eq!(
            response.status, 200,
            "token request failed: {}",
            response.body
        );
        response.body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestServer {
    /// A password-grant token response of `realm`.
    pub async fn password_grant(
        &self,
        realm: &str,
        client: (&str, &str),
        username: &str,
        password: &str,
        scope: Option<&str>,
    ) -> Response {
        let mut form = vec![
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let basic = (!client.1.is_empty()).then_some(client);
        if basic.is_none() {
            form.push(("client_id", client.0));
        }
        self.post_form(&format!("/realms/{realm}/connect/token"), &form, basic)
            .await
    }

    /// A refresh-grant response of `realm`.
    pub async fn refresh(
        &self,
        realm: &str,
        client: (&str, &str),
        refresh_token: &str,
        scope: Option<&str>,
    ) -> Response {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.post_form(
            &format!("/realms/{realm}/connect/token"),
            &form,
            Some(client),
        )
        .await
    }

    /// An access token of the bootstrap administrator (realm `master`, role `admin`).
    pub async fn admin_token(&self) -> String {
        let response = self
            .password_grant(
                "master",
                ("admin-cli", ""),
                "admin",
                "admin-password-1",
                None,
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.text);
        response.body["access_token"].as_str().unwrap().to_string()
    }

    /// Calls the admin API (`path` below `/admin/api`) as the bootstrap administrator.
    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Response {
        let mut request = self
            .http
            .request(method, self.url(&format!("/admin/api{path}")))
            .bearer_auth(self.admin_token().await);
        if let Some(body) = body {
            request = request.json(&body);
        }
        Response::from(request.send().await.unwrap()).await
    }

    /// The id of the realm's user `username`, found through the admin API.
    pub async fn user_id(&self, realm: &str, username: &str) -> String {
        let listed = self
            .admin(
                reqwest::Method::GET,
                &format!("/realms/{realm}/users?username={username}"),
                None,
            )
            .await;
        listed.body["items"][0]["id"].as_str().unwrap().to_string()
    }

    /// Runs SQL against the server's database (for arranging states no API reaches yet).
    pub async fn sql(&self, sql: &str) {
        use sea_orm::Statement;
        let db = &self.state.caches.store.db;
        db.execute(Statement::from_string(
            db.get_database_backend(),
            sql.to_string(),
        ))
        .await
        .expect("SQL runs");
    }

    /// Audit events of a kind, across realms.
    pub async fn audit_events(&self, kind: &str) -> Vec<entity::audit_event::Model> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        entity::audit_event::Entity::find()
            .filter(entity::audit_event::Column::Kind.eq(kind))
            .all(&self.state.caches.store.db)
            .await
            .expect("audit events load")
    }
}

/// `Authorization: Basic` with RFC 6749 Appendix B form-encoding of both parts.
pub fn basic_header(id: &str, secret: &str) -> String {
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(id), encode(secret)))
    )
}

/// A response reduced to what tests look at.
pub struct Response {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Response {
    pub async fn from(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body is read");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            body,
            text,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an RFC 6749 §5.2 error with the given status and code.
    pub fn assert_oauth_error(&self, status: u16, code: &str) {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        assert_eq!(
            self.body["error"], code,
            "unexpected error; body: {}",
            self.text
        );
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "errors are JSON"
        );
    }
}

/// The decoded header and claims of a JWT, without verification (tests verify separately).
pub fn jwt_parts(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let mut decode = || {
        let part = parts.next().expect("JWT part");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
    };
    let header = decode();
    let claims = decode();
    (header, claims)
}

/// The `kid` of every signing key in an exported realm document.
pub fn document_kids(document: &Value) -> Vec<&str> {
    document["signing_keys"]
        .as_array()
        .expect("signing_keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid"))
        .collect()
}

/// Runs an async test body against SQLite and, when configured, Postgres.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident => $body:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let server = $crate::common::TestServer::start($crate::common::Backend::Sqlite)
                        .await
                        .expect("SQLite always runs");
                    super::$body(server).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    match $crate::common::TestServer::start($crate::common::Backend::Postgres).await {
                        Some(server) => super::$body(server).await,
                        None => eprintln!("skipped: {} is not set", $crate::common::PG_ENV),
                    }
                }
            }
        )*
    };
}

/// A realm with a confidential service client, a second client, an API resource and a public
/// client, used by most protocol tests.
pub const SERVICES_SEED: &str = r#"
[[realms]]
name = "services"
access_token_lifetime = 600

[[realms.scopes]]
name = "orders.read"

[[realms.scopes]]
name = "orders.write"

[[realms.api_resources]]
name = "orders-api"
scopes = ["orders.read", "orders.write"]
secret = "orders-api-secret"

[[realms.clients]]
client_id = "billing"
secret = "billing secret+with:odd&chars"
grant_types = ["client_credentials"]
scopes = ["orders.read", "orders.write"]

[[realms.clients]]
client_id = "reporting"
secret = "reporting-secret"
grant_types = ["client_credentials"]
scopes = ["orders.read"]
audiences = ["reports"]
access_token_lifetime = 120

[[realms.clients]]
client_id = "no-cc"
secret = "no-cc-secret"
grant_types = ["password"]
scopes = ["orders.read"]

[[realms.clients]]
client_id = "spa"
public = true
grant_types = ["authorization_code", "client_credentials"]
redirect_uris = ["http://localhost:3000/cb"]
scopes = ["openid"]

[[realms]]
name = "other"

[[realms.clients]]
client_id = "billing"
secret = "other-billing-secret"
grant_types = ["client_credentials"]
"#;

pub const BILLING: (&str, &str) = ("billing", "billing secret+with:odd&chars");
