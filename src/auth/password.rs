//! The staff password, stored only as an Argon2 hash (0600) in the data
//! folder.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

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

/// Checks a password against the stored hash; `None` when none is set.
pub(crate) fn verify_password(data: &DataFolder, password: &str) -> Option<bool> {
    let stored = std::fs::read_to_string(data.staff_password()).ok()?;
    let hash = PasswordHash::new(stored.trim()).ok()?;
    Some(Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// Staff pages hold personal data: never cached, never indexed.
/// Whether a staff password has been set.
pub(crate) fn is_set(data: &DataFolder) -> bool {
    data.staff_password().is_file()
}
