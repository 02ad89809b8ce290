//! Two-step sign-in: after a right password, a six-digit code from an
//! authenticator app (TOTP, RFC 6238: SHA-1, 30-second steps, one step of
//! clock drift either way), or one of ten single-use recovery codes.
//!
//! Setting it up is two steps too: [`StaffStore::begin_setup`] makes a
//! secret and keeps it on the server (`staff_totp_pending`, step 8 of
//! `comments/schema.sql`), so no form ever carries it back; only a code
//! made from it turns two-step sign-in on ([`StaffStore::confirm_setup`]).
//! Until then a person who scanned nothing cannot lock themselves out.
//!
//! A code works once: the time step it was made for is stored
//! (`totp_last_step`), and a code for that step or an earlier one is
//! refused, so a code seen over someone's shoulder is already spent.
//! Recovery codes are kept hashed, like session tokens.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use totp_rs::{Algorithm, Builder, Totp};

use super::accounts::account_by_id;
use super::activity::{Actor, Kind, record};
use super::{Account, AuthError, StaffStore, token_hash};
use crate::util::bytes::{hex, random_bytes};

/// Seconds a code from the app stands for (RFC 6238's default, and the
/// only step most apps support).
pub const STEP_SECONDS: u64 = 30;
/// Digits in a code; apps assume six.
pub const DIGITS: u8 = 6;
/// Steps of clock drift allowed either way: a phone a little fast or slow,
/// or a code typed just as it changed, still works.
pub const SKEW: u16 = 1;
/// Bytes in a secret: 160 bits, as RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;
/// How many recovery codes a person gets when turning two-step sign-in on.
pub const RECOVERY_CODES: usize = 10;
/// After the right password, the code must follow within five minutes:
/// time to find the phone, not to leave a half-signed-in form lying about.
pub const SIGN_IN_STEP_LIFETIME: i64 = 5 * 60;

/// Characters of a recovery code: Crockford's base32, without the letters
/// that look like digits (i, l, o, u); 32 of them, so each random byte's
/// low five bits pick one evenly.
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// 12 characters, 60 bits: too many to guess within the sign-in limits.
const RECOVERY_LENGTH: usize = 12;

/// Why a code was not accepted. The texts are for the person typing it.
#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    #[error(
        "that code is not right: type the 6-digit code your authenticator app shows now, or one of your unused recovery codes. Each code works once; if you have just used one, wait for the next"
    )]
    WrongCode,
    #[error(
        "this sign-in has expired: the code must be typed within 5 minutes of the password. Sign in again with your username and password"
    )]
    StepExpired,
    #[error("{0}")]
    Auth(#[from] AuthError),
}

impl From<rusqlite::Error> for CodeError {
    fn from(error: rusqlite::Error) -> Self {
        CodeError::Auth(AuthError::Database(error))
    }
}

/// A secret made for setting up two-step sign-in, waiting for its first
/// code.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingSecret(Vec<u8>);

/// Never in logs.
impl std::fmt::Debug for PendingSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PendingSecret(..)")
    }
}

impl PendingSecret {
    /// The secret as apps ask for it when typed in by hand: base32, in
    /// groups of four so it can be read out and checked.
    pub fn base32_grouped(&self) -> String {
        let plain = base32(&self.0);
        let groups: Vec<&str> =
            plain.as_bytes().chunks(4).map(|chunk| std::str::from_utf8(chunk).expect("base32 is ASCII")).collect();
        groups.join(" ")
    }

    /// The `otpauth://` address the QR code holds.
    pub fn uri(&self, issuer: &str, username: &str) -> String {
        otpauth_uri(issuer, username, &self.0)
    }
}

/// Base32 (RFC 4648, no padding), the form authenticator apps take.
pub fn base32(secret: &[u8]) -> String {
    totp(secret).secret().to_base32().trim_end_matches('=').to_string()
}

/// `otpauth://totp/Issuer:username?secret=...&issuer=Issuer`, the address
/// apps read from the QR code. The issuer (the clinic's name) is how the
/// app labels the entry; both parts are percent-encoded, so a name with a
/// colon, an ampersand or spaces cannot change what the address says.
pub fn otpauth_uri(issuer: &str, username: &str, secret: &[u8]) -> String {
    use crate::util::html::percent_encode;
    let issuer = percent_encode(issuer.trim());
    format!(
        "otpauth://totp/{issuer}:{}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        percent_encode(username),
        base32(secret)
    )
}

fn totp(secret: &[u8]) -> Totp {
    // Only our own 20-byte secrets reach here (and the RFC's 20-byte test
    // secret), which the builder's checks accept.
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(SKEW)
        .with_step_duration(STEP_SECONDS)
        .with_secret(secret.to_vec())
        .build()
        .expect("a 20-byte secret with RFC 6238's defaults is valid")
}

/// The code an app shows for `secret` at `now` (tests, and nothing else
/// needs it; the server only checks codes).
pub fn code_at(secret: &[u8], now: i64) -> String {
    totp(secret).generate(u64::try_from(now).unwrap_or(0)).to_string()
}

/// The time step a code is right for at `now`, if it is right for one
/// later than `last_step` (the last step a code was accepted for).
pub fn accepted_step(secret: &[u8], code: &str, now: i64, last_step: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret);
    let origin = u64::try_from(now).unwrap_or(0) / STEP_SECONDS;
    // Each step of the window in turn, not `Totp::check` (which stops at
    // the first match): a code from the drift window that was already used
    // must not hide a later step it also matches.
    (origin.saturating_sub(u64::from(SKEW))..=origin + u64::from(SKEW))
        .filter(|step| i64::try_from(*step).is_ok_and(|step| step > last_step))
        .find(|step| totp.generate(step * STEP_SECONDS).to_string() == code)
        .and_then(|step| i64::try_from(step).ok())
}

/// A recovery code as typed, in the one form that is hashed: lower case,
/// without spaces or dashes, and with the letters people mistake for
/// digits read as those digits.
fn normalise_recovery_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            other => other,
        })
        .collect();
    (code.len() == RECOVERY_LENGTH && code.bytes().all(|b| RECOVERY_ALPHABET.contains(&b))).then_some(code)
}

/// Ten new recovery codes, as shown: "abcd-efgh-jkmn".
fn new_recovery_codes() -> Result<Vec<String>, AuthError> {
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    while codes.len() < RECOVERY_CODES {
        let bytes = random_bytes()?;
        let code: String =
            bytes[..RECOVERY_LENGTH].iter().map(|b| char::from(RECOVERY_ALPHABET[usize::from(b & 31)])).collect();
        let shown = format!("{}-{}-{}", &code[..4], &code[4..8], &code[8..]);
        if !codes.contains(&shown) {
            codes.push(shown);
        }
    }
    Ok(codes)
}

fn write(conn: &mut Connection) -> Result<rusqlite::Transaction<'_>, rusqlite::Error> {
    // IMMEDIATE: take the write lock before reading, so the same code sent
    // twice at once is accepted once.
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
}

/// The account's confirmed secret and the last step a code was accepted for.
fn secret_of(conn: &Connection, id: i64) -> Result<Option<(Vec<u8>, i64)>, rusqlite::Error> {
    conn.query_row("SELECT totp_secret, totp_last_step FROM staff_accounts WHERE id = ?1", params![id], |row| {
        let secret: Option<Vec<u8>> = row.get(0)?;
        let last_step: i64 = row.get(1)?;
        Ok(secret.map(|secret| (secret, last_step)))
    })
    .optional()
    .map(Option::flatten)
}

/// Which of a person's codes `typed` is, if it is one they may use now.
enum Used {
    /// A code from the app (its step is now the last one used).
    App,
    /// A recovery code, with how many unused ones are left after it.
    Recovery(usize),
}

/// Checks `typed` against the account's secret and unused recovery codes,
/// and spends it (stores the step, or marks the recovery code used).
fn spend_code(tx: &Connection, account: &Account, typed: &str, now: i64) -> Result<Option<Used>, rusqlite::Error> {
    let Some((secret, last_step)) = secret_of(tx, account.id)? else { return Ok(None) };
    if let Some(step) = accepted_step(&secret, typed, now, last_step) {
        tx.execute("UPDATE staff_accounts SET totp_last_step = ?2 WHERE id = ?1", params![account.id, step])?;
        return Ok(Some(Used::App));
    }
    let Some(code) = normalise_recovery_code(typed) else { return Ok(None) };
    let spent = tx.execute(
        "UPDATE staff_recovery_codes SET used_at = ?3 WHERE account_id = ?1 AND code_hash = ?2 AND used_at IS NULL",
        params![account.id, token_hash(&code), now],
    )?;
    if spent == 0 {
        return Ok(None);
    }
    Ok(Some(Used::Recovery(recovery_codes_left(tx, account.id)?)))
}

fn recovery_codes_left(conn: &Connection, id: i64) -> Result<usize, rusqlite::Error> {
    conn.query_row(
        "SELECT count(*) FROM staff_recovery_codes WHERE account_id = ?1 AND used_at IS NULL",
        params![id],
        |row| row.get::<_, i64>(0),
    )
    .map(|left| usize::try_from(left).unwrap_or(0))
}

fn codes_left_text(left: usize) -> String {
    format!("{left} recovery code{} left", if left == 1 { "" } else { "s" })
}

impl StaffStore {
    /// Makes a new secret for a person to add to their app, replacing any
    /// earlier one they did not confirm.
    pub fn begin_setup(&self, account: &Account, now: i64) -> Result<PendingSecret, AuthError> {
        let secret = random_bytes()?[..SECRET_BYTES].to_vec();
        let mut conn = self.conn();
        let tx = write(&mut conn)?;
        if secret_of(&tx, account.id)?.is_some() {
            return Err(AuthError::Invalid(
                "two-step sign-in is already on. To move it to a new phone, turn it off and set it up again".into(),
            ));
        }
        tx.execute(
            "INSERT INTO staff_totp_pending (account_id, secret, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (account_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at",
            params![account.id, secret, now],
        )?;
        tx.commit()?;
        Ok(PendingSecret(secret))
    }

    /// The secret a person is setting up, if they started and have not
    /// finished (so reloading the page shows the same QR code).
    pub fn pending_setup(&self, account: &Account) -> Result<Option<PendingSecret>, AuthError> {
        let secret = self
            .conn()
            .query_row("SELECT secret FROM staff_totp_pending WHERE account_id = ?1", params![account.id], |row| {
                row.get::<_, Vec<u8>>(0)
            })
            .optional()?;
        Ok(secret.map(PendingSecret))
    }

    /// Turns two-step sign-in on with the first code from the app: the
    /// pending secret becomes the account's, and ten recovery codes are
    /// made. They are returned to be shown once; only their hashes are
    /// kept.
    pub fn confirm_setup(&self, account: &Account, code: &str, now: i64) -> Result<Vec<String>, CodeError> {
        let codes = new_recovery_codes()?;
        let mut conn = self.conn();
        let tx = write(&mut conn)?;
        let secret: Option<Vec<u8>> = tx
            .query_row("SELECT secret FROM staff_totp_pending WHERE account_id = ?1", params![account.id], |row| {
                row.get(0)
            })
            .optional()?;
        let Some(secret) = secret else {
            return Err(AuthError::Invalid(
                "there is no set-up waiting for a code (it may have been finished in another window). Start again"
                    .into(),
            )
            .into());
        };
        let Some(step) = accepted_step(&secret, code, now, 0) else { return Err(CodeError::WrongCode) };
        tx.execute(
            "UPDATE staff_accounts SET totp_secret = ?2, totp_last_step = ?3 WHERE id = ?1",
            params![account.id, secret, step],
        )?;
        tx.execute("DELETE FROM staff_totp_pending WHERE account_id = ?1", params![account.id])?;
        tx.execute("DELETE FROM staff_recovery_codes WHERE account_id = ?1", params![account.id])?;
        for shown in &codes {
            let code = normalise_recovery_code(shown).expect("a code we made is a recovery code");
            tx.execute(
                "INSERT INTO staff_recovery_codes (account_id, code_hash) VALUES (?1, ?2)",
                params![account.id, token_hash(&code)],
            )?;
        }
        let detail = format!("{RECOVERY_CODES} recovery codes made");
        record(&tx, &Actor::person(account), Kind::TwoStepOn, &account.username, &detail, now)?;
        tx.commit()?;
        Ok(codes)
    }

    /// Turns two-step sign-in off, with a code from the app or a recovery
    /// code, so a browser left signed in is not enough to weaken the
    /// account. The secret and recovery codes are deleted.
    pub fn turn_off(&self, account: &Account, code: &str, now: i64) -> Result<(), CodeError> {
        let mut conn = self.conn();
        let tx = write(&mut conn)?;
        if secret_of(&tx, account.id)?.is_none() {
            return Err(AuthError::Invalid("two-step sign-in is already off".into()).into());
        }
        if spend_code(&tx, account, code, now)?.is_none() {
            return Err(CodeError::WrongCode);
        }
        clear(&tx, account, &Actor::person(account), now)?;
        tx.commit()?;
        Ok(())
    }

    /// Turns a person's two-step sign-in off without a code: for the
    /// server's command line, when they lost both phone and recovery codes.
    pub fn clear_two_step(&self, account: &Account, by: &Actor, now: i64) -> Result<(), AuthError> {
        let mut conn = self.conn();
        let tx = write(&mut conn)?;
        if secret_of(&tx, account.id)?.is_none() {
            return Err(AuthError::Invalid(format!("{} does not use two-step sign-in", account.label())));
        }
        clear(&tx, account, by, now)?;
        tx.commit()?;
        Ok(())
    }

    /// How many unused recovery codes a person has.
    pub fn recovery_codes_left(&self, account: &Account) -> Result<usize, AuthError> {
        Ok(recovery_codes_left(&self.conn(), account.id)?)
    }

    /// Starts the second step for a person whose password was right: a
    /// random token for the code form, valid five minutes. Only its hash
    /// is kept. Steps past their time are deleted on the way.
    pub fn begin_sign_in_step(&self, account: &Account, now: i64) -> Result<String, AuthError> {
        let token = hex(&random_bytes()?);
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM staff_sign_in_steps WHERE expires_at <= ?1", params![now])?;
        tx.execute(
            "INSERT INTO staff_sign_in_steps (token_hash, account_id, expires_at) VALUES (?1, ?2, ?3)",
            params![token_hash(&token), account.id, now + SIGN_IN_STEP_LIFETIME],
        )?;
        tx.commit()?;
        Ok(token)
    }

    /// Whose sign-in this token continues, if it is still waiting for a
    /// code (so failed codes can be counted against their username before
    /// the code is checked).
    pub fn sign_in_step_account(&self, token: &str, now: i64) -> Result<Option<Account>, AuthError> {
        let conn = self.conn();
        Ok(step_account(&conn, token, now)?)
    }

    /// Finishes a sign-in with a code from the app or an unused recovery
    /// code. The token is used up on success; on a wrong code it stays,
    /// so the person can try again (the HTTP layer limits how often), and
    /// the failure goes on the record.
    pub fn finish_sign_in_step(&self, token: &str, code: &str, now: i64) -> Result<Account, CodeError> {
        let mut conn = self.conn();
        let tx = write(&mut conn)?;
        let Some(account) = step_account(&tx, token, now)? else { return Err(CodeError::StepExpired) };
        let by = Actor::person(&account);
        match spend_code(&tx, &account, code, now)? {
            Some(used) => {
                tx.execute("DELETE FROM staff_sign_in_steps WHERE token_hash = ?1", params![token_hash(token)])?;
                if let Used::Recovery(left) = used {
                    record(&tx, &by, Kind::RecoveryCodeUsed, &account.username, &codes_left_text(left), now)?;
                }
                tx.commit()?;
                Ok(account)
            }
            None => {
                record(&tx, &by, Kind::SignInFailed, &account.username, "wrong two-step code", now)?;
                tx.commit()?;
                Err(CodeError::WrongCode)
            }
        }
    }
}

/// The account a live sign-in step belongs to; `None` when the token is
/// unknown, has expired, or its person was disabled or turned two-step
/// sign-in off meanwhile.
/// Deletes a person's secret, recovery codes, set-up and sign-ins waiting
/// for a code, on the record.
fn clear(tx: &Connection, account: &Account, by: &Actor, now: i64) -> Result<(), rusqlite::Error> {
    tx.execute("UPDATE staff_accounts SET totp_secret = NULL, totp_last_step = 0 WHERE id = ?1", params![account.id])?;
    tx.execute("DELETE FROM staff_recovery_codes WHERE account_id = ?1", params![account.id])?;
    tx.execute("DELETE FROM staff_totp_pending WHERE account_id = ?1", params![account.id])?;
    tx.execute("DELETE FROM staff_sign_in_steps WHERE account_id = ?1", params![account.id])?;
    record(tx, by, Kind::TwoStepOff, &account.username, "", now)
}

fn step_account(conn: &Connection, token: &str, now: i64) -> Result<Option<Account>, rusqlite::Error> {
    let found: Option<(i64, i64)> = conn
        .query_row(
            "SELECT account_id, expires_at FROM staff_sign_in_steps WHERE token_hash = ?1",
            params![token_hash(token)],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((id, expires_at)) = found else { return Ok(None) };
    if now >= expires_at {
        return Ok(None);
    }
    Ok(account_by_id(conn, id)?.filter(|account| !account.disabled && account.two_step))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::activity::Filter;

    /// RFC 6238, appendix B: the SHA-1 test secret.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    fn store() -> (tempfile::TempDir, StaffStore, Account) {
        crate::auth::test_store(1)
    }

    /// Two-step sign-in turned on with the RFC's secret, as if set up.
    fn with_rfc_secret(staff: &StaffStore, account: &Account) -> Account {
        staff
            .conn()
            .execute("UPDATE staff_accounts SET totp_secret = ?2 WHERE id = ?1", params![account.id, RFC_SECRET])
            .unwrap();
        staff.account(account.id).unwrap().unwrap()
    }

    fn kinds(staff: &StaffStore) -> Vec<String> {
        staff.activity(&Filter::default(), 100).unwrap().into_iter().map(|e| e.kind).collect()
    }

    #[test]
    fn codes_match_the_rfc_6238_sha1_test_vectors() {
        // Appendix B gives 8 digits; an app shows the last 6.
        assert_eq!(code_at(RFC_SECRET, 59), "287082");
        assert_eq!(code_at(RFC_SECRET, 1_111_111_109), "081804");
        assert_eq!(code_at(RFC_SECRET, 1_111_111_111), "050471");
        assert_eq!(accepted_step(RFC_SECRET, "287082", 59, 0), Some(1));
        assert_eq!(accepted_step(RFC_SECRET, "081 804", 1_111_111_109, 0), Some(1_111_111_109 / 30));
    }

    #[test]
    fn a_code_works_one_step_early_or_late_and_no_further() {
        let step = 1_111_111_109 / 30;
        assert_eq!(accepted_step(RFC_SECRET, "081804", 1_111_111_109 + 30, 0), Some(step));
        assert_eq!(accepted_step(RFC_SECRET, "081804", 1_111_111_109 - 30, 0), Some(step));
        assert_eq!(accepted_step(RFC_SECRET, "081804", 1_111_111_109 + 60, 0), None);
        assert_eq!(accepted_step(RFC_SECRET, "081804", 1_111_111_109, step), None, "already used");
        assert_eq!(accepted_step(RFC_SECRET, "08180", 1_111_111_109, 0), None);
        assert_eq!(accepted_step(RFC_SECRET, "abcdef", 1_111_111_109, 0), None);
    }

    #[test]
    fn the_app_address_names_the_clinic_and_person_percent_encoded() {
        assert_eq!(base32(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            otpauth_uri("Lakeside PT & Co", "jane.smith", RFC_SECRET),
            "otpauth://totp/Lakeside%20PT%20%26%20Co:jane.smith?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Lakeside%20PT%20%26%20Co&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(PendingSecret(RFC_SECRET.to_vec()).base32_grouped(), "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
    }

    #[test]
    fn setting_up_needs_a_right_code_and_gives_ten_recovery_codes_once() {
        let (_dir, staff, account) = store();
        let pending = staff.begin_setup(&account, 100).unwrap();
        assert_eq!(staff.pending_setup(&account).unwrap(), Some(pending.clone()));
        assert!(!staff.account(account.id).unwrap().unwrap().two_step, "not on until confirmed");
        assert!(matches!(staff.confirm_setup(&account, "000000", 100), Err(CodeError::WrongCode)));
        let now = 1_800_000_000;
        let codes = staff.confirm_setup(&account, &code_at(&pending.0, now), now).unwrap();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert!(codes.iter().all(|c| c.len() == 14 && normalise_recovery_code(c).is_some()), "{codes:?}");
        assert!(staff.account(account.id).unwrap().unwrap().two_step);
        assert_eq!(staff.pending_setup(&account).unwrap(), None);
        assert_eq!(staff.recovery_codes_left(&account).unwrap(), 10);
        assert!(kinds(&staff).contains(&"two-step-on".to_string()));
        // The database keeps hashes, not the codes.
        let stored: Vec<Vec<u8>> = {
            let conn = staff.conn();
            let mut statement = conn.prepare("SELECT code_hash FROM staff_recovery_codes").unwrap();
            statement.query_map([], |row| row.get(0)).unwrap().map(Result::unwrap).collect()
        };
        for code in &codes {
            assert!(!stored.iter().any(|hash| hash == code.as_bytes()));
        }
        // The code that turned it on cannot sign in afterwards.
        let token = staff.begin_sign_in_step(&account, now).unwrap();
        assert!(matches!(staff.finish_sign_in_step(&token, &code_at(&pending.0, now), now), Err(CodeError::WrongCode)));
        assert!(staff.begin_setup(&account, now).is_err(), "already on");
    }

    #[test]
    fn a_code_signs_in_once_and_a_wrong_one_never() {
        let (_dir, staff, account) = store();
        let account = with_rfc_secret(&staff, &account);
        let now = 1_111_111_109;
        let token = staff.begin_sign_in_step(&account, now).unwrap();
        assert!(matches!(staff.finish_sign_in_step(&token, "123456", now), Err(CodeError::WrongCode)));
        assert!(kinds(&staff).contains(&"failed-sign-in".to_string()));
        // A wrong code leaves the step open for another try.
        let signed_in = staff.finish_sign_in_step(&token, "081804", now).unwrap();
        assert_eq!(signed_in.id, account.id);
        // The token is used up, and the same code is refused on a new sign-in.
        assert!(matches!(staff.finish_sign_in_step(&token, "081804", now), Err(CodeError::StepExpired)));
        let again = staff.begin_sign_in_step(&account, now + 10).unwrap();
        assert!(matches!(staff.finish_sign_in_step(&again, "081804", now + 10), Err(CodeError::WrongCode)));
        // The next step's code still works.
        assert!(staff.finish_sign_in_step(&again, &code_at(RFC_SECRET, now + 30), now + 30).is_ok());
    }

    #[test]
    fn a_recovery_code_signs_in_once() {
        let (_dir, staff, account) = store();
        let pending = staff.begin_setup(&account, 1).unwrap();
        let now = 1_800_000_000;
        let codes = staff.confirm_setup(&account, &code_at(&pending.0, now), now).unwrap();
        let account = staff.account(account.id).unwrap().unwrap();
        let token = staff.begin_sign_in_step(&account, now + 60).unwrap();
        // Typed in capitals without dashes still counts.
        let typed = codes[3].replace('-', "").to_uppercase();
        assert!(staff.finish_sign_in_step(&token, &typed, now + 60).is_ok());
        assert_eq!(staff.recovery_codes_left(&account).unwrap(), 9);
        let entry = &staff.activity(&Filter::default(), 1).unwrap()[0];
        assert_eq!((entry.kind.as_str(), entry.detail.as_str()), ("recovery-code-used", "9 recovery codes left"));
        let token = staff.begin_sign_in_step(&account, now + 90).unwrap();
        assert!(matches!(staff.finish_sign_in_step(&token, &codes[3], now + 90), Err(CodeError::WrongCode)));
    }

    #[test]
    fn a_sign_in_step_expires_after_five_minutes() {
        let (_dir, staff, account) = store();
        let account = with_rfc_secret(&staff, &account);
        let start = 1_111_111_109 - SIGN_IN_STEP_LIFETIME;
        let token = staff.begin_sign_in_step(&account, start).unwrap();
        assert!(staff.sign_in_step_account(&token, start).unwrap().is_some());
        let now = start + SIGN_IN_STEP_LIFETIME;
        assert!(staff.sign_in_step_account(&token, now).unwrap().is_none());
        assert!(matches!(staff.finish_sign_in_step(&token, "081804", now), Err(CodeError::StepExpired)));
        assert!(matches!(staff.finish_sign_in_step("made-up", "081804", start), Err(CodeError::StepExpired)));
    }

    #[test]
    fn turning_off_needs_a_code_and_removes_the_secret_and_recovery_codes() {
        let (_dir, staff, account) = store();
        let account = with_rfc_secret(&staff, &account);
        let now = 1_111_111_109;
        assert!(matches!(staff.turn_off(&account, "000000", now), Err(CodeError::WrongCode)));
        staff.turn_off(&account, "081804", now).unwrap();
        let account = staff.account(account.id).unwrap().unwrap();
        assert!(!account.two_step);
        assert_eq!(staff.recovery_codes_left(&account).unwrap(), 0);
        assert!(kinds(&staff).contains(&"two-step-off".to_string()));
        assert!(matches!(staff.turn_off(&account, "081804", now), Err(CodeError::Auth(AuthError::Invalid(_)))));
    }
}
