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
    let _ = b.try_init();
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
