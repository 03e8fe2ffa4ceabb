//! What a domain call can refuse, in domain terms; each front maps these to its own errors in
//! one table.

use crate::keys::KeyError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The addressed key pair (or record) does not exist.
    #[error("not found")]
    NotFound,
    /// The name is taken in the owner's scope.
    #[error("already exists")]
    Duplicate,
    /// The owner holds this public key already, as the key pair `id` (asked for with
    /// `CreateRules::unique_key`).
    #[error("the same key is stored as key pair {id}")]
    SameKey { id: i64 },
    /// The owner holds `limit` key pairs already.
    #[error("quota of {limit} exceeded")]
    QuotaExceeded { limit: i64 },
    /// The public key does not parse, or could not be generated.
    #[error("invalid key: {0}")]
    InvalidKey(KeyError),
    /// A paging marker names no key pair of the owner.
    #[error("invalid page")]
    InvalidPage,
    /// Bound to an instance, so it cannot go.
    #[error("in use")]
    InUse,
    /// A request the domain refuses as such (an unknown cloud, a state an instance is not
    /// in...); the text is for logs and the front's own message choice.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The principal may not act on the addressed owner.
    #[error("forbidden")]
    Forbidden,
    /// The store's database is away for now (each front answers its 503).
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Something broke inside novakeys (the detail is for logs, never for clients).
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for DomainError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate => DomainError::Duplicate,
            StoreError::NotFound => DomainError::NotFound,
            StoreError::SameKey { id } => DomainError::SameKey { id },
            StoreError::InUse => DomainError::InUse,
            StoreError::LimitReached { limit } => DomainError::QuotaExceeded { limit },
            StoreError::MarkerNotFound => DomainError::InvalidPage,
            StoreError::Unavailable(detail) => DomainError::Unavailable(detail),
            other => DomainError::Internal(format!("store: {other}")),
        }
    }
}

impl From<KeyError> for DomainError {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::Generation(detail) => {
                DomainError::Internal(format!("key generation failed: {detail}"))
            }
            invalid => DomainError::InvalidKey(invalid),
        }
    }
}
