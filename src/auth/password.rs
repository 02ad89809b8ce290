//! The staff password, stored only as an Argon2 hash (0600) in the data
//! folder.

use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use tokio::sync::Semaphore;

use crate::config::DataFolder;
use crate::util::bytes::random_bytes;
use crate::util::fs::write_private;

/// Long enough that guessing it online, at five tries per 15 minutes, is
/// hopeless; short enough to type.
pub const PASSWORD_MIN: usize = 10;

/// Hashes and stores the staff password (0600, in the data folder).
pub fn set_password(data: &DataFolder, password: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        password.chars().count() >= PASSWORD_MIN,
        "the password must be at least {PASSWORD_MIN} characters long"
    );
    let salt =
        SaltString::encode_b64(&random_bytes()?[..16]).map_err(|e| anyhow::anyhow!("cannot make a salt: {e}"))?;
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))?;
    std::fs::create_dir_all(&data.dir)?;
    write_private(&data.staff_password(), hash.to_string().as_bytes())?;
    Ok(())
}

/// Which stored hash something was decided under: a SHA-256 of the
/// password file. Sessions keep it, so setting a new password (a new file,
/// with a new salt) ends every session started under the old one.
#[derive(Clone, PartialEq, Eq)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The hash itself, as sessions store it.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// A made-up fingerprint, for tests of what keeps one.
    #[cfg(test)]
    pub(crate) fn for_test(byte: u8) -> Fingerprint {
        Fingerprint([byte; 32])
    }
}

/// The fingerprint of the password stored now; `None` when none is set.
/// One small file read, cheap enough for every staff request.
pub fn fingerprint(data: &DataFolder) -> Option<Fingerprint> {
    std::fs::read(data.staff_password()).ok().map(|stored| Fingerprint(Sha256::digest(stored).into()))
}

/// What checking a password found.
pub enum Check {
    /// No password has been set yet.
    NotSet,
    Wrong,
    /// Right, against the hash with this fingerprint (the file is read once,
    /// so the fingerprint is of the hash that was checked).
    Right(Fingerprint),
}

/// Checks a password against the stored hash. Slow and memory-hungry on
/// purpose (Argon2, about 19 MiB): run it through [`PasswordChecks`].
/// Argon2 works in `memory`, grown to the size the hash asks for and kept
/// for the next check: allocating 19 MiB per check left the allocator
/// holding hundreds of MiB after a burst, even with two checks at a time.
fn check_password(data: &DataFolder, password: &str, memory: &mut Vec<Block>) -> Check {
    let Ok(stored) = std::fs::read(data.staff_password()) else { return Check::NotSet };
    let Some(hash) = std::str::from_utf8(&stored).ok().and_then(|s| PasswordHash::new(s.trim()).ok()) else {
        return Check::NotSet;
    };
    if hash_matches(&hash, password, memory).unwrap_or(false) {
        Check::Right(Fingerprint(Sha256::digest(&stored).into()))
    } else {
        Check::Wrong
    }
}

/// What `Argon2::verify_password` does, in memory we provide. `None` when
/// the stored hash cannot be used.
fn hash_matches(hash: &PasswordHash<'_>, password: &str, memory: &mut Vec<Block>) -> Option<bool> {
    let algorithm = Algorithm::try_from(hash.algorithm).ok()?;
    let version = hash.version.map(Version::try_from).transpose().ok()?.unwrap_or_default();
    let params = Params::try_from(hash).ok()?;
    let expected = hash.hash?;
    let mut salt = [0u8; 64];
    let salt = hash.salt?.decode_b64(&mut salt).ok()?;
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..blocks])
        .ok()?;
    // `Output`'s equality takes the same time wherever the bytes differ.
    Some(Output::new(&out).ok()? == expected)
}

/// Why a password was not checked.
#[derive(Debug)]
pub enum NotChecked {
    /// Too many checks are running or waiting; try again shortly.
    Busy,
    /// The check panicked or was cancelled at shutdown.
    Failed(String),
}

/// Caps how many password checks run at once. Each Argon2 check holds
/// about 19 MiB, so without a cap a burst of sign-ins (150 at once took the
/// server to 2.2 GB) costs memory the allocator keeps afterwards.
///
/// A few checks run at once; a short queue waits behind them, so a handful
/// of staff signing in together never see an error; past the queue the
/// answer is "busy" at once. Waiting is cheap (no Argon2 memory is held),
/// but a long queue would only make every waiter time out.
pub struct PasswordChecks {
    permits: Arc<Semaphore>,
    /// Argon2's working memory, one per check that may run at once, reused.
    memory: Arc<std::sync::Mutex<Vec<Vec<Block>>>>,
    cap: usize,
    /// Most checks running or waiting before the answer is "busy".
    admit: usize,
    admitted: Arc<AtomicUsize>,
    running: Arc<AtomicUsize>,
    most_running: Arc<AtomicUsize>,
    started: Arc<AtomicU64>,
}

/// Checks waiting per check running, before the answer is "busy".
const QUEUE_PER_CHECK: usize = 8;

impl PasswordChecks {
    /// `cap` checks at once (at least one).
    pub fn new(cap: usize) -> PasswordChecks {
        let cap = cap.max(1);
        PasswordChecks {
            permits: Arc::new(Semaphore::new(cap)),
            memory: Arc::default(),
            cap,
            admit: cap * (1 + QUEUE_PER_CHECK),
            admitted: Arc::default(),
            running: Arc::default(),
            most_running: Arc::default(),
            started: Arc::default(),
        }
    }

    /// One check per core, at most four: more would not finish sooner,
    /// only hold more memory.
    pub fn for_this_machine() -> PasswordChecks {
        PasswordChecks::new(std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4))
    }

    /// How many checks have started since the server did.
    pub fn started(&self) -> u64 {
        self.started.load(Ordering::SeqCst)
    }

    /// Checks `password` off the async threads, waiting for a free slot.
    pub async fn check(&self, data: DataFolder, password: String) -> Result<Check, NotChecked> {
        if self.admitted.fetch_add(1, Ordering::SeqCst) >= self.admit {
            self.admitted.fetch_sub(1, Ordering::SeqCst);
            return Err(NotChecked::Busy);
        }
        // Counts this request out again however it ends, cancelled included.
        let _admitted = Admitted(&self.admitted);
        let permit = self.permits.clone().acquire_owned().await.map_err(|e| NotChecked::Failed(e.to_string()))?;
        let (running, most, started, cap, pool) =
            (self.running.clone(), self.most_running.clone(), self.started.clone(), self.cap, self.memory.clone());
        let checked = tokio::task::spawn_blocking(move || {
            // The permit lives in the blocking task, so a request that times
            // out or is cancelled still holds it until Argon2 is done and
            // its memory freed.
            let _permit = permit;
            started.fetch_add(1, Ordering::SeqCst);
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            if most.fetch_max(now, Ordering::SeqCst) < now {
                tracing::info!("most password checks at once: {now} (cap {cap})");
            }
            // With a permit there is always a spare block of memory or room
            // for one more: the pool never holds more than `cap`.
            let mut memory = pool.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop().unwrap_or_default();
            let checked = check_password(&data, &password, &mut memory);
            pool.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(memory);
            running.fetch_sub(1, Ordering::SeqCst);
            checked
        })
        .await;
        checked.map_err(|e| NotChecked::Failed(format!("password check failed: {e}")))
    }
}

struct Admitted<'a>(&'a AtomicUsize);

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Whether a staff password has been set.
pub(crate) fn is_set(data: &DataFolder) -> bool {
    data.staff_password().is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checks_beyond_the_cap_wait_and_beyond_the_queue_are_busy() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataFolder::new(dir.path());
        set_password(&data, "correct horse battery").unwrap();
        let checks = Arc::new(PasswordChecks::new(1));
        let attempts: Vec<_> = (0..20)
            .map(|_| {
                let (checks, data) = (checks.clone(), data.clone());
                tokio::spawn(async move { checks.check(data, "guess".into()).await })
            })
            .collect();
        let mut busy = 0;
        for attempt in attempts {
            match attempt.await.unwrap() {
                Ok(Check::Wrong) => {}
                Err(NotChecked::Busy) => busy += 1,
                _ => panic!("unexpected answer"),
            }
        }
        assert_eq!(checks.most_running.load(Ordering::SeqCst), 1, "one at a time");
        assert_eq!(busy, 20 - 9, "one running and eight waiting; the rest are told to come back");
        assert_eq!(checks.started(), 9);
        assert!(matches!(checks.check(data.clone(), "correct horse battery".into()).await, Ok(Check::Right(_))));
        assert!(fingerprint(&data).is_some());
    }
}
