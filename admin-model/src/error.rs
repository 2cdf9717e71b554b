//! Errors of admin operations and their JSON body `{"error", "message", "fields"}`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Why an admin operation did not happen. A failed operation changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    /// 400: the request is not understood at all (malformed JSON, say).
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid admin token or session.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: authenticated but not an administrator.
    #[error("{0}")]
    Forbidden(String),
    /// 404: the addressed item does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// 409: the natural key is taken, or the change conflicts with what exists.
    #[error("{0}")]
    Conflict(String),
    /// 422: the request is understood but its values are not acceptable; one message per field.
    #[error("{message}")]
    Invalid {
        message: String,
        fields: BTreeMap<String, String>,
    },
    /// 500: a bug or an unavailable database; details are logged, never returned.
    #[error("the server could not complete the request")]
    Internal,
}

impl AdminError {
    /// A 422 for one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut fields = BTreeMap::new();
        let message = message.into();
        let field = field.into();
        fields.insert(field.clone(), message.clone());
        Self::Invalid {
            message: format!("{field}: {message}"),
            fields,
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }

    /// The machine-readable code of the body's `error` member.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::Invalid { .. } => "validation_failed",
            Self::Internal => "server_error",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::Conflict(_) => 409,
            Self::Invalid { .. } => 422,
            Self::Internal => 500,
        }
    }

    /// The message for `field`, when this is a validation failure that names it.
    pub fn field_message(&self, field: &str) -> Option<&str> {
        match self {
            Self::Invalid { fields, .. } => fields.get(field).map(String::as_str),
            _ => None,
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.code().to_string(),
            message: self.to_string(),
            fields: match self {
                Self::Invalid { fields, .. } => Some(fields.clone()),
                _ => None,
            },
        }
    }
}

/// Collects per-field messages while validating an input, then fails once with all of them.
#[derive(Debug, Default)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the first message for `field`.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_string())
            .or_insert_with(|| message.into());
    }

    /// Records the message of `result` when it failed.
    pub fn check(&mut self, field: &str, result: Result<(), String>) {
        if let Err(message) = result {
            self.add(field, message);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok` when nothing was recorded, else one 422 naming every field.
    pub fn finish(self) -> Result<(), AdminError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let message = self
            .0
            .iter()
            .map(|(field, message)| format!("{field}: {message}"))
            .collect::<Vec<_>>()
            .join("; ");
        Err(AdminError::Invalid {
            message,
            fields: self.0,
        })
    }
}

/// The body of every admin API error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// `bad_request`, `unauthorized`, `forbidden`, `not_found`, `conflict`,
    /// `validation_failed` or `server_error`; before an operation runs, also
    /// `method_not_allowed`, `payload_too_large` or `unsupported_media_type`.
    pub error: String,
    pub message: String,
    /// Per-field messages of a `validation_failed` error, keyed by field name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
}
