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
    /// The cloud fronts' extra fields (empty / 0 for key pairs made through Nova).
    pub extra: KeypairExtra,
}

/// What the cloud fronts keep beside Nova's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeypairExtra {
    /// Tencent's description (at most 60 characters there).
    pub description: String,
    /// Alibaba's resource group id (empty: the default group).
    pub resource_group: String,
    /// Tencent's ProjectId (0: the default project).
    pub cloud_project: i64,
}

/// One tag of a key pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag {
    pub key: String,
    pub value: String,
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
    pub extra: KeypairExtra,
    /// In the order given.
    pub tags: Vec<Tag>,
    /// Appended to `public_key` (after a space) as its comment once the row has its id, in the
    /// same write: a front whose generated keys carry their own id (Tencent's `skey-…`) cannot
    /// know that id before the insert. `None`: the public key is stored as given.
    pub id_comment: Option<fn(i64) -> String>,
    /// What else the create refuses, and in which order (checked in its write transaction).
    pub rules: CreateRules,
}

/// A create's refusals beyond the defaults (the limit, then a taken name: Nova's order).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CreateRules {
    /// Refused with `SameKey` when the owner already holds this public key (the same stored
    /// fingerprint and the same key blob, whatever the comment); checked first.
    pub unique_key: bool,
    /// A taken name is refused before the limit is.
    pub name_before_limit: bool,
}

/// A change to a key pair's name or description (Tencent's ModifyKeyPairAttribute).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeypairChange {
    pub name: Option<String>,
    pub description: Option<String>,
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Order {
    /// By name (binary), then id: Nova's order.
    #[default]
    Name,
    /// Newest first (the portals' order), then by id.
    Newest,
}
