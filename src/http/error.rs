//! Every error answer is JSON with a stable code (docs/api.md, Errors).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::error::ErrorCode;
use crate::ingest::RecordError;
use crate::query::params::{ParamError, ParamErrorKind};
use crate::search::SearchError;
use crate::write::WriteError;
use crate::write::batch::BadLines;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    pub parameter: Option<String>,
    /// The refused lines of a write batch.
    pub records: Option<Vec<RecordError>>,
}

impl ApiError {
    /// An answer with `code`, at the status that code has.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            // Every code's status is a valid one.
            status: StatusCode::from_u16(code.status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code,
            message: message.into(),
            parameter: None,
            records: None,
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn invalid_parameter(parameter: &str, message: impl Into<String>) -> Self {
        ApiError {
            parameter: Some(parameter.to_owned()),
            ..Self::new(ErrorCode::InvalidParameter, message)
        }
    }

    /// `500 index_corrupt`: a stored record could not be read back.
    pub fn index_corrupt(message: impl std::fmt::Display) -> Self {
        Self::new(
            ErrorCode::IndexCorrupt,
            format!(
                "{message}; restore the index from a snapshot (`kontakt snapshot`) or \
                 rebuild it (`kontakt index`)"
            ),
        )
    }

    /// `503 storage_failed`: an fsync failed; writes wait for a restart.
    pub fn storage_failed(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::StorageFailed, message)
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        // `{:#}`: an `anyhow::Error` shows its whole chain of causes.
        tracing::error!(error = format!("{e:#}"), "internal error");
        Self::new(ErrorCode::Internal, "internal error")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

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
        let mut res = HttpResponse::build(self.status).json(json!({ "error": error }));
        // For the request log (`http::observe`).
        res.extensions_mut().insert(self.code);
        res
    }
}

impl From<ParamError> for ApiError {
    fn from(e: ParamError) -> Self {
        let code = match e.kind {
            ParamErrorKind::Invalid => ErrorCode::InvalidParameter,
            ParamErrorKind::Unknown => ErrorCode::UnknownParameter,
        };
        ApiError {
            parameter: Some(e.parameter),
            ..ApiError::new(code, e.message)
        }
    }
}

impl From<SearchError> for ApiError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::InvalidCursor(why) => ApiError {
                parameter: Some("cursor".to_owned()),
                ..ApiError::new(ErrorCode::InvalidCursor, why)
            },
            SearchError::Unreadable(m) => ApiError::index_corrupt(m),
            SearchError::Internal(e) => ApiError::internal(e),
        }
    }
}

impl ApiError {
    /// `400 invalid_record` listing the refused lines.
    pub fn invalid_records(bad: BadLines) -> Self {
        let message = bad.to_string();
        let mut records = bad.first;
        records.truncate(crate::write::batch::MAX_REPORTED);
        ApiError {
            records: Some(records),
            ..ApiError::new(ErrorCode::InvalidRecord, message)
        }
    }
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::InvalidRecords(records) => ApiError::invalid_records(records),
            WriteError::NotFound(m) => ApiError::not_found(m),
            WriteError::Conflict(m) => ApiError::new(ErrorCode::Conflict, m),
            WriteError::InsufficientStorage(m) => ApiError::new(ErrorCode::InsufficientStorage, m),
            WriteError::StorageFailed(m) => ApiError::storage_failed(m),
            WriteError::Internal(m) => ApiError::internal(m),
            WriteError::Unavailable(code, m) => ApiError::new(code, m),
        }
    }
}
