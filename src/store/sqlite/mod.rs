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

/// The lock a serving process holds on its database file: an exclusive `flock` on
/// `<db>.lock`, released when the process ends however it ends (the kernel drops it with the
/// file descriptor). Two servers on one file would each keep serving cached lists and
/// identity the other one has changed.
pub struct ServeLock {
    _file: std::fs::File,
}

/// Takes the serve lock for the database at `db` (None for `:memory:`, which no other
/// process can reach), or says which process holds it. A separate file, not the database
/// itself: closing any descriptor of the database would drop SQLite's own locks on it.
pub fn lock_for_serving(db: &str) -> Result<Option<ServeLock>, StoreError> {
    use std::io::{Read, Seek, Write};
    use std::os::unix::io::AsRawFd;
    if db == ":memory:" {
        return Ok(None);
    }
    let path = format!("{db}.lock");
    if let Some(dir) = std::path::Path::new(db)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Io(format!("{}: {e}", dir.display())))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| StoreError::Io(format!("{path}: {e}")))?;
    // SAFETY: flock on a descriptor this function owns; no memory is involved.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() {
                String::new()
            } else {
                format!(" (pid {holder})")
            };
            return Err(StoreError::Io(format!(
                "{db} is already served by another novakeys process{who}; stop it first, or use another --db"
            )));
        }
        return Err(StoreError::Io(format!("{path}: {e}")));
    }
    // Who holds it, for the next one's message (the lock itself is the flock, not this).
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = writeln!(file, "{}", std::process::id());
    Ok(Some(ServeLock { _file: file }))
}

/// Folds the whole WAL into the database file and empties it (`wal_checkpoint(TRUNCATE)`),
/// so that the `.db` file alone holds every committed write. For a graceful stop, once no
/// request is running (idle connections of the store may stay open).
pub fn checkpoint_file(db: &str) -> Result<(), StoreError> {
    if db == ":memory:" {
        return Ok(());
    }
    let conn = engine::open_file(std::path::Path::new(db), rusqlite::OpenFlags::default())?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // (busy, frames in the WAL, frames checkpointed)
    let (busy, log, done): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    if busy != 0 {
        return Err(StoreError::Io(format!(
            "the WAL was still in use ({done} of {log} frames checkpointed)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_serve_lock_on_one_file_is_refused_and_free_again_after() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("nk.db");
        let db = db.to_str().unwrap();
        let first = lock_for_serving(db).unwrap();
        assert!(first.is_some());
        let err = match lock_for_serving(db) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("a second lock was granted"),
        };
        assert!(err.contains("already served"), "{err}");
        assert!(err.contains(&std::process::id().to_string()), "{err}");
        drop(first);
        assert!(lock_for_serving(db).unwrap().is_some());
        assert!(lock_for_serving(":memory:").unwrap().is_none());
    }
}
