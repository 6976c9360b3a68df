//! The stable error codes of the API (docs/api.md, Errors): one spelling of
//! each, used by the JSON errors, the logs, the metrics and the OpenAPI
//! document.

use serde::Serialize;

/// A stable error code. Serializes as its `as_str` spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidParameter,
    UnknownParameter,
    InvalidCursor,
    InvalidRecord,
    /// A request refused below the API (a CORS preflight from an origin or
    /// for a method that is not allowed).
    BadRequest,
    Unauthorized,
    Forbidden,
    WritesDisabled,
    NotFound,
    /// `--request-timeout-secs` passed.
    Timeout,
    Conflict,
    PayloadTooLarge,
    RateLimited,
    Internal,
    /// A stored record could not be read back: the index is damaged.
    IndexCorrupt,
    /// An fsync failed: writes wait for a restart, `/ready` says so.
    StorageFailed,
    /// A write failed for lack of disk space; nothing was applied.
    InsufficientStorage,
    /// Replication (docs/deploy.md): a write sent to a replica, to a
    /// primary fenced by another, or not published after retries; `/ready`
    /// of a replica too far behind.
    ReadOnlyReplica,
    NotPrimary,
    ReplicationFailed,
    ReplicaLagging,
}

impl ErrorCode {
    /// Every code, in the order the OpenAPI document lists them.
    pub const ALL: [ErrorCode; 21] = [
        ErrorCode::InvalidParameter,
        ErrorCode::UnknownParameter,
        ErrorCode::InvalidCursor,
        ErrorCode::InvalidRecord,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::WritesDisabled,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::PayloadTooLarge,
        ErrorCode::RateLimited,
        ErrorCode::Internal,
        ErrorCode::IndexCorrupt,
        ErrorCode::InsufficientStorage,
        ErrorCode::StorageFailed,
        ErrorCode::Timeout,
        ErrorCode::BadRequest,
        ErrorCode::ReadOnlyReplica,
        ErrorCode::NotPrimary,
        ErrorCode::ReplicationFailed,
        ErrorCode::ReplicaLagging,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidParameter => "invalid_parameter",
            ErrorCode::UnknownParameter => "unknown_parameter",
            ErrorCode::InvalidCursor => "invalid_cursor",
            ErrorCode::InvalidRecord => "invalid_record",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::WritesDisabled => "writes_disabled",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Internal => "internal",
            ErrorCode::IndexCorrupt => "index_corrupt",
            ErrorCode::StorageFailed => "storage_failed",
            ErrorCode::InsufficientStorage => "insufficient_storage",
            ErrorCode::ReadOnlyReplica => "read_only_replica",
            ErrorCode::NotPrimary => "not_primary",
            ErrorCode::ReplicationFailed => "replication_failed",
            ErrorCode::ReplicaLagging => "replica_lagging",
        }
    }

    /// The HTTP status of an answer with this code. The HTTP layer's own
    /// errors are named by status instead (`http::observe`), so there
    /// `not_found` also covers 405, `timeout` 408 and 504, and
    /// `bad_request` every other 4xx.
    pub const fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidParameter
            | ErrorCode::UnknownParameter
            | ErrorCode::InvalidCursor
            | ErrorCode::InvalidRecord
            | ErrorCode::BadRequest => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden | ErrorCode::WritesDisabled => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal | ErrorCode::IndexCorrupt => 500,
            ErrorCode::Timeout
            | ErrorCode::StorageFailed
            | ErrorCode::ReadOnlyReplica
            | ErrorCode::NotPrimary
            | ErrorCode::ReplicationFailed
            | ErrorCode::ReplicaLagging => 503,
            ErrorCode::InsufficientStorage => 507,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_serializes_as_its_one_spelling_and_is_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
            assert!(seen.insert(c.as_str()), "{c} listed twice");
        }
        assert_eq!(ErrorCode::InsufficientStorage.status(), 507);
    }
}
