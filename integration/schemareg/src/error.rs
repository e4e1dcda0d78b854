//! The registry's one error type, rendered as Confluent's error body.
//!
//! Every error carries the Confluent `error_code`; the HTTP status is its first three digits
//! (`40401` -> `404`, `409` -> `409`), exactly as Confluent Schema Registry answers.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::api::SCHEMA_REGISTRY_JSON;

/// `Result` with the registry's [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, one variant per Confluent error code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Subject '{0}' not found.")]
    SubjectNotFound(String),
    #[error("Version {0} not found.")]
    VersionNotFound(u32),
    /// `None` when a lookup by content failed, `Some(id)` when a lookup by id did.
    #[error("{}", match .0 { Some(id) => format!("Schema {id} not found"), None => "Schema not found".to_owned() })]
    SchemaNotFound(Option<u32>),
    #[error("Subject '{0}' was soft deleted.Set permanent=true to delete permanently")]
    SubjectSoftDeleted(String),
    #[error("Subject '{0}' was not deleted first before being permanently deleted")]
    SubjectNotSoftDeleted(String),
    #[error("Subject '{subject}' Version {version} was soft deleted.Set permanent=true to delete permanently")]
    VersionSoftDeleted { subject: String, version: u32 },
    #[error("Subject '{subject}' Version {version} was not deleted first before being permanently deleted")]
    VersionNotSoftDeleted { subject: String, version: u32 },
    #[error("Subject '{0}' does not have subject-level compatibility configured")]
    SubjectLevelCompatibilityNotConfigured(String),
    #[error("Invalid schema {0}")]
    InvalidSchema(String),
    #[error("The specified version '{0}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"")]
    InvalidVersion(String),
    #[error("Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive")]
    InvalidCompatibilityLevel,
    #[error("Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: [{}]", .messages.join(", "))]
    Incompatible {
        subject: String,
        messages: Vec<String>,
    },
    #[error("Unrecognized request body: {0}")]
    BadRequest(String),
    #[error("HTTP 404 Not Found")]
    RouteNotFound,
    #[error("HTTP 405 Method Not Allowed")]
    MethodNotAllowed,
    #[error("HTTP 415 Unsupported Media Type")]
    UnsupportedMediaType,
    #[error("Error in the backend data store at {path}: {source}")]
    Store {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The Confluent `error_code` of this error.
    pub fn error_code(&self) -> u32 {
        match self {
            Error::SubjectNotFound(_) => 40401,
            Error::VersionNotFound(_) => 40402,
            Error::SchemaNotFound(_) => 40403,
            Error::SubjectSoftDeleted(_) => 40404,
            Error::SubjectNotSoftDeleted(_) => 40405,
            Error::VersionSoftDeleted { .. } => 40406,
            Error::VersionNotSoftDeleted { .. } => 40407,
            Error::SubjectLevelCompatibilityNotConfigured(_) => 40408,
            Error::InvalidSchema(_) => 42201,
            Error::InvalidVersion(_) => 42202,
            Error::InvalidCompatibilityLevel => 42203,
            Error::Incompatible { .. } => 409,
            Error::BadRequest(_) => 400,
            Error::RouteNotFound => 404,
            Error::MethodNotAllowed => 405,
            Error::UnsupportedMediaType => 415,
            Error::Store { .. } => 50001,
        }
    }

    /// The HTTP status: the first three digits of the error code.
    pub fn status(&self) -> StatusCode {
        let code = self.error_code();
        let http = if code >= 1000 { code / 100 } else { code };
        u16::try_from(http)
            .ok()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::debug!(error = %self, "request rejected");
        }
        let body = json!({ "error_code": self.error_code(), "message": self.to_string() });
        (
            status,
            [(axum::http::header::CONTENT_TYPE, SCHEMA_REGISTRY_JSON)],
            body.to_string(),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_the_first_three_digits_of_the_error_code() {
        assert_eq!(Error::SubjectNotFound("s".into()).status(), 404);
        assert_eq!(Error::InvalidSchema("x".into()).status(), 422);
        assert_eq!(
            Error::Incompatible {
                subject: "s".into(),
                messages: vec![]
            }
            .status(),
            409
        );
        let store = Error::Store {
            path: "p".into(),
            source: std::io::Error::other("disk full"),
        };
        assert_eq!(store.status(), 500);
    }

    #[test]
    fn schema_not_found_messages_match_confluent() {
        assert_eq!(Error::SchemaNotFound(None).to_string(), "Schema not found");
        assert_eq!(
            Error::SchemaNotFound(Some(7)).to_string(),
            "Schema 7 not found"
        );
    }
}
