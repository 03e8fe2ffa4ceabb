//! # The application
//!
//! `App::build` opens the store, binds both listeners (port 0 allowed) and wires the APIs;
//! `run` serves until SIGINT/SIGTERM, then shuts down gracefully.

use crate::compute::{self, ComputeMount, MAX_BODY};
use crate::config::Config;
use crate::control::{self, Api, Control, ListenerApi};
use crate::determinism::Determinism;
use crate::identity::{self, Identity};
use crate::keys::KeyPool;
use crate::store::Store;
use actix_web::{web, App as ActixApp, HttpServer};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

/// What every request handler can reach.
pub struct AppState {
    pub config: Config,
    pub store: Store,
    pub identity: Identity,
    /// Pre-generated ssh key pairs for generate requests (size 0 = generate inline).
    pub keypool: KeyPool,
    /// Rendered key pair lists and shows, valid until the next write.
    pub keypair_bodies: compute::keypairs::rendered::Rendered,
    /// Where ids, keys and time come from (`--seed`, `--clock`).
    pub determinism: Arc<Determinism>,
    /// Test controls: journal, fault rules, metrics, snapshots, reset baseline.
    pub control: Control,
    /// Where the listeners actually ended up (port 0 resolved).
    pub bound: Bound,
}

/// The addresses the APIs are served on.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    pub compute: SocketAddr,
    pub identity: SocketAddr,
    /// Both APIs on one port under `/compute` and `/identity`.
    pub single_port: bool,
}

/// A built, not yet running, novakeys.
pub struct App {
    servers: Vec<actix_web::dev::Server>,
    bound: Bound,
}

#[derive(Clone, Copy)]
enum Which {
    Compute,
    Identity,
    Both,
}

fn bind(addr: SocketAddr, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).map_err(|e| anyhow::anyhow!("cannot listen for {what} on {addr}: {e}"))
}

impl App {
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let store = Store::open(&config.db, config.durability)
            .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", config.db))?;
        let shared = config.keypair_scope == crate::config::KeypairScope::Project;
        store.write(|c| crate::store::keypairs::index_by_project(c, shared))?;
        // Nothing stored before this start (not even key pairs from `novakeys seed`): then the
        // state right after the fixtures is the reset baseline as it stands.
        let fresh = store.read(|c| {
            Ok(crate::store::identity::is_empty(c)? && crate::store::keypairs::is_empty(c)?)
        })?;
        let determinism = Arc::new(Determinism::new(config.seed, config.clock));
        let identity = Identity::new_with(&config, &store, determinism.clone())?;
        let control = Control::new(&config, &store, fresh)?;
        determinism.mark_start();
        let (listeners, bound) = match config.single_port {
            Some(addr) => {
                let l = bind(addr, "both APIs")?;
                let a = l.local_addr()?;
                (
                    vec![l],
                    Bound {
                        compute: a,
                        identity: a,
                        single_port: true,
                    },
                )
            }
            None => {
                let c = bind(config.compute_bind, "compute")?;
                let i = bind(config.identity_bind, "identity")?;
                let bound = Bound {
                    compute: c.local_addr()?,
                    identity: i.local_addr()?,
                    single_port: false,
                };
                (vec![c, i], bound)
            }
        };
        let grace = config.shutdown_grace;
        // Deterministic mode draws every key from the seeded rng, in request order: no pool.
        let keypool = KeyPool::new(if config.seed.is_some() {
            0
        } else {
            config.keygen_pool
        });
        let client_timeout = Duration::from_secs(config.client_timeout);
        let state = web::Data::new(AppState {
            config,
            store,
            identity,
            keypool,
            keypair_bodies: Default::default(),
            determinism,
            control,
            bound,
        });
        let mut servers = Vec::new();
        let mut listeners = listeners.into_iter();
        let make =
            |listener: TcpListener, which: Which| -> anyhow::Result<actix_web::dev::Server> {
                let state = state.clone();
                let server = HttpServer::new(move || {
                    let api = match which {
                        Which::Compute => Some(Api::Compute),
                        Which::Identity => Some(Api::Identity),
                        Which::Both => None,
                    };
                    // The controls come first; `observe` journals, counts and fault-injects
                    // the API calls (it leaves the control paths alone).
                    let app = ActixApp::new()
                        .wrap(actix_web::middleware::from_fn(control::observe))
                        .app_data(state.clone())
                        .app_data(ListenerApi(api))
                        .app_data(web::PayloadConfig::new(MAX_BODY + 1))
                        .configure(control::configure);
                    match which {
                        Which::Both => app
                            .service(
                                web::scope("/compute")
                                    .app_data(web::Data::new(ComputeMount("/compute".into())))
                                    .configure(compute::configure),
                            )
                            .service(web::scope("/identity").configure(identity::configure)),
                        Which::Compute => app
                            .app_data(web::Data::new(ComputeMount(String::new())))
                            .configure(compute::configure),
                        Which::Identity => app.configure(identity::configure),
                    }
                })
                .workers(2)
                // Blocking work here is SQLite list reads (4 reader connections) and RSA
                // generation on 2 cores: more threads only add stacks and malloc arenas
                // (actix's default is 256 per worker).
                .worker_max_blocking_threads(4)
                .shutdown_timeout(grace)
                .client_request_timeout(client_timeout)
                .disable_signals()
                .listen(listener)?
                .run();
                Ok(server)
            };
        if bound.single_port {
            servers.push(make(listeners.next().expect("one listener"), Which::Both)?);
        } else {
            servers.push(make(
                listeners.next().expect("compute listener"),
                Which::Compute,
            )?);
            servers.push(make(
                listeners.next().expect("identity listener"),
                Which::Identity,
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
        self.bound
    }

    /// Serves until the process gets SIGINT or SIGTERM: then stops accepting, lets in-flight
    /// requests finish (up to the grace period) and returns.
    pub async fn run_until_signal(self) -> anyhow::Result<()> {
        let handles: Vec<_> = self.servers.iter().map(|s| s.handle()).collect();
        // The servers must be kept and polled until they finish: dropping an actix `Server`
        // forces its workers down, cutting off the requests a graceful stop should finish.
        let mut all = Box::pin(futures_util::future::try_join_all(self.servers));
        tokio::select! {
            res = &mut all => { res?; return Ok(()); }
            _ = shutdown_signal() => {}
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

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("can install SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
