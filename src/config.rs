//! Runtime settings: where to listen and where the files are. What the site
//! says lives in `content/site.toml` instead, where staff can edit it.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use clap::Args;

/// The folders staff edit: what the site says and the files it serves.
/// Shared by `serve`, `check` and `build`.
#[derive(Debug, Clone, Args)]
pub struct Folders {
    /// Folder with site.toml, sources.toml and the article folders.
    #[arg(long, env = "CLINIC_CONTENT", default_value = "content", value_name = "DIR")]
    pub content: PathBuf,

    /// Folder of stylesheets, scripts and images served under /static/
    /// (images that pages use are checked against it).
    #[arg(long = "static", env = "CLINIC_STATIC", default_value = "static", value_name = "DIR")]
    pub static_dir: PathBuf,
}

/// The server's own folder: comments, the form-signing key and the staff
/// password, created on first run. Every file in it is named here once.
#[derive(Debug, Clone, Args)]
pub struct DataFolder {
    /// The site's data folder.
    #[arg(long = "data", env = "CLINIC_DATA", default_value = "data", value_name = "DIR")]
    pub dir: PathBuf,
}

impl DataFolder {
    pub fn new(dir: &Path) -> Self {
        DataFolder { dir: dir.to_path_buf() }
    }

    /// Readers' comments (SQLite).
    pub fn comments_db(&self) -> PathBuf {
        self.dir.join("comments.db")
    }

    /// Compressed pages and cards kept between builds and starts (see
    /// `cache`); safe to delete at any time.
    pub fn cache_dir(&self) -> PathBuf {
        self.dir.join("cache")
    }

    /// The key that signs comment forms.
    pub(crate) fn form_key(&self) -> PathBuf {
        self.dir.join("secret.key")
    }

    /// The shared staff password's Argon2 hash, from versions before staff
    /// accounts: read once, when it becomes the account `owner`, then deleted.
    pub(crate) fn staff_password(&self) -> PathBuf {
        self.dir.join("admin-password")
    }
}

/// Settings for `serve`. Each one can also come from an environment
/// variable, for hosts that configure programs that way.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on, as HOST:PORT (use 0.0.0.0:PORT to accept
    /// connections from other machines).
    #[arg(long, env = "CLINIC_ADDR", value_name = "HOST:PORT")]
    pub addr: Option<SocketAddr>,

    /// Port to listen on at 127.0.0.1 when --addr is not given.
    #[arg(long, env = "PORT", default_value_t = 3000)]
    pub port: u16,

    #[command(flatten)]
    pub folders: Folders,

    #[command(flatten)]
    pub data: DataFolder,

    /// Trust X-Forwarded-For from a reverse proxy in front of this server
    /// to tell readers apart for rate limits. Only set it behind a proxy
    /// that sets the header itself, or readers could claim any address.
    #[arg(long, env = "CLINIC_TRUST_PROXY")]
    pub trust_proxy: bool,

    /// How many comments one reader may send in 10 minutes.
    #[arg(long, env = "CLINIC_COMMENT_LIMIT", default_value_t = 5, value_name = "N")]
    pub comment_limit: usize,

    /// Most connections served at once; more get a short "busy" answer.
    #[arg(long, env = "CLINIC_MAX_CONNECTIONS", default_value_t = 1024, value_name = "N")]
    pub max_connections: usize,

    /// Most connections one client (an IPv4 address, or an IPv6 /64) may
    /// have open at once; more get a short "too many connections" answer,
    /// so one client cannot take every slot. 0 for no limit. Off with
    /// --trust-proxy, where every connection comes from the proxy: the
    /// proxy must limit connections per client itself.
    #[arg(long, env = "CLINIC_MAX_CONNECTIONS_PER_CLIENT", default_value_t = 64, value_name = "N")]
    pub max_connections_per_client: usize,

    /// Seconds a client may take to send a request's headers.
    #[arg(long, env = "CLINIC_HEADER_TIMEOUT", default_value_t = 10, value_name = "SECS")]
    pub header_timeout: u64,

    /// Count nothing: no page views, referring sites or shares (see the
    /// privacy notice). For clinics that want no figures, and for
    /// benchmarks.
    #[arg(long, env = "CLINIC_NO_COUNTING")]
    pub no_counting: bool,

    /// Preview mode for staff: show drafts, reload open pages when content
    /// changes, and show content errors in the browser. Never use it for
    /// the public site.
    #[arg(long)]
    pub dev: bool,
}

impl Config {
    pub(crate) fn listen_addr(&self) -> SocketAddr {
        self.addr.unwrap_or(SocketAddr::from((Ipv4Addr::LOCALHOST, self.port)))
    }

    /// The per-client connection limit, if there is one. Behind a proxy the
    /// connection's address is the proxy's, shared by every reader, so a
    /// limit here would only cap the proxy as a whole, which
    /// `max_connections` already does.
    pub(crate) fn connections_per_client(&self) -> Option<usize> {
        (self.max_connections_per_client > 0 && !self.trust_proxy).then_some(self.max_connections_per_client)
    }

    /// Settings for tests: the repository's own folders, any free port and
    /// the given data folder (a fresh one per test).
    pub fn for_test(data: &std::path::Path) -> Config {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        Config {
            addr: Some(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))),
            port: 0,
            folders: Folders { content: root.join("content"), static_dir: root.join("static") },
            data: DataFolder::new(data),
            trust_proxy: false,
            comment_limit: 5,
            max_connections: 1024,
            max_connections_per_client: 64,
            header_timeout: 10,
            no_counting: false,
            dev: false,
        }
    }

    /// The same settings with another content folder (tests and tools).
    pub fn with_content(mut self, content: &Path) -> Config {
        self.folders.content = content.to_path_buf();
        self
    }
}
