//! Signed comment-form tokens. A token says which page a form was served
//! for and when, signed with a server secret, so a post can be checked
//! without a lookup: a bot that posts without loading the form, or replays
//! a form from another page, or posts faster than a person could type, is
//! told apart from a reader.
//!
//! Each token also carries a random nonce, so no two forms share one even
//! when served in the same second. The store records the nonce with the
//! comment it was used for, which makes a token good for one comment.

use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::util::bytes::{hex, random_bytes, unhex};
use crate::util::fs::write_private;

type HmacSha256 = Hmac<Sha256>;

/// A person needs at least this long to read the form and type something.
pub(crate) const MIN_AGE_SECS: i64 = 3;
/// After this the form is stale: the reader is asked to send it again.
pub(crate) const MAX_AGE_SECS: i64 = 12 * 60 * 60;

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
            Ok(_) => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} is not a 32-byte key; delete it to make a new one", path.display()),
            )),
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

    fn mac(&self, page: &str, issued: i64, nonce: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(page.as_bytes());
        mac.update(b"\n");
        mac.update(issued.to_string().as_bytes());
        mac.update(b"\n");
        mac.update(nonce.as_bytes());
        mac
    }

    /// A token for a form on `page`, served at `now` (seconds since 1970).
    /// Fails only if the operating system cannot give random bytes.
    pub fn sign(&self, page: &str, now: i64) -> std::io::Result<String> {
        let nonce = hex(&random_bytes()?[..NONCE_BYTES]);
        let tag = self.mac(page, now, &nonce).finalize().into_bytes();
        Ok(format!("{now}.{nonce}.{}", hex(&tag)))
    }

    /// Checks a posted token against the page it was posted to; the form's
    /// nonce, which the store records once a comment is kept.
    pub fn verify<'t>(&self, token: &'t str, page: &str, now: i64) -> Result<Nonce<'t>, TokenError> {
        self.check(token, page, now, MIN_AGE_SECS)
    }

    /// The same without the time a person needs to type: for a form whose
    /// answer is one click (feedback's Yes or No), where a quick post is
    /// as likely a person as a bot.
    pub fn verify_any_speed<'t>(&self, token: &'t str, page: &str, now: i64) -> Result<Nonce<'t>, TokenError> {
        self.check(token, page, now, 0)
    }

    fn check<'t>(&self, token: &'t str, page: &str, now: i64, min_age: i64) -> Result<Nonce<'t>, TokenError> {
        let mut parts = token.split('.');
        let (Some(issued), Some(nonce), Some(tag), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Invalid);
        };
        let issued: i64 = issued.parse().map_err(|_| TokenError::Invalid)?;
        let tag = unhex(tag).ok_or(TokenError::Invalid)?;
        // A tag made for another page fails here too: the page is signed.
        self.mac(page, issued, nonce).verify_slice(&tag).map_err(|_| TokenError::Invalid)?;
        let age = now - issued;
        if age < min_age {
            Err(TokenError::TooFast)
        } else if age > MAX_AGE_SECS {
            Err(TokenError::Expired)
        } else {
            Ok(Nonce { nonce, expires_at: issued + MAX_AGE_SECS })
        }
    }
}

/// 128 random bits: no two forms get the same one by chance.
const NONCE_BYTES: usize = 16;

/// What identifies one served form, from a token that checked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nonce<'t> {
    pub nonce: &'t str,
    /// After this (seconds since 1970) the token is refused anyway, so the
    /// record of its use can go.
    pub expires_at: i64,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_valid_for_its_page_after_a_few_seconds() {
        let secret = Secret::for_test();
        let token = secret.sign("/a/b/", 1000).unwrap();
        let nonce = secret.verify(&token, "/a/b/", 1005).unwrap();
        assert_eq!(nonce.expires_at, 1000 + MAX_AGE_SECS);
        assert_eq!(nonce.nonce.len(), NONCE_BYTES * 2);
        assert_eq!(secret.verify(&token, "/a/b/", 1001), Err(TokenError::TooFast));
        assert_eq!(secret.verify(&token, "/a/b/", 1000 + MAX_AGE_SECS + 1), Err(TokenError::Expired));
        assert_eq!(secret.verify(&token, "/a/other/", 1005), Err(TokenError::Invalid));
        assert!(secret.verify_any_speed(&token, "/a/b/", 1000).is_ok());
        assert_eq!(secret.verify_any_speed(&token, "/a/other/", 1000), Err(TokenError::Invalid));
    }

    #[test]
    fn forms_served_in_the_same_second_get_different_tokens() {
        let secret = Secret::for_test();
        let (a, b) = (secret.sign("/a/", 1000).unwrap(), secret.sign("/a/", 1000).unwrap());
        assert_ne!(a, b);
        assert_ne!(secret.verify(&a, "/a/", 1010).unwrap().nonce, secret.verify(&b, "/a/", 1010).unwrap().nonce);
    }

    #[test]
    fn forged_or_mangled_tokens_are_invalid() {
        let secret = Secret::for_test();
        let token = secret.sign("/a/", 1000).unwrap();
        let later = token.replacen("1000", "900", 1);
        let (head, tag) = token.rsplit_once('.').unwrap();
        let other_nonce = format!("{}.{}.{tag}", head.split('.').next().unwrap(), "0".repeat(32));
        let old_format = format!("1000.{tag}");
        let extra = format!("{token}.x");
        let forged = Secret([8; 32]).sign("/a/", 1000).unwrap();
        for bad in
            ["", "abc", "1000.", "1000..", "1000.ab.zz", later.as_str(), &other_nonce, &old_format, &extra, &forged]
        {
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
