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
}

/// The future a graceful stop waits for.
pub type Stop = std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

fn bind(addr: SocketAddr, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).map_err(|e| anyhow::anyhow!("cannot listen for {what} on {addr}: {e}"))
}

/// Opens the store and builds the services (what `serve` and the offline commands share).
pub fn services(config: &Config) -> anyhow::Result<Services> {
    let store = store::open(&config.db, config.durability)
        .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", config.db))?;
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
        let grace = config.shutdown_grace;
        let client_timeout = Duration::from_secs(config.client_timeout);
        let mut servers = Vec::new();
        for (listener, mounted) in listeners.into_iter().zip(mounts) {
            servers.push(serve(
                listener,
                mounted,
                s.control.clone(),
                grace,
                client_timeout,
            )?);
        }
        Ok(App { servers, bound })
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
    pub async fn run_until(self, stop: Stop) -> anyhow::Result<()> {
        let handles: Vec<_> = self.servers.iter().map(|s| s.handle()).collect();
        // The servers must be kept and polled until they finish: dropping an actix `Server`
        // forces its workers down, cutting off the requests a graceful stop should finish.
        let mut all = Box::pin(futures_util::future::try_join_all(self.servers));
        tokio::select! {
            res = &mut all => { res?; return Ok(()); }
            _ = stop => {}
        }
        let stop = futures_util::future::join_all(handles.iter().map(|h| h.stop(true)));
        let (_, res) = futures_util::future::join(stop, all).await;
        res?;
        Ok(())
    }

    /// The servers, for tests that run the app in-process (spawn them on the runtime).
    pub fn into_servers(self) -> Vec<actix_web::dev::Server> {
        self.servers
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
    let body_limit = mounted
        .0
        .iter()
        .map(|(_, f)| f.body_limit())
        .max()
        .unwrap_or(crate::http::body::OSLO_MAX_BODY);
    let server = HttpServer::new(move || {
        let mut app = ActixApp::new()
            .wrap(actix_web::middleware::from_fn(observe))
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
    .workers(2)
    // Blocking work here is SQLite list reads (4 reader connections) and RSA generation on
    // 2 cores: more threads only add stacks and malloc arenas (actix's default is 256 per
    // worker).
    .worker_max_blocking_threads(4)
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
