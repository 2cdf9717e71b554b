//! Extractors of the admin API whose rejections speak the API's error format: the
//! authenticated administrator, path keys, query strings and JSON bodies.

use std::sync::Arc;

use admin_model::{Actor, AdminError, AdminPort, PageRequest};
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::IntoParams;

use super::ApiError;
use crate::admin::AdminService;
use crate::body::BodyError;
use crate::state::AppState;

/// Bodies larger than this are refused before parsing.
const MAX_BODY_BYTES: usize = 256 * 1024;

/// A realm document (every user of a realm) may be far larger than other bodies.
const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

/// The administrator making the request, and the service to act with.
pub struct Admin {
    pub actor: Actor,
    pub service: Arc<dyn AdminPort>,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (scheme, token) =
            crate::oauth::bearer::access_token(&parts.headers).ok_or_else(|| {
                AdminError::Unauthorized(
                    "send `Authorization: Bearer <access token of realm master>`".into(),
                )
            })?;
        let service: Arc<dyn AdminPort> = Arc::new(AdminService::new(state.clone()));
        let actor = service.authenticate_token(token).await?;
        // A DPoP-bound admin token counts only with a proof of its key (RFC 9449 §7).
        // Verified just above: its claims can be read again as they are.
        let claims = crate::jose::unverified_claims(token);
        let use_nonce = state
            .caches
            .directory
            .realm(crate::seeding::MASTER_REALM)
            .await
            .ok()
            .flatten()
            .is_some_and(|master| master.security.use_dpop_nonce);
        let path = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or_else(|| parts.uri.path(), |original| original.0.path())
            .to_string();
        let presented = crate::oauth::dpop::Presentation {
            scheme,
            method: parts.method.as_str(),
            path: &path,
            headers: &parts.headers,
        };
        crate::oauth::dpop::check_presentation(
            state,
            use_nonce,
            token,
            crate::oauth::dpop::bound_key(&claims),
            &presented,
        )
        .map_err(|refusal| {
            AdminError::Unauthorized(format!("{}: {}", refusal.code(), refusal.description()))
        })?;
        Ok(Admin { actor, service })
    }
}

/// The path's keys as a struct of named fields (`super::paths`). A key that is not valid
/// UTF-8 once percent-decoded is a 400.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(keys)) => Ok(Path(keys)),
            Err(PathRejection::FailedToDeserializePathParams(e))
                if matches!(e.kind(), ErrorKind::InvalidUtf8InPathParam { .. }) =>
            {
                Err(AdminError::BadRequest("the path is not valid UTF-8".into()).into())
            }
            // A route whose keys miss a field of `T` is the server's bug, not the caller's.
            Err(other) if other.status().is_server_error() => {
                tracing::error!(error = %other.body_text(), "admin route and path keys disagree");
                Err(AdminError::Internal.into())
            }
            Err(other) => Err(AdminError::BadRequest(other.body_text()).into()),
        }
    }
}

/// A query string; a malformed one is a 422 naming the parameter.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Query)
            .map_err(|e| {
                let field = e.path().to_string();
                ApiError::from(AdminError::field(
                    if field == "." { "query" } else { &field },
                    e.inner().to_string(),
                ))
            })
    }
}

/// `?username=` (prefix) and paging of the user list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Only users whose username starts with this.
    #[param(pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub username: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page (unpadded base64url).
    #[param(
        pattern = r"^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?$"
    )]
    pub cursor: Option<String>,
}

impl UserQuery {
    pub fn page(&self) -> PageRequest {
        PageRequest {
            limit: self.limit,
            cursor: self.cursor.clone(),
        }
    }
}

/// A JSON object as the body, sent as `application/json`. A body of another type is a 415,
/// one over the limit a 413, malformed JSON a 400, and well-formed JSON of the wrong shape a
/// 422 naming the offending member.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _: &S) -> Result<Self, ApiError> {
        let bytes = json_body(request, MAX_BODY_BYTES).await?;
        parse(&bytes).map(Json).map_err(ApiError::from)
    }
}

/// A realm document as the body: a JSON object of up to 64 MiB, with the errors of [`Json`].
pub struct Document(pub serde_json::Value);

impl<S: Send + Sync> FromRequest<S> for Document {
    type Rejection = ApiError;

    async fn from_request(request: Request, _: &S) -> Result<Self, ApiError> {
        let bytes = json_body(request, MAX_DOCUMENT_BYTES).await?;
        parse(&bytes).map(Document).map_err(ApiError::from)
    }
}

/// A JSON array body (a list of names, say), with the same errors as [`Json`].
pub struct JsonList<T>(pub Vec<T>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonList<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _: &S) -> Result<Self, ApiError> {
        let bytes = json_body(request, MAX_BODY_BYTES).await?;
        parse_opened(&bytes, b'[', "a JSON array")
            .map(JsonList)
            .map_err(ApiError::from)
    }
}

/// The body of a JSON request, within the size limit.
async fn json_body(request: Request, limit: usize) -> Result<axum::body::Bytes, ApiError> {
    if !is_json(request.headers()) {
        return Err(ApiError::http(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as `Content-Type: application/json`",
        ));
    }
    let bytes = crate::body::read_limited(request.into_body(), limit)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => ApiError::http(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the body may be at most {limit} bytes"),
            ),
            BodyError::Unreadable => {
                AdminError::BadRequest("the body could not be read".into()).into()
            }
        })?;
    Ok(bytes)
}

/// `application/json`, or a `+json` type, with any parameters (`; charset=utf-8`).
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        || essence.split_once('/').is_some_and(|(kind, sub)| {
            kind.eq_ignore_ascii_case("application") && sub.to_ascii_lowercase().ends_with("+json")
        })
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AdminError> {
    // serde would read an array into a struct by position; the API speaks objects only.
    parse_opened(bytes, b'{', "a JSON object")
}

/// Parses a body that must open with `open` (`{` or `[`), `what` in messages.
fn parse_opened<T: DeserializeOwned>(bytes: &[u8], open: u8, what: &str) -> Result<T, AdminError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => {
            return Err(AdminError::BadRequest(format!(
                "the body is empty; send {what}"
            )))
        }
        Some(b) if *b == open => {}
        Some(_) if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err() => {
            return Err(AdminError::BadRequest("the body is not valid JSON".into()))
        }
        Some(_) => return Err(AdminError::field("body", format!("must be {what}"))),
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let inner = e.inner();
        if !inner.is_data() {
            return AdminError::BadRequest(format!("the body is not valid JSON: {inner}"));
        }
        let message = inner.to_string();
        let field = match message.strip_prefix("unknown field `") {
            Some(rest) => rest.split('`').next().unwrap_or("body").to_string(),
            None if e.path().to_string() == "." => "body".to_string(),
            None => e.path().to_string(),
        };
        AdminError::field(field, strip_position(&message))
    })?;
    deserializer
        .end()
        .map_err(|e| AdminError::BadRequest(format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

/// serde_json appends " at line 1 column 17"; people need the field, not the column.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_errors_name_the_member() {
        let err = parse::<admin_model::ClientInput>(br#"{"public": "yes"}"#).unwrap_err();
        assert_eq!(err.status(), 422);
        assert!(err.field_message("public").is_some(), "{err:?}");
        let err = parse::<admin_model::ClientInput>(br#"{"colour": 1}"#).unwrap_err();
        assert!(err.field_message("colour").is_some(), "{err:?}");
        let err = parse::<admin_model::ClientInput>(br#"{"public": tru"#).unwrap_err();
        assert_eq!(err.status(), 400);
        let err = parse::<admin_model::ClientInput>(br#"{} {}"#).unwrap_err();
        assert_eq!(err.status(), 400);
    }

    #[test]
    fn only_objects_are_bodies() {
        let err = parse::<admin_model::RealmInput>(br#"["shop", "The Shop"]"#).unwrap_err();
        assert_eq!(err.field_message("body"), Some("must be a JSON object"));
        let err = parse::<admin_model::RealmInput>(b"  ").unwrap_err();
        assert_eq!(err.status(), 400);
        let err = parse::<admin_model::RealmInput>(b"[1,").unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(parse::<admin_model::RealmInput>(b" {}").is_ok());
    }

    #[test]
    fn json_media_types() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, value.parse().unwrap());
            is_json(&headers)
        };
        assert!(with("application/json"));
        assert!(with("Application/JSON; charset=utf-8"));
        assert!(with("application/merge-patch+json"));
        assert!(!with("text/plain"));
        assert!(!with("application/x-www-form-urlencoded"));
        assert!(!with("application/jsonp"));
        assert!(!is_json(&HeaderMap::new()));
    }
}
