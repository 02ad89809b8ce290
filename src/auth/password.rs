//! Staff passwords: what a new one must be, how it is hashed (Argon2id),
//! and checking one at sign-in without letting a burst of sign-ins run
//! the server out of memory.

use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use tokio::sync::Semaphore;

use crate::util::bytes::random_bytes;

/// Long enough that guessing it online, at a few tries per 15 minutes,
/// is hopeless; short enough to type.
pub const PASSWORD_MIN: usize = 12;
/// Argon2 hashes anything, but a password this long is a mistake (or an
/// attempt to make us hash megabytes).
pub const PASSWORD_MAX: usize = 200;

/// Passwords people pick most often, as words: a password that is one of
/// these with digits or symbols around it is refused too.
const COMMON: &str = include_str!("common-passwords.txt");

/// Checks a new password; the message says what to change. `personal` are
/// words the password must not be built on: the username and name.
pub fn acceptable(password: &str, personal: &[&str]) -> Result<(), String> {
    let length = password.chars().count();
    if length < PASSWORD_MIN {
        return Err(format!(
            "the password must be at least {PASSWORD_MIN} characters long (it has {length}); a few unrelated words make a good one"
        ));
    }
    if length > PASSWORD_MAX {
        return Err(format!("the password can be at most {PASSWORD_MAX} characters long"));
    }
    let lower = password.to_lowercase();
    let squeezed: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    let core = unleet(squeezed.trim_matches(|c: char| c.is_ascii_digit()));
    let common = |word: &str| COMMON.lines().any(|line| line == word);
    let distinct = {
        let mut chars: Vec<char> = lower.chars().collect();
        chars.sort_unstable();
        chars.dedup();
        chars.len()
    };
    let built_on_common = common(&squeezed)
        || common(&core)
        || core.is_empty()
        || COMMON.lines().filter(|line| line.len() >= 4).any(|word| is_repeated(&core, word));
    if built_on_common || distinct < 5 {
        return Err("that password is one of the most common ones, which are guessed first; choose another, such as three or four unrelated words".into());
    }
    for word in personal.iter().map(|w| w.to_lowercase()).filter(|w| w.chars().count() >= 3) {
        let word: String = word.chars().filter(|c| c.is_alphanumeric()).collect();
        if !word.is_empty() && (core == word || is_repeated(&core, &word)) {
            return Err("the password is built on your name or username, which others know; choose another".into());
        }
    }
    Ok(())
}

/// The word with the digits and symbols people put for letters read as
/// letters: "p4ssw0rd" is "password".
fn unleet(word: &str) -> String {
    word.chars()
        .map(|c| match c {
            '0' => 'o',
            '1' => 'i',
            '3' => 'e',
            '4' => 'a',
            '5' => 's',
            '7' => 't',
            '8' => 'b',
            other => other,
        })
        .collect()
}

/// `text` is `word` said more than once ("passwordpassword").
fn is_repeated(text: &str, word: &str) -> bool {
    !word.is_empty()
        && text.len() > word.len()
        && text.len().is_multiple_of(word.len())
        && text == word.repeat(text.len() / word.len())
}

/// Hashes a password with Argon2id (the crate's defaults: 19 MiB, two
/// passes), as a PHC string for the accounts table.
pub fn hash(password: &str) -> Result<String, std::io::Error> {
    let other = |e: argon2::password_hash::Error| std::io::Error::other(e.to_string());
    let salt = SaltString::encode_b64(&random_bytes()?[..16]).map_err(other)?;
    let hash = Argon2::default().hash_password(password.as_bytes(), &salt).map_err(other)?;
    Ok(hash.to_string())
}

/// Whether `password` matches the stored `hash`. Slow and memory-hungry on
/// purpose (Argon2, about 19 MiB): run it through [`PasswordChecks`].
/// Argon2 works in `memory`, grown to the size the hash asks for and kept
/// for the next check: allocating 19 MiB per check left the allocator
/// holding hundreds of MiB after a burst, even with two checks at a time.
fn check_password(hash: &str, password: &str, memory: &mut Vec<Block>) -> bool {
    PasswordHash::new(hash.trim()).ok().and_then(|hash| hash_matches(&hash, password, memory)).unwrap_or(false)
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
    /// Checked in place of a hash when the username belongs to no one (or
    /// to someone with no password yet), so the answer comes after the
    /// same work as for a wrong password.
    decoy: Arc<str>,
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
            decoy: decoy_hash().into(),
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

    /// Checks `password` against `hash` off the async threads, waiting for
    /// a free slot. With no hash (an unknown username) the same check runs
    /// against a decoy and fails: the same path, the same time.
    pub async fn check(&self, hash: Option<String>, password: String) -> Result<bool, NotChecked> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.decoy.to_string());
        self.run(move |memory| check_password(&hash, &password, memory) && known).await
    }

    /// Hashes a new password in the same slots, so setting passwords
    /// cannot be used to get around the cap either.
    pub async fn hash(&self, password: String) -> Result<String, NotChecked> {
        self.run(move |_| hash(&password))
            .await?
            .map_err(|e| NotChecked::Failed(format!("cannot hash the password: {e}")))
    }

    /// Runs `work` off the async threads once a slot is free, with
    /// Argon2's working memory.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, NotChecked> {
        if self.admitted.fetch_add(1, Ordering::SeqCst) >= self.admit {
            self.admitted.fetch_sub(1, Ordering::SeqCst);
            return Err(NotChecked::Busy);
        }
        // Counts this request out again however it ends, cancelled included.
        let _admitted = Admitted(&self.admitted);
        let permit = self.permits.clone().acquire_owned().await.map_err(|e| NotChecked::Failed(e.to_string()))?;
        let (running, most, started, cap, pool) =
            (self.running.clone(), self.most_running.clone(), self.started.clone(), self.cap, self.memory.clone());
        let done = tokio::task::spawn_blocking(move || {
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
            let done = work(&mut memory);
            pool.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(memory);
            running.fetch_sub(1, Ordering::SeqCst);
            done
        })
        .await;
        done.map_err(|e| NotChecked::Failed(format!("password check failed: {e}")))
    }
}

/// A hash with the same parameters as every real one, of a password no
/// one types. Its salt need not be secret, so it is fixed: making it
/// cannot fail.
fn decoy_hash() -> String {
    let salt = SaltString::encode_b64(b"clinic-site-decoy").unwrap_or_else(|_| unreachable!("17 bytes encode"));
    Argon2::default()
        .hash_password(b"no one signs in with this", &salt)
        .map_or_else(|_| unreachable!("the default parameters hash"), |hash| hash.to_string())
}

struct Admitted<'a>(&'a AtomicUsize);

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checks_beyond_the_cap_wait_and_beyond_the_queue_are_busy() {
        let stored = hash("correct horse battery").unwrap();
        let checks = Arc::new(PasswordChecks::new(1));
        let attempts: Vec<_> = (0..20)
            .map(|_| {
                let (checks, stored) = (checks.clone(), stored.clone());
                tokio::spawn(async move { checks.check(Some(stored), "guess".into()).await })
            })
            .collect();
        let mut busy = 0;
        for attempt in attempts {
            match attempt.await.unwrap() {
                Ok(false) => {}
                Err(NotChecked::Busy) => busy += 1,
                _ => panic!("unexpected answer"),
            }
        }
        assert_eq!(checks.most_running.load(Ordering::SeqCst), 1, "one at a time");
        assert_eq!(busy, 20 - 9, "one running and eight waiting; the rest are told to come back");
        assert_eq!(checks.started(), 9);
        assert!(checks.check(Some(stored), "correct horse battery".into()).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_user_is_checked_against_the_decoy_and_never_matches() {
        let checks = PasswordChecks::new(1);
        assert!(!checks.check(None, "no one signs in with this".into()).await.unwrap(), "not even the decoy's own");
        assert_eq!(checks.started(), 1, "the slow check ran all the same");
        let decoy = PasswordHash::new(&checks.decoy).unwrap();
        let real = hash("correct horse battery").unwrap();
        let real = PasswordHash::new(&real).unwrap();
        assert_eq!(Params::try_from(&decoy).unwrap(), Params::try_from(&real).unwrap(), "the same work");
        assert_eq!(decoy.algorithm, real.algorithm);
    }

    #[test]
    fn short_common_and_personal_passwords_are_refused() {
        for (password, why) in [
            ("short one", "at least 12"),
            ("password1234", "most common"),
            ("Password123!", "most common"),
            ("P4ssw0rd!2024", "most common"),
            ("qwertyuiop123", "most common"),
            ("123456789012", "most common"),
            ("passwordpassword", "most common"),
            ("aaaaaaaaaaaaaaa", "most common"),
            ("iloveyou12345", "most common"),
            ("janesmith2026", "your name"),
            ("jane.smith.jane.smith", "your name"),
        ] {
            let refused = acceptable(password, &["jane.smith", "Jane Smith"]).expect_err(password);
            assert!(refused.contains(why), "{password}: {refused}");
        }
        for password in ["correct horse battery", "lantern-otter-quietly-47", "Tulips in the north garden"] {
            assert_eq!(acceptable(password, &["jane.smith", "Jane Smith"]), Ok(()), "{password}");
        }
        assert!(acceptable(&"x".repeat(PASSWORD_MAX + 1), &[]).unwrap_err().contains("at most"));
    }
}
