//! # What novakeys writes to stderr
//!
//! `--log-level` (default `info`: the request log and the start/stop lines) and `--log-format`
//! (`text`, or `json` — one object per line — for log shippers). `RUST_LOG`, when set, still
//! decides the filter (`env_logger`'s syntax). Other crates log at `warn` and above only: their
//! `info` lines (worker counts and the like) are not what an operator reads.
//!
//! The text line: `2026-01-01T00:00:00.123456Z INFO novakeys::request <message>`. The JSON
//! object: `time`, `level`, `target`, `message`, then the record's key-value pairs (the request
//! log's fields, typed).

use log::kv::{self, VisitSource};
use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

/// How much is logged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// How a log line is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl LogLevel {
    fn filter(self) -> log::LevelFilter {
        match self {
            LogLevel::Error => log::LevelFilter::Error,
            LogLevel::Warn => log::LevelFilter::Warn,
            LogLevel::Info => log::LevelFilter::Info,
            LogLevel::Debug => log::LevelFilter::Debug,
            LogLevel::Trace => log::LevelFilter::Trace,
        }
    }
}

/// Installs the logger; a second call (tests) changes nothing.
pub fn init(level: LogLevel, format: LogFormat) {
    let mut b = env_logger::Builder::new();
    match std::env::var("RUST_LOG") {
        Ok(filters) if !filters.trim().is_empty() => {
            b.parse_filters(&filters);
        }
        _ => {
            b.filter_level(log::LevelFilter::Warn.min(level.filter()))
                .filter_module("novakeys", level.filter());
        }
    }
    // Our lines carry no colour codes: written as they are (the default strips escape codes
    // byte by byte when stderr is not a terminal, a tenth of a cached show's CPU).
    b.write_style(env_logger::WriteStyle::Always);
    match format {
        LogFormat::Text => {
            b.format(|out, r| writeln!(out, "{} {} {} {}", now(), r.level(), r.target(), r.args()))
        }
        LogFormat::Json => b.format(|out, r| {
            let mut line = serde_json::Map::new();
            line.insert("time".into(), now().into());
            line.insert("level".into(), r.level().as_str().into());
            line.insert("target".into(), r.target().into());
            line.insert("message".into(), r.args().to_string().into());
            let mut fields = Fields(&mut line);
            let _ = r.key_values().visit(&mut fields);
            writeln!(out, "{}", serde_json::Value::Object(line))
        }),
    };
    let pending = PENDING.get_or_init(start_writer).clone();
    b.target(env_logger::Target::Pipe(Box::new(Batched(pending))));
    let _ = b.try_init();
}

/// Lines waiting for the writer thread.
type Pending = Arc<(Mutex<Vec<u8>>, Condvar)>;

static PENDING: OnceLock<Pending> = OnceLock::new();
/// Held from taking a batch until it is written, so batches reach stderr in order.
static WRITING: Mutex<()> = Mutex::new(());

/// How long a line may wait before it is written; and how much may wait before the writer is
/// woken early.
const LINGER: Duration = Duration::from_millis(20);
const EARLY: usize = 64 * 1024;
/// What may wait at most: when stderr is not read (a full pipe) lines beyond it are dropped
/// and counted, rather than growing the process without bound or stalling the API.
const MAX_PENDING: usize = 4 * 1024 * 1024;
static DROPPED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Log lines are gathered in memory and written to stderr by one thread, many at a time: a
/// `write(2)` per line (the request log writes one per API call) cost a tenth of a cached
/// show's CPU under load.
struct Batched(Pending);

impl Write for Batched {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let (lines, wake) = &*self.0;
        let mut lines = lines.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() + bytes.len() > MAX_PENDING {
            DROPPED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            wake.notify_one();
            return Ok(bytes.len());
        }
        lines.extend_from_slice(bytes);
        if lines.len() >= EARLY {
            wake.notify_one();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn start_writer() -> Pending {
    let pending: Pending = Default::default();
    let shared = pending.clone();
    let started = std::thread::Builder::new()
        .name("novakeys-log".into())
        .spawn(move || loop {
            let (lines, wake) = &*shared;
            let guard = lines.lock().unwrap_or_else(|e| e.into_inner());
            let (guard, _) = wake
                .wait_timeout(guard, LINGER)
                .unwrap_or_else(|e| e.into_inner());
            drop(guard);
            write_pending(&shared);
        });
    if started.is_err() {
        // No thread: lines are written by `flush` only (at exit); better than none.
        eprintln!("novakeys: warning: no log writer thread; log lines are written at exit");
    }
    pending
}

/// Writes every waiting line now (before the process exits).
pub fn flush() {
    if let Some(pending) = PENDING.get() {
        write_pending(pending);
    }
}

fn write_pending(pending: &Pending) {
    let _writing = WRITING.lock().unwrap_or_else(|e| e.into_inner());
    let batch = std::mem::take(&mut *pending.0.lock().unwrap_or_else(|e| e.into_inner()));
    if !batch.is_empty() {
        let _ = std::io::stderr().write_all(&batch);
    }
    let dropped = DROPPED.swap(0, std::sync::atomic::Ordering::Relaxed);
    if dropped > 0 {
        let _ = writeln!(
            std::io::stderr(),
            "novakeys: warning: {dropped} log lines dropped (stderr was not read)"
        );
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A record's key-value pairs as JSON members, numbers as numbers.
struct Fields<'a>(&'a mut serde_json::Map<String, serde_json::Value>);

impl<'kvs> VisitSource<'kvs> for Fields<'_> {
    fn visit_pair(&mut self, key: kv::Key<'kvs>, value: kv::Value<'kvs>) -> Result<(), kv::Error> {
        let v = if let Some(n) = value.to_u64() {
            n.into()
        } else if let Some(n) = value.to_i64() {
            n.into()
        } else if let Some(f) = value.to_f64() {
            serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into)
        } else if let Some(b) = value.to_bool() {
            b.into()
        } else {
            value.to_string().into()
        };
        self.0.insert(key.as_str().to_string(), v);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines wait in order; past the cap they are dropped and counted, never buffered without
    /// bound (a server whose stderr nobody reads must neither stall nor grow).
    #[test]
    fn lines_wait_in_order_up_to_the_cap() {
        let pending: Pending = Default::default();
        let mut w = Batched(pending.clone());
        w.write_all(b"one\n").unwrap();
        w.write_all(b"two\n").unwrap();
        assert_eq!(&*pending.0.lock().unwrap(), b"one\ntwo\n");
        let before = DROPPED.load(std::sync::atomic::Ordering::Relaxed);
        let big = vec![b'x'; MAX_PENDING];
        w.write_all(&big).unwrap();
        assert_eq!(
            pending.0.lock().unwrap().len(),
            8,
            "the line past the cap is dropped"
        );
        assert!(DROPPED.load(std::sync::atomic::Ordering::Relaxed) > before);
    }
}
