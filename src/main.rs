//! The `clinic-site` command: parse the command line, run, and on failure
//! print what went wrong in words staff can act on.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use clinic_site::config::Config;
use clinic_site::content::ContentErrors;
use tracing_subscriber::EnvFilter;

/// Serves the clinic's patient articles from the markdown in a content folder.
#[derive(Parser)]
#[command(name = "clinic-site", version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// With no command, the site is served with these settings.
    #[command(flatten)]
    serve: Config,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the site over HTTP (what happens with no command).
    Serve(Config),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal())
        .init();
    let result = match cli.command {
        Some(Command::Serve(config)) => run_server(config),
        None => run_server(cli.serve),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            report(&err);
            ExitCode::FAILURE
        }
    }
}

fn run_server(config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(clinic_site::http::serve(config))
}

/// Content errors are already written for staff and print as they are; any
/// other failure prints its chain of causes once, without a backtrace.
fn report(err: &anyhow::Error) {
    if let Some(content) = err.downcast_ref::<ContentErrors>() {
        eprintln!("{content}");
        return;
    }
    eprintln!("error: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("  because: {cause}");
    }
}
