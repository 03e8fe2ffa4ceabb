//! # The connections: one writer, a few readers, group commit
//!
//! One file (or `:memory:`), WAL journal, migrations in code. Writes go through a single writer
//! connection (SQLite allows one writer at a time anyway, so queueing here instead of spinning
//! on `SQLITE_BUSY` keeps latency flat); reads use a small pool of reader connections so they
//! never wait behind a write. `Durability::Normal` is WAL + `synchronous=NORMAL`, `Full` is
//! `synchronous=FULL` (every commit fsynced).
//!
//! Every connection to the file goes through SQLite's `unix-excl` VFS (see [`open_file`]): the
//! WAL index lives in this process's memory, and no other process can open the database.

use super::{migrations, wal};
use crate::store::{Durability, StoreError};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

const READERS: usize = 4;

/// Most writes committed together (bounds how long the first waits for the commit).
const MAX_BATCH: usize = 64;

/// How often the background checkpointer looks for new WAL frames.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);
/// SQLite's automatic checkpoint, only reached if the background one falls behind.
const BACKSTOP_CHECKPOINT_PAGES: i64 = 20_000;

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    path: Option<PathBuf>,
    /// To the batch writer thread (`write_grouped`); it ends when this is dropped.
    jobs: Mutex<std::sync::mpsc::Sender<Job>>,
    /// Bumped after every `write`: a value read before a query that still holds afterwards
    /// means no write has landed since, so results derived from that query are current.
    generation: AtomicU64,
}

impl Engine {
    /// Opens (creating if needed) the database at `path`, or an in-memory one for `:memory:`,
    /// and brings its schema up to date.
    pub fn open(path: &str, durability: Durability) -> Result<Engine, StoreError> {
        if path == ":memory:" {
            let conn = Connection::open_in_memory()?;
            configure(&conn, durability, true)?;
            migrations::migrate(&conn)?;
            let (jobs, queued) = std::sync::mpsc::channel();
            let store = Engine {
                inner: Arc::new(Inner {
                    writer: Mutex::new(conn),
                    readers: Vec::new(),
                    next_reader: AtomicUsize::new(0),
                    path: None,
                    generation: AtomicU64::new(0),
                    jobs: Mutex::new(jobs),
                }),
            };
            write_in_batches(Arc::downgrade(&store.inner), queued)?;
            return Ok(store);
        }
        let file = Path::new(path);
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Io(format!("{}: {e}", dir.display())))?;
        }
        let writer = open_file(file, OpenFlags::default())?;
        claim(&writer, file)?;
        configure(&writer, durability, true)?;
        migrations::migrate(&writer)?;
        // Before the readers open, so that they load the statistics without the samples.
        forget_value_samples(&writer)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            // Read-only by pragma, not by opening the file read-only: `unix-excl` handles the
            // locks of read-only file handles as plain POSIX locks, and the last of those to
            // unlock would drop the process's exclusive lock on the file (see `open_file`).
            let reader = open_file(
                file,
                OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )?;
            configure(&reader, durability, false)?;
            reader.pragma_update(None, "query_only", true)?;
            readers.push(Mutex::new(reader));
        }
        // Checkpoints move off the request path (see `checkpoint_in_background`); SQLite's own
        // automatic one stays as a backstop at a much larger WAL.
        writer.pragma_update(None, "wal_autocheckpoint", BACKSTOP_CHECKPOINT_PAGES)?;
        let checkpointer = open_file(file, OpenFlags::default())?;
        configure(&checkpointer, durability, false)?;
        // Only commits that are fsynced pay for growing the file (see `wal`).
        let ahead = match durability {
            Durability::Full => Some(wal::WalAhead::new(
                file,
                &checkpointer,
                BACKSTOP_CHECKPOINT_PAGES,
            )?),
            Durability::Normal => None,
        };
        let (jobs, queued) = std::sync::mpsc::channel();
        let store = Engine {
            inner: Arc::new(Inner {
                writer: Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
                path: Some(file.to_path_buf()),
                generation: AtomicU64::new(0),
                jobs: Mutex::new(jobs),
            }),
        };
        write_in_batches(Arc::downgrade(&store.inner), queued)?;
        checkpoint_in_background(Arc::downgrade(&store.inner), checkpointer, ahead);
        Ok(store)
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

    /// Runs `f` on the writer inside a transaction, committed together with whatever other
    /// `write_grouped` calls queued up meanwhile (group commit): one commit, one set of WAL
    /// frames (and with `full` durability one fsync) for a whole burst of writes. The result
    /// comes back only once the shared commit is done. Blocks the calling thread until then.
    ///
    /// An `f` that fails must leave no change behind, so that the others in its batch can still
    /// commit: make one changing statement (SQLite undoes a failed statement by itself), after
    /// any checks. There is no savepoint per write: copying every page a write touches into a
    /// sub-journal cost a tenth of the writer's time. A failed `f` that did change rows (a bug)
    /// rolls its whole batch back, and every write in it is told it was not committed.
    /// (Blocking form, for tests; the store uses `write_grouped_async`.)
    #[cfg(test)]
    pub fn write_grouped<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (done, result) = std::sync::mpsc::sync_channel(1);
        self.submit(f, move |r| {
            let _ = done.send(r);
        });
        result.recv().unwrap_or_else(|_| Err(lost()))
    }

    /// `write_grouped` for async callers: waits without holding a thread.
    pub async fn write_grouped_async<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (done, result) = tokio::sync::oneshot::channel();
        self.submit(f, move |r| {
            let _ = done.send(r);
        });
        result.await.unwrap_or_else(|_| Err(lost()))
    }

    fn submit<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
        deliver: impl FnOnce(Result<T, StoreError>) + Send + 'static,
    ) {
        let job: Job = Box::new(move |conn: Option<&Connection>| {
            // None: the batch's transaction could not be had, or was lost; it never ran.
            let outcome = conn.map(|conn| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(conn)))
                    .unwrap_or_else(|_| Err(StoreError::Io("write panicked".into())))
            });
            let ok = matches!(outcome, Some(Ok(_)));
            let complete: Completion = Box::new(move |commit: Result<(), &StoreError>| {
                deliver(match (outcome, commit) {
                    (Some(Err(e)), _) => Err(e),
                    (Some(Ok(v)), Ok(())) => Ok(v),
                    (_, Err(e)) => Err(StoreError::Io(format!("write not committed: {e}"))),
                    (None, Ok(())) => Err(StoreError::Io("write not run".into())),
                })
            });
            (ok, complete)
        });
        let sent = self
            .inner
            .jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(job);
        if let Err(std::sync::mpsc::SendError(job)) = sent {
            job(None).1(Err(&lost()));
        }
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

/// Copies committed WAL frames into the database file from a thread of its own. SQLite's
/// automatic checkpoint runs inside whichever commit crosses 1000 WAL pages and fsyncs there:
/// under a stream of imports that request stalled for up to half a second (p99 460 ms). A
/// PASSIVE checkpoint never blocks the writer or the readers. With `ahead`, it then keeps the
/// WAL file written ahead of the writer (see `wal`). The thread ends with the store.
fn checkpoint_in_background(
    store: std::sync::Weak<Inner>,
    conn: Connection,
    mut ahead: Option<wal::WalAhead>,
) {
    let spawned = std::thread::Builder::new()
        .name("novakeys-checkpoint".into())
        .spawn(move || {
            let mut seen = 0;
            loop {
                std::thread::sleep(CHECKPOINT_EVERY);
                let Some(inner) = store.upgrade() else { return };
                let now = inner.generation.load(Ordering::Acquire);
                drop(inner);
                if now == seen {
                    continue;
                }
                seen = now;
                // (busy, frames in the WAL, frames checkpointed)
                let frames = match conn
                    .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1))
                {
                    Ok(frames) => frames,
                    Err(e) => {
                        log::warn!("background checkpoint: {e}");
                        continue;
                    }
                };
                if let Some(wal) = &ahead {
                    let Some(inner) = store.upgrade() else { return };
                    if let Err(e) = wal.keep_ahead(frames, &inner.writer) {
                        // Commits still work, they only append again.
                        log::warn!("writing the WAL ahead stopped: {e}");
                        ahead = None;
                    }
                }
            }
        });
    if let Err(e) = spawned {
        // The backstop still checkpoints, just on the request path.
        log::warn!("no background checkpoint thread: {e}");
    }
}

/// A queued `write_grouped` call: runs in the batch's transaction (or, given `None`, is told
/// it could not run), says whether it succeeded, and hands back what delivers its result once
/// the commit's outcome is known.
type Job = Box<dyn FnOnce(Option<&Connection>) -> (bool, Completion) + Send>;
type Completion = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;

fn lost() -> StoreError {
    StoreError::Io("the batch writer is gone".into())
}

/// The batch writer: runs the queued jobs as one transaction on the writer connection, taking
/// in those that arrive meanwhile (up to `MAX_BATCH`), and answers each after the commit. A
/// burst of N concurrent writes costs one commit instead of N, with no thread parked per
/// waiting write.
fn write_in_batches(
    store: std::sync::Weak<Inner>,
    queued: std::sync::mpsc::Receiver<Job>,
) -> Result<(), StoreError> {
    std::thread::Builder::new()
        .name("novakeys-writer".into())
        .spawn(move || {
            while let Ok(first) = queued.recv() {
                // Taken one at a time: a job queued by the time the one before it has run
                // shares this batch's commit instead of waiting for the next one.
                let batch = std::iter::once(first)
                    .chain(std::iter::from_fn(|| queued.try_recv().ok()))
                    .take(MAX_BATCH);
                let Some(inner) = store.upgrade() else {
                    for job in batch {
                        job(None).1(Err(&lost()));
                    }
                    return;
                };
                let conn = lock(&inner.writer);
                let committed = run_batch(&conn, batch);
                // Before anyone hears back: a caller that reads after its write is answered
                // must not be served a result (or a cached body) from before it.
                inner.generation.fetch_add(1, Ordering::Release);
                drop(conn);
                committed.answer();
            }
        })
        .map_err(|e| StoreError::Io(format!("cannot start the writer thread: {e}")))?;
    Ok(())
}

/// Runs one of the batch's fixed statements (cached: parsing them each time cost as much as
/// the insert itself).
fn exec(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// A batch after its commit (or its failure), each job's answer still to be given.
struct Committed {
    jobs: Vec<Completion>,
    commit: Result<(), StoreError>,
}

impl Committed {
    fn answer(self) {
        for complete in self.jobs {
            complete(self.commit.as_ref().map(|_| ()));
        }
    }
}

/// One transaction for all `jobs`. A job that fails has left nothing behind (see
/// `write_grouped`), so the others still commit; if one did, or SQLite rolled the transaction
/// back by itself (disk full, I/O error), the whole batch fails.
fn run_batch(conn: &Connection, mut jobs: impl Iterator<Item = Job>) -> Committed {
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        return Committed {
            jobs: jobs.map(|job| job(None).1).collect(),
            commit: Err(e),
        };
    }
    let mut completions = Vec::new();
    let mut lost = None;
    for job in jobs.by_ref() {
        let changes = conn.total_changes();
        let (ok, complete) = job(Some(conn));
        completions.push(complete);
        if conn.is_autocommit() {
            lost = Some(StoreError::Io("the transaction was rolled back".into()));
            break;
        }
        if !ok && conn.total_changes() != changes {
            log::error!("a grouped write failed after changing rows; rolling back its batch");
            lost = Some(StoreError::Io(
                "a failed write in the same batch left changes behind".into(),
            ));
            break;
        }
    }
    let commit = match lost {
        Some(e) => Err(e),
        None => exec(conn, "COMMIT"),
    };
    if commit.is_err() {
        if !conn.is_autocommit() {
            let _ = exec(conn, "ROLLBACK");
        }
        completions.extend(jobs.map(|job| job(None).1));
    }
    Committed {
        jobs: completions,
        commit,
    }
}

/// SQLite's VFS for a database only this process uses. Its first lock on the file from a
/// writable handle is an exclusive POSIX lock on the whole shared range, kept until the last
/// handle of this process on the file closes, so other processes cannot even read. And with
/// that lock held its WAL index is kept in heap memory shared by the process's connections
/// (keyed by the file's inode, locks counted in memory) instead of a memory-mapped `<db>-shm`
/// file: truncating or replacing that file under the default VFS made the next access to the
/// mapping raise SIGBUS. A new process rebuilds the index from the WAL, as after a crash.
const VFS: &str = "unix-excl";

/// Opens a connection to the database file through [`VFS`]; every connection to it must, so
/// that all of them share one WAL index (and hold a writable handle: see the readers).
pub(super) fn open_file(file: &Path, flags: OpenFlags) -> Result<Connection, StoreError> {
    Ok(Connection::open_with_flags_and_vfs(file, flags, VFS)?)
}

/// Bounds the wait for a database another process has open, before saying so.
const CLAIM_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Takes the exclusive lock of [`VFS`] for this process with a first read (no-op when this
/// process holds it already), or says that another process has the database open: a running
/// `novakeys serve`, which keeps it for its whole life, or anything else.
fn claim(conn: &Connection, file: &Path) -> Result<(), StoreError> {
    conn.busy_timeout(CLAIM_WAIT)?;
    match conn.query_row("PRAGMA schema_version", [], |r| r.get::<_, i64>(0)) {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DatabaseBusy => {
            Err(StoreError::Io(format!(
                "{} is in use by another process (a running novakeys serve keeps its database to itself); stop it first, or use another --db",
                file.display()
            )))
        }
        Err(e) => Err(e.into()),
    }
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding a connection leaves no half transaction behind (rusqlite rolls back
    // on drop), so the connection is still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Drops `ANALYZE`'s per-value samples (`sqlite_stat4`; the bundled SQLite is built with
/// STAT4) and keeps its per-index averages (`sqlite_stat1`). With samples, a statement whose
/// parameters meet an indexed column is planned for its bound values, so SQLite parses it
/// again at every execution: a third of the writer's time per import into a seeded store.
/// Plain equality lookups on our indexes need no per-value plan. Reloads the statistics.
pub(super) fn forget_value_samples(conn: &Connection) -> Result<(), StoreError> {
    let sampled: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat4')",
        [],
        |r| r.get(0),
    )?;
    if sampled {
        conn.execute_batch("DELETE FROM sqlite_stat4; ANALYZE sqlite_schema;")?;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Many writers at once, some failing: each gets its own outcome, a failed insert takes no
    /// other write down with it, and every acknowledged write is in the database.
    #[test]
    fn grouped_writes_succeed_and_fail_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.db");
        let store = Engine::open(path.to_str().unwrap(), Durability::Normal).unwrap();
        store
            .write(|c| {
                c.execute_batch(
                    "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL);
                     INSERT INTO t (k, v) VALUES (1000, 'taken');",
                )?;
                Ok(())
            })
            .unwrap();
        let threads: Vec<_> = (0..64)
            .map(|i| {
                let store = store.clone();
                std::thread::spawn(move || {
                    store.write_grouped(move |c| {
                        // Every fourth writer inserts a key that is already there; every
                        // fifth is refused by a check before it writes anything.
                        if i % 5 == 4 {
                            return Err(StoreError::LimitReached { limit: 0 });
                        }
                        let k = if i % 4 == 3 { 1000 } else { i };
                        match c.execute("INSERT INTO t (k, v) VALUES (?1, 'x')", [k]) {
                            Ok(_) => Ok(i),
                            Err(rusqlite::Error::SqliteFailure(e, _))
                                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                            {
                                Err(StoreError::Duplicate)
                            }
                            Err(e) => Err(e.into()),
                        }
                    })
                })
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        for (i, r) in results.iter().enumerate() {
            match r {
                Ok(v) => assert_eq!(*v, i as i64),
                Err(StoreError::LimitReached { .. }) => assert_eq!(i % 5, 4),
                Err(StoreError::Duplicate) => assert!(i % 4 == 3 && i % 5 != 4, "writer {i}"),
                Err(e) => panic!("writer {i}: {e}"),
            }
        }
        let keys = keys_in_t(&store);
        let mut expected: Vec<i64> = (0..64).filter(|i| i % 4 != 3 && i % 5 != 4).collect();
        expected.push(1000);
        assert_eq!(keys, expected);
    }

    /// Runs `first` and then `second` as grouped writes in one batch: `first` waits, inside the
    /// batch, until `second` has been queued behind it.
    fn in_one_batch<A, B>(
        store: &Engine,
        first: impl FnOnce(&Connection) -> Result<A, StoreError> + Send + 'static,
        second: impl FnOnce(&Connection) -> Result<B, StoreError> + Send + 'static,
    ) -> (Result<A, StoreError>, Result<B, StoreError>)
    where
        A: Send + 'static,
        B: Send + 'static,
    {
        let (started, running) = std::sync::mpsc::channel();
        let (go, proceed) = std::sync::mpsc::channel::<()>();
        let a = {
            let store = store.clone();
            std::thread::spawn(move || {
                store.write_grouped(move |c| {
                    started.send(()).unwrap();
                    proceed
                        .recv_timeout(std::time::Duration::from_secs(10))
                        .unwrap();
                    first(c)
                })
            })
        };
        running.recv().unwrap();
        let b = {
            let store = store.clone();
            std::thread::spawn(move || store.write_grouped(second))
        };
        // Long enough for the second write to be queued while the first one still runs.
        std::thread::sleep(std::time::Duration::from_millis(200));
        go.send(()).unwrap();
        (a.join().unwrap(), b.join().unwrap())
    }

    fn keys_in_t(store: &Engine) -> Vec<i64> {
        store
            .read(|c| {
                let mut s = c.prepare("SELECT k FROM t ORDER BY k")?;
                let keys = s.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
                Ok(keys)
            })
            .unwrap()
    }

    /// The table is still empty, and the next grouped write commits.
    fn nothing_written_and_the_writer_goes_on(store: &Engine) {
        assert_eq!(keys_in_t(store), Vec::<i64>::new());
        store
            .write_grouped(|c| Ok(c.execute("INSERT INTO t (k) VALUES (3)", [])?))
            .unwrap();
        assert_eq!(keys_in_t(store), [3]);
    }

    /// A write that fails after changing rows breaks the rule of `write_grouped`: its change
    /// cannot be taken back alone, so nothing of its batch is committed, and each write in it
    /// hears so.
    #[test]
    fn a_failed_write_that_left_changes_takes_its_batch_down() {
        let store = store_with_table_t();
        let (first, second) = in_one_batch(
            &store,
            |c| Ok(c.execute("INSERT INTO t (k) VALUES (1)", [])?),
            |c| -> Result<(), StoreError> {
                c.execute("INSERT INTO t (k) VALUES (2)", [])?;
                Err(StoreError::Duplicate)
            },
        );
        assert!(matches!(first, Err(StoreError::Io(_))), "{first:?}");
        assert!(matches!(second, Err(StoreError::Duplicate)), "{second:?}");
        nothing_written_and_the_writer_goes_on(&store);
    }

    /// If the batch's transaction ends under it (SQLite rolls back by itself on a full disk or
    /// an I/O error; here a write ends it), no write of the batch is reported as committed.
    #[test]
    fn a_batch_whose_transaction_ends_early_fails_whole() {
        let store = store_with_table_t();
        let (first, second) = in_one_batch(
            &store,
            |c| Ok(c.execute("INSERT INTO t (k) VALUES (1)", [])?),
            |c| Ok(c.execute_batch("ROLLBACK")?),
        );
        assert!(matches!(first, Err(StoreError::Io(_))), "{first:?}");
        assert!(matches!(second, Err(StoreError::Io(_))), "{second:?}");
        nothing_written_and_the_writer_goes_on(&store);
    }

    /// An in-memory store with a table `t (k INTEGER PRIMARY KEY)`.
    fn store_with_table_t() -> Engine {
        let store = Engine::open(":memory:", Durability::Normal).unwrap();
        store
            .write(|c| Ok(c.execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY)")?))
            .unwrap();
        store
    }

    /// A write queued while a batch runs joins that batch: one commit for both.
    #[test]
    fn a_write_queued_during_a_batch_shares_its_commit() {
        let store = store_with_table_t();
        let before = store.generation();
        let (first, second) = in_one_batch(
            &store,
            |c| Ok(c.execute("INSERT INTO t (k) VALUES (1)", [])?),
            |c| Ok(c.execute("INSERT INTO t (k) VALUES (2)", [])?),
        );
        assert_eq!(first.unwrap(), 1);
        assert_eq!(second.unwrap(), 1);
        assert_eq!(store.generation(), before + 1, "one batch, one commit");
    }

    /// By the time a grouped write is answered, the generation has moved: a read made after
    /// the answer never takes a cached result from before the write as current.
    #[test]
    fn the_generation_moves_before_a_write_is_answered() {
        let store = Engine::open(":memory:", Durability::Normal).unwrap();
        let writers: Vec<_> = (0..4)
            .map(|_| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for _ in 0..500 {
                        let before = store.generation();
                        store.write_grouped(|_| Ok(())).unwrap();
                        assert!(store.generation() > before);
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
    }

    /// A write that panics is reported as an error and its change undone; the writer thread
    /// goes on.
    #[test]
    fn a_panicking_grouped_write_is_reported_and_undone() {
        let store = store_with_table_t();
        let boom = store.write_grouped(|c| -> Result<(), StoreError> {
            c.execute("INSERT INTO t (k) VALUES (1)", [])?;
            panic!("boom")
        });
        assert!(matches!(boom, Err(StoreError::Io(_))), "{boom:?}");
        let before = store.generation();
        store
            .write_grouped(|c| Ok(c.execute("INSERT INTO t (k) VALUES (2)", [])?))
            .unwrap();
        assert!(
            store.generation() > before,
            "a grouped write moves the generation"
        );
        assert_eq!(keys_in_t(&store), [2]);
    }

    /// The WAL index is in memory (no `-shm` file, which the default VFS maps and a truncation
    /// turned into SIGBUS), and every connection sees it: each reader reads each write.
    #[test]
    fn a_file_store_keeps_its_wal_index_in_memory_shared_by_its_connections() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = Engine::open(path.to_str().unwrap(), Durability::Normal).unwrap();
        store
            .write(|c| Ok(c.execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY)")?))
            .unwrap();
        for k in 0..3 * READERS as i64 {
            store
                .write_grouped(move |c| Ok(c.execute("INSERT INTO t (k) VALUES (?1)", [k])?))
                .unwrap();
            assert_eq!(keys_in_t(&store), (0..=k).collect::<Vec<_>>());
        }
        assert!(dir.path().join("s.db-wal").exists());
        assert!(!dir.path().join("s.db-shm").exists());
        super::super::checkpoint_file(path.to_str().unwrap()).unwrap();
        assert_eq!(wal_len(&dir), 0);
        assert!(!dir.path().join("s.db-shm").exists());
        assert_eq!(keys_in_t(&store).len(), 3 * READERS);
    }

    /// Readers open the file writable (see `open_file`), so only the pragma keeps them from
    /// writing.
    #[test]
    fn readers_refuse_to_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = Engine::open(path.to_str().unwrap(), Durability::Normal).unwrap();
        for _ in 0..READERS {
            let wrote = store.read(|c| Ok(c.execute_batch("CREATE TABLE r (k INTEGER)")?));
            assert!(matches!(wrote, Err(StoreError::Backend(_))), "{wrote:?}");
        }
        assert!(store
            .write(|c| Ok(c.execute_batch("CREATE TABLE r (k INTEGER)")?))
            .is_ok());
    }

    fn wal_len(dir: &tempfile::TempDir) -> u64 {
        std::fs::metadata(dir.path().join("s.db-wal")).map_or(0, |m| m.len())
    }

    /// With `full`, the checkpoint thread writes the WAL ahead of the writer once something was
    /// written (see `wal`); with `normal` it leaves the file as SQLite grows it.
    #[test]
    fn the_wal_is_written_ahead_only_when_commits_are_fsynced() {
        for (durability, ahead) in [(Durability::Full, true), (Durability::Normal, false)] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("s.db");
            let store = Engine::open(path.to_str().unwrap(), durability).unwrap();
            store
                .write_grouped(|c| Ok(c.execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY)")?))
                .unwrap();
            let written = wal_len(&dir);
            assert!(written < 1 << 20, "{written}");
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            let mut polls = 0;
            // Five checkpoint passes are enough to see nothing happen with `normal`.
            while (wal_len(&dir) < 1 << 20 && std::time::Instant::now() < deadline)
                && (ahead || polls < 5)
            {
                std::thread::sleep(CHECKPOINT_EVERY);
                polls += 1;
            }
            assert_eq!(
                wal_len(&dir) >= 1 << 20,
                ahead,
                "{durability:?}: {}",
                wal_len(&dir)
            );
            store
                .write_grouped(|c| Ok(c.execute("INSERT INTO t (k) VALUES (1)", [])?))
                .unwrap();
            assert_eq!(keys_in_t(&store), [1]);
        }
    }
}
