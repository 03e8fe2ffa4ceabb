//! # Settings
//!
//! Layers, lowest first: built-in defaults < config file (TOML, `--config` / `NOVAKEYS_CONFIG`)
//! < `NOVAKEYS_*` environment < command-line flags. clap merges the last two (a flag beats its
//! env var); the file fills whatever both left unset.

pub use crate::domain::KeypairScope;
pub use crate::fronts::nova::AuthMode;
use crate::logging::{LogFormat, LogLevel};
use crate::store::Durability;
use clap::Args;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Where a front listens: `ADDR:PORT` (port 0 picks a free port), or `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bind {
    Off,
    On(SocketAddr),
}

impl std::str::FromStr for Bind {
    type Err = String;
    fn from_str(s: &str) -> Result<Bind, String> {
        if s.eq_ignore_ascii_case("off") {
            return Ok(Bind::Off);
        }
        s.parse()
            .map(Bind::On)
            .map_err(|e| format!("'{s}' is neither ADDR:PORT nor off: {e}"))
    }
}

impl<'de> Deserialize<'de> for Bind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Bind, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Bind {
    pub fn addr(self) -> Option<SocketAddr> {
        match self {
            Bind::Off => None,
            Bind::On(a) => Some(a),
        }
    }
}

/// `serve` flags; every one also reads `NOVAKEYS_<NAME>`.
#[derive(Args, Debug, Default, Clone)]
pub struct ServeArgs {
    /// Config file (TOML) with any of the settings below, in snake_case.
    #[arg(long, env = "NOVAKEYS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Compute (Nova) listener, ADDR:PORT; port 0 picks a free port. [default: 127.0.0.1:8774]
    #[arg(long, env = "NOVAKEYS_COMPUTE_BIND")]
    pub compute_bind: Option<SocketAddr>,
    /// Identity (Keystone) listener, ADDR:PORT; port 0 picks a free port. [default: 127.0.0.1:5000]
    #[arg(long, env = "NOVAKEYS_IDENTITY_BIND")]
    pub identity_bind: Option<SocketAddr>,
    /// Alibaba Cloud ECS listener, ADDR:PORT or `off`. [default: 127.0.0.1:8781]
    #[arg(long, env = "NOVAKEYS_ALIBABA_BIND")]
    pub alibaba_bind: Option<Bind>,
    /// Tencent Cloud CVM listener, ADDR:PORT or `off`. [default: 127.0.0.1:8782]
    #[arg(long, env = "NOVAKEYS_TENCENT_BIND")]
    pub tencent_bind: Option<Bind>,
    /// TWCC listener, ADDR:PORT or `off`. [default: 127.0.0.1:8783]
    #[arg(long, env = "NOVAKEYS_TWCC_BIND")]
    pub twcc_bind: Option<Bind>,
    /// Web console listener, ADDR:PORT or `off`. [default: 127.0.0.1:8780]
    #[arg(long, env = "NOVAKEYS_CONSOLE_BIND")]
    pub console_bind: Option<Bind>,
    /// Alibaba's own key pair limit per region (on top of the key pair quota). [default: 500]
    #[arg(
        long,
        env = "NOVAKEYS_ALIBABA_KEYPAIR_QUOTA",
        allow_hyphen_values = true
    )]
    pub alibaba_keypair_quota: Option<i64>,
    /// SQLite database file, `:memory:`, or a PostgreSQL database (`postgres://USER@HOST:PORT/DB`,
    /// `postgresql://...` or libpq `host=... dbname=...`). [default: $XDG_DATA_HOME/novakeys/novakeys.db]
    #[arg(long, env = "NOVAKEYS_DB")]
    pub db: Option<String>,
    /// How the compute API authenticates: keystone tokens, or noauth headers.
    #[arg(long, env = "NOVAKEYS_AUTH", value_enum)]
    pub auth: Option<AuthMode>,
    /// Commit durability: normal (survives process crashes) or full (survives power loss).
    #[arg(long, env = "NOVAKEYS_DURABILITY", value_enum)]
    pub durability: Option<Durability>,
    /// What is logged to stderr: info (the default) writes one line per API request and the
    /// start/stop lines; warn and error only problems. `RUST_LOG`, when set, overrides it.
    #[arg(long, env = "NOVAKEYS_LOG_LEVEL", value_enum)]
    pub log_level: Option<LogLevel>,
    /// How log lines are written: text (the default) or json (one object per line, for log
    /// shippers; see docs/logging.md).
    #[arg(long, env = "NOVAKEYS_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Key pairs per user (`[quota] key_pairs`); -1 = unlimited. [default: 100]
    #[arg(long, env = "NOVAKEYS_QUOTA_KEY_PAIRS", allow_hyphen_values = true)]
    pub quota_key_pairs: Option<i64>,
    /// Keystone's `list_limit`: identity lists longer than N are cut and marked
    /// `"truncated": true`. [default: unlimited]
    #[arg(long, env = "NOVAKEYS_LIST_LIMIT")]
    pub list_limit: Option<usize>,
    /// Largest page the list API returns (`[api] max_limit`). [default: 1000]
    #[arg(long, env = "NOVAKEYS_MAX_LIMIT")]
    pub max_limit: Option<u32>,
    /// Key pair ownership: user (Nova's rule) or project (shared by the project's members).
    #[arg(long, env = "NOVAKEYS_KEYPAIR_SCOPE", value_enum)]
    pub keypair_scope: Option<KeypairScope>,
    /// Bootstrap fixtures (YAML). [default: the built-in fixtures/default.yaml]
    #[arg(long, env = "NOVAKEYS_FIXTURES")]
    pub fixtures: Option<PathBuf>,
    /// Token lifetime in seconds. [default: 3600]
    #[arg(long, env = "NOVAKEYS_TOKEN_EXPIRATION")]
    pub token_expiration: Option<u64>,
    /// Password hash cost (bcrypt, 4..=31); low values make test logins fast. [default: 4]
    #[arg(long, env = "NOVAKEYS_PASSWORD_HASH_COST")]
    pub password_hash_cost: Option<u32>,
    /// Region name in the catalog. [default: RegionOne]
    #[arg(long, env = "NOVAKEYS_REGION")]
    pub region: Option<String>,
    /// Base URL clients should use for the identity API (when reached under another name).
    #[arg(long, env = "NOVAKEYS_PUBLIC_IDENTITY_URL")]
    pub public_identity_url: Option<String>,
    /// Base URL clients should use for the compute API (when reached under another name).
    #[arg(long, env = "NOVAKEYS_PUBLIC_COMPUTE_URL")]
    pub public_compute_url: Option<String>,
    /// Serve both APIs on this one ADDR:PORT under /identity and /compute (DevStack style).
    #[arg(long, env = "NOVAKEYS_SINGLE_PORT")]
    pub single_port: Option<SocketAddr>,
    /// Graceful shutdown grace period in seconds. [default: 10]
    #[arg(long, env = "NOVAKEYS_SHUTDOWN_GRACE")]
    pub shutdown_grace: Option<u64>,
    /// Pre-generated RSA key pairs kept ready for generate requests (refilled in the
    /// background at low priority, in memory only); 0 disables the pool. [default: 16]
    #[arg(long, env = "NOVAKEYS_KEYGEN_POOL")]
    pub keygen_pool: Option<usize>,
    /// Seconds a client has to send a request's headers, and again its body, before it is cut
    /// off (408, connection closed). [default: 30]
    #[arg(long, env = "NOVAKEYS_CLIENT_TIMEOUT")]
    pub client_timeout: Option<u64>,
    /// Concurrent connections per listener (each API, cloud front and the console has its
    /// own); more wait in the kernel's accept queue until one closes. Split between the
    /// listener's two workers, so an odd number is rounded up. [default: 512]
    #[arg(long, env = "NOVAKEYS_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Token for the `/_novakeys/` test controls (header `X-Novakeys-Control-Token`); without
    /// one they answer loopback clients only.
    #[arg(long, env = "NOVAKEYS_CONTROL_TOKEN")]
    pub control_token: Option<String>,
    /// How many API calls the request journal keeps (0 = none). [default: 1000]
    #[arg(long, env = "NOVAKEYS_JOURNAL_SIZE")]
    pub journal_size: Option<usize>,
    /// Deterministic mode: ids, request ids, audit ids, generated and signing keys, and the
    /// fault rules' rng all come from this seed.
    #[arg(long, env = "NOVAKEYS_SEED")]
    pub seed: Option<u64>,
    /// Freeze the clock at this RFC 3339 time (`POST /_novakeys/clock` moves it).
    #[arg(long, env = "NOVAKEYS_CLOCK")]
    pub clock: Option<chrono::DateTime<chrono::Utc>>,
}

/// The same settings as read from a config file.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    compute_bind: Option<SocketAddr>,
    identity_bind: Option<SocketAddr>,
    alibaba_bind: Option<Bind>,
    tencent_bind: Option<Bind>,
    twcc_bind: Option<Bind>,
    console_bind: Option<Bind>,
    alibaba_keypair_quota: Option<i64>,
    db: Option<String>,
    auth: Option<AuthMode>,
    durability: Option<Durability>,
    log_level: Option<LogLevel>,
    log_format: Option<LogFormat>,
    quota_key_pairs: Option<i64>,
    list_limit: Option<usize>,
    max_limit: Option<u32>,
    keypair_scope: Option<KeypairScope>,
    fixtures: Option<PathBuf>,
    token_expiration: Option<u64>,
    password_hash_cost: Option<u32>,
    region: Option<String>,
    public_identity_url: Option<String>,
    public_compute_url: Option<String>,
    single_port: Option<SocketAddr>,
    shutdown_grace: Option<u64>,
    keygen_pool: Option<usize>,
    client_timeout: Option<u64>,
    max_connections: Option<usize>,
    control_token: Option<String>,
    journal_size: Option<usize>,
    seed: Option<u64>,
    clock: Option<chrono::DateTime<chrono::Utc>>,
}

/// Concurrent connections per listener unless configured.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// Effective settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub compute_bind: SocketAddr,
    pub identity_bind: SocketAddr,
    pub alibaba_bind: Bind,
    pub tencent_bind: Bind,
    pub twcc_bind: Bind,
    pub console_bind: Bind,
    /// Alibaba's key pairs per region (`None`: unlimited).
    pub alibaba_keypair_quota: Option<i64>,
    pub db: String,
    pub auth: AuthMode,
    pub durability: Durability,
    pub log_level: LogLevel,
    pub log_format: LogFormat,
    /// `None` = unlimited.
    pub quota_key_pairs: Option<i64>,
    pub max_limit: u32,
    /// Keystone's `list_limit` (`None`: unlimited).
    pub list_limit: Option<usize>,
    pub keypair_scope: KeypairScope,
    pub fixtures: Option<PathBuf>,
    pub token_expiration: u64,
    pub password_hash_cost: u32,
    pub region: String,
    pub public_identity_url: Option<String>,
    pub public_compute_url: Option<String>,
    pub single_port: Option<SocketAddr>,
    pub shutdown_grace: u64,
    /// Size of the pre-generated ssh key pool (0 = off).
    pub keygen_pool: usize,
    /// Seconds a client has to send a request head, and then its body (slow-loris guard).
    pub client_timeout: u64,
    /// Concurrent connections per listener.
    pub max_connections: usize,
    pub control_token: Option<String>,
    pub journal_size: usize,
    pub seed: Option<u64>,
    pub clock: Option<chrono::DateTime<chrono::Utc>>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            compute_bind: "127.0.0.1:8774".parse().expect("valid address"),
            identity_bind: "127.0.0.1:5000".parse().expect("valid address"),
            alibaba_bind: Bind::On("127.0.0.1:8781".parse().expect("valid address")),
            tencent_bind: Bind::On("127.0.0.1:8782".parse().expect("valid address")),
            twcc_bind: Bind::On("127.0.0.1:8783".parse().expect("valid address")),
            console_bind: Bind::On("127.0.0.1:8780".parse().expect("valid address")),
            alibaba_keypair_quota: Some(500),
            db: default_db_path(),
            auth: AuthMode::Keystone,
            durability: Durability::Normal,
            log_level: LogLevel::Info,
            log_format: LogFormat::Text,
            quota_key_pairs: Some(100),
            max_limit: 1000,
            list_limit: None,
            keypair_scope: KeypairScope::User,
            fixtures: None,
            token_expiration: 3600,
            password_hash_cost: 4,
            region: "RegionOne".into(),
            public_identity_url: None,
            public_compute_url: None,
            single_port: None,
            shutdown_grace: 10,
            keygen_pool: 16,
            client_timeout: 30,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            control_token: None,
            journal_size: 1000,
            seed: None,
            clock: None,
        }
    }
}

/// `$XDG_DATA_HOME/novakeys/novakeys.db`, else `~/.local/share/novakeys/novakeys.db`.
pub fn default_db_path() -> String {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("novakeys")
        .join("novakeys.db")
        .to_string_lossy()
        .into_owned()
}

impl Config {
    /// Merges flags/env over the config file over the defaults.
    pub fn load(args: &ServeArgs) -> anyhow::Result<Config> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!("cannot read config file {}: {e}", path.display())
                })?;
                toml::from_str::<FileSettings>(&text)
                    .map_err(|e| anyhow::anyhow!("invalid config file {}: {e}", path.display()))?
            }
            None => FileSettings::default(),
        };
        let d = Config::default();
        let quota = args
            .quota_key_pairs
            .or(file.quota_key_pairs)
            .or(d.quota_key_pairs);
        let cost = args
            .password_hash_cost
            .or(file.password_hash_cost)
            .unwrap_or(d.password_hash_cost);
        if !(4..=31).contains(&cost) {
            anyhow::bail!("password_hash_cost must be between 4 and 31, not {cost}");
        }
        Ok(Config {
            compute_bind: args
                .compute_bind
                .or(file.compute_bind)
                .unwrap_or(d.compute_bind),
            identity_bind: args
                .identity_bind
                .or(file.identity_bind)
                .unwrap_or(d.identity_bind),
            alibaba_bind: args
                .alibaba_bind
                .or(file.alibaba_bind)
                .unwrap_or(d.alibaba_bind),
            tencent_bind: args
                .tencent_bind
                .or(file.tencent_bind)
                .unwrap_or(d.tencent_bind),
            twcc_bind: args.twcc_bind.or(file.twcc_bind).unwrap_or(d.twcc_bind),
            console_bind: args
                .console_bind
                .or(file.console_bind)
                .unwrap_or(d.console_bind),
            alibaba_keypair_quota: args
                .alibaba_keypair_quota
                .or(file.alibaba_keypair_quota)
                .or(d.alibaba_keypair_quota)
                .filter(|q| *q >= 0),
            db: args.db.clone().or(file.db).unwrap_or(d.db),
            auth: args.auth.or(file.auth).unwrap_or(d.auth),
            durability: args.durability.or(file.durability).unwrap_or(d.durability),
            log_level: args.log_level.or(file.log_level).unwrap_or(d.log_level),
            log_format: args.log_format.or(file.log_format).unwrap_or(d.log_format),
            quota_key_pairs: quota.filter(|q| *q >= 0),
            max_limit: args.max_limit.or(file.max_limit).unwrap_or(d.max_limit),
            list_limit: args.list_limit.or(file.list_limit).filter(|l| *l > 0),
            keypair_scope: args
                .keypair_scope
                .or(file.keypair_scope)
                .unwrap_or(d.keypair_scope),
            fixtures: args.fixtures.clone().or(file.fixtures),
            token_expiration: args
                .token_expiration
                .or(file.token_expiration)
                .unwrap_or(d.token_expiration),
            password_hash_cost: cost,
            region: args.region.clone().or(file.region).unwrap_or(d.region),
            public_identity_url: args
                .public_identity_url
                .clone()
                .or(file.public_identity_url),
            public_compute_url: args.public_compute_url.clone().or(file.public_compute_url),
            single_port: args.single_port.or(file.single_port),
            shutdown_grace: args
                .shutdown_grace
                .or(file.shutdown_grace)
                .unwrap_or(d.shutdown_grace),
            keygen_pool: args
                .keygen_pool
                .or(file.keygen_pool)
                .unwrap_or(d.keygen_pool),
            client_timeout: args
                .client_timeout
                .or(file.client_timeout)
                .unwrap_or(d.client_timeout)
                .max(1),
            max_connections: args
                .max_connections
                .or(file.max_connections)
                .unwrap_or(d.max_connections)
                .max(1),
            control_token: args.control_token.clone().or(file.control_token),
            journal_size: args
                .journal_size
                .or(file.journal_size)
                .unwrap_or(d.journal_size),
            seed: args.seed.or(file.seed),
            clock: args.clock.or(file.clock),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_file_beat_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nk.toml");
        std::fs::write(
            &path,
            "db = \"/tmp/file.db\"\nquota_key_pairs = -1\nmax_limit = 5\n",
        )
        .unwrap();
        let args = ServeArgs {
            config: Some(path),
            max_limit: Some(7),
            ..Default::default()
        };
        let c = Config::load(&args).unwrap();
        assert_eq!(c.db, "/tmp/file.db");
        assert_eq!(c.quota_key_pairs, None, "-1 means unlimited");
        assert_eq!(c.max_limit, 7);
        assert_eq!(c.compute_bind.port(), 8774);
        assert_eq!(c.alibaba_bind.addr().map(|a| a.port()), Some(8781));
    }

    #[test]
    fn fronts_can_be_switched_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nk.toml");
        std::fs::write(
            &path,
            "tencent_bind = \"off\"\ntwcc_bind = \"127.0.0.1:0\"\n",
        )
        .unwrap();
        let c = Config::load(&ServeArgs {
            config: Some(path),
            alibaba_bind: Some("OFF".parse().unwrap()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!((c.alibaba_bind, c.tencent_bind), (Bind::Off, Bind::Off));
        assert_eq!(c.twcc_bind.addr().map(|a| a.port()), Some(0));
        assert!("nowhere".parse::<Bind>().is_err());
    }

    #[test]
    fn max_connections_from_file_or_flag_with_a_default() {
        assert_eq!(
            Config::load(&ServeArgs::default()).unwrap().max_connections,
            DEFAULT_MAX_CONNECTIONS
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nk.toml");
        std::fs::write(&path, "max_connections = 64\n").unwrap();
        let mut args = ServeArgs {
            config: Some(path),
            ..Default::default()
        };
        assert_eq!(Config::load(&args).unwrap().max_connections, 64);
        args.max_connections = Some(8);
        assert_eq!(Config::load(&args).unwrap().max_connections, 8);
    }

    #[test]
    fn unknown_file_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nk.toml");
        std::fs::write(&path, "colour = 1\n").unwrap();
        let err = Config::load(&ServeArgs {
            config: Some(path),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }
}
