//! Roles as a managed collection (`/admin/api/realms/{r}/roles`): descriptions, composite roles
//! expanded into tokens (user and client tokens alike, through the cached catalogue), cycles
//! and unknown roles refused with nothing changed, deletion refused while a client holds the
//! role, and realm master always keeping someone who holds `admin`.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{jwt_parts, TestServer};
use crate::on_both_backends;

const SEED: &str = r#"
[[realms]]
name = "staff"

[[realms.clients]]
client_id = "cli"
secret = "cli-secret"
grant_types = ["password"]
scopes = ["openid", "roles"]

[[realms.clients]]
client_id = "robot"
secret = "robot-secret"
grant_types = ["client_credentials"]
roles = ["ops"]

[[realms.users]]
username = "ann"
password = "ann-password"
roles = ["editor"]
"#;

async fn user_roles(server: &TestServer) -> Value {
    let response = server
        .password_grant(
            "staff",
            ("cli", "cli-secret"),
            "ann",
            "ann-password",
            Some("openid roles"),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let (_, access) = jwt_parts(response.body["access_token"].as_str().unwrap());
    access["roles"].clone()
}

async fn robot_roles(server: &TestServer) -> Value {
    let token = server
        .client_token("staff", "robot", "robot-secret", None)
        .await;
    jwt_parts(&token).1["roles"].clone()
}

async fn roles_are_a_collection_with_composites(server: TestServer) {
    server.seed(SEED).await;
    let roles = "/realms/staff/roles";

    // Roles named by seeds are in the collection.
    let listed = server.admin(Method::GET, roles, None).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let names: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["editor", "ops"]);

    for (name, description) in [("viewer", "Reads"), ("writer", "Writes")] {
        let created = server
            .admin(
                Method::POST,
                roles,
                Some(json!({"name": name, "description": description})),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
        assert_eq!(created.body["composites"], json!([]));
    }
    let duplicate = server
        .admin(Method::POST, roles, Some(json!({"name": "viewer"})))
        .await;
    assert_eq!(duplicate.status, 409, "{}", duplicate.text);
    for bad in [
        json!({"name": "bad role"}),
        json!({"description": "no name"}),
        json!({"name": "x", "composites": ["ghost"]}),
        json!({"name": "x", "composites": ["x"]}),
        json!({"name": "x", "colour": "red"}),
    ] {
        let refused = server.admin(Method::POST, roles, Some(bad.clone())).await;
        assert!(
            refused.status == 422 || refused.status == 400,
            "{bad}: {}",
            refused.text
        );
        assert!(refused.body["error"].is_string(), "{}", refused.text);
    }
    assert_eq!(
        server
            .admin(Method::GET, "/realms/staff/roles/x", None)
            .await
            .status,
        404
    );
    assert_eq!(user_roles(&server).await, json!(["editor"]));

    // A composite: holding `editor` now grants what it includes.
    let patched = server
        .admin(
            Method::PATCH,
            "/realms/staff/roles/editor",
            Some(json!({"composites": ["writer", "viewer", "writer"], "description": "Edits"})),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.body["composites"], json!(["viewer", "writer"]));
    assert_eq!(patched.body["description"], "Edits");
    assert_eq!(
        user_roles(&server).await,
        json!(["editor", "viewer", "writer"])
    );

    // Cycles are refused, directly or through others, and change nothing.
    let viewer = "/realms/staff/roles/viewer";
    for composites in [json!(["editor"]), json!(["viewer"]), json!(["ghost"])] {
        let refused = server
            .admin(
                Method::PATCH,
                viewer,
                Some(json!({"composites": composites})),
            )
            .await;
        assert_eq!(refused.status, 422, "{}", refused.text);
        assert!(
            refused.body["fields"]["composites"].is_string(),
            "{}",
            refused.text
        );
    }
    let chained = server
        .admin(
            Method::PATCH,
            "/realms/staff/roles/writer",
            Some(json!({"composites": ["ops"]})),
        )
        .await;
    assert_eq!(chained.status, 200, "{}", chained.text);
    let refused = server
        .admin(
            Method::PATCH,
            "/realms/staff/roles/ops",
            Some(json!({"composites": ["editor"]})),
        )
        .await;
    assert_eq!(
        refused.status, 422,
        "ops ⊂ writer ⊂ editor: {}",
        refused.text
    );
    assert_eq!(
        server.admin(Method::GET, viewer, None).await.body["composites"],
        json!([])
    );
    assert_eq!(
        user_roles(&server).await,
        json!(["editor", "ops", "viewer", "writer"])
    );

    // Client tokens expand composites too, and see changes at once (the catalogue is
    // republished).
    assert_eq!(robot_roles(&server).await, json!(["ops"]));
    server
        .admin(
            Method::PATCH,
            "/realms/staff/roles/ops",
            Some(json!({"composites": ["viewer"]})),
        )
        .await;
    assert_eq!(robot_roles(&server).await, json!(["ops", "viewer"]));

    // A role a client holds cannot go; one only users hold can, and their tokens lose it.
    let refused = server
        .admin(Method::DELETE, "/realms/staff/roles/ops", None)
        .await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert!(refused.text.contains("robot"), "{}", refused.text);
    let deleted = server
        .admin(Method::DELETE, "/realms/staff/roles/writer", None)
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    assert_eq!(user_roles(&server).await, json!(["editor", "viewer"]));
    assert_eq!(
        server
            .admin(Method::GET, "/realms/staff/roles/editor", None)
            .await
            .body["composites"],
        json!(["viewer"])
    );
    server
        .admin(Method::DELETE, "/realms/staff/roles/editor", None)
        .await;
    let ann = server.user_id("staff", "ann").await;
    let ann_view = server
        .admin(Method::GET, &format!("/realms/staff/users/{ann}"), None)
        .await;
    assert_eq!(ann_view.body["roles"], json!([]));
    assert_eq!(user_roles(&server).await, json!([]));

    for kind in ["role.created", "role.updated", "role.deleted"] {
        assert!(!server.audit_events(kind).await.is_empty(), "{kind}");
    }
}

async fn master_keeps_an_administrator_through_composites(server: TestServer) {
    let created = server
        .admin(
            Method::POST,
            "/realms/master/roles",
            Some(json!({"name": "superadmin", "composites": ["admin"]})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let boss = server
        .admin(
            Method::POST,
            "/realms/master/users",
            Some(
                json!({"username": "boss", "password": "boss-password-1", "roles": ["superadmin"]}),
            ),
        )
        .await;
    assert_eq!(boss.status, 201, "{}", boss.text);

    // The admin role held through a composite lets boss administer.
    let token = server
        .password_grant("master", ("admin-cli", ""), "boss", "boss-password-1", None)
        .await;
    let token = token.body["access_token"].as_str().unwrap().to_string();
    let as_boss = |token: String| {
        let server = &server;
        async move {
            server
                .http
                .get(server.url("/admin/api/realms"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(as_boss(token.clone()).await, 200);

    // `admin` itself never goes.
    let refused = server
        .admin(Method::DELETE, "/realms/master/roles/admin", None)
        .await;
    assert_eq!(refused.status, 409, "{}", refused.text);

    // With the bootstrap admin demoted, boss is the last administrator: the composite that
    // makes boss one cannot lose `admin`, nor be deleted.
    let admin_id = server.user_id("master", "admin").await;
    let boss_token = token.clone();
    let demoted = server
        .http
        .patch(server.url(&format!("/admin/api/realms/master/users/{admin_id}")))
        .bearer_auth(&boss_token)
        .json(&json!({"roles": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(demoted.status(), 200);
    let call = |method: Method, path: &str, body: Option<Value>| {
        let mut request = server
            .http
            .request(method, server.url(&format!("/admin/api{path}")))
            .bearer_auth(&boss_token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move { crate::common::Response::from(request.send().await.unwrap()).await }
    };
    let refused = call(
        Method::PATCH,
        "/realms/master/roles/superadmin",
        Some(json!({"composites": []})),
    )
    .await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    let refused = call(Method::DELETE, "/realms/master/roles/superadmin", None).await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert_eq!(as_boss(token).await, 200);
}

on_both_backends! {
    roles_are_a_collection_with_composites => roles_are_a_collection_with_composites,
    master_keeps_an_administrator_through_composites => master_keeps_an_administrator_through_composites,
}
