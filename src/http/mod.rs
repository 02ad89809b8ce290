//! HTTP transport: the router, shared state and the server loop. Handlers
//! only look things up in the current [`Site`]; nothing is rendered per
//! request.

mod dev;
mod error;
mod headers;
mod pages;

use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::handler::Handler;
use axum::routing::get;
use tower_http::services::ServeDir;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::config::Config;
use crate::site::{Site, SiteHandle, SiteOptions};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub site: Arc<SiteHandle>,
    pub config: Arc<Config>,
}

impl AppState {
    /// Loads and renders the content; the errors say which file to fix.
    pub fn load(config: Config) -> anyhow::Result<AppState> {
        let site = Site::load(&config.content, &config.site_options())?;
        if !site.warnings.is_empty() {
            tracing::warn!("the content has warnings (the site is running):\n{}", crate::check::format_text(&site.warnings));
        }
        Ok(AppState { site: Arc::new(SiteHandle::new(site)), config: Arc::new(config) })
    }
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
    let _watcher = crate::watch::spawn(&state.config, state.site.clone())?;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr().context("cannot read the address being listened on")?;
    tracing::info!("serving the site at http://{local}/");
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown_signal()).await.context("the server stopped with an error")?;
    tracing::info!("stopped");
    Ok(())
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
