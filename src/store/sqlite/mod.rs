//! # The SQLite store
//!
//! Implements every store trait on one SQLite file (or `:memory:`): `engine` owns the
//! connections and the group commit, the other modules hold the SQL of one record kind each.
//! Nothing here knows about HTTP or any cloud's wire format.

mod engine;
mod identity;
mod instances;
mod keypairs;
pub mod migrations;
mod snapshots;
mod state;
mod wal;

use crate::store::{ChangeToken, Durability, Store, StoreError};
use engine::Engine;
use std::sync::atomic::{AtomicU64, Ordering};

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(format!("sqlite: {e}"))
    }
}

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    engine: Engine,
    snapshots: snapshots::Snapshots,
    /// Moved by every identity write and every whole-state apply (see `IdentityStore`).
    identity_changes: AtomicU64,
    location: String,
    /// The state tables' columns, read on the first `apply`.
    schema: std::sync::OnceLock<state::Schema>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, or an in-memory one for `:memory:`,
    /// and brings its schema up to date.
    pub fn open(path: &str, durability: Durability) -> Result<SqliteStore, StoreError> {
        let engine = Engine::open(path, durability)?;
        let snapshots = snapshots::Snapshots::for_file(engine.path());
        Ok(SqliteStore {
            engine,
            snapshots,
            identity_changes: AtomicU64::new(0),
            location: path.to_string(),
            schema: std::sync::OnceLock::new(),
        })
    }

    fn identity_changed(&self) {
        self.identity_changes.fetch_add(1, Ordering::Release);
    }

    fn identity_changes(&self) -> ChangeToken {
        ChangeToken(self.identity_changes.load(Ordering::Acquire))
    }
}

impl Store for SqliteStore {
    fn location(&self) -> String {
        self.location.clone()
    }
}
