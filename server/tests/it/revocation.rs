//! RFC 7009 revocation of access tokens: the `jti` goes on the realm's revocation list and
//! introspection sees it at once.

use crate::common::{TestServer, BILLING, SERVICES_SEED};
use crate::on_both_backends;

const REVOKE: &str = "/realms/services/connect/revoke";
const INTROSPECT: &str = "/realms/services/connect/introspect";

async fn revoked_tokens_become_inactive(server: TestServer) {
    server.seed(SERVICES_SEED).await;
    let token = server
        .client_token("services", BILLING.0, BILLING.1, None)
        .await;
    let untouched = server
        .client_token("services", BILLING.0, BILLING.1, None)
        .await;

    let response = server
        .post_form(
            REVOKE,
            &[("token", &token), ("token_type_hint", "access_token")],
            Some(BILLING),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);

    let introspected = server
        .post_form(INTROSPECT, &[("token", &token)], Some(BILLING))
        .await;
    assert_eq!(introspected.body, serde_json::json!({"active": false}));
    let other = server
        .post_form(INTROSPECT, &[("token", &untouched)], Some(BILLING))
        .await;
    assert_eq!(
        other.body["active"], true,
        "only the revoked token is affected"
    );

    // The entry is stored, so a restarted or second process sees it too.
    let fresh = server::revocation::RevocationIndex::default();
    let loaded = fresh
        .reload(&server.state.caches.store, server.state.now())
        .await
        .unwrap();
    assert_eq!(loaded, 1);

    // Revoking again, or revoking garbage, is a quiet success (RFC 7009 §2.2).
    for token in [token.as_str(), "garbage"] {
        let response = server
            .post_form(REVOKE, &[("token", token)], Some(BILLING))
            .await;
        assert_eq!(response.status, 200);
    }
}

async fn only_the_owner_may_revoke(server: TestServer) {
    server.seed(SERVICES_SEED).await;
    let token = server
        .client_token("services", BILLING.0, BILLING.1, None)
        .await;
    server
        .post_form(
            REVOKE,
            &[("token", &token)],
            Some(("reporting", "reporting-secret")),
        )
        .await
        .assert_oauth_error(400, "unauthorized_client");
    let still = server
        .post_form(INTROSPECT, &[("token", &token)], Some(BILLING))
        .await;
    assert_eq!(
        still.body["active"], true,
        "a refused revocation changes nothing"
    );

    server
        .post_form(REVOKE, &[("token", &token)], None)
        .await
        .assert_oauth_error(401, "invalid_client");
    server
        .post_form(REVOKE, &[("token", &token)], Some(("billing", "wrong")))
        .await
        .assert_oauth_error(401, "invalid_client");
    server
        .post_form(REVOKE, &[], Some(BILLING))
        .await
        .assert_oauth_error(400, "invalid_request");
}

on_both_backends! {
    revoke_access_token => revoked_tokens_become_inactive,
    owner_only => only_the_owner_may_revoke,
}
