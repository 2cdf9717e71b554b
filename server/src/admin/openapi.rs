//! The OpenAPI 3 document of the admin API, generated from the handlers' annotations and the
//! admin model's types.

use axum::response::IntoResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::api::Paths;

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

/// The whole document: the paths merged into the base, with the answers every JSON body may
/// get before its operation runs.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut document = Document::openapi();
    document.merge(Paths::openapi());
    add_body_refusals(&mut document);
    document
}

/// The refusals of the body extractor (`api/extract.rs`), on every operation that takes a body.
fn add_body_refusals(document: &mut utoipa::openapi::OpenApi) {
    let refusals = [
        ("400", "The body is empty or not JSON"),
        ("413", "The body is larger than 256 KiB"),
        ("415", "The body is not `application/json`"),
    ];
    for item in document.paths.paths.values_mut() {
        let operations = [&mut item.post, &mut item.put, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            if operation.request_body.is_none() {
                continue;
            }
            for (status, description) in refusals {
                operation
                    .responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| error_response(description).into());
            }
        }
    }
}

fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// `GET /admin/api/openapi.json`
pub async fn document() -> axum::response::Response {
    axum::Json(openapi()).into_response()
}
