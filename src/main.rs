//! The `novakeys` command line.

use clap::{Parser, Subcommand};
use novakeys::app::App;
use novakeys::config::{Config, ServeArgs};
use novakeys::identity::fixtures::Fixtures;
use novakeys::identity::Identity;
use novakeys::store::Store;

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
}

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::CloudsYaml(args) => clouds_yaml(args),
        Command::RotateSigningKey(args) => rotate(args),
    };
    if let Err(e) = result {
        eprintln!("novakeys: error: {e:#}");
        std::process::exit(1);
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::load(&args)?;
    let auth = config.auth;
    actix_web::rt::System::new().block_on(async move {
        let app = App::build(config).await?;
        let bound = app.bound();
        if bound.single_port {
            println!(
                "novakeys: compute listening on http://{}/compute",
                bound.compute
            );
            println!(
                "novakeys: identity listening on http://{}/identity",
                bound.identity
            );
        } else {
            println!("novakeys: compute listening on http://{}", bound.compute);
            println!("novakeys: identity listening on http://{}", bound.identity);
        }
        if auth == novakeys::auth::AuthMode::Keystone {
            println!(
                "novakeys: hint: `novakeys clouds-yaml > clouds.yaml; export OS_CLIENT_CONFIG_FILE=$PWD/clouds.yaml OS_CLOUD=novakeys` then `openstack keypair list`"
            );
        }
        app.run_until_signal().await
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
        novakeys::clouds::render(&fixtures, &auth_url, &config.region)
    );
    Ok(())
}

fn rotate(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::load(&args)?;
    let store = Store::open(&config.db, config.durability)
        .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", config.db))?;
    let identity = Identity::new(&config, &store)?;
    identity.rotate_signing_key()?;
    println!("novakeys: new token signing key in {}; tokens of the previous key stay valid until the next rotation", config.db);
    Ok(())
}
