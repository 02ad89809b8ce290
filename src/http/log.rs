//! The server's log: an access line for every request and whatever else
//! is logged, in one buffer that a thread of its own writes out.
//!
//! Under load the server answers thousands of requests a second, and a
//! write to the terminal, a pipe or a disk for each line would make every
//! request wait for it (and the line alone cost a sixth of the server's
//! CPU when each went through `tracing` and a write of its own). So lines
//! are appended to a buffer in memory, and the writer thread writes the
//! buffer out when it holds [`BUFFER`] bytes or a second after its first
//! line, the way nginx's `access_log ... buffer=64k flush=1s` does. Other
//! log lines (start-up, warnings, errors) are written out at once, with
//! every access line before them, so the log stays in order and nothing
//! important waits.
//!
//! No line is ever dropped: if the writer falls [`MAX_WAITING`] bytes
//! behind (a stalled pipe), requests wait for it rather than go unlogged
//! or let memory grow. A crash loses at most the last second of access
//! lines; stopping normally writes everything ([`Guard`]).

use std::fmt;
use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use axum::http::{Method, StatusCode};

/// Written out once this much is waiting.
const BUFFER: usize = 64 * 1024;
/// Or this long after the oldest line waiting was added.
const FLUSH_AFTER: Duration = Duration::from_secs(1);
/// Past this much unwritten, new lines wait for the writer.
const MAX_WAITING: usize = 4 * 1024 * 1024;

/// The log every part of the server writes to, once started.
static LOG: OnceLock<Log> = OnceLock::new();

/// The shared buffer; cheap to clone.
#[derive(Clone)]
pub struct Log {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// The writer waits on this for a full buffer, an urgent line or the
    /// end.
    wake: Condvar,
    /// Lines held back by a full buffer wait on this for the writer.
    drained: Condvar,
}

struct State {
    buffer: Vec<u8>,
    /// A line that should not wait (anything but an access line).
    urgent: bool,
    closed: bool,
    /// The last second an access line was stamped with, and its text:
    /// formatted once a second, not once a line.
    second: u64,
    stamp: String,
}

/// Writes out everything still buffered when dropped (at the end of
/// `main`), and stops the writer thread.
pub struct Guard {
    log: Log,
    writer: Option<JoinHandle<()>>,
}

/// Starts the writer thread on `out` and makes this the server's log.
pub fn start(out: impl Write + Send + 'static) -> (Log, Guard) {
    let log = Log::new();
    let shared = log.shared.clone();
    let writer = std::thread::Builder::new()
        .name("log writer".into())
        .spawn(move || write_out(&shared, out))
        .expect("a thread can be started at start-up");
    // Started once, by `main`; a second start (tests) keeps the first.
    let _ = LOG.set(log.clone());
    (log.clone(), Guard { log, writer: Some(writer) })
}

impl Log {
    fn new() -> Log {
        let state = State {
            buffer: Vec::with_capacity(BUFFER),
            urgent: false,
            closed: false,
            second: u64::MAX,
            stamp: String::new(),
        };
        Log { shared: Arc::new(Shared { state: Mutex::new(state), wake: Condvar::new(), drained: Condvar::new() }) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The state, once there is room for another line.
    fn room(&self) -> MutexGuard<'_, State> {
        let mut state = self.lock();
        while state.buffer.len() >= MAX_WAITING && !state.closed {
            self.shared.wake.notify_one();
            state = self.shared.drained.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        state
    }

    /// Adds one access line, formatted straight into the buffer.
    fn access(&self, line: &AccessLine<'_>, now: SystemTime) {
        let mut state = self.room();
        let before = state.buffer.len();
        let second = crate::util::date::whole_seconds(now);
        if state.second != second {
            state.second = second;
            state.stamp = crate::util::date::moment_iso(second as i64);
        }
        let State { buffer, stamp, .. } = &mut *state;
        // Writing to memory cannot fail.
        let _ = writeln!(buffer, "{stamp} ACCESS {line}");
        let filled = before < BUFFER && buffer.len() >= BUFFER;
        drop(state);
        if filled {
            self.shared.wake.notify_one();
        }
    }

    /// Adds text that should be written out now, after every line before it.
    fn urgent(&self, text: &[u8]) {
        let mut state = self.room();
        state.buffer.extend_from_slice(text);
        state.urgent = true;
        drop(state);
        self.shared.wake.notify_one();
    }
}

/// The writer thread: waits for something worth writing, takes the whole
/// buffer (so appending goes on into an empty one meanwhile) and writes it.
fn write_out(shared: &Shared, mut out: impl Write) {
    let mut spare = Vec::with_capacity(BUFFER);
    let lock = || shared.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    loop {
        let mut state = lock();
        while !state.closed && !state.urgent && state.buffer.len() < BUFFER {
            let waited = shared.wake.wait_timeout(state, FLUSH_AFTER).unwrap_or_else(|poisoned| poisoned.into_inner());
            state = waited.0;
            if waited.1.timed_out() && !state.buffer.is_empty() {
                break;
            }
        }
        std::mem::swap(&mut state.buffer, &mut spare);
        state.urgent = false;
        let closed = state.closed;
        drop(state);
        shared.drained.notify_all();
        if !spare.is_empty() {
            // Nowhere to report a failed log write but the log itself; a
            // full disk must not stop the site, so the lines are let go.
            let _ = out.write_all(&spare).and_then(|()| out.flush());
            spare.clear();
            spare.shrink_to(BUFFER * 4);
        }
        if closed {
            return;
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.log.lock().closed = true;
        self.log.shared.wake.notify_one();
        self.log.shared.drained.notify_all();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// For `tracing`'s formatter: each event is one urgent write.
impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Log {
    type Writer = EventWriter<'a>;

    fn make_writer(&'a self) -> EventWriter<'a> {
        EventWriter { log: self }
    }
}

pub struct EventWriter<'a> {
    log: &'a Log,
}

impl Write for EventWriter<'_> {
    fn write(&mut self, text: &[u8]) -> std::io::Result<usize> {
        self.log.urgent(text);
        Ok(text.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Logs one request, if the server's log is started and access lines are
/// not turned off (`RUST_LOG=access=off`, or any filter above `info`).
pub(super) fn access(method: &Method, path: &str, status: StatusCode, bytes: Option<u64>, took: Duration) {
    let Some(log) = LOG.get() else { return };
    if tracing::enabled!(target: "access", tracing::Level::INFO) {
        log.access(&AccessLine { method, path, status, bytes, took }, SystemTime::now());
    }
}

/// One request: method, path, status, bytes of body and time to the
/// response's head. No query string and no client address: the privacy
/// notice promises readers' addresses are never written down, and a query
/// can carry whatever the link that brought a reader held.
struct AccessLine<'a> {
    method: &'a Method,
    path: &'a str,
    status: StatusCode,
    /// `None` for a stream (the `--dev` reload events).
    bytes: Option<u64>,
    took: Duration,
}

impl fmt::Display for AccessLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.method)?;
        // A path is whatever the client sent: control characters and
        // non-ASCII are written escaped, so no line can be forged or
        // hidden with a newline or a bidi control.
        if self.path.bytes().all(|b| b.is_ascii_graphic()) {
            f.write_str(self.path)?;
        } else {
            write!(f, "{}", self.path.escape_default())?;
        }
        write!(f, " {}", self.status.as_u16())?;
        match self.bytes {
            Some(bytes) => write!(f, " {bytes}")?,
            None => f.write_str(" -")?,
        }
        write!(f, " {}us", self.took.as_micros())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Output shared with the test, which reads what the writer wrote.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn started(out: impl Write + Send + 'static) -> (Log, Guard) {
        let log = Log::new();
        let shared = log.shared.clone();
        let writer = std::thread::spawn(move || write_out(&shared, out));
        (log.clone(), Guard { log, writer: Some(writer) })
    }

    fn line(path: &str) -> AccessLine<'_> {
        AccessLine {
            method: &Method::GET,
            path,
            status: StatusCode::OK,
            bytes: Some(6412),
            took: Duration::from_micros(57),
        }
    }

    #[test]
    fn access_lines_escape_what_could_forge_a_line() {
        assert_eq!(line("/dry-needling/safety/").to_string(), "GET /dry-needling/safety/ 200 6412 57us");
        let forged = line("/a\n2026-12-02T11:00:00Z ACCESS GET /admin 200").to_string();
        assert!(!forged.contains('\n') && forged.contains("\\n"), "{forged}");
        let bidi = line("/a\u{202e}b\u{200f}").to_string();
        assert!(!bidi.contains('\u{202e}') && !bidi.contains('\u{200f}'), "{bidi}");
        let stream = AccessLine { bytes: None, ..line("/") };
        assert_eq!(stream.to_string(), "GET / 200 - 57us");
    }

    #[test]
    fn every_line_from_every_thread_is_written_whole_and_in_order_per_thread() {
        let sink = Sink::default();
        let (log, guard) = started(sink.clone());
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_212_800);
        std::thread::scope(|scope| {
            for thread in 0..4 {
                let log = log.clone();
                scope.spawn(move || {
                    for n in 0..5_000 {
                        log.access(&line(&format!("/t{thread}/{n}")), now);
                    }
                });
            }
        });
        log.urgent(b"the last line\n");
        drop(guard);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4 * 5_000 + 1);
        assert_eq!(lines.last(), Some(&"the last line"));
        for thread in 0..4 {
            let prefix = format!("2026-12-02T12:00:00Z ACCESS GET /t{thread}/");
            let seen: Vec<usize> = lines
                .iter()
                .filter_map(|l| l.strip_prefix(&prefix))
                .map(|rest| rest.split(' ').next().unwrap().parse().unwrap())
                .collect();
            assert_eq!(seen, (0..5_000).collect::<Vec<_>>(), "thread {thread}");
        }
    }

    #[test]
    fn a_few_lines_are_written_within_the_flush_time_and_urgent_ones_at_once() {
        let sink = Sink::default();
        let (log, _guard) = started(sink.clone());
        log.access(&line("/quiet/"), SystemTime::now());
        let written = |needle: &str| String::from_utf8_lossy(&sink.0.lock().unwrap()).contains(needle);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !written("/quiet/") && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(written("/quiet/"), "an access line is written out on the timer");
        log.urgent(b"WARN something to act on\n");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !written("something to act on") && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(written("something to act on"));
    }

    /// A writer that blocks until let go, as a stalled pipe does.
    struct Stalled {
        go: Arc<(Mutex<bool>, Condvar)>,
        sink: Sink,
    }

    impl Write for Stalled {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let (go, turn) = &*self.go;
            let mut open = go.lock().unwrap();
            while !*open {
                open = turn.wait(open).unwrap();
            }
            self.sink.write(bytes)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stalled_writer_makes_lines_wait_never_drops_them_nor_grows_without_bound() {
        let go = Arc::new((Mutex::new(false), Condvar::new()));
        let sink = Sink::default();
        let (log, guard) = started(Stalled { go: go.clone(), sink: sink.clone() });
        let lines = MAX_WAITING / 40 * 3;
        let writer = {
            let log = log.clone();
            std::thread::spawn(move || {
                for n in 0..lines {
                    log.access(&line(&format!("/{n}")), SystemTime::now());
                }
            })
        };
        std::thread::sleep(Duration::from_millis(500));
        assert!(!writer.is_finished(), "lines wait while the writer is stalled");
        assert!(log.lock().buffer.len() < MAX_WAITING + 200, "what waits stays bounded");
        *go.0.lock().unwrap() = true;
        go.1.notify_all();
        writer.join().unwrap();
        drop(guard);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), lines, "no line was dropped");
    }
}
