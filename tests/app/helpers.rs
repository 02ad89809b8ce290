//! Building the app on a content folder and sending it requests.

use std::path::Path;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use clinic_site::config::Config;
use clinic_site::http::{AppState, router};
use http_body_util::BodyExt;
use scraper::{Html, Selector};
use tower::ServiceExt;

/// The app with a fresh, empty data folder that lives as long as it does.
pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub data: tempfile::TempDir,
}

impl std::ops::Deref for TestApp {
    type Target = Router;
    fn deref(&self) -> &Router {
        &self.router
    }
}

impl TestApp {
    pub fn with_config(config: impl FnOnce(&Path) -> Config) -> TestApp {
        let data = tempfile::tempdir().expect("temp dir");
        let state = AppState::load(config(data.path())).expect("the app loads");
        TestApp { router: router(state.clone()), state, data }
    }
}

/// The app serving the repository's real `content/`.
pub fn real_app() -> TestApp {
    TestApp::with_config(Config::for_test)
}

/// The app serving a fixture folder under `tests/fixtures/`.
pub fn fixture_app(name: &str) -> TestApp {
    TestApp::with_config(|data| fixture_config_in(name, data))
}

/// A fixture's settings, with `data` as the data folder.
pub fn fixture_config_in(name: &str, data: &Path) -> Config {
    Config::for_test(data).with_content(&Path::new("tests/fixtures").join(name))
}

/// Loads a fixture that must be refused; its error as staff would read it.
pub fn load_error(name: &str) -> String {
    let data = tempfile::tempdir().expect("temp dir");
    match AppState::load(fixture_config_in(name, data.path())) {
        Ok(_) => panic!("{name} should be refused"),
        Err(err) => err.to_string(),
    }
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(|v| v.to_str().expect("header is text")).unwrap_or("")
    }

    pub fn html(&self) -> Html {
        Html::parse_document(&self.body)
    }
}

pub async fn get(app: &Router, path: &str) -> TestResponse {
    send(app, Method::GET, path).await
}

pub async fn send(app: &Router, method: Method, path: &str) -> TestResponse {
    let request = Request::builder().method(method).uri(path).body(Body::empty()).expect("valid request");
    let response = app.clone().oneshot(request).await.expect("the router never fails");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body reads").to_bytes();
    TestResponse { status, headers, body: String::from_utf8(bytes.to_vec()).expect("body is UTF-8") }
}

/// A request with headers and a form body, e.g. a form post from another
/// website.
pub async fn send_form(app: &Router, method: Method, path: &str, headers: &[(&str, &str)], form: &str) -> TestResponse {
    let mut builder =
        Request::builder().method(method).uri(path).header("content-type", "application/x-www-form-urlencoded");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(builder.body(Body::from(form.to_string())).expect("valid request"))
        .await
        .expect("the router never fails");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body reads").to_bytes();
    TestResponse { status, headers, body: String::from_utf8(bytes.to_vec()).expect("body is UTF-8") }
}

pub fn select<'a>(html: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    html.select(&Selector::parse(css).expect("valid selector")).collect()
}

/// Text of the first element matching `css`, with whitespace collapsed.
pub fn text_of(html: &Html, css: &str) -> String {
    select(html, css).first().map(|e| collapse(&e.text().collect::<String>())).unwrap_or_default()
}

pub fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The real article's pages in reading order, with the titles the clinic's
/// text gives them.
pub const ARTICLE: &[(&str, &str)] = &[
    ("/dry-needling/", "How Dry Needling Therapy Effectively Relieves Migraines and Chronic Pain"),
    ("/dry-needling/migraines/", "How Can Dry Needling Help Migraines?"),
    ("/dry-needling/chronic-pain/", "Benefits of Dry Needling for Chronic Pain"),
    ("/dry-needling/what-to-expect/", "What to Expect During a Dry Needling Session"),
    ("/dry-needling/who-can-benefit/", "Who Can Benefit from Dry Needling?"),
    ("/dry-needling/safety/", "Is Dry Needling Safe?"),
    ("/dry-needling/right-for-you/", "Final Thoughts: Is Dry Needling Right for You?"),
];

/// A `clinic-site` process on a free port, killed when dropped.
pub struct Server {
    child: std::process::Child,
    pub addr: std::net::SocketAddr,
    /// Everything the server has logged so far.
    pub log: std::sync::Arc<std::sync::Mutex<String>>,
    pub data: tempfile::TempDir,
}

impl Server {
    /// The binary serving `content` with `static_dir` as its static folder.
    pub fn serving(content: &Path, static_dir: &Path) -> Server {
        let (content, static_dir) = (content.to_str().expect("UTF-8 path"), static_dir.to_str().expect("UTF-8 path"));
        Server::start(&["serve", "--content", content, "--static", static_dir])
    }

    /// Starts the binary with `args` and a fresh data folder, and waits
    /// until it says where it listens.
    pub fn start(args: &[&str]) -> Server {
        Server::start_with_data(args, tempfile::tempdir().expect("temp dir"))
    }

    /// The same with a given data folder, e.g. to restart on the same one.
    pub fn start_with_data(args: &[&str], data: tempfile::TempDir) -> Server {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_clinic-site"));
        command.args(args).args(["--addr", "127.0.0.1:0", "--data", data.path().to_str().expect("UTF-8 path")]);
        Server::spawn(command, data)
    }

    /// The same as a process that may not grow any file past `blocks`
    /// (of 512 or 1024 bytes, as the shell counts them): a disk filling up,
    /// for that process only, and for root too.
    #[cfg(unix)]
    pub fn start_with_file_limit(args: &[&str], blocks: u64) -> Server {
        let data = tempfile::tempdir().expect("temp dir");
        let mut command = std::process::Command::new("/bin/sh");
        // An ignored SIGXFSZ stays ignored across exec, so a write past the
        // limit fails with EFBIG, as on a full disk, instead of killing it.
        command
            .arg("-c")
            .arg(format!("trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_clinic-site"))
            .args(args)
            .args(["--addr", "127.0.0.1:0", "--data", data.path().to_str().expect("UTF-8 path")]);
        Server::spawn(command, data)
    }

    fn spawn(mut command: std::process::Command, data: tempfile::TempDir) -> Server {
        use std::io::{BufRead, BufReader};
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().expect("piped");
        let sink = log.clone();
        // Keep reading so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.split("serving the site at http://").nth(1) {
                    let _ = tx.send(url.trim_end_matches('/').to_string());
                }
                sink.lock().expect("log lock").push_str(&format!("{line}\n"));
            }
        });
        let addr = match rx.recv_timeout(std::time::Duration::from_secs(30)) {
            Ok(addr) => addr.parse().expect("a socket address"),
            Err(_) => {
                let _ = child.kill();
                let mut stderr = String::new();
                use std::io::Read;
                let _ = child.stderr.take().expect("piped").read_to_string(&mut stderr);
                panic!("the server did not start:\n{}\n{stderr}", log.lock().expect("log lock"));
            }
        };
        Server { child, addr, log, data }
    }

    /// Stops the process at once, as a crash would, and hands back its data
    /// folder.
    pub fn kill(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let placeholder = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self.data, placeholder)
    }

    pub fn get(&self, path: &str) -> (u16, Vec<u8>) {
        http_get(self.addr, path)
    }

    /// The process id, e.g. to read its memory use from `/proc`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.0 GET: status and body bytes. Enough for our own server
/// and Python's static file server, with no client library.
pub fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, Vec<u8>) {
    exchange(addr, &format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n"))
}

/// A form POST over a real socket, as a browser on the site sends it:
/// status and body bytes.
pub fn http_post_form(addr: std::net::SocketAddr, path: &str, form: &str) -> (u16, Vec<u8>) {
    exchange(
        addr,
        &format!(
            "POST {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nSec-Fetch-Site: same-origin\r\nConnection: close\r\n\r\n{form}",
            form.len()
        ),
    )
}

/// Sends one HTTP/1.0 request and reads the whole answer: status and body.
pub fn exchange(addr: std::net::SocketAddr, request: &str) -> (u16, Vec<u8>) {
    let (head, body) = exchange_raw(addr, request);
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status code");
    (status, body)
}

/// Sends one request as written and reads until the server closes: the
/// head (status line and headers, as text) and the body bytes.
pub fn exchange_raw(addr: std::net::SocketAddr, request: &str) -> (String, Vec<u8>) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connects");
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30))).expect("timeout set");
    stream.write_all(request.as_bytes()).expect("request sent");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("response read");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("response has headers");
    (String::from_utf8_lossy(&raw[..split]).into_owned(), raw[split + 4..].to_vec())
}

/// Overwrites three pages in the middle of a closed SQLite file with
/// garbage, as a failing disk would.
pub fn damage_the_middle_of(path: &Path) {
    let mut bytes = std::fs::read(path).expect("database reads");
    assert!(bytes.len() > 20 * 4096, "enough pages to damage the middle: {} bytes", bytes.len());
    let middle = bytes.len() / 2;
    bytes[middle..middle + 3 * 4096].fill(0xA5);
    std::fs::write(path, bytes).expect("database writes");
}

/// The body of a [`Server::get`] answer as text.
pub fn body(response: (u16, Vec<u8>)) -> String {
    String::from_utf8(response.1).expect("UTF-8")
}

/// Polls `check` every 25 ms until it holds or `seconds` pass.
pub fn wait_until(seconds: u64, mut check: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while std::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    false
}

/// Copies a fixture folder somewhere it can be changed.
pub fn copy_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&Path::new("tests/fixtures").join(name), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read fixture") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy file");
        }
    }
}

/// Copies the repository's real `content/` somewhere it can be changed,
/// e.g. to try other `site.toml` settings on the real article.
pub fn copy_real_content() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(Path::new("content"), dir.path());
    dir
}

/// Changes one line of a copied content folder's `site.toml`.
pub fn edit_site_toml(content: &Path, from: &str, to: &str) {
    let path = content.join("site.toml");
    let text = std::fs::read_to_string(&path).expect("site.toml reads");
    assert!(text.contains(from), "site.toml has no {from:?}");
    std::fs::write(&path, text.replace(from, to)).expect("site.toml writes");
}

/// Copies the repository's `static/` somewhere it can be changed, e.g. to
/// delete an image a page uses while the site runs.
pub fn copy_static() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(Path::new("static"), dir.path());
    dir
}

/// Copies a fixture folder to `to`, e.g. to put back a content folder that
/// was deleted while the server ran.
pub fn restore_fixture(name: &str, to: &Path) {
    copy_dir(&Path::new("tests/fixtures").join(name), to);
}

/// The stylesheet address a page links to.
pub fn stylesheet(html: &str) -> String {
    let html = Html::parse_document(html);
    select(&html, "link[rel='stylesheet']").first().and_then(|l| l.value().attr("href")).unwrap_or_default().to_string()
}

/// Splits CSV text into records of fields (RFC 4180: quoted fields may
/// hold commas, quotes and line breaks; records end in CRLF or LF).
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(!quoted && field.is_empty() && record.is_empty(), "the CSV ends with a whole record");
    records
}

/// The cells of the body rows of the table `css` picks, row by row, their
/// white space collapsed.
pub fn table_cells(html: &Html, css: &str) -> Vec<Vec<String>> {
    select(html, &format!("{css} tbody tr"))
        .iter()
        .map(|row| {
            row.select(&Selector::parse("th, td").unwrap()).map(|c| collapse(&c.text().collect::<String>())).collect()
        })
        .collect()
}
