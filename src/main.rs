//! The `clinic-site` command: parse the command line, run, and on failure
//! print what went wrong in words staff can act on.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use clinic_site::comments::store::Store;
use clinic_site::config::Config;
use clinic_site::config::{DataFolder, Folders};
use clinic_site::content::{ContentErrors, Date};
use clinic_site::export;
use clinic_site::report::{self, Format};
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
    /// Staff sign-in for moderating comments.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Readers' comments, for the clinic's records and privacy requests.
    #[command(subcommand)]
    Comments(CommentsCommand),
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Set the staff password (asked for on the terminal, or read from the
    /// first line of standard input).
    SetPassword(DataFolder),
}

#[derive(Subcommand)]
enum CommentsCommand {
    /// Write every comment, in every state, to standard output.
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
        #[command(flatten)]
        data: DataFolder,
    },
    /// Delete one comment for good (for a reader's privacy request).
    Delete {
        /// The comment's number, as shown on the moderation page or in an export.
        id: i64,
        #[command(flatten)]
        data: DataFolder,
    },
}

#[derive(Args)]
struct CheckArgs {
    #[command(flatten)]
    folders: Folders,

    /// `text` for people, `json` for scripts and CI.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// Fail on warnings too, not only on errors.
    #[arg(long)]
    deny_warnings: bool,
}

#[derive(Args)]
struct BuildArgs {
    #[command(flatten)]
    folders: Folders,

    /// Where to write the site; replaced as a whole when the build succeeds.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,

    /// Data folder of the running site, for its approved comments (read
    /// only; a missing database means no comments).
    #[command(flatten)]
    data: DataFolder,

    /// Write the export even though site.toml still has sample settings (a
    /// made-up phone number, an example address). Only for trying an export
    /// out: never publish one built this way.
    #[arg(long)]
    allow_placeholders: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    Json,
    Csv,
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
        Some(Command::Check(args)) => {
            return if report::run(&args.folders, args.format, args.deny_warnings) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            };
        }
        Some(Command::Build(args)) => build(&args),
        Some(Command::Admin(AdminCommand::SetPassword(args))) => set_password(&args),
        Some(Command::Comments(CommentsCommand::Export { format, data })) => export_comments(&data, format),
        Some(Command::Comments(CommentsCommand::Delete { id, data })) => delete_comment(&data, id),
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
    let comments = match Store::open_existing(&args.data.comments_db())? {
        Some(store) => store.approved()?,
        None => Vec::new(),
    };
    let static_dir = &args.folders.static_dir;
    let options =
        if args.allow_placeholders { SiteOptions::public(static_dir) } else { SiteOptions::export(static_dir) };
    let site = Site::load(&args.folders.content, &options, &comments)?;
    let exported = export::export(&site, &args.out)?;
    println!("Wrote {} files ({} KB) to {}", exported.files, exported.bytes / 1024, args.out.display());
    Ok(())
}

fn set_password(args: &DataFolder) -> anyhow::Result<()> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!(
            "New staff password (at least {} characters): ",
            clinic_site::auth::password::PASSWORD_MIN
        ))?;
        let again = rpassword::prompt_password("Type it again: ")?;
        anyhow::ensure!(first == again, "the two passwords are different; nothing was changed");
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    clinic_site::auth::password::set_password(args, &password)?;
    // Sessions under the old password are refused anyway; deleting them
    // now leaves nothing of them behind.
    if args.comments_db().exists() {
        let ended = clinic_site::comments::store::Store::open(&args.comments_db())
            .map_err(anyhow::Error::from)
            .and_then(|_| Ok(clinic_site::auth::sessions::SessionStore::open(&args.comments_db())?.end_all()?));
        if let Err(e) = ended {
            eprintln!("warning: the old sessions are still stored ({e:#}); they are refused all the same");
        }
    }
    println!("The staff password is set. Sign in at /admin/login.");
    Ok(())
}

fn open_store(args: &DataFolder) -> anyhow::Result<Store> {
    let path = args.comments_db();
    Store::open_existing(&path)?
        .with_context(|| format!("there is no comments database at {}; check --data", path.display()))
}

fn export_comments(args: &DataFolder, format: ExportFormat) -> anyhow::Result<()> {
    let comments = open_store(args)?.all()?;
    let mut out = std::io::stdout().lock();
    match format {
        ExportFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&comments)?)?,
        ExportFormat::Csv => {
            writeln!(out, "id,page,name,created,status,flagged,body,reply")?;
            for c in &comments {
                let created = format!("{} ({})", Date::from_unix(c.created_at).iso(), c.created_at);
                let fields = [
                    c.id.to_string(),
                    c.page.clone(),
                    c.name.clone(),
                    created,
                    c.status.as_str().to_string(),
                    c.flagged.to_string(),
                    c.body.clone(),
                    c.reply.clone().unwrap_or_default(),
                ];
                writeln!(out, "{}", fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","))?;
            }
        }
    }
    Ok(())
}

/// RFC 4180 quoting, plus a leading quote for cells a spreadsheet would
/// run as a formula (a reader could type `=HYPERLINK(...)`).
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) { format!("'{value}") } else { value.to_string() };
    if value.contains([',', '"', '\n', '\r']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

fn delete_comment(args: &DataFolder, id: i64) -> anyhow::Result<()> {
    match open_store(args)?.delete(id)? {
        Some(comment) => {
            println!(
                "Deleted comment {id} (left on {} on {}). A running server removes it from the page within seconds.",
                comment.page,
                Date::from_unix(comment.created_at).long()
            );
            Ok(())
        }
        None => anyhow::bail!("there is no comment number {id}; `clinic-site comments export` lists them"),
    }
}

/// Content errors print in the `check` format, with the offending line and
/// a hint; any other failure prints its chain of causes once, without a
/// backtrace.
fn report(err: &anyhow::Error) {
    if let Some(content) = err.downcast_ref::<ContentErrors>() {
        eprint!("{}", clinic_site::content::format_text(&content.0));
        eprintln!("{}", content.to_string().lines().last().unwrap_or_default());
        return;
    }
    eprintln!("error: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("  because: {cause}");
    }
}
