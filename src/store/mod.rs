//! # The SQLite store
//!
//! One file (or `:memory:`), WAL journal, migrations in code. Writes go through a single writer
//! connection (SQLite allows one writer at a time anyway, so queueing here instead of spinning
//! on `SQLITE_BUSY` keeps latency flat); reads use a small pool of reader connections so they
//! never wait behind a write. Every call is synchronous: the HTTP layer runs it on the blocking
//! pool (`web::block`). Nothing here knows about HTTP or any cloud's wire format.

pub mod error;
pub mod identity;
pub mod keypairs;
pub mod migrations;

pub use error::StoreError;

use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// How hard a commit tries to reach the disk (SQLite `synchronous`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// WAL + `synchronous=NORMAL`: a committed write survives a process crash (kill -9), but the
    /// last commits may be lost on power loss or an OS crash.
    Normal,
    /// WAL + `synchronous=FULL`: every commit is fsynced; survives power loss too.
    Full,
}

const READERS: usize = 4;

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    path: Option<PathBuf>,
    /// Bumped after every `write`: a value read before a query that still holds afterwards
    /// means no write has landed since, so results derived from that query are current.
    generation: AtomicU64,
}

impl Store {
    /// Opens (creating if needed) the database at `path`, or an in-memory one for `:memory:`,
    /// and brings its schema up to date.
    pub fn open(path: &str, durability: Durability) -> Result<Store, StoreError> {
        if path == ":memory:" {
            let conn = Connection::open_in_memory()?;
            configure(&conn, durability, true)?;
            migrations::migrate(&conn)?;
            return Ok(Store {
                inner: Arc::new(Inner {
                    writer: Mutex::new(conn),
                    readers: Vec::new(),
                    next_reader: AtomicUsize::new(0),
                    path: None,
                    generation: AtomicU64::new(0),
                }),
            });
        }
        let file = Path::new(path);
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Io(format!("{}: {e}", dir.display())))?;
        }
        let writer = Connection::open(file)?;
        configure(&writer, durability, true)?;
        migrations::migrate(&writer)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let reader = Connection::open_with_flags(
                file,
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )?;
            configure(&reader, durability, false)?;
            readers.push(Mutex::new(reader));
        }
        Ok(Store {
            inner: Arc::new(Inner {
                writer: Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
                path: Some(file.to_path_buf()),
                generation: AtomicU64::new(0),
            }),
        })
    }

    /// The database file, if not in memory.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// Runs `f` on the writer connection (one at a time).
    pub fn write<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = lock(&self.inner.writer);
        let result = f(&mut conn);
        // After the commit, before anyone else can write (see `generation`).
        self.inner.generation.fetch_add(1, Ordering::Release);
        result
    }

    /// Changes with every write; read it *before* a query whose result you keep, and the
    /// result is current as long as `generation()` still returns the same value.
    pub fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::Acquire)
    }

    /// Runs `f` on a reader connection (the writer when in memory).
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.inner.readers.is_empty() {
            return f(&lock(&self.inner.writer));
        }
        let n = self.inner.readers.len();
        let start = self.inner.next_reader.fetch_add(1, Ordering::Relaxed);
        // Take the first free reader; if all are busy, wait on ours.
        for i in 0..n {
            if let Ok(conn) = self.inner.readers[(start + i) % n].try_lock() {
                return f(&conn);
            }
        }
        f(&lock(&self.inner.readers[start % n]))
    }
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding a connection leaves no half transaction behind (rusqlite rolls back
    // on drop), so the connection is still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn configure(conn: &Connection, durability: Durability, writer: bool) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    if writer {
        conn.pragma_update(None, "journal_mode", "WAL")?;
    }
    let sync = match durability {
        Durability::Normal => "NORMAL",
        Durability::Full => "FULL",
    };
    conn.pragma_update(None, "synchronous", sync)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}
