//! The OpenAPI 3 document of the admin API, generated from the handlers' annotations and the
//! admin model's types.

use axum::response::IntoResponse;
use utoipa::openapi::schema::Type;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::api::Paths;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tessera admin API",
        description = "Administration of realms, clients, users, roles, identity providers, directories, the catalogue, keys, revocations, sessions and the audit trail. Authenticate with `Authorization: Bearer <access token>` of realm `master`, issued to a user or service client holding the role `admin`.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "realms"), (name = "clients"), (name = "users"), (name = "roles"), (name = "identity-providers"), (name = "directories"), (name = "scopes"),
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
    require_on_create(&mut document);
    tighten_inputs(&mut document);
    document
}

/// Rules of the validators (`admin/validate.rs`) that utoipa's field attributes cannot state:
/// no list of an input may name an entry twice, and user claims are bounded in number and
/// named like identifiers, never as a claim Tessera sets itself.
fn tighten_inputs(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{ObjectBuilder, Schema};
    use utoipa::openapi::RefOr;
    let Some(components) = document.components.as_mut() else {
        return;
    };
    for (name, schema) in components.schemas.iter_mut() {
        if !name.ends_with("Input") {
            continue;
        }
        let RefOr::T(Schema::Object(object)) = schema else {
            continue;
        };
        for (member, property) in object.properties.iter_mut() {
            match property {
                RefOr::T(Schema::Array(array)) => array.unique_items = true,
                RefOr::T(Schema::Object(claims)) if name == "UserInput" && member == "claims" => {
                    let reserved = crate::admin::validate::RESERVED_CLAIMS.join("|");
                    claims.max_properties = Some(64);
                    claims.property_names = Some(Box::new(Schema::Object(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .pattern(Some(format!(
                                "^(?!(?:{reserved})$)[A-Za-z0-9._:@~+-]{{1,128}}$"
                            )))
                            .build(),
                    )));
                }
                _ => {}
            }
        }
    }
}

/// One `…Input` type serves create (POST) and PATCH, so its members are all optional (and
/// `null` reads as absent); on create the server requires some, with a value. Each create body
/// gets its own schema saying which.
const CREATE_REQUIRES: [(&str, &[(&str, Type)]); 10] = [
    ("RealmInput", &[("name", Type::String)]),
    (
        "ClientInput",
        &[("client_id", Type::String), ("grant_types", Type::Array)],
    ),
    ("UserInput", &[("username", Type::String)]),
    ("ScopeInput", &[("name", Type::String)]),
    ("ApiResourceInput", &[("name", Type::String)]),
    ("ClaimTypeInput", &[("name", Type::String)]),
    ("RoleInput", &[("name", Type::String)]),
    (
        "DirectoryInput",
        &[
            ("name", Type::String),
            ("url", Type::String),
            ("user_base_dn", Type::String),
        ],
    ),
    (
        "IdentityProviderInput",
        &[("alias", Type::String), ("client_id", Type::String)],
    ),
    (
        "ExchangePolicyInput",
        &[("client_id", Type::String), ("audiences", Type::Array)],
    ),
];

fn require_on_create(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Schema};
    use utoipa::openapi::RefOr;
    let components = document.components.get_or_insert_with(Default::default);
    for (input, required) in CREATE_REQUIRES {
        let mut also = ObjectBuilder::new();
        for (member, kind) in required {
            also = also
                .required(*member)
                .property(*member, ObjectBuilder::new().schema_type(kind.clone()));
        }
        let named: Vec<String> = required.iter().map(|(m, _)| format!("`{m}`")).collect();
        let create = AllOfBuilder::new()
            .item(Ref::from_schema_name(input))
            .item(also)
            .description(Some(format!(
                "{input} as a create body: {} required.",
                named.join(", ")
            )))
            .build();
        let name = input.replace("Input", "Create");
        components
            .schemas
            .insert(name.clone(), RefOr::T(Schema::AllOf(create)));
        let target = format!("#/components/schemas/{input}");
        for item in document.paths.paths.values_mut() {
            let Some(post) = item.post.as_mut() else {
                continue;
            };
            let Some(body) = post.request_body.as_mut() else {
                continue;
            };
            for content in body.content.values_mut() {
                if matches!(&content.schema, Some(RefOr::Ref(r)) if r.ref_location == target) {
                    content.schema = Some(RefOr::Ref(Ref::from_schema_name(name.clone())));
                }
            }
        }
    }
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
