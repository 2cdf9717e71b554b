//! Two `tessera` processes on one Postgres database: what one process changes, the other
//! honours within a second (LISTEN/NOTIFY), with no shared memory between them.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{Backend, TestServer, BILLING, SERVICES_SEED};

/// The second process: the real binary on the same database, behind the same public URL.
pub struct SecondProcess {
    pub child: Child,
    pub base: String,
}

impl Drop for SecondProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn spawn_second(first: &TestServer) -> SecondProcess {
    spawn_process(first, &[]).await
}

/// The real binary on `first`'s database with `env` added, once it is ready.
pub async fn spawn_process(first: &TestServer, env: &[(&str, &str)]) -> SecondProcess {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .env("TESSERA_DATABASE_URL", &first.database_url)
        .env("TESSERA_MASTER_KEY", &first.master_key)
        .env("TESSERA_BIND", format!("127.0.0.1:{port}"))
        // Both processes serve the same issuer, as they would behind one load balancer.
        .env("TESSERA_PUBLIC_URL", &first.base)
        .env("TESSERA_LOG", "warn")
        .env("TESSERA_ARGON2_MEMORY_KIB", "1024")
        .env("TESSERA_ARGON2_ITERATIONS", "1")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the second process starts");
    let second = SecondProcess {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = first
            .http
            .get(format!("{}/readyz", second.base))
            .send()
            .await
        {
            if r.status() == 200 {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the second process did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second
}

/// Polls `check` until it holds, failing after one second.
async fn within_one_second<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{what} took longer than a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn introspect_on(server: &TestServer, base: &str, token: &str) -> serde_json::Value {
    server
        .http
        .post(format!("{base}/realms/services/connect/introspect"))
        .header(
            "authorization",
            crate::common::basic_header(BILLING.0, BILLING.1),
        )
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_database() {
    let Some(first) = TestServer::start(Backend::Postgres).await else {
        eprintln!("skipped: {} is not set", crate::common::PG_ENV);
        return;
    };
    first.seed(SERVICES_SEED).await;
    let second = spawn_second(&first).await;

    // A client created through the first process is usable on the second.
    first
        .seed(
            r#"
[[realms]]
name = "services"
[[realms.clients]]
client_id = "late-comer"
secret = "late-comer-secret"
grant_types = ["client_credentials"]
"#,
        )
        .await;
    let issued = first
        .http
        .post(format!("{}/realms/services/connect/token", second.base))
        .header(
            "authorization",
            crate::common::basic_header("late-comer", "late-comer-secret"),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(issued.status(), 200);

    // A revocation posted to the first process reaches the second within a second, although the
    // second has already verified (and cached) the token.
    let token = first
        .client_token("services", BILLING.0, BILLING.1, None)
        .await;
    assert_eq!(
        introspect_on(&first, &second.base, &token).await["active"],
        true
    );
    let revoked = first
        .post_form(
            "/realms/services/connect/revoke",
            &[("token", &token)],
            Some(BILLING),
        )
        .await;
    assert_eq!(revoked.status, 200);
    within_one_second("revocation on the second process", || async {
        introspect_on(&first, &second.base, &token).await == json!({"active": false})
    })
    .await;

    // A client disabled through the first process is refused by the second within a second,
    // although the second holds it in its cache.
    let before = first
        .http
        .post(format!("{}/realms/services/connect/token", second.base))
        .header(
            "authorization",
            crate::common::basic_header(BILLING.0, BILLING.1),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(before.status(), 200);
    first
        .sql("UPDATE clients SET enabled = false WHERE client_id = 'billing'")
        .await;
    let realm = first
        .state
        .caches
        .directory
        .realm("services")
        .await
        .unwrap()
        .unwrap();
    first
        .state
        .caches
        .publish(server::changes::Change::Client {
            realm_id: realm.id.clone(),
            client_id: "billing".into(),
        })
        .await;
    within_one_second("client invalidation on the second process", || async {
        let response = first
            .http
            .post(format!("{}/realms/services/connect/token", second.base))
            .header(
                "authorization",
                crate::common::basic_header(BILLING.0, BILLING.1),
            )
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        response.status() == 401
    })
    .await;
}
