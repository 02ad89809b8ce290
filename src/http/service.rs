//! What each connection runs for each request, and the access log.
//!
//! Nearly every request a public site gets is for a page or a static file,
//! and both were prepared when the site was built. Those are answered here,
//! straight from the current site version: the path checked, one lookup,
//! the conditional headers compared, and the prepared bytes sent with the
//! same headers the router would give them. Everything else (forms, staff
//! pages, cards, the sitemap, redirects, errors, any request with a body,
//! every request under `--dev`) goes through the router and its layers, as
//! before. The limits that guard connections (header time-out, connection
//! caps) are the server loop's and apply to both.
//!
//! Both ways write the same access-log line ([`super::log`]).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use tower::ServiceExt;

use super::AppState;
use super::respond::{Cache, send};
use crate::urls;

/// Shared by every connection.
pub(super) struct Service {
    state: AppState,
    router: Router,
}

impl Service {
    pub(super) fn new(state: AppState) -> Arc<Service> {
        Arc::new(Service { router: super::router(state.clone()), state })
    }

    pub(super) async fn call(
        self: Arc<Self>,
        mut request: Request<Incoming>,
        remote: SocketAddr,
    ) -> Result<Response<Body>, Infallible> {
        let started = Instant::now();
        let method = request.method().clone();
        // Shares the request's bytes; kept for the log line.
        let uri = request.uri().clone();
        let response = match self.prepared(&request) {
            Some(response) => response,
            None => {
                request.extensions_mut().insert(ConnectInfo(remote));
                self.router.clone().oneshot(request).await?
            }
        };
        super::log::access(
            &method,
            uri.path(),
            response.status(),
            response.body().size_hint().exact(),
            started.elapsed(),
        );
        Ok(response)
    }

    /// The answer for a page or static file, without the router; `None`
    /// for anything else.
    fn prepared(&self, request: &Request<Incoming>) -> Option<Response<Body>> {
        let method = request.method();
        let plain = (method == Method::GET || method == Method::HEAD) && request.body().is_end_stream();
        if !plain || self.state.config.dev {
            return None;
        }
        let path = request.uri().path();
        // The same guard the router runs first; a path it refuses goes
        // there for its error page.
        if super::headers::path_problem(path).is_some() {
            return None;
        }
        let site = self.state.site.load();
        let (prepared, cache, page) = if let Some(page) = site.page(path) {
            (page, Cache::Page, true)
        } else if path.starts_with(urls::STATIC) {
            let file = site.assets.get(path)?;
            (file, if site.assets.is_fingerprinted(path) { Cache::Immutable } else { Cache::Short }, false)
        } else {
            return None;
        };
        let headers = request.headers();
        let mut response = send(prepared, StatusCode::OK, method, headers, cache, &site);
        super::headers::add_security(response.headers_mut(), site.settings.base_url.starts_with("https://"));
        if page {
            super::counting::page_served(&self.state, &site, path, method, headers, response.status());
        }
        Some(response)
    }
}
