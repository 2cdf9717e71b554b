//! The OpenAPI 3 document of the admin API, generated from the handlers' annotations and the
//! admin model's types.

use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::api::handlers::Paths;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tessera admin API",
        description = "Administration of realms, clients, users, the catalogue, keys, revocations, sessions and the audit trail. Authenticate with `Authorization: Bearer <access token>` of realm `master`, issued to a user or service client holding the role `admin`.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "realms"), (name = "clients"), (name = "users"), (name = "scopes"),
        (name = "api-resources"), (name = "claim-types"), (name = "exchange-policies"),
        (name = "keys"), (name = "revocations"), (name = "sessions"), (name = "events")
    )
)]
struct Document;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The whole document: the paths merged into the base.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut document = Document::openapi();
    document.merge(Paths::openapi());
    document
}

/// `GET /admin/api/openapi.json`
pub async fn document() -> Response {
    axum::Json(openapi()).into_response()
}
