//! RFC 9728 protected-resource metadata: what this API is, which authorization server issues
//! its tokens, which scopes it knows, how tokens come.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::Verifier;

impl Verifier {
    /// The metadata document of this API.
    pub fn metadata(&self) -> Value {
        let config = self.config();
        json!({
            "resource": config.resource,
            "authorization_servers": [config.issuer],
            "scopes_supported": config.scopes_supported,
            "bearer_methods_supported": ["header"],
            "dpop_signing_alg_values_supported": ["ES256", "ES384", "RS256", "PS256", "EdDSA"],
        })
    }

    /// A router serving the metadata at `/.well-known/oauth-protected-resource` (and, for a
    /// resource with a path, at the RFC 9728 §3.1 path-inserted URL too).
    pub fn metadata_router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let document = self.metadata();
        let mut router = Router::new();
        let mut paths = vec!["/.well-known/oauth-protected-resource".to_string()];
        if let Ok(resource) = url::Url::parse(&self.config().resource) {
            let path = resource.path().trim_end_matches('/');
            if !path.is_empty() {
                paths.push(format!("/.well-known/oauth-protected-resource{path}"));
            }
        }
        for path in paths {
            let document = document.clone();
            router = router.route(&path, get(move || async move { Json(document) }));
        }
        router
    }
}
