//! HTTP transport: the router, shared state and the server loop. Pages,
//! files and cards are looked up in the current [`Site`], ready to send;
//! only what differs per visitor (comment forms, staff pages, error pages)
//! is rendered per request.

mod admin;
mod comments;
mod connections;
mod counting;
mod dev;
mod error;
mod feedback;
mod headers;
mod limit;
pub mod log;
mod pages;
mod reader_form;
mod respond;
mod service;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, TraceLayer};
use tracing::Level;

use crate::auth::StaffStore;
use crate::comments::store::Store;
use crate::comments::token::Secret;
use crate::config::Config;
use crate::feedback::FeedbackStore;
use crate::figures::store::FiguresStore;
use crate::figures::{Counter, Figures};
use crate::site::{Site, SiteHandle, SiteOptions};
use crate::urls;
use crate::workspace::Workspace;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub site: Arc<SiteHandle>,
    pub config: Arc<Config>,
    pub comments: Arc<Store>,
    /// Signs comment forms.
    pub secret: Secret,
    pub limits: Arc<Limits>,
    /// Staff accounts, sessions and the activity record, in the same database.
    pub staff: Arc<StaffStore>,
    /// Page files saved from the browser and their history, in the same
    /// database.
    pub workspace: Arc<Workspace>,
    /// Readers' feedback and problem reports, in the same database.
    pub feedback: Arc<FeedbackStore>,
    /// Reading figures: counted since the last write (nothing with
    /// `--no-counting`), and those written so far, in the same database.
    pub figures: Arc<Figures>,
}

pub use counting::{FLUSH_EVERY, flush_figures};

/// Per-client limits on what costs us or readers something.
pub struct Limits {
    pub comments: limit::RateLimiter,
    /// Failed staff sign-ins from one client.
    pub logins: limit::RateLimiter,
    /// Failed staff sign-ins with one username, whoever tries it (the
    /// username as typed, lower-cased, known or not, so the answer does
    /// not tell which usernames exist).
    pub account_logins: limit::RateLimiter<String>,
    /// Feedback answers and problem reports stored from one client.
    pub feedback: limit::RateLimiter,
    /// Password checks running at once, for every client together.
    pub password_checks: crate::auth::password::PasswordChecks,
}

/// Failed sign-ins allowed from one client in [`LOGIN_WINDOW`].
pub const LOGINS_PER_CLIENT: usize = 5;
/// Failed sign-ins allowed for one username, from anywhere, in
/// [`LOGIN_WINDOW`]: more than one person's typos, few enough that
/// guessing from many addresses gets nowhere.
pub const LOGINS_PER_ACCOUNT: usize = 10;
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Feedback answers and problem reports one client may send in
/// [`FEEDBACK_WINDOW`]: a reader answering on every page of a long article
/// stays under it; a script filling the counts does not get far.
pub const FEEDBACK_PER_CLIENT: usize = 20;
pub const FEEDBACK_WINDOW: Duration = Duration::from_secs(10 * 60);

impl AppState {
    /// Opens the data folder and renders the content; the errors say which
    /// file to fix.
    pub fn load(config: Config) -> anyhow::Result<AppState> {
        std::fs::create_dir_all(&config.data.dir)
            .with_context(|| format!("cannot create the data folder {}", config.data.dir.display()))?;
        let comments = Store::open(&config.data.comments_db())?;
        let staff = StaffStore::open(&config.data.comments_db())
            .with_context(|| format!("cannot open the staff accounts in {}", config.data.comments_db().display()))?;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        if let Some(owner) =
            staff.upgrade_shared_password(&config.data, now).context("cannot upgrade the shared staff password")?
        {
            tracing::warn!(
                "the shared staff password is now the account \"{}\" (role: owner): sign in with that username and the same password, then add everyone else at /admin/staff",
                owner.username
            );
        }
        let secret_path = config.data.form_key();
        let secret = Secret::load_or_create(&secret_path)
            .with_context(|| format!("cannot read or create the form-signing key {}", secret_path.display()))?;
        let site = Site::load(&config.folders.content, &SiteOptions::for_server(&config), &comments.approved()?)?;
        if !site.warnings.is_empty() {
            tracing::warn!(
                "the content has warnings (the site is running):\n{}",
                crate::content::format_text(&site.warnings)
            );
        }
        let workspace = Workspace::open(&config.data.comments_db(), &config.folders.content)
            .with_context(|| format!("cannot open the page history in {}", config.data.comments_db().display()))?;
        // Pages edited while the server was off are recorded now, so their
        // history has no holes; the history is not worth refusing to serve
        // the site for.
        match workspace.record_outside_edits(now) {
            Ok(0) => {}
            Ok(found) => tracing::info!("recorded {found} page(s) changed outside the workspace"),
            Err(e) => tracing::warn!("cannot record pages changed while the server was off: {e}"),
        }
        let feedback = FeedbackStore::open(&config.data.comments_db())
            .with_context(|| format!("cannot open readers' feedback in {}", config.data.comments_db().display()))?;
        let figures = FiguresStore::open(&config.data.comments_db())
            .with_context(|| format!("cannot open the reading figures in {}", config.data.comments_db().display()))?;
        let counter = (!config.no_counting).then(Counter::default);
        let limits = Limits {
            comments: limit::RateLimiter::new(config.comment_limit, Duration::from_secs(10 * 60)),
            logins: limit::RateLimiter::new(LOGINS_PER_CLIENT, LOGIN_WINDOW),
            account_logins: limit::RateLimiter::new(LOGINS_PER_ACCOUNT, LOGIN_WINDOW),
            feedback: limit::RateLimiter::new(FEEDBACK_PER_CLIENT, FEEDBACK_WINDOW),
            password_checks: crate::auth::password::PasswordChecks::for_this_machine(),
        };
        Ok(AppState {
            site: Arc::new(SiteHandle::new(site)),
            config: Arc::new(config),
            comments: Arc::new(comments),
            secret,
            limits: Arc::new(limits),
            staff: Arc::new(staff),
            workspace: Arc::new(workspace),
            feedback: Arc::new(feedback),
            figures: Arc::new(Figures { counter, store: figures }),
        })
    }
}

/// Puts the current approved comments on the pages.
pub async fn publish_comments(state: &AppState) {
    let (site, store) = (state.site.clone(), state.comments.clone());
    // The approval's time, for `Last-Modified`: the republish itself reads
    // no clock and no files.
    let now = std::time::SystemTime::now();
    let published = tokio::task::spawn_blocking(move || site.republish(|| store.approved_or_none(), now)).await;
    if let Err(e) = published {
        tracing::error!("publishing comments failed: {e}");
    }
}

/// Every staff address, who may use it and the methods it answers: for
/// the role matrix test, which walks them all.
pub fn staff_routes() -> Vec<(&'static str, crate::auth::Need, &'static [axum::http::Method])> {
    admin::routes().into_iter().map(|route| (route.path, route.need, route.methods)).collect()
}

/// The whole application as a plain function, so tests can call it without
/// a socket.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    if state.config.dev {
        router = router.route(urls::DEV_EVENTS, get(dev::events));
    }
    router
        .merge(comments::router())
        .merge(feedback::router())
        .merge(admin::router(&state))
        .route(
            urls::SHARE_BEACON,
            axum::routing::post(counting::share_beacon)
                .layer(axum::extract::DefaultBodyLimit::max(counting::BEACON_LIMIT)),
        )
        .route(urls::HEALTHZ, get(pages::healthz))
        .route(urls::SITEMAP, get(pages::sitemap))
        .route(urls::ROBOTS, get(pages::robots))
        .route(&format!("{}{{*card}}", urls::CARDS), get(pages::card))
        .route(&format!("{}{{*path}}", urls::STATIC), get(pages::asset))
        .fallback(pages::page)
        .layer(axum::extract::DefaultBodyLimit::max(comments::BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(axum::middleware::from_fn(headers::paths))
        // Outside every handler and `paths`, so each error becomes the
        // friendly page here and only here.
        .layer(axum::middleware::map_response_with_state(state.clone(), error::error_page))
        // Outside the error pages, so they are compressed too.
        .layer(axum::middleware::from_fn(respond::compress))
        .layer(axum::middleware::map_response_with_state(state.clone(), headers::security))
        // A span for what handlers log, naming the request; the access
        // line itself is written by `service` for every request, routed or
        // not.
        .layer(TraceLayer::new_for_http().make_span_with(DefaultMakeSpan::new().level(Level::INFO)).on_response(()))
        .with_state(state)
}

/// A whole request, body included, must be done in this time.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long requests in flight get to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves until Ctrl-C or SIGTERM, then lets requests in flight finish.
///
/// The accept loop is hyper's own rather than `axum::serve`, for the two
/// limits a public server needs that `axum::serve` does not offer: a time
/// limit on reading request headers (so slow clients cannot hold
/// connections open) and a cap on open connections, past which a client
/// gets a short 503 instead of waiting. Each client also has its own cap
/// (see [`connections`]), checked first, so one client over its share is
/// told so without taking one of the shared slots.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let addr = config.listen_addr();
    let state = AppState::load(config)?;
    crate::util::memory::release_free_memory();
    // Dropping the watcher stops it, so it lives as long as the server.
    let _watcher =
        crate::watch::spawn(&state.config, state.site.clone(), state.comments.clone(), state.workspace.clone())?;
    tokio::spawn(watch_database(state.clone()));
    tokio::spawn(delete_rejected_regularly(state.clone()));
    tokio::spawn(counting::flush_regularly(state.clone()));
    let flushing = state.clone();
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr().context("cannot read the address being listened on")?;
    tracing::info!("serving the site at http://{local}/");

    let header_timeout = Duration::from_secs(state.config.header_timeout.max(1));
    let slots = Arc::new(tokio::sync::Semaphore::new(state.config.max_connections.max(1)));
    let per_client = state.config.connections_per_client().map(connections::ConnectionLimit::new);
    if state.config.trust_proxy && state.config.max_connections_per_client > 0 {
        tracing::info!(
            "no per-client connection limit with --trust-proxy: every connection comes from the proxy, which must limit connections per client itself"
        );
    }
    let service = service::Service::new(state);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown_signal());
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait, don't spin.
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Before a byte is read, so an idle or half-sent connection counts too.
        let client = match &per_client {
            Some(limit) => match limit.try_open(remote.ip()) {
                Some(open) => Some(open),
                None => {
                    tracing::debug!("refused a connection from {remote}: too many open from that client");
                    tokio::spawn(refuse(stream, TOO_MANY_FROM_CLIENT));
                    continue;
                }
            },
            None => None,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream, BUSY));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = service.clone();
        let answer = hyper::service::service_fn(move |request| service.clone().call(request, remote));
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(TokioIo::new(stream), answer);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("connection from {remote} ended: {e}");
            }
            drop(slot);
            drop(client);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("stopped"),
        () = tokio::time::sleep(SHUTDOWN_GRACE) => tracing::warn!("stopped with requests still in flight after {SHUTDOWN_GRACE:?}"),
    }
    // After the last request, so every reading served is in the figures.
    flush_figures(&flushing).await;
    Ok(())
}

/// A refusal sent on a raw connection, before any request is read: plain
/// and short, and telling browsers when to try again.
struct Refusal {
    status: &'static str,
    body: &'static str,
}

/// Every shared connection slot is taken.
const BUSY: Refusal = Refusal {
    status: "503 Service Unavailable",
    body: "The site is very busy right now. Please try again in a few seconds.\n",
};

/// This client has its whole share of connections open. 429 rather than
/// 503: the site has room and only this client is over its share, and
/// anyone counting status codes (an uptime check, a CDN) can tell the two
/// apart (503: the site is full, raise --max-connections; 429: one client
/// holds too many connections, nothing to change).
const TOO_MANY_FROM_CLIENT: Refusal = Refusal {
    status: "429 Too Many Requests",
    body: "Too many connections to this site are open from your network. Please try again in a few seconds.\n",
};

async fn refuse(mut stream: tokio::net::TcpStream, refusal: Refusal) {
    let Refusal { status, body } = refusal;
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nretry-after: 5\r\ncache-control: no-store\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), stream.write_all(response.as_bytes())).await;
}

/// `clinic-site comments delete` works on the database directly while the
/// server runs; notice such changes and republish, so a comment deleted for
/// a privacy request leaves the live pages within seconds.
async fn watch_database(state: AppState) {
    let mut seen = None;
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        tick.tick().await;
        let store = state.comments.clone();
        let Ok(Ok(version)) = tokio::task::spawn_blocking(move || store.data_version()).await else { continue };
        if seen.is_some_and(|seen| seen != version) {
            publish_comments(&state).await;
        }
        seen = Some(version);
    }
}

/// How often rejected comments past their time are looked for; the first
/// look is at start-up.
const RETENTION_CHECK: Duration = Duration::from_secs(60 * 60);

async fn delete_rejected_regularly(state: AppState) {
    let mut tick = tokio::time::interval(RETENTION_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        if let Err(e) = delete_old_rejected_comments(&state, now).await {
            tracing::error!("deleting old rejected comments failed: {e:#}");
        }
    }
}

/// Deletes the comments rejected longer ago than `[comments]
/// delete_rejected_after_days` in the current `site.toml`, as of `now`;
/// how many. They are never shown, so no page changes.
pub async fn delete_old_rejected_comments(state: &AppState, now: i64) -> anyhow::Result<usize> {
    let days = state.site.load().settings.comments.delete_rejected_after_days;
    let store = state.comments.clone();
    let deleted = tokio::task::spawn_blocking(move || store.delete_rejected(days, now)).await??;
    if deleted > 0 {
        tracing::info!(deleted, days, "deleted rejected comments older than the site's setting");
    }
    Ok(deleted)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

#[cfg(test)]
mod tests {
    /// Every route the router registers is an address from `urls`, whose
    /// first segments pages and old addresses may not take; a route typed
    /// here as a literal could be shadowed by, or shadow, a page.
    #[test]
    fn every_route_is_an_address_from_urls() {
        let call = concat!(".", "route(");
        for (file, source) in [
            ("mod.rs", include_str!("mod.rs")),
            ("comments.rs", include_str!("comments.rs")),
            ("feedback.rs", include_str!("feedback.rs")),
        ] {
            let routes: Vec<&str> = source.split(call).skip(1).map(str::trim_start).collect();
            assert!(!routes.is_empty() || file == "mod.rs", "{file} registers no routes");
            for route in routes {
                assert!(
                    route.starts_with("urls::") || route.starts_with("&format!(\"{}"),
                    "{file}: route not built from urls: {}",
                    &route[..route.len().min(60)]
                );
            }
        }
    }
}
