//! HTTP transport: the router, shared state and the server loop. Handlers
//! only look things up in the current [`Site`]; nothing is rendered per
//! request.

mod admin;
mod comments;
mod dev;
mod error;
mod headers;
mod limit;
mod pages;

pub use admin::{PASSWORD_MIN, set_password};

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::handler::Handler;
use axum::routing::get;
use tower_http::services::ServeDir;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::comments::Comment;
use crate::comments::store::Store;
use crate::comments::token::Secret;
use crate::config::Config;
use crate::site::{Site, SiteHandle, SiteOptions};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub site: Arc<SiteHandle>,
    pub config: Arc<Config>,
    pub comments: Arc<Store>,
    /// Signs comment forms.
    pub secret: Secret,
    pub limits: Arc<Limits>,
    pub sessions: Arc<admin::Sessions>,
}

/// Per-client limits on what costs us or readers something.
pub struct Limits {
    pub comments: limit::RateLimiter,
    pub logins: limit::RateLimiter,
}

impl AppState {
    /// Opens the data folder and renders the content; the errors say which
    /// file to fix.
    pub fn load(config: Config) -> anyhow::Result<AppState> {
        std::fs::create_dir_all(&config.data).with_context(|| format!("cannot create the data folder {}", config.data.display()))?;
        let comments = Store::open(&config.database_path())?;
        let secret_path = config.data.join("secret.key");
        let secret = Secret::load_or_create(&secret_path).with_context(|| format!("cannot read or create the form-signing key {}", secret_path.display()))?;
        let site = Site::load(&config.content, &config.site_options(), &comments.approved()?)?;
        if !site.warnings.is_empty() {
            tracing::warn!("the content has warnings (the site is running):\n{}", crate::check::format_text(&site.warnings));
        }
        let limits = Limits {
            comments: limit::RateLimiter::new(config.comment_limit, Duration::from_secs(10 * 60)),
            logins: limit::RateLimiter::new(5, Duration::from_secs(15 * 60)),
        };
        Ok(AppState {
            site: Arc::new(SiteHandle::new(site)),
            config: Arc::new(config),
            comments: Arc::new(comments),
            secret,
            limits: Arc::new(limits),
            sessions: Arc::default(),
        })
    }
}

/// Puts the current approved comments on the pages.
pub async fn publish_comments(state: &AppState) {
    let (site, store) = (state.site.clone(), state.comments.clone());
    let published = tokio::task::spawn_blocking(move || {
        site.republish(|| {
            store.approved().unwrap_or_else(|e| {
                tracing::error!("reading approved comments failed: {e}");
                Vec::new()
            })
        })
    })
    .await;
    if let Err(e) = published {
        tracing::error!("publishing comments failed: {e}");
    }
}

/// Reads approved comments for a rebuild; a database failure shows the
/// pages without comments rather than stopping the rebuild.
pub fn approved_comments(store: &Store) -> Vec<Comment> {
    store.approved().unwrap_or_else(|e| {
        tracing::error!("reading approved comments failed: {e}");
        Vec::new()
    })
}

impl Config {
    pub fn site_options(&self) -> SiteOptions {
        SiteOptions { dev: self.dev, static_dir: self.static_dir.clone() }
    }
}

/// The whole application as a plain function, so tests can call it without
/// a socket.
pub fn router(state: AppState) -> Router {
    let not_found = pages::not_found.with_state(state.clone());
    let assets = ServeDir::new(&state.config.static_dir).not_found_service(not_found);
    let mut router = Router::new();
    if state.config.dev {
        router = router.route(dev::EVENTS, get(dev::events));
    }
    router
        .merge(comments::router())
        .merge(admin::router())
        .route("/healthz", get(pages::healthz))
        .route("/sitemap.xml", get(pages::sitemap))
        .route("/robots.txt", get(pages::robots))
        .route("/og/{*card}", get(pages::card))
        .nest_service("/static", assets)
        .fallback(pages::page)
        .layer(axum::middleware::map_response(headers::security))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// Serves until Ctrl-C or SIGTERM, then lets requests in flight finish.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let addr = config.listen_addr();
    let state = AppState::load(config)?;
    // Dropping the watcher stops it, so it lives as long as the server.
    let _watcher = crate::watch::spawn(&state.config, state.site.clone(), state.comments.clone())?;
    tokio::spawn(watch_database(state.clone()));
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr().context("cannot read the address being listened on")?;
    tracing::info!("serving the site at http://{local}/");
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the server stopped with an error")?;
    tracing::info!("stopped");
    Ok(())
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
