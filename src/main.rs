//! The `clinic-site` command: parse the command line, run, and on failure
//! print what went wrong in words staff can act on.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use clinic_site::auth::activity::Filter;
use clinic_site::auth::{Actor, AuthError, Kind, NewAccount, Role, Roles, StaffStore};
use clinic_site::cache::Cache;
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
    /// Staff accounts: add people, list them, disable them, set passwords.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// The record of what staff did.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Readers' comments, for the clinic's records and privacy requests.
    #[command(subcommand)]
    Comments(CommentsCommand),
    /// Pages that need a clinical review: never reviewed, changed since
    /// review, due within 30 days or overdue, and changes waiting for
    /// review. For a clinic's reminder job; always exits 0.
    Reviews(ReviewsArgs),
    /// The quality report: per page, its clinical review, sources, claim
    /// warnings, reading grades, helpfulness, views and open problem
    /// reports. The evidence a clinic shows an assessor.
    Report(ReportArgs),
}

#[derive(Args)]
struct ReportArgs {
    /// The content and static folders the site is built from.
    #[command(flatten)]
    folders: Folders,

    /// `text` for people (and printing), `json` for scripts.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// The data folder, for sign-offs, changes waiting, feedback and views.
    #[command(flatten)]
    data: DataFolder,
}

#[derive(Args)]
struct ReviewsArgs {
    /// Folder with site.toml, sources.toml and the article folders.
    #[arg(long, env = "CLINIC_CONTENT", default_value = "content", value_name = "DIR")]
    content: PathBuf,

    /// `text` for people, `json` for scripts.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// The data folder, for the sign-offs and changes waiting.
    #[command(flatten)]
    data: DataFolder,
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Add a person, with their password asked for on the terminal (twice)
    /// or read from the first line of standard input.
    Add {
        /// What they type to sign in, like jane.smith.
        username: String,
        /// Their full name, as colleagues (and, for reviewers, readers) know them.
        #[arg(long)]
        name: String,
        /// moderator, editor, reviewer or owner; repeat for several.
        #[arg(long = "role", required = true, value_name = "ROLE")]
        roles: Vec<String>,
        /// Shown after a reviewer's name to readers, like "DPT".
        #[arg(long, default_value = "")]
        credentials: String,
        #[command(flatten)]
        data: DataFolder,
    },
    /// Everyone who can sign in, with their roles and state.
    List(DataFolder),
    /// Stop a person signing in and end their sessions; their history stays.
    Disable {
        username: String,
        #[command(flatten)]
        data: DataFolder,
    },
    /// Let a disabled person sign in again (they need a new password).
    Enable {
        username: String,
        #[command(flatten)]
        data: DataFolder,
    },
    /// Set a new password for a person (asked for like `staff add`); their
    /// sessions end.
    ResetPassword {
        username: String,
        #[command(flatten)]
        data: DataFolder,
    },
    /// Turn off a person's two-step sign-in, for when they lost both their
    /// phone and their recovery codes.
    TurnOffTwoStep {
        username: String,
        #[command(flatten)]
        data: DataFolder,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Write the activity record as CSV to standard output, oldest first.
    Export {
        /// Only what happened on or after this day (YYYY-MM-DD, UTC).
        #[arg(long, value_name = "DATE")]
        since: Option<Date>,
        #[command(flatten)]
        data: DataFolder,
    },
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

    /// Where to write the site. A folder an earlier build wrote is updated
    /// in place (only changed files are written); any other is replaced as
    /// a whole when the build succeeds.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,

    /// Data folder of the running site, for its approved comments (read
    /// only; a missing database means no comments), and where compressed
    /// pages and cards are kept between builds (`cache/` in it).
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
    // Dropped last, when `main` returns: writes what the log still holds.
    let _log = start_logging(matches!(cli.command, None | Some(Command::Serve(_))));
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
        Some(Command::Staff(command)) => staff(command),
        Some(Command::Audit(AuditCommand::Export { since, data })) => export_audit(&data, since),
        Some(Command::Comments(CommentsCommand::Export { format, data })) => export_comments(&data, format),
        Some(Command::Comments(CommentsCommand::Delete { id, data })) => delete_comment(&data, id),
        Some(Command::Reviews(args)) => reviews(&args),
        Some(Command::Report(args)) => quality_report(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            report(&err);
            ExitCode::FAILURE
        }
    }
}

/// The server's log goes through a buffer written out by a thread of its
/// own (see `http::log`), so no request waits for the terminal or the disk.
/// Other commands log straight away, in order with what they print.
fn start_logging(serving: bool) -> Option<clinic_site::http::log::Guard> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::stdout().is_terminal();
    let log = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_ansi(ansi);
    if !serving {
        log.init();
        return None;
    }
    let (writer, guard) = clinic_site::http::log::start(std::io::stdout());
    log.with_writer(writer).init();
    Some(guard)
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
    let mut options =
        if args.allow_placeholders { SiteOptions::public(static_dir) } else { SiteOptions::export(static_dir) };
    // The cache lives in the site's data folder; a build is not the one to
    // create that folder (a mistyped --data would leave a stray one).
    if args.data.dir.is_dir() {
        options.cache = Some(Cache::open(&args.data.cache_dir(), "build"));
    } else {
        eprintln!(
            "note: no data folder at {}, so nothing is cached and the next build starts from nothing too; give the site's data folder with --data",
            args.data.dir.display()
        );
    }
    let started = std::time::Instant::now();
    let site = Site::load(&args.folders.content, &options, &comments)?;
    let loaded = started.elapsed();
    let exported = export::export(&site, &args.out)?;
    let written = started.elapsed();
    if let Some(cache) = &options.cache {
        let removed = cache.finish();
        let stats = cache.stats();
        tracing::debug!(
            "cache: {} read, {} made, {} damaged and made again, {removed} unused deleted",
            stats.hits,
            stats.misses,
            stats.damaged
        );
    }
    tracing::debug!(
        "site built in {} ms, written in {} ms, cache cleaned in {} ms",
        loaded.as_millis(),
        (written - loaded).as_millis(),
        (started.elapsed() - written).as_millis()
    );
    // What a person uploading the folder needs: how much is there, and how
    // much of it changed since the last build.
    println!(
        "{} holds the site: {} files ({} KB); {} new or changed, {} removed since the last build",
        args.out.display(),
        exported.files,
        exported.bytes / 1024,
        exported.changed,
        exported.removed
    );
    Ok(())
}

/// The review queue, as `/admin/reviews` shows it.
fn reviews(args: &ReviewsArgs) -> anyhow::Result<()> {
    use clinic_site::workspace::{QueueItem, Workspace};
    std::fs::create_dir_all(&args.data.dir)
        .with_context(|| format!("cannot create the data folder {}", args.data.dir.display()))?;
    Store::open(&args.data.comments_db())?;
    let workspace = Workspace::open(&args.data.comments_db(), &args.content)
        .with_context(|| format!("cannot open the pages in {}", args.content.display()))?;
    let queue = workspace.review_queue(Date::from_unix(now()))?;
    if matches!(args.format, Format::Json) {
        println!("{}", serde_json::to_string_pretty(&queue)?);
        return Ok(());
    }
    let mut out = String::new();
    let mut group = |heading: &str, items: &[QueueItem]| {
        out.push_str(&format!("{heading} ({})\n", items.len()));
        for item in items {
            let mut line = format!("  {}: {}", item.file, item.title);
            if let Some(id) = item.pending_revision {
                line.push_str(&format!(" (change waiting: revision {id})"));
            } else if let (Some(by), Some(on)) = (&item.last_reviewed_by, &item.last_reviewed) {
                line.push_str(&format!(" (last review by {by} on {on}"));
                if let Some(next) = &item.next_review {
                    line.push_str(&format!(", due {next}"));
                }
                line.push(')');
            }
            out.push_str(&line);
            out.push('\n');
        }
    };
    group("Changes waiting for review", &queue.pending);
    group("Changed since review", &queue.changed_since_review);
    group("Never reviewed", &queue.never_reviewed);
    group("Review due within 30 days or overdue", &queue.due);
    print!("{out}");
    Ok(())
}

/// The quality report, as `/admin/quality` shows it.
fn quality_report(args: &ReportArgs) -> anyhow::Result<()> {
    use clinic_site::feedback::FeedbackStore;
    use clinic_site::figures::store::FiguresStore;
    use clinic_site::quality::{self, Inputs};
    use clinic_site::workspace::Workspace;
    let content = &args.folders.content;
    anyhow::ensure!(
        content.is_dir(),
        "there is no content folder at {}; give the folder with site.toml and the article folders with --content",
        content.display()
    );
    // Built as the server builds it, so the report is of the pages readers get.
    let site = Site::load(content, &SiteOptions::public(&args.folders.static_dir), &[])?;
    let db = args.data.comments_db();
    let new = !db.exists();
    std::fs::create_dir_all(&args.data.dir)
        .with_context(|| format!("cannot create the data folder {}", args.data.dir.display()))?;
    Store::open(&db)?;
    if new {
        eprintln!(
            "note: there was no database at {}, so a new, empty one was made: no sign-offs, feedback or views to report. If the site has them, give its data folder with --data.",
            db.display()
        );
    }
    let workspace =
        Workspace::open(&db, content).with_context(|| format!("cannot open the page history in {}", db.display()))?;
    let feedback =
        FeedbackStore::open(&db).with_context(|| format!("cannot open readers' feedback in {}", db.display()))?;
    let figures =
        FiguresStore::open(&db).with_context(|| format!("cannot open the reading figures in {}", db.display()))?;
    let inputs = Inputs {
        site: &site,
        content_dir: content,
        workspace: &workspace,
        feedback: &feedback,
        figures: &figures,
        now: now(),
    };
    let report = quality::build(&inputs)?;
    let out = match args.format {
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&report)?),
        Format::Text => report.text(),
    };
    // A closed pipe (`report | head`) is not worth a crash.
    let _ = std::io::stdout().write_all(out.as_bytes());
    Ok(())
}

/// A new password, asked for on the terminal (hidden, twice) or read from
/// the first line of standard input, for scripts.
fn read_password(account: &str, personal: &[&str]) -> anyhow::Result<String> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!(
            "New password for {account} (at least {} characters): ",
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
    clinic_site::auth::password::acceptable(&password, personal)
        .map_err(|why| anyhow::anyhow!("{why}; nothing was changed"))?;
    Ok(password)
}

/// The data folder's staff accounts, its database created or brought up
/// to date, and a shared password from an earlier version upgraded.
fn open_staff(data: &DataFolder) -> anyhow::Result<StaffStore> {
    std::fs::create_dir_all(&data.dir)
        .with_context(|| format!("cannot create the data folder {}", data.dir.display()))?;
    Store::open(&data.comments_db())?;
    let staff = StaffStore::open(&data.comments_db())?;
    if let Some(owner) = staff.upgrade_shared_password(data, now())? {
        eprintln!("note: the shared staff password is now the account \"{}\" (role: owner)", owner.username);
    }
    Ok(staff)
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn staff(command: StaffCommand) -> anyhow::Result<()> {
    let by = Actor::command_line();
    match command {
        StaffCommand::Add { username, name, roles, credentials, data } => {
            let roles = roles.iter().try_fold(Roles::default(), |set, name| {
                Role::parse(name).map(|role| set.with(role)).ok_or_else(|| anyhow::anyhow!("{}", Role::unknown(name)))
            })?;
            let new = NewAccount::parse(&username, &name, &credentials, roles)?;
            let staff = open_staff(&data)?;
            if staff.find(&new.username)?.is_some() {
                return Err(AuthError::UsernameTaken(new.username).into());
            }
            let password = read_password(&new.username, &[&new.username, &new.name])?;
            let hash = clinic_site::auth::password::hash(&password)?;
            let account = staff.add(&new, Some(&hash), &by, now())?;
            println!(
                "Added {} as {} ({}). They can sign in at /admin/login.",
                account.signature(),
                account.username,
                account.roles.describe()
            );
        }
        StaffCommand::List(data) => {
            let staff = open_staff(&data)?;
            let accounts = staff.accounts()?;
            if accounts.is_empty() {
                println!(
                    "No one yet. Add the first owner with: clinic-site staff add USERNAME --name \"Full Name\" --role owner"
                );
            }
            for account in accounts {
                let state = if account.disabled {
                    "disabled"
                } else if !account.has_password {
                    "waiting to set a password"
                } else {
                    "active"
                };
                let two_step = if account.two_step { ", two-step on" } else { "" };
                println!(
                    "{:<20} {:<30} {:<28} {state}{two_step}",
                    account.username,
                    account.signature(),
                    account.roles.describe()
                );
            }
        }
        StaffCommand::Disable { username, data } => {
            let staff = open_staff(&data)?;
            let account = staff.require(&username)?;
            staff.set_disabled(account.id, true, &by, now())?;
            println!(
                "Disabled {}: their sessions have ended and they cannot sign in. Their history stays.",
                account.label()
            );
        }
        StaffCommand::Enable { username, data } => {
            let staff = open_staff(&data)?;
            let account = staff.require(&username)?;
            staff.set_disabled(account.id, false, &by, now())?;
            println!(
                "Enabled {}. Set them a new password with `clinic-site staff reset-password {}`.",
                account.label(),
                account.username
            );
        }
        StaffCommand::ResetPassword { username, data } => {
            let staff = open_staff(&data)?;
            let account = staff.require(&username)?;
            let password = read_password(&account.username, &[&account.username, &account.name])?;
            let hash = clinic_site::auth::password::hash(&password)?;
            staff.set_password_hash(account.id, &hash, None, &by, Kind::PasswordReset, now())?;
            println!("The password of {} is set, and their sessions have ended.", account.label());
        }
        StaffCommand::TurnOffTwoStep { username, data } => {
            let staff = open_staff(&data)?;
            let account = staff.require(&username)?;
            staff.clear_two_step(&account, &by, now())?;
            println!(
                "Two-step sign-in is off for {}: they sign in with their password and can set it up again.",
                account.label()
            );
        }
    }
    Ok(())
}

fn export_audit(data: &DataFolder, since: Option<Date>) -> anyhow::Result<()> {
    let staff = open_staff(data)?;
    let filter = Filter { since: since.map(|day| day.days_since_epoch() as i64 * 86_400), ..Filter::default() };
    let mut out = std::io::stdout().lock();
    writeln!(out, "id,time,person_id,person,action,about,details")?;
    for entry in staff.activity_oldest_first(&filter)? {
        let fields = [
            entry.id.to_string(),
            clinic_site::util::date::moment_iso(entry.at),
            entry.account_id.map(|id| id.to_string()).unwrap_or_default(),
            entry.actor,
            entry.kind,
            entry.subject,
            entry.detail,
        ];
        writeln!(out, "{}", fields.iter().map(|f| clinic_site::util::csv::field(f)).collect::<Vec<_>>().join(","))?;
    }
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
                writeln!(
                    out,
                    "{}",
                    fields.iter().map(|f| clinic_site::util::csv::field(f)).collect::<Vec<_>>().join(",")
                )?;
            }
        }
    }
    Ok(())
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
