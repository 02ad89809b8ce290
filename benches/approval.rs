//! One comment approval, as staff make it: the comment's status changes in
//! the store, then `http::publish_comments` puts the approved comments on
//! the live site. Measures the publish step's wall time and the CPU time
//! the whole process spent on it (every thread, read from /proc), over the
//! real content with a fresh data folder.
//!
//! Two cases: an approval (each round toggles one comment between approved
//! and pending, so every publish has one page that really changed), and a
//! new pending comment (the server publishes on every database change, but
//! no page changes).
//!
//! Run with `cargo bench --bench approval` (ROUNDS=60 by default). It uses
//! only `AppState::load` and `publish_comments`, so the same file measures
//! an older commit too: `git archive REV | tar -x -C DIR`, copy this file
//! and Cargo.toml in, `touch` every file (cargo rebuilds by time, and
//! `git archive` dates files to the commit) and run it there. No
//! assertions: the machine is shared and timings are noisy; compare
//! medians.

use std::time::{Duration, Instant};

use clinic_site::comments::{CommentText, DisplayName, NewComment, Status};
use clinic_site::config::Config;
use clinic_site::http::{AppState, publish_comments};

/// User plus system CPU time of this process so far, every thread
/// included; `None` off Linux.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold
    // spaces: utime and stime are the 12th and 13th after it.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // The kernel's USER_HZ is 100 on every Linux this runs on.
    Some(Duration::from_millis(ticks * 10))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(60);
    let data = tempfile::tempdir().expect("temp dir");
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = Config::for_test(data.path()).with_content(&root.join("content"));
    let state = AppState::load(config).expect("the real content loads");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let page = "/dry-needling/migraines/";
    let comment = NewComment {
        page: page.into(),
        name: DisplayName::parse("Sam").expect("a name"),
        text: CommentText::parse("It helped my headaches.").expect("a comment"),
        flags: Vec::new(),
    };
    let id = state.comments.insert(&comment, 1_764_000_000).expect("inserted");

    let mut shown = false;
    let mut walls = Vec::with_capacity(rounds);
    let mut cpus = Vec::with_capacity(rounds);
    // Two warm-up rounds: the first publish after start fills caches.
    for round in 0..rounds + 2 {
        let status = if round % 2 == 0 { Status::Approved } else { Status::Pending };
        state.comments.set_status(id, status).expect("status set");
        let (wall, cpu) = measure(&runtime, &state);
        if round == 2 {
            shown = state
                .site
                .load()
                .page(page)
                .is_some_and(|p| String::from_utf8_lossy(&p.identity).contains("It helped my headaches."));
        }
        if round >= 2 {
            walls.push(wall);
            cpus.extend(cpu);
        }
    }
    report(
        &format!("approval/publish_comments over {rounds} rounds (the approved comment was published: {shown})"),
        &mut walls,
        &cpus,
    );

    // A reader posts a comment: the database changes, so the server
    // publishes (`watch_database`), but no page shows anything new.
    let (mut walls, mut cpus) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for _ in 0..rounds {
        state.comments.insert(&comment, 1_764_000_000).expect("inserted");
        let (wall, cpu) = measure(&runtime, &state);
        walls.push(wall);
        cpus.extend(cpu);
    }
    report(
        &format!("pending/publish_comments over {rounds} rounds (a new pending comment, no page changes)"),
        &mut walls,
        &cpus,
    );
}

/// One publish: wall milliseconds and, on Linux, CPU milliseconds.
fn measure(runtime: &tokio::runtime::Runtime, state: &AppState) -> (f64, Option<f64>) {
    let (cpu, started) = (cpu_time(), Instant::now());
    runtime.block_on(publish_comments(state));
    let wall = started.elapsed();
    let cpu = cpu_time().zip(cpu).map(|(after, before)| after - before);
    (wall.as_secs_f64() * 1000.0, cpu.map(|c| c.as_secs_f64() * 1000.0))
}

fn report(title: &str, walls: &mut [f64], cpus: &[f64]) {
    println!("{title}");
    let median = median(walls);
    println!("  wall ms: median {median:.2}, min {:.2}, max {:.2}", walls[0], walls[walls.len() - 1]);
    if !cpus.is_empty() {
        // Ticks are 10 ms, too coarse for one round: the mean over many is
        // what to compare.
        println!(
            "  cpu ms:  mean {:.2} per publish, all threads (from 10 ms ticks)",
            cpus.iter().sum::<f64>() / cpus.len() as f64
        );
    }
}
