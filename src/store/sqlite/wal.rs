//! Zeros written ahead of SQLite's writer in the WAL file, when every commit is fsynced.
//!
//! A commit that appends to the WAL grows the file, so its `fsync` must also get the new file
//! size into the filesystem's journal: on the ext4 VM the benchmark runs on, 44 KB appended and
//! synced took ~236 µs, the same overwritten in place ~124 µs. SQLite overwrites in place only
//! once the WAL restarts from the top (after the backstop checkpoint, ~80 MB in), so a fresh
//! `full` store paid the append price for its first ~20,000 frames. Zeros written past the
//! WAL's end, ahead of the writer (as PostgreSQL zero-fills its WAL segments), make those
//! commits overwrites.
//!
//! Why this cannot lose or corrupt a commit:
//! - zeros only go at or past the file's current end, while this process's writer connection
//!   holds SQLite's WAL write lock (`BEGIN IMMEDIATE`, exclusive across processes), so no
//!   frame is being written at that moment and every frame written so far ends at or before
//!   the file's end;
//! - SQLite reads the WAL only up to its last committed frame, and recovery after a crash
//!   stops at the first frame whose salt and checksum do not follow the header's, which a
//!   zero frame never does (the same happens to the stale frames SQLite itself leaves past
//!   the end after every restart).

use super::StoreError;
use rusqlite::Connection;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Written per turn of the writer lock: holding it for ~1 MB of page-cache copying (a few
/// hundred µs) delays a commit by about one commit.
const CHUNK: usize = 1 << 20;
/// The WAL file header, before the first frame.
const HEADER: u64 = 32;
/// A frame's own header, before its page.
const FRAME_HEADER: u64 = 24;

/// Keeps the WAL file of one database written ahead of its writer.
pub struct WalAhead {
    wal: PathBuf,
    frame: u64,
    /// The WAL's largest size: the backstop checkpoint restarts it from the top by then, and
    /// from there on SQLite overwrites in place by itself.
    limit: u64,
}

impl WalAhead {
    /// For the database at `db`, whose WAL restarts after `restart_pages` frames at most.
    pub fn new(db: &Path, conn: &Connection, restart_pages: i64) -> Result<WalAhead, StoreError> {
        let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        let frame = page as u64 + FRAME_HEADER;
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        Ok(WalAhead {
            wal: wal.into(),
            frame,
            limit: HEADER + restart_pages.max(0) as u64 * frame,
        })
    }

    /// How long the file should be when the WAL holds `frames` frames: twice what is in use
    /// plus a chunk (so a store that writes little writes few zeros, and one that writes fast
    /// stays ahead between two checkpoint passes), never past the restart size.
    pub fn wanted_len(&self, frames: i64) -> u64 {
        let in_use = HEADER + frames.max(0) as u64 * self.frame;
        (2 * in_use + CHUNK as u64).min(self.limit)
    }

    /// Writes zeros past the WAL's end until it is `wanted_len(frames)` long, a chunk per turn
    /// of `writer` (the connection SQLite's writes go through), each chunk synced before the
    /// next. Returns the bytes written. A WAL file that is not there (nothing written yet) is
    /// left alone.
    pub fn keep_ahead(&self, frames: i64, writer: &Mutex<Connection>) -> Result<u64, StoreError> {
        let wanted = self.wanted_len(frames);
        let file = match std::fs::OpenOptions::new().write(true).open(&self.wal) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(io(&self.wal, e)),
        };
        // Only SQLite's writer grows the file, so one already long enough stays so: no need
        // to take the writer's locks to find that out (the usual case once the WAL is long).
        if file.metadata().map_err(|e| io(&self.wal, e))?.len() >= wanted {
            return Ok(0);
        }
        let zeros = vec![0u8; CHUNK];
        let mut written = 0;
        loop {
            let wrote = {
                let conn = writer.lock().unwrap_or_else(|e| e.into_inner());
                conn.execute_batch("BEGIN IMMEDIATE")?;
                let outcome = file.metadata().and_then(|m| {
                    let end = m.len();
                    if end >= wanted {
                        return Ok(false);
                    }
                    file.write_all_at(&zeros, end).map(|()| true)
                });
                conn.execute_batch("ROLLBACK")?;
                outcome.map_err(|e| io(&self.wal, e))?
            };
            if !wrote {
                return Ok(written);
            }
            written += CHUNK as u64;
            // Synced one chunk at a time: a commit's fsync waits for every dirty page of the
            // file, so a large unsynced run of zeros would stall the commit that meets it.
            file.sync_data().map_err(|e| io(&self.wal, e))?;
        }
    }
}

fn io(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Io(format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(path: &Path) -> Connection {
        let conn = Connection::open(path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "synchronous", "FULL").unwrap();
        // Nothing moves frames out of the WAL here: recovery must read them all back.
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        conn
    }

    fn insert(conn: &Mutex<Connection>, from: i64, to: i64) {
        let conn = conn.lock().unwrap();
        for i in from..to {
            // ~1 KB rows: each commit writes a few frames.
            conn.execute(
                "INSERT INTO t (k, v) VALUES (?1, ?2)",
                rusqlite::params![i, format!("{i:01000}")],
            )
            .unwrap();
        }
    }

    /// The frames in use while SQLite is still appending (what the checkpoint thread passes).
    fn frames(wal: &Path) -> i64 {
        let len = std::fs::metadata(wal).unwrap().len();
        ((len - HEADER) / (4096 + FRAME_HEADER)) as i64
    }

    #[test]
    fn wanted_len_doubles_what_is_in_use_up_to_the_restart_size() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.db");
        let conn = open(&db);
        let ahead = WalAhead::new(&db, &conn, 20_000).unwrap();
        assert_eq!(ahead.wanted_len(0), 2 * 32 + CHUNK as u64);
        assert_eq!(ahead.wanted_len(100), 2 * (32 + 100 * 4120) + CHUNK as u64);
        assert_eq!(ahead.wanted_len(15_000), 32 + 20_000 * 4120);
        assert_eq!(ahead.wanted_len(-1), ahead.wanted_len(0));
    }

    /// The zeros land past every frame, the commits after them overwrite them, and a copy of
    /// the files as they are on disk (a crash: no `-shm`, recovery scans the WAL) holds every
    /// committed row, nothing else, and passes the integrity check.
    #[test]
    fn commits_over_the_zeros_survive_recovery() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.db");
        let wal = dir.path().join("w.db-wal");
        let conn = open(&db);
        conn.execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            .unwrap();
        let ahead = WalAhead::new(&db, &conn, 20_000).unwrap();
        let conn = Mutex::new(conn);
        insert(&conn, 0, 50);
        let in_use = std::fs::metadata(&wal).unwrap().len();
        let used = frames(&wal);

        let written = ahead.keep_ahead(used, &conn).unwrap();
        let len = std::fs::metadata(&wal).unwrap().len();
        assert!(
            written > 0 && len >= ahead.wanted_len(used),
            "{written} {len}"
        );
        assert_eq!(len, in_use + written);
        // Already long enough: nothing more to write.
        assert_eq!(ahead.keep_ahead(used, &conn).unwrap(), 0);

        insert(&conn, 50, 120);
        assert_eq!(
            std::fs::metadata(&wal).unwrap().len(),
            len,
            "commits overwrite the zeros"
        );

        let copy = tempfile::tempdir().unwrap();
        std::fs::copy(&db, copy.path().join("w.db")).unwrap();
        std::fs::copy(&wal, copy.path().join("w.db-wal")).unwrap();
        let recovered = Connection::open(copy.path().join("w.db")).unwrap();
        let (n, max): (i64, i64) = recovered
            .query_row("SELECT count(*), max(k) FROM t", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((n, max), (120, 119));
        let integrity: String = recovered
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(integrity, "ok");
    }

    #[test]
    fn a_missing_wal_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.db");
        let conn = Connection::open(&db).unwrap(); // rollback journal: no WAL file
        let ahead = WalAhead::new(&db, &conn, 20_000).unwrap();
        assert_eq!(ahead.keep_ahead(0, &Mutex::new(conn)).unwrap(), 0);
        assert!(!dir.path().join("w.db-wal").exists());
    }
}
