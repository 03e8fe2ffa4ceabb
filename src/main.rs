//! The `novakeys` command line.

use clap::{Parser, Subcommand};
use novakeys::app::App;
use novakeys::config::{Config, ServeArgs};

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
}

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
    };
    if let Err(e) = result {
        eprintln!("novakeys: error: {e:#}");
        std::process::exit(1);
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::load(&args)?;
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
        app.run_until_signal().await
    })
}
