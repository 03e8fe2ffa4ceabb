//! # The composition root
//!
//! `App::build` opens the store, builds the domain services and the controls, makes the
//! fronts, binds their listeners (port 0 allowed) and mounts each front on its listener
//! behind the observe hook; `run_until_signal` serves until SIGINT/SIGTERM, then shuts down
//! gracefully. Adding a front means adding it to `fronts()` here, nothing else.

use crate::config::{Bind, Config};
use crate::control::{self, Control, ControlSettings};
use crate::determinism::Determinism;
use crate::domain::credentials::CredentialService;
use crate::domain::identity::{Identity, IdentitySettings};
use crate::domain::instances::InstanceService;
use crate::domain::keypairs::KeypairSettings;
use crate::domain::{KeypairScope, KeypairService};
use crate::fronts::alibaba::{AlibabaFront, AlibabaSettings};
use crate::fronts::console::{ConsoleFront, ConsoleSettings};
use crate::fronts::keystone::{KeystoneFront, KeystoneSettings};
use crate::fronts::nova::{NovaFront, NovaSettings};
use crate::fronts::tencent::{TencentFront, TencentSettings};
use crate::fronts::twcc::{TwccFront, TwccSettings};
use crate::http::deadline::{body_deadline, BodyTimeout};
use crate::http::{observe::observe, ActivityFilter, ActivitySource, Endpoint, Front, Mounted};
use crate::keys::KeyPool;
use crate::store::{self, Store};
use actix_web::{web, App as ActixApp, HttpServer};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

/// The store, the domain services every front is built from, and the controls.
pub struct Services {
    pub store: Arc<dyn Store>,
    pub domain: crate::domain::Services,
    pub control: web::Data<Control>,
}

/// The addresses the APIs are served on.
#[derive(Debug, Clone)]
pub struct Bound {
    pub compute: SocketAddr,
    pub identity: SocketAddr,
    /// Both APIs on one port under `/compute` and `/identity`.
    pub single_port: bool,
    /// The cloud fronts that are on (name, address), in listener order.
    pub fronts: Vec<(&'static str, SocketAddr)>,
}

impl Bound {
    /// Where the front `name` listens, if it is on.
    pub fn front(&self, name: &str) -> Option<SocketAddr> {
        self.fronts
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| *a)
    }
}

/// A built, not yet running, novakeys.
pub struct App {
    servers: Vec<actix_web::dev::Server>,
    bound: Bound,
    /// The database file (None in memory), checkpointed after a graceful stop.
    db: Option<String>,
    /// Held while serving: one server per database file (see `lock_for_serving`).
    _lock: Option<crate::store::sqlite::ServeLock>,
}

/// What every listener enforces on its clients.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Seconds in-flight requests get to finish on a graceful stop.
    pub grace: u64,
    /// Time for a request's head, and again for its body (see `http::deadline`).
    pub client_timeout: Duration,
    /// Concurrent connections per listener; more wait in the kernel's accept queue.
    pub max_connections: usize,
}

/// Worker threads per listener.
const WORKERS: usize = 2;

/// The future a graceful stop waits for.
pub type Stop = std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

fn bind(addr: SocketAddr, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).map_err(|e| anyhow::anyhow!("cannot listen for {what} on {addr}: {e}"))
}

/// Opens the store and builds the services (what `serve` and the offline commands share).
pub fn services(config: &Config) -> anyhow::Result<Services> {
    let store = store::open(&config.db, config.durability)
        .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", store::shown(&config.db)))?;
    store.index_by_project(config.keypair_scope == KeypairScope::Project)?;
    // Nothing stored before this start (not even key pairs from `novakeys seed`): then the
    // state right after the fixtures is the reset baseline as it stands.
    let fresh = store.identity_is_empty()? && store.count_all_keypairs()? == 0;
    let determinism = Arc::new(Determinism::new(config.seed, config.clock));
    let identity: Arc<Identity> = Arc::new(Identity::new(
        &IdentitySettings {
            fixtures: config.fixtures.clone(),
            token_expiration: config.token_expiration,
            password_hash_cost: config.password_hash_cost,
        },
        store.clone(),
        determinism.clone(),
    )?);
    let instances = Arc::new(InstanceService::new(store.clone(), determinism.clone()));
    let control = Control::new(
        &ControlSettings {
            token: config.control_token.clone(),
            journal_size: config.journal_size,
            seed: config.seed,
            fixtures: config.fixtures.clone(),
            password_hash_cost: config.password_hash_cost,
            region: config.region.clone(),
            public_urls: [&config.public_identity_url, &config.public_compute_url]
                .into_iter()
                .flatten()
                .cloned()
                .collect(),
        },
        store.clone(),
        identity.clone(),
        instances.clone(),
        determinism.clone(),
        fresh,
    )?;
    // Deterministic mode draws every key from the seeded rng, in request order: no pool.
    let pool = KeyPool::new(if config.seed.is_some() {
        0
    } else {
        config.keygen_pool
    });
    let keypairs = Arc::new(KeypairService::new(
        store.clone(),
        pool,
        determinism.clone(),
        KeypairSettings {
            quota: config.quota_key_pairs,
            scope: config.keypair_scope,
        },
    ));
    let credentials = Arc::new(CredentialService::new(store.clone(), determinism.clone()));
    Ok(Services {
        store,
        domain: crate::domain::Services {
            keypairs,
            identity,
            credentials,
            instances,
            determinism,
            region: config.region.clone(),
        },
        control: web::Data::new(control),
    })
}

/// The OpenStack fronts, each with the endpoint it is reached at.
fn openstack_fronts(
    config: &Config,
    s: &crate::domain::Services,
    bound: &Bound,
) -> (Arc<dyn Front>, Arc<dyn Front>) {
    let (compute_mount, identity_mount) = if bound.single_port {
        ("/compute", "/identity")
    } else {
        ("", "")
    };
    let identity = Endpoint {
        public_url: config.public_identity_url.clone(),
        bound: bound.identity,
        mount: identity_mount.into(),
    };
    let compute = Endpoint {
        public_url: config.public_compute_url.clone(),
        bound: bound.compute,
        mount: compute_mount.into(),
    };
    let nova = NovaFront::new(
        NovaSettings {
            auth: config.auth,
            max_limit: config.max_limit,
            public_url: config.public_compute_url.clone(),
            identity: identity.clone(),
        },
        s.keypairs.clone(),
        s.identity.clone(),
        s.determinism.clone(),
    );
    let keystone = KeystoneFront::new(
        KeystoneSettings {
            identity,
            compute,
            region: config.region.clone(),
            list_limit: config.list_limit,
        },
        s.identity.clone(),
        s.credentials.clone(),
    );
    (Arc::new(nova), Arc::new(keystone))
}

/// The request journal as the console's Activity page reads it (so no front imports the
/// controls).
struct JournalActivity(web::Data<Control>);

impl ActivitySource for JournalActivity {
    fn entries(&self, f: &ActivityFilter) -> Vec<serde_json::Value> {
        let filter = control::journal::Filter {
            method: f.method.clone(),
            path: f.path.clone(),
            status: f.status.clone(),
            since: f.since.clone(),
            format: None,
        };
        self.0
            .journal
            .query(&filter)
            .iter()
            .filter_map(|e| serde_json::to_value(e).ok())
            .collect()
    }
}

/// The cloud fronts, each on a listener of its own: (name, where, the front).
fn cloud_fronts(
    config: &Config,
    s: &crate::domain::Services,
    control: &web::Data<Control>,
) -> Vec<(&'static str, Bind, Arc<dyn Front>)> {
    vec![
        (
            "alibaba",
            config.alibaba_bind,
            Arc::new(AlibabaFront::new(
                AlibabaSettings {
                    keypair_quota: config.alibaba_keypair_quota,
                },
                s.clone(),
            )) as Arc<dyn Front>,
        ),
        (
            "tencent",
            config.tencent_bind,
            Arc::new(TencentFront::new(TencentSettings {}, s.clone())),
        ),
        (
            "twcc",
            config.twcc_bind,
            Arc::new(TwccFront::new(TwccSettings {}, s.clone())),
        ),
        (
            "console",
            config.console_bind,
            Arc::new(ConsoleFront::new(
                ConsoleSettings {},
                s.clone(),
                Arc::new(JournalActivity(control.clone())),
            )),
        ),
    ]
}

impl App {
    pub async fn build(config: Config) -> anyhow::Result<App> {
        // Before anything opens the database: a second server on a SQLite file is refused
        // here. A PostgreSQL database is meant to be shared (no lock file, no checkpoint).
        let lock = match store::backend(&config.db) {
            Ok(store::Backend::Sqlite) => crate::store::sqlite::lock_for_serving(&config.db)
                .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", config.db))?,
            _ => None,
        };
        let s = services(&config)?;
        s.domain.determinism.mark_start();
        let (mut listeners, mut bound) = match config.single_port {
            Some(addr) => {
                let l = bind(addr, "both APIs")?;
                let a = l.local_addr()?;
                let bound = Bound {
                    compute: a,
                    identity: a,
                    single_port: true,
                    fronts: Vec::new(),
                };
                (vec![l], bound)
            }
            None => {
                let c = bind(config.compute_bind, "compute")?;
                let i = bind(config.identity_bind, "identity")?;
                let bound = Bound {
                    compute: c.local_addr()?,
                    identity: i.local_addr()?,
                    single_port: false,
                    fronts: Vec::new(),
                };
                (vec![c, i], bound)
            }
        };
        let (nova, keystone) = openstack_fronts(&config, &s.domain, &bound);
        let mut mounts: Vec<Mounted> = if bound.single_port {
            vec![Mounted(vec![
                ("/compute".into(), nova),
                ("/identity".into(), keystone),
            ])]
        } else {
            vec![
                Mounted(vec![(String::new(), nova)]),
                Mounted(vec![(String::new(), keystone)]),
            ]
        };
        for (name, at, front) in cloud_fronts(&config, &s.domain, &s.control) {
            let Some(addr) = at.addr() else { continue };
            let l = bind(addr, name)?;
            bound.fronts.push((name, l.local_addr()?));
            listeners.push(l);
            mounts.push(Mounted(vec![(String::new(), front)]));
        }
        let limits = Limits {
            grace: config.shutdown_grace,
            client_timeout: Duration::from_secs(config.client_timeout),
            max_connections: config.max_connections,
        };
        let mut servers = Vec::new();
        for (listener, mounted) in listeners.into_iter().zip(mounts) {
            servers.push(serve_with(listener, mounted, s.control.clone(), limits)?);
        }
        Ok(App {
            servers,
            bound,
            db: lock.as_ref().map(|_| config.db.clone()),
            _lock: lock,
        })
    }

    pub fn compute_addr(&self) -> SocketAddr {
        self.bound.compute
    }

    pub fn identity_addr(&self) -> SocketAddr {
        self.bound.identity
    }

    pub fn bound(&self) -> Bound {
        self.bound.clone()
    }

    /// Serves until the process gets SIGINT or SIGTERM: then stops accepting, lets in-flight
    /// requests finish (up to the grace period) and returns.
    pub async fn run_until_signal(self) -> anyhow::Result<()> {
        let stop = shutdown_signal()?;
        self.run_until(stop).await
    }

    /// Serves until `stop` ends (`shutdown_signal()`, installed before the listening lines are
    /// printed, so a signal sent right after them is not missed), then stops gracefully.
    pub async fn run_until(mut self, stop: Stop) -> anyhow::Result<()> {
        let servers = std::mem::take(&mut self.servers);
        let handles: Vec<_> = servers.iter().map(|s| s.handle()).collect();
        // The servers must be kept and polled until they finish: dropping an actix `Server`
        // forces its workers down, cutting off the requests a graceful stop should finish.
        let mut all = Box::pin(futures_util::future::try_join_all(servers));
        tokio::select! {
            res = &mut all => { res?; return Ok(()); }
            _ = stop => {}
        }
        let stop = futures_util::future::join_all(handles.iter().map(|h| h.stop(true)));
        let (_, res) = futures_util::future::join(stop, all).await;
        res?;
        // Every request is done: fold the WAL into the database file, so that the file alone
        // holds the whole store (a copy of it, a backup of the `.db` only). Still under the
        // serve lock, so no second server starts in between.
        if let Some(db) = &self.db {
            // The background checkpoint may hold SQLite's checkpoint lock for a moment: retry.
            // Failing leaves the writes in the WAL, not lost: a warning, not a failed stop.
            let mut outcome = crate::store::sqlite::checkpoint_file(db);
            for _ in 0..100 {
                if outcome.is_ok() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
                outcome = crate::store::sqlite::checkpoint_file(db);
            }
            if let Err(e) = outcome {
                eprintln!("novakeys: warning: {db} not checkpointed at shutdown (its -wal file holds the last writes): {e}");
            }
        }
        Ok(())
    }

    /// The servers, for tests that run the app in-process (spawn them on the runtime).
    pub fn into_servers(self) -> Vec<actix_web::dev::Server> {
        self.servers
    }
}

/// Returning memory after a burst of connections. Each connection's buffers come from its
/// worker thread's allocator heap; mimalloc gives freed pages back to the system only when
/// that thread allocates or frees again, and a worker that goes idle after a burst never does:
/// a 10,000-connection burst left the process at ~134 MB for good. So each worker looks once
/// a second whether it took connections since the last look, and once it has been quiet for
/// a second after some, it collects its heap (and glibc, which SQLite allocates from, trims
/// its arenas). An idle server does nothing; a busy one collects at most once per lull.
mod after_bursts {
    use std::cell::Cell;
    use std::time::Duration;

    thread_local! {
        static CONNECTIONS: Cell<u64> = const { Cell::new(0) };
        static WATCHING: Cell<bool> = const { Cell::new(false) };
    }

    // Links mimalloc's C library in wherever this code is (the test binaries use the system
    // allocator and would not otherwise link it).
    extern crate libmimalloc_sys as _;

    extern "C" {
        // mimalloc's (not in libmimalloc-sys's default bindings): frees what this thread's heap
        // holds unused and purges it back to the system.
        fn mi_collect(force: bool);
    }

    /// Counts a connection of the current worker (actix's `on_connect`, on the worker thread).
    pub fn connected() {
        CONNECTIONS.with(|c| c.set(c.get() + 1));
    }

    /// Starts the current worker's watch, once per thread (called from the app factory,
    /// which runs on the worker thread inside its runtime).
    pub fn watch() {
        if WATCHING.with(|w| w.replace(true)) {
            return;
        }
        actix_web::rt::spawn(async {
            let mut seen = 0;
            let mut pending = false;
            loop {
                actix_web::rt::time::sleep(Duration::from_secs(1)).await;
                let now = CONNECTIONS.with(Cell::get);
                if now != seen {
                    seen = now;
                    pending = true;
                } else if pending {
                    pending = false;
                    release();
                }
            }
        });
    }

    fn release() {
        // SAFETY: both only walk the allocators' own free lists; no pointer of ours is given.
        unsafe {
            mi_collect(true);
            #[cfg(all(target_os = "linux", target_env = "gnu"))]
            libc::malloc_trim(0);
        }
    }
}

/// One listener: the controls first, then each front under its mount, all behind the observe
/// hook (which leaves the control paths alone).
pub fn serve(
    listener: TcpListener,
    mounted: Mounted,
    control: web::Data<Control>,
    grace: u64,
    client_timeout: Duration,
) -> anyhow::Result<actix_web::dev::Server> {
    let limits = Limits {
        grace,
        client_timeout,
        max_connections: crate::config::DEFAULT_MAX_CONNECTIONS,
    };
    serve_with(listener, mounted, control, limits)
}

/// `serve` with every limit given.
pub fn serve_with(
    listener: TcpListener,
    mounted: Mounted,
    control: web::Data<Control>,
    limits: Limits,
) -> anyhow::Result<actix_web::dev::Server> {
    let Limits {
        grace,
        client_timeout,
        max_connections,
    } = limits;
    let body_limit = mounted
        .0
        .iter()
        .map(|(_, f)| f.body_limit())
        .max()
        .unwrap_or(crate::http::body::OSLO_MAX_BODY);
    let server = HttpServer::new(move || {
        after_bursts::watch();
        let mut app = ActixApp::new()
            .wrap(actix_web::middleware::from_fn(observe))
            // Outermost: the body's deadline covers the controls and the observe hook too.
            .wrap(actix_web::middleware::from_fn(body_deadline))
            .app_data(BodyTimeout(client_timeout))
            .app_data(control.clone())
            .app_data(mounted.clone())
            .app_data(web::PayloadConfig::new(body_limit + 1))
            .configure(control::configure);
        for (mount, front) in &mounted.0 {
            let front = front.clone();
            let m = mount.clone();
            if mount.is_empty() {
                app = app.configure(move |cfg| front.configure(cfg, &m));
            } else {
                app = app.service(web::scope(mount).configure(move |cfg| front.configure(cfg, &m)));
            }
        }
        app
    })
    .workers(WORKERS)
    // Blocking work here is SQLite list reads (4 reader connections) and RSA generation on
    // 2 cores: more threads only add stacks and malloc arenas (actix's default is 256 per
    // worker).
    .worker_max_blocking_threads(4)
    // actix counts per worker, and its accept loop stops taking connections (they wait in
    // the kernel's queue) once every worker is full: the listener's cap, split between them.
    .max_connections(max_connections.max(1).div_ceil(WORKERS))
    .on_connect(|_, _| after_bursts::connected())
    .shutdown_timeout(grace)
    .client_request_timeout(client_timeout)
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(server)
}

/// Starts listening for SIGINT and SIGTERM now; the future ends at the first one.
pub fn shutdown_signal() -> anyhow::Result<Stop> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(Box::pin(async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }))
    }
    #[cfg(not(unix))]
    {
        Ok(Box::pin(async {
            let _ = tokio::signal::ctrl_c().await;
        }))
    }
}
