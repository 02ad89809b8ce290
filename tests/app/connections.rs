//! A fair share of connections per client, with the real binary: one
//! address holding many connections open must not make the site busy for
//! everyone else. On Linux all of 127.0.0.0/8 is loopback, so a client
//! socket bound to 127.0.0.2 reaches the server as another address.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use crate::helpers::*;

const OTHER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// A connection to `server` from the loopback address `source`.
fn connect_from(source: IpAddr, server: SocketAddr) -> TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build().expect("a runtime");
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket.bind(SocketAddr::new(source, 0)).expect("binds to the source address");
        socket.connect(server).await.expect("connects").into_std().expect("a std stream")
    });
    stream.set_nonblocking(false).expect("blocking");
    stream
}

/// Idle connections from the usual 127.0.0.1, held open.
fn idle(server: &Server, how_many: usize) -> Vec<TcpStream> {
    (0..how_many).map(|_| TcpStream::connect(server.addr).expect("connects")).collect()
}

/// What the server says on a connection without being asked, if it says
/// something and closes the connection within `limit`.
fn said_unasked(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    use std::io::Read;
    stream.set_read_timeout(Some(limit)).expect("timeout set");
    let mut seen = Vec::new();
    stream.read_to_end(&mut seen).ok()?;
    Some(String::from_utf8_lossy(&seen).into_owned())
}

fn answer_unasked(stream: &mut TcpStream) -> String {
    said_unasked(stream, Duration::from_secs(5)).expect("answered and closed at once")
}

/// GET `path` on a fresh connection from `source`: the status code, or
/// `None` when the connection failed before one arrived (a refused
/// connection may be reset when the request it sent goes unread).
fn status_from(source: IpAddr, server: SocketAddr, path: &str) -> Option<u16> {
    use std::io::Read;
    let mut stream = connect_from(source, server);
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout set");
    stream.write_all(format!("GET {path} HTTP/1.0\r\nHost: {server}\r\n\r\n").as_bytes()).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    String::from_utf8_lossy(&raw).split_whitespace().nth(1)?.parse().ok()
}

const HOME: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn assert_refused_as_too_many(stream: &mut TcpStream) {
    let text = answer_unasked(stream);
    assert!(text.starts_with("HTTP/1.1 429 Too Many Requests\r\n"), "{text}");
    assert!(text.contains("\r\nretry-after: 5\r\n"), "{text}");
    assert!(text.contains("Too many connections to this site are open from your network"), "{text}");
}

#[test]
fn one_address_holding_its_share_is_refused_while_others_are_served() {
    let server = Server::start(&["serve", "--max-connections-per-client", "3", "--header-timeout", "30"]);
    let held = idle(&server, 3);
    let mut fourth = TcpStream::connect(server.addr).unwrap();
    assert_refused_as_too_many(&mut fourth);
    assert_eq!(status_from(OTHER, server.addr, "/healthz"), Some(200), "another address is still served");
    assert_eq!(status_from(OTHER, server.addr, "/dry-needling/"), Some(200));
    assert_refused_as_too_many(&mut TcpStream::connect(server.addr).unwrap());
    drop(held);
    assert!(
        wait_until(10, || status_from(HOME, server.addr, "/healthz") == Some(200)),
        "the first address is served again once its connections close"
    );
}

#[test]
fn refused_connections_take_none_of_the_shared_slots() {
    let server = Server::start(&[
        "serve",
        "--max-connections",
        "3",
        "--max-connections-per-client",
        "2",
        "--header-timeout",
        "30",
    ]);
    let _held = idle(&server, 2);
    for _ in 0..10 {
        assert_refused_as_too_many(&mut TcpStream::connect(server.addr).unwrap());
    }
    assert_eq!(status_from(OTHER, server.addr, "/healthz"), Some(200), "the third shared slot is still free");
    // The shared cap still holds: with a third connection from elsewhere
    // held open, the site is full for everyone. (Retried, since the slot of
    // the request just served may be given back only after its answer
    // arrived, and the third connection is then refused too.)
    assert!(
        wait_until(10, || {
            let _third = connect_from(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3)), server.addr);
            std::thread::sleep(Duration::from_millis(100));
            let text = said_unasked(&mut connect_from(OTHER, server.addr), Duration::from_secs(1));
            text.is_some_and(|text| text.starts_with("HTTP/1.1 503"))
        }),
        "the shared cap no longer applies"
    );
}

#[test]
fn half_sent_requests_count_like_idle_connections() {
    let server = Server::start(&["serve", "--max-connections-per-client", "2", "--header-timeout", "30"]);
    let mut held = idle(&server, 2);
    for stream in &mut held {
        stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    }
    assert_refused_as_too_many(&mut TcpStream::connect(server.addr).unwrap());
    assert_eq!(status_from(OTHER, server.addr, "/healthz"), Some(200));
}

#[test]
fn the_default_share_is_64_connections_and_0_means_no_limit() {
    let limited = Server::start(&["serve", "--header-timeout", "30"]);
    let _held = idle(&limited, 64);
    assert_refused_as_too_many(&mut TcpStream::connect(limited.addr).unwrap());

    let unlimited = Server::start(&["serve", "--max-connections-per-client", "0", "--header-timeout", "30"]);
    let _held = idle(&unlimited, 100);
    assert_eq!(unlimited.get("/healthz").0, 200, "no per-client limit with 0");
}

#[test]
fn behind_a_trusted_proxy_the_proxy_is_not_limited_per_client() {
    let server =
        Server::start(&["serve", "--trust-proxy", "--max-connections-per-client", "2", "--header-timeout", "30"]);
    // Every reader's connection arrives from the proxy's address.
    let _held = idle(&server, 10);
    assert_eq!(server.get("/healthz").0, 200);
    assert!(
        wait_until(5, || server.log.lock().unwrap().contains("no per-client connection limit with --trust-proxy")),
        "the log says why there is no limit"
    );
}
