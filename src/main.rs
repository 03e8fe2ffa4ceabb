//! The `novakeys` command line.

use clap::{Parser, Subcommand};
use novakeys::app::{self, App};
use novakeys::config::{Config, ServeArgs};
use novakeys::domain::identity::fixtures::Fixtures;
use novakeys::logging::{self, LogFormat, LogLevel};
use novakeys::store::image::Image;

/// mimalloc instead of glibc malloc: an import spent about a tenth of its CPU in malloc/free;
/// with mimalloc the whole machine spends 13 % less per import (bench/README.md, fifth round).
/// `no_thp`: without it mimalloc asks for transparent huge pages and idle RSS goes 12 → 30 MB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "novakeys",
    version,
    about = "OpenStack Nova key pairs + Keystone v3, emulated on SQLite"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the compute (Nova) and identity (Keystone) APIs.
    Serve(ServeArgs),
    /// Print a clouds.yaml for the fixture users (entries `novakeys`, `novakeys-admin`, ...).
    CloudsYaml(ServeArgs),
    /// Make a new token signing key; tokens signed by the previous key stay valid.
    RotateSigningKey(ServeArgs),
    /// Bulk-load key pairs (user ids PREFIX0.., names key-0..) for scale tests.
    Seed(SeedArgs),
    /// Print the whole state (key pairs, identity, signing keys) as versioned JSON.
    Export(ServeArgs),
    /// Replace the whole state with an `export` document, in one transaction.
    Import {
        /// The JSON document (`-` = stdin).
        file: std::path::PathBuf,
        #[command(flatten)]
        args: ServeArgs,
    },
    /// Print what a cloud's clients need to reach novakeys as a user (`export VAR=value`
    /// lines: the access key, the region, the endpoint; `eval "$(novakeys credentials ...)"`).
    Credentials {
        /// alibaba, tencent or twcc.
        #[arg(long)]
        cloud: String,
        /// User name (in the Default domain).
        #[arg(long)]
        user: String,
        /// Make a new access key in this project (name) instead of showing the user's first
        /// one of that cloud.
        #[arg(long)]
        new_in_project: Option<String>,
        /// TWCC: prepare the CLI's data folder here (credential file, log/, release feed).
        #[arg(long)]
        data_path: Option<std::path::PathBuf>,
        /// Tencent: write this tccli profile (`~/.tccli/<profile>.configure`, `.credential`).
        #[arg(long)]
        tccli_profile: Option<String>,
        #[command(flatten)]
        args: ServeArgs,
    },
    /// Add the keys of an authorized_keys file as key pairs of a user.
    ImportAuthorizedKeys {
        /// User name (in the Default domain).
        #[arg(long)]
        user: String,
        /// Project name the key pairs are created in [default: the user's default project].
        #[arg(long)]
        project: Option<String>,
        /// The authorized_keys file.
        file: std::path::PathBuf,
        #[command(flatten)]
        args: ServeArgs,
    },
}

#[derive(clap::Args)]
struct SeedArgs {
    /// Number of users to create key pairs for.
    #[arg(long)]
    users: u64,
    /// Key pairs per user.
    #[arg(long)]
    keypairs_per_user: u64,
    /// SQLite database file (created if missing) or PostgreSQL URL; rows are added to what is there.
    #[arg(long, env = "NOVAKEYS_DB")]
    db: String,
    /// User ids are this prefix followed by 0, 1, ...
    #[arg(long, default_value = "seed-user-")]
    user_prefix: String,
    /// Project id stored with every row.
    #[arg(long, default_value = "seed-project")]
    project_id: String,
    /// Rows per transaction.
    #[arg(long, default_value_t = 20_000)]
    batch: u64,
}

fn main() {
    let cli = Cli::parse();
    // `serve` logs as its settings say (file < env < flags), once they are read.
    if !matches!(cli.command, Command::Serve(_)) {
        logging::init(LogLevel::Warn, LogFormat::Text);
    }
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::CloudsYaml(args) => clouds_yaml(args),
        Command::RotateSigningKey(args) => rotate(args),
        Command::Seed(args) => seed(args),
        Command::Export(args) => export(args),
        Command::Import { file, args } => import(file, args),
        Command::Credentials {
            cloud,
            user,
            new_in_project,
            data_path,
            tccli_profile,
            args,
        } => credentials(
            &cloud,
            &user,
            new_in_project.as_deref(),
            data_path.as_deref(),
            tccli_profile.as_deref(),
            args,
        ),
        Command::ImportAuthorizedKeys {
            user,
            project,
            file,
            args,
        } => import_authorized_keys(user, project, file, args),
    };
    logging::flush();
    if let Err(e) = result {
        eprintln!("novakeys: error: {e:#}");
        std::process::exit(1);
    }
}

/// glibc gives every thread that allocates its own arena (up to 8 per core) and keeps what
/// they free: after a benchmark's bursts RSS sat at 67 MB, with two arenas at 52 MB, same
/// throughput (`bench/README.md`). Rust's allocations now go to mimalloc, but SQLite's page
/// caches (one per connection, each used from several threads) still come from glibc.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator tuning value; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Every listener may hold `--max-connections` connections: the soft limit on open files
/// (often 1024) goes up to the hard one, as Go and nginx do, and a limit still too low for all
/// of them is said at start, not found out at the 1025th connection.
fn raise_open_files_limit(config: &Config) {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit only read and write the struct given.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return;
            }
            if lim.rlim_cur < lim.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: lim.rlim_max,
                    rlim_max: lim.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    lim = raised;
                }
            }
        }
        let listeners = 2 + [
            config.alibaba_bind,
            config.tencent_bind,
            config.twcc_bind,
            config.console_bind,
        ]
        .iter()
        .filter(|b| b.addr().is_some())
        .count();
        // Each connection is one descriptor; SQLite, the listeners and the runtime need ~64.
        let wanted = (listeners * config.max_connections + 64) as u64;
        if lim.rlim_cur != libc::RLIM_INFINITY && lim.rlim_cur < wanted {
            eprintln!(
                "novakeys: warning: open files limit {} is below what {listeners} listeners of --max-connections {} may need ({wanted}); raise `ulimit -n` or lower --max-connections",
                lim.rlim_cur, config.max_connections
            );
        }
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    limit_malloc_arenas();
    let config = Config::load(&args)?;
    logging::init(config.log_level, config.log_format);
    raise_open_files_limit(&config);
    let auth = config.auth;
    let durability = match config.durability {
        novakeys::store::Durability::Normal => "normal",
        novakeys::store::Durability::Full => "full",
    };
    let store = match novakeys::store::backend(&config.db) {
        Ok(novakeys::store::Backend::Postgres) => {
            format!("store {} (PostgreSQL)", novakeys::store::shown(&config.db))
        }
        _ => format!("store {} (SQLite, durability {durability})", config.db),
    };
    actix_web::rt::System::new().block_on(async move {
        let app = App::build(config).await?;
        // Before the listening lines: a script may signal as soon as it has read them.
        let stop = app::shutdown_signal()?;
        let bound = app.bound();
        let (compute, identity) = if bound.single_port {
            (
                format!("http://{}/compute", bound.compute),
                format!("http://{}/identity", bound.identity),
            )
        } else {
            (
                format!("http://{}", bound.compute),
                format!("http://{}", bound.identity),
            )
        };
        println!("novakeys: compute listening on {compute}");
        println!("novakeys: identity listening on {identity}");
        for (name, addr) in &bound.fronts {
            println!("novakeys: {name} listening on http://{addr}");
        }
        // The same on stderr, for the log (stdout's lines are what scripts parse).
        log::info!("{store}");
        log::info!("compute listening on {compute}");
        log::info!("identity listening on {identity}");
        for (name, addr) in &bound.fronts {
            log::info!("{name} listening on http://{addr}");
        }
        if auth == novakeys::config::AuthMode::Keystone {
            println!(
                "novakeys: hint: `novakeys clouds-yaml > clouds.yaml; export OS_CLIENT_CONFIG_FILE=$PWD/clouds.yaml OS_CLOUD=novakeys` then `openstack keypair list`"
            );
        }
        let stopped = app.run_until(stop).await;
        match &stopped {
            Ok(()) => log::info!("stopped"),
            Err(e) => log::error!("stopped: {e:#}"),
        }
        stopped
    })
}

fn clouds_yaml(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::load(&args)?;
    let fixtures = Fixtures::load(config.fixtures.as_deref())?;
    let auth_url = match (&config.public_identity_url, config.single_port) {
        (Some(url), _) => format!("{}/v3", url.trim_end_matches('/')),
        (None, Some(addr)) => format!("http://{addr}/identity/v3"),
        (None, None) => format!("http://{}/v3", config.identity_bind),
    };
    print!(
        "{}",
        novakeys::fronts::keystone::clouds_yaml::render(&fixtures, &auth_url, &config.region)
    );
    Ok(())
}

/// The services over the configured store, as `serve` would build them (fixtures applied),
/// without the key pool an offline command never uses.
fn offline(args: &ServeArgs) -> anyhow::Result<(Config, app::Services)> {
    let mut config = Config::load(args)?;
    config.keygen_pool = 0;
    let s = app::services(&config)?;
    Ok((config, s))
}

fn rotate(args: ServeArgs) -> anyhow::Result<()> {
    let (config, s) = offline(&args)?;
    s.domain.identity.rotate_signing_key()?;
    println!("novakeys: new token signing key in {}; tokens of the previous key stay valid until the next rotation", novakeys::store::shown(&config.db));
    Ok(())
}

fn seed(args: SeedArgs) -> anyhow::Result<()> {
    let plan = novakeys::domain::seed::SeedPlan {
        users: args.users,
        keypairs_per_user: args.keypairs_per_user,
        user_prefix: args.user_prefix,
        project_id: args.project_id,
        batch: args.batch,
    };
    let shown = novakeys::store::shown(&args.db);
    let store = novakeys::store::open(&args.db, novakeys::store::Durability::Normal)
        .map_err(|e| anyhow::anyhow!("cannot seed {shown}: {e}"))?;
    let r = novakeys::domain::seed::seed(&*store, &plan)
        .map_err(|e| anyhow::anyhow!("cannot seed {shown}: {e}"))?;
    let secs = r.elapsed.as_secs_f64();
    // The size is the SQLite file's; a PostgreSQL database has no file here to measure.
    let size = match novakeys::store::backend(&args.db) {
        Ok(novakeys::store::Backend::Postgres) => String::new(),
        _ => format!(
            ", {} bytes ({:.0} bytes per key pair)",
            r.db_bytes,
            r.db_bytes as f64 / (r.total_keypairs.max(1)) as f64
        ),
    };
    println!(
        "novakeys: seeded {} key pairs in {secs:.2} s ({:.0}/s); {} key pairs in {shown}{size}",
        r.inserted,
        r.inserted as f64 / secs.max(1e-9),
        r.total_keypairs,
    );
    Ok(())
}

fn export(args: ServeArgs) -> anyhow::Result<()> {
    let image = offline(&args)?.1.store.capture()?;
    println!("{}", serde_json::to_string_pretty(&image.to_json())?);
    Ok(())
}

fn import(file: std::path::PathBuf, args: ServeArgs) -> anyhow::Result<()> {
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(&file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?
    };
    let doc: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: not JSON: {e}", file.display()))?;
    let image = Image::from_json(&doc)
        .map_err(|e| anyhow::anyhow!("{}: invalid state document: {e}", file.display()))?;
    let (config, s) = offline(&args)?;
    s.store
        .apply(&image)
        .map_err(|e| anyhow::anyhow!("{}: not imported: {e}", file.display()))?;
    println!(
        "novakeys: imported {} key pairs and {} users into {}",
        image.rows("key_pairs"),
        image.rows("id_users"),
        novakeys::store::shown(&config.db)
    );
    Ok(())
}

fn credentials(
    cloud: &str,
    user: &str,
    new_in_project: Option<&str>,
    data_path: Option<&std::path::Path>,
    profile: Option<&str>,
    args: ServeArgs,
) -> anyhow::Result<()> {
    use novakeys::fronts::{alibaba, tencent, twcc, ClientSetup};
    let (config, s) = offline(&args)?;
    let bind = match cloud {
        "alibaba" => config.alibaba_bind,
        "tencent" => config.tencent_bind,
        "twcc" => config.twcc_bind,
        other => anyhow::bail!("unknown cloud '{other}' (alibaba, tencent or twcc)"),
    };
    let addr = bind
        .addr()
        .ok_or_else(|| anyhow::anyhow!("the {cloud} front is off (--{cloud}-bind)"))?;
    let u = s
        .store
        .get_user_by_name("default", user)?
        .ok_or_else(|| anyhow::anyhow!("no user '{user}' in the Default domain"))?;
    let credential = match new_in_project {
        Some(project) => {
            let p = s
                .store
                .get_project_by_name("default", project)?
                .ok_or_else(|| anyhow::anyhow!("no project '{project}' in the Default domain"))?;
            let admin = novakeys::domain::Principal {
                user_id: u.id.clone(),
                project_id: p.id.clone(),
                roles: vec!["admin".into()],
                system_scope: false,
            };
            s.domain
                .credentials
                .create(&admin, cloud, &u.id, &p.id, None)
                .map_err(|e| anyhow::anyhow!("cannot make an access key: {e}"))?
        }
        None => s
            .domain
            .credentials
            .of_user_with_secrets(&u.id, cloud)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .into_iter()
            .next()
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "user '{user}' has no {cloud} access key: make one with --new-in-project PROJECT"
                )
            })?,
    };
    let project = s
        .store
        .get_project(&credential.project_id)?
        .map(|p| p.name)
        .unwrap_or_default();
    let setup = ClientSetup {
        access: &credential.access,
        secret: &credential.secret,
        endpoint: format!("http://{addr}"),
        user_name: user,
        project_name: &project,
        data_path,
        profile,
    };
    let text = match cloud {
        "alibaba" => alibaba::client_setup(&setup)?,
        "tencent" => tencent::client_setup(&setup)?,
        _ => twcc::client_setup(&setup)?,
    };
    print!("{text}");
    Ok(())
}

fn import_authorized_keys(
    user: String,
    project: Option<String>,
    file: std::path::PathBuf,
    args: ServeArgs,
) -> anyhow::Result<()> {
    use novakeys::domain::authorized_keys::{import, Outcome};
    let text = std::fs::read_to_string(&file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let (_, s) = offline(&args)?;
    let u = s.store.get_user_by_name("default", &user)?;
    let project_id = match (&project, &u) {
        (Some(name), _) => s.store.get_project_by_name("default", name)?.map(|p| p.id),
        (None, Some(u)) => u.default_project_id.clone(),
        (None, None) => None,
    };
    let u = u.ok_or_else(|| anyhow::anyhow!("no user '{user}' in the Default domain"))?;
    let project_id = project_id.ok_or_else(|| {
        anyhow::anyhow!("no project: give --project (user '{user}' has no default project)")
    })?;
    let outcomes = actix_web::rt::System::new()
        .block_on(import(&s.domain.keypairs, &u.id, &project_id, &text))
        .map_err(|e| anyhow::anyhow!("cannot import: {e}"))?;
    let mut imported = 0;
    for o in &outcomes {
        match o {
            Outcome::Imported(_) => imported += 1,
            Outcome::Exists(name) => {
                eprintln!("novakeys: skipped {name}: the user already has a key pair of that name")
            }
            Outcome::Invalid(line) => eprintln!(
                "novakeys: skipped {}:{line}: not a valid SSH public key",
                file.display()
            ),
            Outcome::OverQuota(name) => {
                eprintln!("novakeys: skipped {name}: the user's key pair quota is used up")
            }
        }
    }
    println!("novakeys: imported {imported} key pairs for user {user}");
    Ok(())
}
