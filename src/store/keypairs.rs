//! # Key pair records
//!
//! Owned by a user (unique per user and name, as in Nova), remembered with the project they
//! were created in. Only public material is stored: private keys never reach the store.

use crate::keys::KeyKind;
use chrono::NaiveDateTime;

/// A stored key pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keypair {
    pub id: i64,
    pub user_id: String,
    pub project_id: String,
    pub name: String,
    pub kind: KeyKind,
    pub public_key: String,
    /// As the front that made the key pair computed it (its scheme; see `keys::Fingerprint`).
    pub fingerprint: String,
    pub created_at: NaiveDateTime,
}

/// What a new key pair is made of.
#[derive(Debug, Clone)]
pub struct NewKeypair {
    pub user_id: String,
    pub project_id: String,
    pub name: String,
    pub kind: KeyKind,
    pub public_key: String,
    pub fingerprint: String,
    pub created_at: NaiveDateTime,
}

/// Who a lookup is for: a user's own key pairs, or (shared scope) a project's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Owner {
    User(String),
    Project(String),
}

/// Which of an owner's key pairs a list returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub order: Order,
    /// Only names after this one (in `Order::Name`); must name a key pair of the owner.
    pub after: Option<String>,
    /// Rows skipped before the first one returned.
    pub offset: u64,
    /// At most this many (None: all).
    pub limit: Option<u32>,
}

/// The order of a listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    /// By name (binary), then id: Nova's order.
    #[default]
    Name,
    /// Newest first (the portals' order), then by id.
    Newest,
}
