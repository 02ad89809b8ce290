//! Signed comment-form tokens. A token says which page a form was served
//! for and when, signed with a server secret, so a post can be checked
//! without storing anything: a bot that posts without loading the form, or
//! replays a form from another page, or posts faster than a person could
//! type, is told apart from a reader.

use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// A person needs at least this long to read the form and type something.
pub const MIN_AGE_SECS: i64 = 3;
/// After this the form is stale: the reader is asked to send it again.
pub const MAX_AGE_SECS: i64 = 12 * 60 * 60;

/// The server's signing key, kept in the data folder.
#[derive(Clone)]
pub struct Secret([u8; 32]);

impl Secret {
    /// Reads the key from `path`, creating it on first run. The file is
    /// readable by the server's user only: anyone with it could sign forms.
    pub fn load_or_create(path: &Path) -> std::io::Result<Secret> {
        match std::fs::read(path) {
            Ok(bytes) if bytes.len() == 32 => {
                let mut key = [0; 32];
                key.copy_from_slice(&bytes);
                Ok(Secret(key))
            }
            Ok(_) => Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{} is not a 32-byte key; delete it to make a new one", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = random_bytes()?;
                write_private(path, &key)?;
                Ok(Secret(key))
            }
            Err(e) => Err(e),
        }
    }

    #[cfg(test)]
    pub fn for_test() -> Secret {
        Secret([7; 32])
    }

    fn mac(&self, page: &str, issued: i64) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(page.as_bytes());
        mac.update(b"\n");
        mac.update(issued.to_string().as_bytes());
        mac
    }

    /// A token for a form on `page`, served at `now` (seconds since 1970).
    pub fn sign(&self, page: &str, now: i64) -> String {
        let tag = self.mac(page, now).finalize().into_bytes();
        format!("{now}.{}", hex(&tag))
    }

    /// Checks a posted token against the page it was posted to.
    pub fn verify(&self, token: &str, page: &str, now: i64) -> Result<(), TokenError> {
        let (issued, tag) = token.split_once('.').ok_or(TokenError::Invalid)?;
        let issued: i64 = issued.parse().map_err(|_| TokenError::Invalid)?;
        let tag = unhex(tag).ok_or(TokenError::Invalid)?;
        // A tag made for another page fails here too: the page is signed.
        self.mac(page, issued).verify_slice(&tag).map_err(|_| TokenError::Invalid)?;
        let age = now - issued;
        if age < MIN_AGE_SECS {
            Err(TokenError::TooFast)
        } else if age > MAX_AGE_SECS {
            Err(TokenError::Expired)
        } else {
            Ok(())
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Missing, forged, or made for another page.
    Invalid,
    /// Sent sooner after the form was served than a person could.
    TooFast,
    /// The form was served too long ago.
    Expired,
}

/// 32 random bytes from the operating system.
pub fn random_bytes() -> std::io::Result<[u8; 32]> {
    let mut bytes = [0; 32];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(bytes)
}

/// Writes a file only the owner can read (0600 on Unix).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_valid_for_its_page_after_a_few_seconds() {
        let secret = Secret::for_test();
        let token = secret.sign("/a/b/", 1000);
        assert_eq!(secret.verify(&token, "/a/b/", 1005), Ok(()));
        assert_eq!(secret.verify(&token, "/a/b/", 1001), Err(TokenError::TooFast));
        assert_eq!(secret.verify(&token, "/a/b/", 1000 + MAX_AGE_SECS + 1), Err(TokenError::Expired));
        assert_eq!(secret.verify(&token, "/a/other/", 1005), Err(TokenError::Invalid));
    }

    #[test]
    fn forged_or_mangled_tokens_are_invalid() {
        let secret = Secret::for_test();
        let token = secret.sign("/a/", 1000);
        let later = token.replacen("1000", "900", 1);
        for bad in ["", "abc", "1000.", "1000.zz", later.as_str(), &Secret([8; 32]).sign("/a/", 1000)] {
            assert_eq!(secret.verify(bad, "/a/", 1010), Err(TokenError::Invalid), "{bad:?}");
        }
    }

    #[test]
    fn the_secret_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let first = Secret::load_or_create(&path).unwrap();
        let second = Secret::load_or_create(&path).unwrap();
        assert_eq!(first.0, second.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
