//! Store errors: what went wrong in terms of the data, never of any API's wire format.

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A record with the same natural key already exists.
    #[error("already exists")]
    Duplicate,
    /// The owner already holds the same public key, as the key pair `id` (`CreateRules`).
    #[error("the same key is stored as key pair {id}")]
    SameKey { id: i64 },
    /// The addressed record does not exist.
    #[error("not found")]
    NotFound,
    /// The owner already holds as many records as the limit allows.
    #[error("limit of {limit} reached")]
    LimitReached { limit: i64 },
    /// The record is in use (a key pair bound to an instance).
    #[error("in use")]
    InUse,
    /// A paging marker names no record of the owner.
    #[error("marker not found")]
    MarkerNotFound,
    /// The database is not a novakeys database, newer than this binary, or an image does not
    /// fit its schema.
    #[error("incompatible database: {0}")]
    Incompatible(String),
    #[error("i/o: {0}")]
    Io(String),
    /// The database cannot be reached or stopped answering in time (refused, closed, shut
    /// down, timed out): a passing condition, answered as each front's 503.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The backend itself failed (its message; the source is logged where it happened).
    #[error("{0}")]
    Backend(String),
}
