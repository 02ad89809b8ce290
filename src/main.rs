//! The `clinic-site` command: parse the command line, run, and on failure
//! print what went wrong in words staff can act on.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use clinic_site::check::{self, CheckArgs};
use clinic_site::config::Config;
use clinic_site::content::ContentErrors;
use clinic_site::export::{self, BuildArgs};
use clinic_site::site::{Site, SiteOptions};
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
    /// Check the content and report every problem and each page's readability.
    Check(CheckArgs),
    /// Write the whole site as static files into a folder.
    Build(BuildArgs),
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
        Some(Command::Check(args)) => return if check::run(&args) { ExitCode::SUCCESS } else { ExitCode::FAILURE },
        Some(Command::Build(args)) => build(&args),
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

fn build(args: &BuildArgs) -> anyhow::Result<()> {
    let site = Site::load(&args.content, &SiteOptions::public(&args.static_dir))?;
    let exported = export::export(&site, &args.static_dir, &args.out)?;
    println!("Wrote {} files ({} KB) to {}", exported.files, exported.bytes / 1024, args.out.display());
    Ok(())
}

/// Content errors print in the `check` format, with the offending line and
/// a hint; any other failure prints its chain of causes once, without a
/// backtrace.
fn report(err: &anyhow::Error) {
    if let Some(content) = err.downcast_ref::<ContentErrors>() {
        eprint!("{}", check::format_text(&content.0));
        eprintln!("{}", content.to_string().lines().last().unwrap_or_default());
        return;
    }
    eprintln!("error: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("  because: {cause}");
    }
}
