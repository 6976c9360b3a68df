//! Every error answer is JSON with a stable code (docs/api.md, Errors).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::ingest::RecordError;
use crate::query::params::{ParamError, ParamErrorKind};
use crate::search::SearchError;
use crate::write::WriteError;
use crate::write::batch::BadLines;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub parameter: Option<String>,
    /// The refused lines of a write batch.
    pub records: Option<Vec<RecordError>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            parameter: None,
            records: None,
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn invalid_parameter(parameter: &str, message: impl Into<String>) -> Self {
        ApiError {
            parameter: Some(parameter.to_owned()),
            ..Self::new(StatusCode::BAD_REQUEST, "invalid_parameter", message)
        }
    }

    /// `500 index_corrupt`: a stored record could not be read back.
    pub fn index_corrupt(message: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "index_corrupt",
            format!(
                "{message}; restore the index from a snapshot (`kontakt snapshot`) or \
                 rebuild it (`kontakt index`)"
            ),
        )
    }

    /// `503 storage_failed`: an fsync failed; writes wait for a restart.
    pub fn storage_failed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "storage_failed", message)
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some(p) = &self.parameter {
            error["parameter"] = json!(p);
        }
        if let Some(records) = &self.records {
            error["records"] = json!(records);
        }
        HttpResponse::build(self.status).json(json!({ "error": error }))
    }
}

impl From<ParamError> for ApiError {
    fn from(e: ParamError) -> Self {
        let code = match e.kind {
            ParamErrorKind::Invalid => "invalid_parameter",
            ParamErrorKind::Unknown => "unknown_parameter",
        };
        ApiError {
            parameter: Some(e.parameter),
            ..ApiError::new(StatusCode::BAD_REQUEST, code, e.message)
        }
    }
}

impl From<SearchError> for ApiError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::InvalidCursor(why) => ApiError {
                parameter: Some("cursor".to_owned()),
                ..ApiError::new(StatusCode::BAD_REQUEST, "invalid_cursor", why)
            },
            SearchError::Unreadable(m) => ApiError::index_corrupt(m),
            SearchError::Internal(e) => ApiError::internal(e),
        }
    }
}

impl ApiError {
    /// `400 invalid_record` listing the refused lines.
    pub fn invalid_records(bad: BadLines) -> Self {
        let message = match bad.first.first() {
            Some(first) if bad.total == 1 => format!("the batch was not applied: {first}"),
            Some(first) => format!(
                "the batch was not applied: {} bad lines, the first: {first}",
                bad.total
            ),
            None => "the batch was not applied".to_owned(),
        };
        let mut records = bad.first;
        records.truncate(crate::write::batch::MAX_REPORTED);
        ApiError {
            records: Some(records),
            ..ApiError::new(StatusCode::BAD_REQUEST, "invalid_record", message)
        }
    }
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::InvalidRecords(records) => ApiError::invalid_records(records),
            WriteError::NotFound(m) => ApiError::not_found(m),
            WriteError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            WriteError::InsufficientStorage(m) => {
                ApiError::new(StatusCode::INSUFFICIENT_STORAGE, "insufficient_storage", m)
            }
            WriteError::StorageFailed(m) => ApiError::storage_failed(m),
            WriteError::Internal(m) => ApiError::internal(m),
            WriteError::Unavailable(code, m) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, m)
            }
        }
    }
}
