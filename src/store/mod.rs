//! # The store: what novakeys keeps, behind typed traits
//!
//! The domain services call these traits and nothing else; `sqlite` implements them (all SQL
//! and all rusqlite use live there), and so does `postgres` (tokio-postgres), with the same
//! semantics (`tests/it/store_conformance` runs one suite on both). Records are plain rows:
//! no HTTP, no cloud's wire format.
//! Key pair calls are async (writes wait for a group commit without holding a thread); the
//! identity, state and snapshot calls are blocking: run them off the async workers.
//!
//! Caches above the store (rendered bodies, verified tokens) are keyed by a [`ChangeToken`]:
//! a value read *before* a query that still holds afterwards means nothing was written since,
//! so what was derived from that query is current. A store shared by several processes
//! ([`Store::shared`]) hands out tokens that see the other processes' writes as of its last
//! [`Store::refresh_tokens`], which every API request awaits first.

pub mod identity;
pub mod image;
pub mod instances;
pub mod keypairs;
pub mod postgres;
pub mod sqlite;

mod error;
pub use error::StoreError;

use identity::{
    AppCred, Assignment, Bootstrap, Credential, Domain, Project, Role, SigningKey, Target, User,
};
use image::Image;
use instances::{Instance, State};
use keypairs::{Keypair, KeypairChange, ListQuery, NewKeypair, Owner, Tag};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed future, so the traits stay object safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Changes with every committed write of its kind (see the module docs); never goes back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChangeToken(pub u64);

/// How hard a commit tries to reach the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// A committed write survives a process crash (kill -9), but the last commits may be lost
    /// on power loss or an OS crash.
    Normal,
    /// Every commit reaches the disk before it is answered; survives power loss too.
    Full,
}

/// Key pairs. Names are unique per user, and per project when `Owner::Project` is used.
pub trait KeypairStore: Send + Sync {
    /// Moves with every key pair write.
    fn keypairs_token(&self) -> ChangeToken;
    /// Keeps an index for `Owner::Project` lookups exactly when `wanted`.
    fn index_by_project(&self, wanted: bool) -> Result<(), StoreError>;
    fn count_keypairs(&self, owner: &Owner) -> BoxFuture<'static, Result<i64, StoreError>>;
    /// All key pairs of every owner (for metrics).
    fn count_all_keypairs(&self) -> Result<i64, StoreError>;
    fn get_keypair(
        &self,
        owner: &Owner,
        name: &str,
    ) -> BoxFuture<'static, Result<Option<Keypair>, StoreError>>;
    /// One page; `MarkerNotFound` when `query.after` names no key pair of the owner.
    fn list_keypairs(
        &self,
        owner: &Owner,
        query: ListQuery,
    ) -> BoxFuture<'static, Result<Vec<Keypair>, StoreError>>;
    /// Inserts `new` for `owner`, refused with `LimitReached` when the owner already holds
    /// `limit` (checked in the same transaction, so concurrent creates cannot overshoot) and
    /// `Duplicate` when the name is taken.
    fn create_keypair(
        &self,
        new: NewKeypair,
        owner: Owner,
        limit: Option<i64>,
    ) -> BoxFuture<'static, Result<Keypair, StoreError>>;
    /// `NotFound` if `owner` has no key pair `name`; with `refuse_bound`, `InUse` (and nothing
    /// deleted) while an instance is bound to it.
    fn delete_keypair(
        &self,
        owner: Owner,
        name: String,
        refuse_bound: bool,
    ) -> BoxFuture<'static, Result<(), StoreError>>;
    /// Renames and/or describes `name` of `owner` (`NotFound`; `Duplicate` for a taken name).
    fn change_keypair(
        &self,
        owner: Owner,
        name: String,
        change: KeypairChange,
    ) -> BoxFuture<'static, Result<Keypair, StoreError>>;
    /// The tags of each of `ids` that has any, in their order.
    fn keypair_tags(
        &self,
        ids: Vec<i64>,
    ) -> BoxFuture<'static, Result<HashMap<i64, Vec<Tag>>, StoreError>>;
    /// Bulk load, no limits, in transactions of `batch` rows (the `seed` command); blocking.
    fn load_keypairs(
        &self,
        rows: &mut dyn Iterator<Item = NewKeypair>,
        batch: usize,
    ) -> Result<u64, StoreError>;
}

/// The instance registry.
pub trait InstanceStore: Send + Sync {
    fn insert_instance(&self, i: Instance) -> BoxFuture<'static, Result<(), StoreError>>;
    fn get_instance(&self, id: &str) -> BoxFuture<'static, Result<Option<Instance>, StoreError>>;
    /// In creation order; of one cloud when given.
    fn list_instances(
        &self,
        cloud: Option<&str>,
    ) -> BoxFuture<'static, Result<Vec<Instance>, StoreError>>;
    /// `NotFound` if there is none.
    fn delete_instance(&self, id: &str) -> BoxFuture<'static, Result<(), StoreError>>;
    /// Binds the key pair (internal id, name) to the instance, replacing any earlier one, or
    /// unbinds it (`None`); `NotFound` for an unknown instance or key pair.
    fn bind_instance(
        &self,
        id: &str,
        key_pair: Option<(i64, String)>,
    ) -> BoxFuture<'static, Result<(), StoreError>>;
    fn set_instance_state(
        &self,
        id: &str,
        state: State,
    ) -> BoxFuture<'static, Result<(), StoreError>>;
}

/// Identity records. Every write moves `identity_token`.
pub trait IdentityStore: Send + Sync {
    fn identity_token(&self) -> ChangeToken;
    fn identity_is_empty(&self) -> Result<bool, StoreError>;
    /// Writes `b` in one transaction if the store has no identity data; says whether it did.
    fn bootstrap(&self, b: &Bootstrap) -> Result<bool, StoreError>;

    fn insert_domain(&self, d: &Domain) -> Result<(), StoreError>;
    fn get_domain(&self, id: &str) -> Result<Option<Domain>, StoreError>;
    fn get_domain_by_name(&self, name: &str) -> Result<Option<Domain>, StoreError>;
    fn list_domains(&self) -> Result<Vec<Domain>, StoreError>;

    fn insert_project(&self, p: &Project) -> Result<(), StoreError>;
    fn update_project(&self, p: &Project) -> Result<(), StoreError>;
    /// With its assignments and application credentials; users lose it as default project.
    fn delete_project(&self, id: &str) -> Result<(), StoreError>;
    fn get_project(&self, id: &str) -> Result<Option<Project>, StoreError>;
    fn get_project_by_name(
        &self,
        domain_id: &str,
        name: &str,
    ) -> Result<Option<Project>, StoreError>;
    fn list_projects(&self) -> Result<Vec<Project>, StoreError>;

    fn insert_user(&self, u: &User) -> Result<(), StoreError>;
    fn update_user(&self, u: &User) -> Result<(), StoreError>;
    /// With the user's assignments and application credentials.
    fn delete_user(&self, id: &str) -> Result<(), StoreError>;
    fn get_user(&self, id: &str) -> Result<Option<User>, StoreError>;
    fn get_user_by_name(&self, domain_id: &str, name: &str) -> Result<Option<User>, StoreError>;
    fn list_users(&self) -> Result<Vec<User>, StoreError>;

    fn insert_role(&self, r: &Role) -> Result<(), StoreError>;
    fn get_role(&self, id: &str) -> Result<Option<Role>, StoreError>;
    /// In creation order.
    fn list_roles(&self) -> Result<Vec<Role>, StoreError>;

    /// Idempotent.
    fn grant(&self, a: &Assignment) -> Result<(), StoreError>;
    /// `NotFound` if there was no such grant.
    fn revoke_grant(&self, a: &Assignment) -> Result<(), StoreError>;
    /// Ordered by target, then user, then role.
    fn list_assignments(&self) -> Result<Vec<Assignment>, StoreError>;
    /// The roles granted directly to `user_id` on `target`, in grant order.
    fn direct_roles(&self, user_id: &str, target: &Target) -> Result<Vec<Role>, StoreError>;

    fn insert_app_cred(&self, a: &AppCred) -> Result<(), StoreError>;
    fn get_app_cred(&self, id: &str) -> Result<Option<AppCred>, StoreError>;
    fn get_app_cred_by_name(
        &self,
        user_id: &str,
        name: &str,
    ) -> Result<Option<AppCred>, StoreError>;
    /// In creation order.
    fn list_app_creds(&self, user_id: &str) -> Result<Vec<AppCred>, StoreError>;
    fn delete_app_cred(&self, user_id: &str, id: &str) -> Result<(), StoreError>;

    /// Records a revoked token by audit id (kept until `expires_at`).
    fn revoke_token(&self, audit_id: &str, expires_at: i64) -> Result<(), StoreError>;
    fn is_revoked(&self, audit_id: &str) -> Result<bool, StoreError>;
    fn purge_revocations(&self, before: i64) -> Result<(), StoreError>;

    /// `Duplicate` if the id or the (cloud, access) pair is taken.
    fn insert_credential(&self, c: &Credential) -> Result<(), StoreError>;
    fn get_credential(&self, id: &str) -> Result<Option<Credential>, StoreError>;
    /// The credential a cloud client presents (`access` = AccessKeyId, SecretId, API key).
    fn find_credential(&self, cloud: &str, access: &str) -> Result<Option<Credential>, StoreError>;
    /// In creation order.
    fn list_credentials(&self) -> Result<Vec<Credential>, StoreError>;
    fn delete_credential(&self, id: &str) -> Result<(), StoreError>;

    /// Every token of `user_id` issued before `before` (epoch seconds) is revoked.
    fn revoke_user_tokens(&self, user_id: &str, before: i64) -> Result<(), StoreError>;
    /// Since when the user's tokens are revoked, if ever.
    fn user_tokens_revoked_before(&self, user_id: &str) -> Result<Option<i64>, StoreError>;

    /// The newest `n` signing keys, newest first.
    fn signing_keys(&self, n: usize) -> Result<Vec<SigningKey>, StoreError>;
    /// Adds `key` as the first signing key when there is none, in one transaction that
    /// processes starting together on one database take one at a time (so they make one key
    /// and agree on it); says whether it did.
    fn add_first_signing_key(&self, key: &SigningKey, created_at: &str)
        -> Result<bool, StoreError>;
    /// Adds a new current key and forgets all but the newest `keep`.
    fn add_signing_key(
        &self,
        key: &SigningKey,
        created_at: &str,
        keep: usize,
    ) -> Result<(), StoreError>;
}

/// What `StateStore::apply` rewrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// The token signing keys are not those of before (reload them).
    pub signing_keys: bool,
    /// Names of the rewritten tables (for tests and logs).
    pub tables: Vec<String>,
}

/// A named snapshot as listed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SnapshotInfo {
    pub name: String,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// Whole-state images (reset, export/import) and named snapshots.
pub trait StateStore: Send + Sync {
    /// Everything stored, read consistently.
    fn capture(&self) -> Result<Image, StoreError>;
    /// Only the token signing keys (a reset baseline keeps this store's own).
    fn capture_signing_keys(&self) -> Result<Image, StoreError>;
    /// Replaces everything with `image` in one transaction (readers see the old or the new
    /// state); `Incompatible` if the image does not fit the schema.
    fn apply(&self, image: &Image) -> Result<Applied, StoreError>;
    /// A new, empty store in memory (to build a reset baseline): of the same kind, or SQLite
    /// for a backend without one (images are backend-neutral).
    fn scratch(&self) -> Result<Arc<dyn Store>, StoreError>;
    /// The reset baseline this process is to use, given the one it worked out (`mine`). A
    /// store that one process serves: `mine`. A shared one keeps the first baseline any
    /// process offered and answers that to all, so a reset through any of them returns to
    /// the same state (the same fixture ids, hashes and signing keys).
    fn shared_baseline(&self, mine: Image) -> Result<Image, StoreError> {
        Ok(mine)
    }

    fn save_snapshot(&self, name: &str) -> Result<SnapshotInfo, StoreError>;
    /// Applies the snapshot; `None` when there is none of that name.
    fn restore_snapshot(&self, name: &str) -> Result<Option<Applied>, StoreError>;
    /// False when there is none of that name.
    fn delete_snapshot(&self, name: &str) -> Result<bool, StoreError>;
    fn list_snapshots(&self) -> Result<Vec<SnapshotInfo>, StoreError>;
}

/// Everything the services need from one store.
pub trait Store: KeypairStore + InstanceStore + IdentityStore + StateStore {
    /// Where the data lives, for messages (a file path, `:memory:`, or a PostgreSQL URL
    /// without its password).
    fn location(&self) -> String;

    /// Whether other processes write to the same data (PostgreSQL): then the change tokens
    /// only follow their writes through [`Store::refresh_tokens`].
    fn shared(&self) -> bool {
        false
    }

    /// Brings `keypairs_token` and `identity_token` up to every write any process has
    /// committed by now; a failure to find out moves them (so no cache answers from what may
    /// be stale). The API requests' hook awaits it before anything reads a token, which
    /// makes a write acknowledged by one process visible to the very next request any
    /// other process serves. Only called when `shared`: a store without other writers
    /// (SQLite: one process's writer) has current tokens already.
    fn refresh_tokens(&self) -> BoxFuture<'static, ()> {
        Box::pin(std::future::ready(()))
    }
}

/// Which store a `--db` value names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A `postgres://`/`postgresql://` URL or libpq `key=value` string: PostgreSQL; a path or
/// `:memory:`: SQLite; any other `scheme://`: an error (it is no path anyone meant).
pub fn backend(location: &str) -> Result<Backend, StoreError> {
    if postgres::is_postgres(location) {
        return Ok(Backend::Postgres);
    }
    if let Some((scheme, _)) = location.split_once("://") {
        if !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            return Err(StoreError::Backend(format!(
                "unsupported database URL scheme '{scheme}://' (use postgres://..., a file path or :memory:)"
            )));
        }
    }
    Ok(Backend::Sqlite)
}

/// `location` as messages show it (a PostgreSQL URL without its password).
pub fn shown(location: &str) -> String {
    match backend(location) {
        Ok(Backend::Postgres) => postgres::redact(location),
        _ => location.to_string(),
    }
}

/// Opens the store `location` names (see [`backend`]). `durability` is SQLite's; PostgreSQL
/// commits as the server is configured to.
pub fn open(location: &str, durability: Durability) -> Result<Arc<dyn Store>, StoreError> {
    Ok(match backend(location)? {
        Backend::Sqlite => Arc::new(sqlite::SqliteStore::open(location, durability)?),
        Backend::Postgres => Arc::new(postgres::PgStore::open(location)?),
    })
}

/// `[A-Za-z0-9_.-]{1,64}`, and not only dots: what a snapshot may be called.
pub fn valid_snapshot_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        && !name.bytes().all(|b| b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_db_value_names_its_backend() {
        for (db, want) in [
            (":memory:", Backend::Sqlite),
            ("/var/lib/nk.db", Backend::Sqlite),
            ("nk.db", Backend::Sqlite),
            ("./odd://name.db", Backend::Sqlite),
            ("postgres://u@h:5432/db", Backend::Postgres),
            ("postgresql://h/db", Backend::Postgres),
            ("host=/run/postgresql dbname=nk", Backend::Postgres),
        ] {
            assert_eq!(backend(db).unwrap(), want, "{db}");
        }
        for db in [
            "mysql://h/db",
            "sqlite://nk.db",
            "file://nk.db",
            "redis+tls://h",
        ] {
            let err = backend(db).unwrap_err().to_string();
            assert!(
                err.starts_with("unsupported database URL scheme"),
                "{db}: {err}"
            );
        }
        assert_eq!(shown("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(shown("/tmp/u:pw@h.db"), "/tmp/u:pw@h.db");
    }
}
