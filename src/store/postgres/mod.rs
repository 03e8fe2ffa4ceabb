//! # The PostgreSQL store
//!
//! Implements every store trait on one PostgreSQL database with the SQLite store's semantics
//! (that store is the reference; the schema has the same tables, columns and migration
//! numbers, so an `Image` moves between the two). `tokio-postgres` with a `deadpool` pool.
//!
//! The pool lives on a runtime the store owns (its own threads): the app's actix workers are
//! current-thread runtimes, and the identity and state traits are blocking, called from inside
//! and outside runtimes alike. Async methods spawn onto the store's runtime and await the task;
//! blocking ones wait for it on a channel (which works from any thread).

mod identity;
mod instances;
mod keypairs;
pub mod migrations;
mod snapshots;
mod state;

use crate::store::{ChangeToken, Store, StoreError};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Connections the pool keeps at most.
const POOL_SIZE: usize = 16;
/// How long a request waits for a pooled connection (or a new one, or a recycle check)
/// before failing as unavailable: well below the default client timeout (30 s), so a database
/// that is away is a prompt 503 rather than a hang.
const POOL_WAIT: Duration = Duration::from_secs(3);
/// How long one store operation (its pool wait, queries and commit) may take before it fails
/// as unavailable. An established connection to a server that stopped answering (frozen,
/// partitioned) gets no error from the kernel for many minutes, so without a deadline such a
/// request would hang past any client's timeout. A key pair operation takes milliseconds.
const OPERATION_LIMIT: Duration = Duration::from_secs(5);
/// The same for whole-state work (migrations, reset, snapshots, export/import), which reads or
/// rewrites every table.
const STATE_LIMIT: Duration = Duration::from_secs(60);
/// How long sent data may stay unacknowledged before the kernel drops the connection, and how
/// soon an idle connection is probed: a peer that vanished from the network is noticed
/// instead of waited on.
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(10);
const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);
/// After the database left a request unanswered for `POOL_WAIT`, how long operations fail at
/// once instead of each waiting as long again: one API request makes several store calls in
/// a row (refresh, token check, the operation), and each would otherwise add its own wait.
const SILENCE_WINDOW: Duration = Duration::from_secs(1);

/// Whether `location` names a PostgreSQL database: a `postgres://` or `postgresql://` URL, or
/// libpq's `key=value` form (`host=… dbname=…`).
pub fn is_postgres(location: &str) -> bool {
    let lower = location.trim_start().to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        return true;
    }
    // key=value pairs: the first word is a libpq keyword followed by '='.
    let first = lower.split_whitespace().next().unwrap_or("");
    match first.split_once('=') {
        Some((key, _)) => LIBPQ_KEYS.contains(&key),
        None => false,
    }
}

/// The connection keywords `tokio_postgres::Config` understands (libpq's names).
const LIBPQ_KEYS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "user",
    "password",
    "dbname",
    "options",
    "application_name",
    "sslmode",
    "connect_timeout",
    "tcp_user_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_retries",
    "target_session_attrs",
    "channel_binding",
    "load_balance_hosts",
];

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        if unavailable(&e) {
            StoreError::Unavailable(format!("postgres: {}", describe(&e)))
        } else {
            StoreError::Backend(format!("postgres: {}", describe(&e)))
        }
    }
}

/// Whether `e` says the database is away rather than that a query is wrong: the connection
/// failed, closed or timed out (an i/o error under it), or the server says it is shutting
/// down, not accepting connections, out of connections or cancelled the statement.
fn unavailable(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    if let Some(code) = e.code() {
        return code.code().starts_with("08")
            || [
                SqlState::ADMIN_SHUTDOWN,
                SqlState::CRASH_SHUTDOWN,
                SqlState::CANNOT_CONNECT_NOW,
                SqlState::TOO_MANY_CONNECTIONS,
                SqlState::QUERY_CANCELED,
            ]
            .contains(code);
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return true;
        }
        source = s.source();
    }
    e.is_closed() || e.to_string() == "timeout waiting for server"
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            deadpool_postgres::PoolError::Timeout(_) => {
                StoreError::Unavailable(format!("postgres: {e}"))
            }
            e => StoreError::Backend(format!("postgres: {e}")),
        }
    }
}

/// One line: the server's own message for database errors, else the error and its causes.
fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{}: {}", db.severity(), db.message());
    }
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out = format!("{out}: {text}");
        }
        source = s.source();
    }
    out.replace('\n', " ")
}

/// SQLSTATE class 23 (integrity constraint violation) as `Duplicate`, like the SQLite store
/// maps its constraint failures; anything else as a backend error.
fn constraint(e: tokio_postgres::Error) -> StoreError {
    match e.code() {
        Some(code) if code.code().starts_with("23") => StoreError::Duplicate,
        _ => e.into(),
    }
}

/// Whether `e` says a text parameter cannot be held by PostgreSQL (a NUL character: SQLite
/// stores those, PostgreSQL's text cannot). Such a value equals no stored one, so a lookup or
/// delete with it matches nothing, as it would in SQLite.
fn unmatchable(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&tokio_postgres::error::SqlState::CHARACTER_NOT_IN_REPERTOIRE)
}

/// A lookup's result, with an unmatchable parameter (see `unmatchable`) finding nothing.
fn found<T: Default>(r: Result<T, tokio_postgres::Error>) -> Result<T, StoreError> {
    match r {
        Err(e) if unmatchable(&e) => Ok(T::default()),
        r => Ok(r?),
    }
}

/// Whether a lookup key can match a stored value at all (see `unmatchable`).
fn storable(s: &str) -> bool {
    !s.contains('\0')
}

fn changed(n: u64) -> Result<(), StoreError> {
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// The change counters kept in the database, one row per kind, moved by every write
/// transaction of that kind: what tells every process about every other's writes.
#[derive(Clone, Copy)]
enum Kind {
    Keypairs,
    Identity,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Keypairs => "keypairs",
            Kind::Identity => "identity",
        }
    }
}

/// Moves `kind`'s counter in the database, inside the caller's transaction (so it commits
/// with the write, never before it); the counter's new value, for [`Inner::committed`] once
/// the transaction has committed.
async fn bump(tx: &deadpool_postgres::Transaction<'_>, kind: Kind) -> Result<i64, StoreError> {
    let st = tx
        .prepare_cached(
            "UPDATE nk_changes SET counter = counter + 1 WHERE kind = $1 RETURNING counter",
        )
        .await?;
    Ok(tx.query_one(&st, &[&kind.name()]).await?.try_get(0)?)
}

/// This process's change token of one kind, following the database's counter.
///
/// The token moves by one whenever the highest counter value seen grows (this process's own
/// commit, or a refresh that finds other processes' commits) and whenever it is unsure
/// (a write or refresh that failed: a commit may or may not have happened). So it stays
/// put exactly while the database holds what it held when the token was last moved.
#[derive(Default)]
struct Counter {
    /// The highest database counter seen (under the lock: compare and move the token as one).
    seen: std::sync::Mutex<i64>,
    token: AtomicU64,
}

impl Counter {
    fn token(&self) -> ChangeToken {
        ChangeToken(self.token.load(Ordering::Acquire))
    }

    fn saw(&self, value: i64) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if value > *seen {
            *seen = value;
            self.token.fetch_add(1, Ordering::AcqRel);
        }
    }

    fn unsure(&self) {
        self.token.fetch_add(1, Ordering::AcqRel);
    }
}

struct Inner {
    pool: Pool,
    /// Key pair and instance writes (see `KeypairStore::keypairs_token`).
    keypairs: Counter,
    /// Identity writes and every whole-state apply.
    identity: Counter,
    refreshes: Refreshes,
    /// Until when the database counts as not answering (see [`SILENCE_WINDOW`]).
    silent_until: std::sync::Mutex<Option<std::time::Instant>>,
}

/// Refreshes asked for at once share one read: a read sent after a request asked covers that
/// request (every write acknowledged before it asked committed before the read), so whoever
/// waits while a read is in flight is served by the next one, which all the waiters share.
#[derive(Default)]
struct Refreshes {
    /// How many refreshes were ever asked for.
    asked: AtomicU64,
    /// Held during a read; how many of the asked the last finished read covered.
    covered: tokio::sync::Mutex<u64>,
}

/// The PostgreSQL implementation of [`Store`].
pub struct PgStore {
    inner: Arc<Inner>,
    /// The store's own runtime, where every query runs.
    runtime: tokio::runtime::Handle,
    /// Shuts the runtime down when the store goes.
    _runtime: RuntimeOwner,
    location: String,
}

/// Holds the runtime; dropping it stops its threads without waiting (dropping a runtime
/// inside another runtime would panic, so it is shut down in the background).
struct RuntimeOwner(Option<tokio::runtime::Runtime>);

impl Drop for RuntimeOwner {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl PgStore {
    /// Connects to the database `location` names (URL or key=value), checks that it answers
    /// and brings its schema up to date.
    pub fn open(location: &str) -> Result<PgStore, StoreError> {
        let mut config: tokio_postgres::Config = location
            .parse()
            .map_err(|e: tokio_postgres::Error| StoreError::Io(format!("bad database URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            // An unreachable host is an error at start, not a hang.
            config.connect_timeout(POOL_WAIT);
        }
        // Unless the location says otherwise (`tcp_user_timeout=…`, `keepalives_idle=…`).
        if config.get_tcp_user_timeout().is_none() {
            config.tcp_user_timeout(TCP_USER_TIMEOUT);
        }
        if !location.contains("keepalives_idle") {
            config.keepalives_idle(KEEPALIVE_IDLE);
        }
        if config.get_application_name().is_none() {
            config.application_name("novakeys");
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("novakeys-pg")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Io(format!("cannot start the database runtime: {e}")))?;
        let handle = runtime.handle().clone();
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = {
            // The pool's timers need the runtime's context while it is built.
            let _guard = handle.enter();
            Pool::builder(manager)
                .max_size(POOL_SIZE)
                .runtime(deadpool_postgres::Runtime::Tokio1)
                .wait_timeout(Some(POOL_WAIT))
                .create_timeout(Some(POOL_WAIT))
                .recycle_timeout(Some(POOL_WAIT))
                .build()
                .map_err(|e| StoreError::Io(format!("cannot build the connection pool: {e}")))?
        };
        let store = PgStore {
            inner: Arc::new(Inner {
                pool,
                keypairs: Counter::default(),
                identity: Counter::default(),
                refreshes: Refreshes::default(),
                silent_until: std::sync::Mutex::new(None),
            }),
            runtime: handle,
            _runtime: RuntimeOwner(Some(runtime)),
            location: redact(location),
        };
        store.block_state(|inner| async move {
            let mut conn = inner.pool.get().await?;
            migrations::migrate(&mut conn).await
        })?;
        Ok(store)
    }

    /// Runs the operation `f` on the store's runtime and waits for it (from any thread),
    /// within [`OPERATION_LIMIT`].
    fn block<T, F, Fut>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Inner>) -> Fut,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        self.block_within(OPERATION_LIMIT, f)
    }

    /// [`Self::block`] for whole-state work, within [`STATE_LIMIT`].
    fn block_state<T, F, Fut>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Inner>) -> Fut,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        self.block_within(STATE_LIMIT, f)
    }

    fn block_within<T, F, Fut>(&self, limit: Duration, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Inner>) -> Fut,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let fut = self.inner.clone().within(limit, f(self.inner.clone()));
        self.runtime.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv().unwrap_or_else(|_| {
            Err(StoreError::Backend(
                "postgres: the query task failed".into(),
            ))
        })
    }

    /// Runs `f` on the store's runtime; the returned future awaits it (on any runtime).
    fn spawn<T, F, Fut>(&self, f: F) -> crate::store::BoxFuture<'static, Result<T, StoreError>>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Inner>) -> Fut,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let task = self.runtime.spawn(
            self.inner
                .clone()
                .within(OPERATION_LIMIT, f(self.inner.clone())),
        );
        Box::pin(async move {
            task.await.unwrap_or_else(|e| {
                Err(StoreError::Backend(format!(
                    "postgres: the query task failed: {e}"
                )))
            })
        })
    }
}

impl Inner {
    /// `op`, failing as unavailable when it has not finished within `limit`, and at once while
    /// the database has just been silent.
    async fn within<T>(
        self: Arc<Self>,
        limit: Duration,
        op: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        if self.is_silent() {
            return Err(StoreError::Unavailable(
                "postgres: the database is not answering".into(),
            ));
        }
        let started = std::time::Instant::now();
        // Bound first: the operation (and the connection it holds) is dropped here.
        let outcome = tokio::time::timeout(limit, op).await;
        match outcome {
            Ok(Err(StoreError::Unavailable(why))) => {
                // A pool or connect timeout: the server accepted nothing in time.
                if started.elapsed() >= POOL_WAIT {
                    self.went_silent();
                }
                Err(StoreError::Unavailable(why))
            }
            Ok(result) => result,
            Err(_) => {
                // A write cut off here may still commit when the server answers again.
                self.unsure(Kind::Keypairs);
                self.unsure(Kind::Identity);
                self.went_silent();
                Err(StoreError::Unavailable(format!(
                    "postgres: no answer within {} s",
                    limit.as_secs()
                )))
            }
        }
    }

    fn is_silent(&self) -> bool {
        let until = *self.silent_until.lock().unwrap_or_else(|e| e.into_inner());
        until.is_some_and(|t| std::time::Instant::now() < t)
    }

    /// After the database left a request unanswered: closes every idle connection (the pool
    /// cannot tell which are stuck behind the same server, and a stuck one would hold the next
    /// request for the whole limit; new ones fail within `POOL_WAIT` while the server is
    /// away) and opens the [`SILENCE_WINDOW`].
    fn went_silent(&self) {
        self.pool.retain(|_, _| false);
        *self.silent_until.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(std::time::Instant::now() + SILENCE_WINDOW);
    }

    fn counter(&self, kind: Kind) -> &Counter {
        match kind {
            Kind::Keypairs => &self.keypairs,
            Kind::Identity => &self.identity,
        }
    }

    /// After a commit whose `bump` of `kind` returned `value`.
    fn committed(&self, kind: Kind, value: i64) {
        self.counter(kind).saw(value);
    }

    /// After a write of `kind` that failed (it may have committed: the answer to a COMMIT
    /// can be lost), or a change the counters do not record (an index).
    fn unsure(&self, kind: Kind) {
        self.counter(kind).unsure();
    }

    /// After a write that returned `result`: a failed one leaves the token unsure.
    fn after<T>(&self, kind: Kind, result: &Result<T, StoreError>) {
        if result.is_err() {
            self.unsure(kind);
        }
    }

    /// Reads both counters (one prepared statement, one round trip) and moves the tokens
    /// over what other processes committed; a failed read makes both unsure, so no cache
    /// answers from what may be stale (the query behind it then meets the same error).
    async fn refresh(&self) {
        let me = self.refreshes.asked.fetch_add(1, Ordering::SeqCst) + 1;
        let mut covered = self.refreshes.covered.lock().await;
        if *covered >= me {
            return;
        }
        // Everyone who asked by now asked before this read is sent.
        let upto = self.refreshes.asked.load(Ordering::SeqCst);
        // Bounded: every refresh waits for this one, so a read that hangs must not hang them.
        let read = if self.is_silent() {
            Ok(Err(StoreError::Unavailable(String::new())))
        } else {
            tokio::time::timeout(POOL_WAIT, self.read_counters()).await
        };
        if !matches!(read, Ok(Ok(()))) {
            self.unsure(Kind::Keypairs);
            self.unsure(Kind::Identity);
        }
        if read.is_err() {
            self.went_silent();
        }
        *covered = upto;
    }

    async fn read_counters(&self) -> Result<(), StoreError> {
        let conn = self.pool.get().await?;
        let st = conn
            .prepare_cached("SELECT kind, counter FROM nk_changes")
            .await?;
        for row in conn.query(&st, &[]).await? {
            let kind: &str = row.try_get(0)?;
            let value: i64 = row.try_get(1)?;
            match kind {
                "keypairs" => self.keypairs.saw(value),
                "identity" => self.identity.saw(value),
                _ => {}
            }
        }
        Ok(())
    }
}

impl PgStore {
    fn keypairs_token_value(&self) -> ChangeToken {
        self.inner.keypairs.token()
    }
    fn identity_token_value(&self) -> ChangeToken {
        self.inner.identity.token()
    }
}

impl Store for PgStore {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn shared(&self) -> bool {
        true
    }

    /// At most one round trip per API request (`http::observe` awaits it before anything
    /// reads a token): one prepared `SELECT` of both counters, shared by the requests that
    /// ask while a read is in flight (`Refreshes`). Measured (debug build, 2 shared cores, Unix
    /// socket to a local server; `pg::multi::a_refresh_follows_…`): 150–260 µs for one alone,
    /// about what a one-row `get_keypair` costs; 32 asking at once: one per 6–11 µs (60 µs
    /// each before they shared reads). The release figure is the lead's to take.
    /// Chosen over LISTEN/NOTIFY: a notification may still be in flight when the client's
    /// next request arrives, so no listener can say "nothing changed" without this read.
    fn refresh_tokens(&self) -> crate::store::BoxFuture<'static, ()> {
        let inner = self.inner.clone();
        let task = self.runtime.spawn(async move { inner.refresh().await });
        let inner = self.inner.clone();
        Box::pin(async move {
            if task.await.is_err() {
                inner.unsure(Kind::Keypairs);
                inner.unsure(Kind::Identity);
            }
        })
    }
}

/// `location` without its password, for messages.
pub fn redact(location: &str) -> String {
    if let Some((scheme, rest)) = location.split_once("://") {
        if let Some((auth, host)) = rest.split_once('@') {
            if let Some((user, _)) = auth.split_once(':') {
                return format!("{scheme}://{user}:***@{host}");
            }
        }
        return location.to_string();
    }
    location
        .split_whitespace()
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => kv.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_key_value_strings_are_postgres_paths_are_not() {
        for yes in [
            "postgres://u@h:5/db",
            "postgresql://h/db",
            "POSTGRES://h/db",
            "host=/tmp dbname=x",
            "dbname=x",
        ] {
            assert!(is_postgres(yes), "{yes}");
        }
        for no in [":memory:", "/tmp/x.db", "x=y.db", "nk.db", "mysql://h/db"] {
            assert!(!is_postgres(no), "{no}");
        }
    }

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(redact("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact("host=h password=pw dbname=d"),
            "host=h password=*** dbname=d"
        );
    }
}
