//! LDAP directories (CONTRACT §9) against a real OpenLDAP `slapd` that each test configures and
//! starts in a temp dir on a loopback port (`scripts/openldap-slapd` installs Debian's package;
//! `server/tests/ldap/` holds the configuration template and the seed entries).

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::browser::Browser;
use crate::common::{jwt_parts, TestServer};
use crate::on_both_backends;

const SEED: &str = r#"
[[realms]]
name = "dir"

[[realms.clients]]
client_id = "cli"
secret = "cli-secret"
grant_types = ["password"]
scopes = ["profile", "email", "roles"]

[[realms.clients]]
client_id = "webapp"
secret = "webapp-secret"
grant_types = ["authorization_code"]
redirect_uris = ["http://localhost:8080/callback"]
scopes = ["openid", "profile", "email"]

[[realms.users]]
username = "bob"
password = "local-bob-password"
"#;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ldap")
}

/// `scripts/openldap-slapd` once per test run: installs slapd, prints its path.
fn slapd_binary() -> &'static str {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/openldap-slapd");
        let output = Command::new(&script)
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("{} cannot run: {e}", script.display()));
        assert!(output.status.success(), "{} failed", script.display());
        String::from_utf8(output.stdout).unwrap().trim().to_string()
    })
}

/// A throw-away slapd seeded with `seed.ldif`; killed on drop.
struct Slapd {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `openssl` with `args` in `dir`.
fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs (scripts/openldap-slapd installs it)");
    assert!(status.success(), "openssl {args:?}");
}

/// A private CA and a server certificate it issued for 127.0.0.1, in `dir`; returns the CA's
/// PEM.
fn certificates(dir: &Path) -> String {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509", "-days", "1", "-subj", "/CN=Tessera test CA"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    openssl(dir, &ca);
    let mut request = vec!["req", "-subj", "/CN=127.0.0.1"];
    request.extend(ec);
    request.extend(["-keyout", "server.key", "-out", "server.csr"]);
    openssl(dir, &request);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-out",
            "server.pem",
            "-extfile",
            "server.ext",
        ],
    );
    std::fs::read_to_string(dir.join("ca.pem")).unwrap()
}

impl Slapd {
    fn start() -> Self {
        Self::start_with(false).0
    }

    /// With `tls`, the server offers StartTLS with a certificate of a private CA, whose PEM
    /// is returned.
    fn start_with(tls: bool) -> (Self, Option<String>) {
        let slapd = slapd_binary();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("db")).unwrap();
        let mut config = std::fs::read_to_string(fixtures().join("slapd.conf.template"))
            .unwrap()
            .replace("@DIR@", dir.path().to_str().unwrap())
            .replace("@SCHEMA@", "/etc/ldap/schema")
            .replace("@MODULES@", "/usr/lib/ldap");
        let ca = tls.then(|| certificates(dir.path()));
        if tls {
            // Global directives: before the database section.
            let files = format!(
                "TLSCertificateFile {0}/server.pem\nTLSCertificateKeyFile {0}/server.key\n\ndatabase",
                dir.path().display()
            );
            config = config.replacen("\ndatabase", &format!("\n{files}"), 1);
        }
        let conf = dir.path().join("slapd.conf");
        std::fs::write(&conf, config).unwrap();
        let seeded = Command::new(slapd)
            .args(["-Ta", "-q", "-f"])
            .arg(&conf)
            .arg("-l")
            .arg(fixtures().join("seed.ldif"))
            .status()
            .unwrap();
        assert!(seeded.success(), "slapadd failed");
        // A free port: bound, released, handed to slapd (retried should another take it).
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let url = format!("ldap://127.0.0.1:{port}");
            let mut child = Command::new(slapd)
                .args(["-d", "none", "-f"])
                .arg(&conf)
                .arg("-h")
                .arg(format!("{url}/"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    let started = Self {
                        child,
                        url,
                        _dir: dir,
                    };
                    return (started, ca);
                }
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("slapd did not start");
    }
}

async fn password_grant(
    server: &TestServer,
    username: &str,
    password: &str,
) -> crate::common::Response {
    server
        .post_form(
            "/realms/dir/connect/token",
            &[
                ("grant_type", "password"),
                ("username", username),
                ("password", password),
                ("scope", "profile email roles"),
            ],
            Some(("cli", "cli-secret")),
        )
        .await
}

async fn directory_sign_in(server: TestServer) {
    let slapd = Slapd::start();
    server.seed(SEED).await;
    let created = server
        .admin(
            Method::POST,
            "/realms/dir/directories",
            Some(json!({
                "name": "corp-ldap",
                "url": slapd.url,
                "bind_dn": "cn=reader,dc=example,dc=org",
                "bind_password": "reader-password",
                "user_base_dn": "ou=people,dc=example,dc=org",
                "group_base_dn": "ou=groups,dc=example,dc=org",
                "group_roles": {"admins": "ldap-admin"},
            })),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["bind_password_set"], true);
    assert!(!created.text.contains("reader-password"), "write-only");
    let check = server
        .admin(Method::POST, "/realms/dir/directories/corp-ldap/test", None)
        .await;
    assert_eq!(check.body["ok"], true, "{}", check.text);

    // A directory password signs in and makes the local user, with the mapped attributes and
    // the role the group maps to.
    let granted = password_grant(&server, "alice", "alice-password").await;
    assert_eq!(granted.status, 200, "{}", granted.text);
    let (_, access) = jwt_parts(granted.body["access_token"].as_str().unwrap());
    assert_eq!(access["roles"], json!(["ldap-admin"]), "{access}");
    let alice = server.user_id("dir", "alice").await;
    let user = server
        .admin(Method::GET, &format!("/realms/dir/users/{alice}"), None)
        .await;
    assert_eq!(user.body["email"], "alice@example.org", "{}", user.text);
    assert_eq!(user.body["email_verified"], true);
    assert_eq!(
        server.audit_events("user.created_by_directory").await.len(),
        1
    );
    let synced = server
        .audit_events("user.roles_synced_from_directory")
        .await;
    assert_eq!(synced.len(), 1, "the group's role, on the record");
    // Again: the same user, nobody new.
    let again = password_grant(&server, "alice", "alice-password").await;
    assert_eq!(again.status, 200);
    assert_eq!(
        server.audit_events("user.created_by_directory").await.len(),
        1
    );
    let synced = server
        .audit_events("user.roles_synced_from_directory")
        .await;
    assert_eq!(synced.len(), 1, "no change, no event");

    // Refusals: a wrong password, an empty one (an anonymous bind to LDAP), an unknown name,
    // and a local account the directory did not make (bob keeps his own password).
    for (username, password) in [
        ("alice", "wrong-password"),
        ("nobody", "whatever-password"),
        ("bob", "bob-password"),
    ] {
        let refused = password_grant(&server, username, password).await;
        refused.assert_oauth_error(400, "invalid_grant");
    }
    assert_eq!(
        password_grant(&server, "bob", "local-bob-password")
            .await
            .status,
        200
    );
    let browser = Browser::new();
    let login = browser.get(&server.url("/realms/dir/login")).await;
    let empty = browser
        .post(
            &server.url("/realms/dir/login"),
            &[
                ("csrf", &login.input("csrf").unwrap()),
                ("username", "alice"),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNAUTHORIZED, "{}", empty.body);
    let signed_in = browser
        .post(
            &server.url("/realms/dir/login"),
            &[
                ("csrf", &login.input("csrf").unwrap()),
                ("username", "alice"),
                ("password", "alice-password"),
            ],
        )
        .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    assert_eq!(
        server.audit_events("user.created_by_directory").await.len(),
        1
    );

    // A directory's user changes the password in the directory, not here.
    let browser = Browser::new();
    let console = browser
        .follow(
            &server.base,
            browser.get(&server.url("/realms/dir/account")).await,
        )
        .await;
    let console = browser
        .sign_in(&server.base, &console, "alice", "alice-password")
        .await;
    let refused = browser
        .post(
            &server.url("/realms/dir/account/password"),
            &[
                ("csrf", &console.input("csrf").unwrap()),
                ("current_password", "alice-password"),
                ("new_password", "a-brand-new-password"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("managed by your organisation"));
    let admin_set = server
        .admin(
            Method::POST,
            &format!("/realms/dir/users/{alice}/password"),
            Some(json!({"password": "set-by-an-admin-1"})),
        )
        .await;
    assert_eq!(admin_set.status, 409, "{}", admin_set.text);
    let renamed_id = server
        .admin(
            Method::PATCH,
            "/realms/dir/directories/corp-ldap",
            Some(json!({"subject_attribute": "uid"})),
        )
        .await;
    assert_eq!(
        renamed_id.status, 409,
        "links hold entryUUIDs: {}",
        renamed_id.text
    );
    assert_eq!(
        password_grant(&server, "alice", "alice-password")
            .await
            .status,
        200
    );

    // The directory down: the login page says so (never a 500), the password grant answers
    // 503, and nobody is made.
    drop(slapd);
    let browser = Browser::new();
    let login = browser.get(&server.url("/realms/dir/login")).await;
    let down = browser
        .post(
            &server.url("/realms/dir/login"),
            &[
                ("csrf", &login.input("csrf").unwrap()),
                ("username", "alice"),
                ("password", "alice-password"),
            ],
        )
        .await;
    assert_eq!(
        down.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        down.body
    );
    assert!(
        down.body.contains("directory is unavailable"),
        "{}",
        down.body
    );
    let refused = password_grant(&server, "carl", "carl-password").await;
    refused.assert_oauth_error(503, "temporarily_unavailable");
    let check = server
        .admin(Method::POST, "/realms/dir/directories/corp-ldap/test", None)
        .await;
    assert_eq!(check.body["ok"], false);
    assert_eq!(
        server.audit_events("user.created_by_directory").await.len(),
        1
    );
}

async fn directory_administration(server: TestServer) {
    server.seed(SEED).await;
    let post = |body: serde_json::Value| {
        let server = &server;
        async move {
            server
                .admin(Method::POST, "/realms/dir/directories", Some(body))
                .await
        }
    };
    let missing = post(json!({"name": "d"})).await;
    assert_eq!(missing.status, 422);
    assert!(missing.text.contains("url") && missing.text.contains("user_base_dn"));
    let bad_url = post(json!({"name": "d", "url": "http://x", "user_base_dn": "dc=x"})).await;
    assert_eq!(bad_url.status, 422);
    let bad_filter = post(json!({"name": "d", "url": "ldap://x", "user_base_dn": "dc=x", "user_filter": "(uid=alice)"})).await;
    assert_eq!(bad_filter.status, 422, "a filter without {{username}}");
    let reserved = post(json!({"name": "d", "url": "ldap://x", "user_base_dn": "dc=x", "attribute_mappings": {"uid": "sub"}})).await;
    assert_eq!(reserved.status, 422);
    let created = post(json!({"name": "d", "url": "ldap://x", "user_base_dn": "dc=x"})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["user_filter"], "(uid={username})");
    assert_eq!(created.body["attribute_mappings"]["mail"], "email");
    assert_eq!(
        post(json!({"name": "d", "url": "ldap://x", "user_base_dn": "dc=x"}))
            .await
            .status,
        409
    );
    let changed = server
        .admin(
            Method::PATCH,
            "/realms/dir/directories/d",
            Some(json!({"bind_password": "new-password"})),
        )
        .await;
    assert_eq!(changed.status, 200);
    assert_eq!(changed.body["bind_password_set"], true);
    assert_eq!(server.audit_events("directory.updated").await.len(), 1);
    let deleted = server
        .admin(Method::DELETE, "/realms/dir/directories/d", None)
        .await;
    assert_eq!(deleted.status, 204);
}

async fn directory_over_starttls(server: TestServer) {
    let (slapd, ca) = Slapd::start_with(true);
    let ca = ca.unwrap();
    server.seed(SEED).await;
    let created = server
        .admin(
            Method::POST,
            "/realms/dir/directories",
            Some(json!({
                "name": "tls",
                "url": slapd.url,
                "starttls": true,
                "tls_ca_certificate": ca,
                "bind_dn": "cn=reader,dc=example,dc=org",
                "bind_password": "reader-password",
                "user_base_dn": "ou=people,dc=example,dc=org",
            })),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let check = server
        .admin(Method::POST, "/realms/dir/directories/tls/test", None)
        .await;
    assert_eq!(check.body["ok"], true, "{}", check.text);
    assert_eq!(
        password_grant(&server, "alice", "alice-password")
            .await
            .status,
        200
    );

    // Without the private CA the server's certificate is not trusted: nothing is sent.
    let patched = server
        .admin(
            Method::PATCH,
            "/realms/dir/directories/tls",
            Some(json!({"tls_ca_certificate": null})),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let check = server
        .admin(Method::POST, "/realms/dir/directories/tls/test", None)
        .await;
    assert_eq!(check.body["ok"], false, "{}", check.text);
    password_grant(&server, "alice", "alice-password")
        .await
        .assert_oauth_error(503, "temporarily_unavailable");
    let garbage = server
        .admin(
            Method::PATCH,
            "/realms/dir/directories/tls",
            Some(json!({"tls_ca_certificate": "not a certificate"})),
        )
        .await;
    assert_eq!(garbage.status, 422, "{}", garbage.text);
}

/// Guesses at a directory user's password count toward the lockout like local ones.
async fn directory_lockout(server: TestServer) {
    let slapd = Slapd::start();
    server.seed(SEED).await;
    let created = server
        .admin(
            Method::POST,
            "/realms/dir/directories",
            Some(json!({
                "name": "corp-ldap",
                "url": slapd.url,
                "bind_dn": "cn=reader,dc=example,dc=org",
                "bind_password": "reader-password",
                "user_base_dn": "ou=people,dc=example,dc=org",
            })),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(
        password_grant(&server, "alice", "alice-password")
            .await
            .status,
        200
    );
    // The test server locks after 3 failures.
    for _ in 0..3 {
        password_grant(&server, "alice", "guess-password")
            .await
            .assert_oauth_error(400, "invalid_grant");
    }
    password_grant(&server, "alice", "alice-password")
        .await
        .assert_oauth_error(400, "invalid_grant");
    assert_eq!(server.audit_events("user.locked").await.len(), 1);
}

on_both_backends! {
    directory_lockout => directory_lockout,
    directory_over_starttls => directory_over_starttls,
    directory_sign_in => directory_sign_in,
    directory_administration => directory_administration,
}
