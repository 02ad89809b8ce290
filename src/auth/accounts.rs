//! Staff accounts: adding people, their roles, disabling them, their
//! passwords and one-time set-password links, and the upgrade from the
//! single shared password of earlier versions.
//!
//! Each change is one transaction together with its line in the activity
//! record, so nothing is half-written and nothing happens off the record.

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::activity::{Actor, Kind, record};
use super::roles::{Role, Roles};
use super::{AuthError, StaffStore, token_hash};
use crate::config::DataFolder;
use crate::util::bytes::{hex, random_bytes};

/// A set-password link works for a day, long enough to pass it on by
/// phone or in person, short enough that a forgotten one goes stale.
pub const LINK_LIFETIME: i64 = 24 * 60 * 60;

pub const USERNAME_MAX: usize = 32;
pub const NAME_MAX: usize = 80;
pub const CREDENTIALS_MAX: usize = 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub name: String,
    /// Shown after a reviewer's name to readers: "DPT".
    pub credentials: String,
    pub roles: Roles,
    pub disabled: bool,
    /// False until the person has used their set-password link.
    pub has_password: bool,
    pub two_step: bool,
    pub created_at: i64,
}

impl Account {
    /// "Jane Smith (jane)", as the activity record names people.
    pub fn label(&self) -> String {
        format!("{} ({})", self.name, self.username)
    }

    /// "Jane Smith, DPT", as readers see a reviewer.
    pub fn signature(&self) -> String {
        if self.credentials.is_empty() { self.name.clone() } else { format!("{}, {}", self.name, self.credentials) }
    }
}

/// A person to add, checked.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    pub name: String,
    pub credentials: String,
    pub roles: Roles,
}

impl NewAccount {
    /// Checks each field; the message says what to change.
    pub fn parse(username: &str, name: &str, credentials: &str, roles: Roles) -> Result<NewAccount, AuthError> {
        let username = parse_username(username)?;
        let name = plain_text(name, "name", NAME_MAX)?;
        if name.is_empty() {
            return Err(AuthError::Invalid("give the person's full name, as colleagues know them".into()));
        }
        let credentials = plain_text(credentials, "credentials", CREDENTIALS_MAX)?;
        if roles.is_empty() {
            return Err(AuthError::Invalid("give the person at least one role".into()));
        }
        Ok(NewAccount { username, name, credentials, roles })
    }
}

/// Usernames are typed at every sign-in: short, lower-case, no spaces.
pub fn parse_username(username: &str) -> Result<String, AuthError> {
    let username = username.trim().to_ascii_lowercase();
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_');
    if username.len() < 2 || username.len() > USERNAME_MAX {
        return Err(AuthError::Invalid(format!("a username is 2 to {USERNAME_MAX} characters long")));
    }
    if !username.chars().all(allowed) || !username.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(AuthError::Invalid(
            "a username starts with a letter and has only letters a-z, digits, dots, dashes and underscores, like \"jane.smith\"".into(),
        ));
    }
    Ok(username)
}

/// A name or credentials: one line, no control or direction characters
/// (which could make the record read differently from what it holds).
fn plain_text(text: &str, what: &str, max: usize) -> Result<String, AuthError> {
    let text = text.trim();
    if text.chars().any(|c| c.is_control() || crate::comments::is_bidi_control(c) || crate::comments::is_bidi_mark(c)) {
        return Err(AuthError::Invalid(format!(
            "the {what} has a line break or a hidden control character; type it again"
        )));
    }
    if text.chars().count() > max {
        return Err(AuthError::Invalid(format!("the {what} can be at most {max} characters long")));
    }
    Ok(text.to_string())
}

const ACCOUNT_COLUMNS: &str = "id, username, name, credentials, disabled_at IS NOT NULL, password_hash IS NOT NULL, totp_secret IS NOT NULL, created_at";

fn account_from_row(conn: &Connection, row: &rusqlite::Row<'_>) -> Result<Account, rusqlite::Error> {
    let id: i64 = row.get(0)?;
    Ok(Account {
        id,
        username: row.get(1)?,
        name: row.get(2)?,
        credentials: row.get(3)?,
        roles: roles_of(conn, id)?,
        disabled: row.get(4)?,
        has_password: row.get(5)?,
        two_step: row.get(6)?,
        created_at: row.get(7)?,
    })
}

fn roles_of(conn: &Connection, id: i64) -> Result<Roles, rusqlite::Error> {
    let mut statement = conn.prepare_cached("SELECT role FROM staff_roles WHERE account_id = ?1")?;
    let names = statement.query_map(params![id], |row| row.get::<_, String>(0))?;
    let mut roles = Roles::default();
    for name in names {
        if let Some(role) = Role::parse(&name?) {
            roles = roles.with(role);
        }
    }
    Ok(roles)
}

pub(crate) fn account_by_id(conn: &Connection, id: i64) -> Result<Option<Account>, rusqlite::Error> {
    conn.query_row(&format!("SELECT {ACCOUNT_COLUMNS} FROM staff_accounts WHERE id = ?1"), params![id], |row| {
        account_from_row(conn, row)
    })
    .optional()
}

/// Owners who are not disabled, but for `except`.
fn other_active_owners(conn: &Connection, except: i64) -> Result<i64, rusqlite::Error> {
    conn.query_row(
        "SELECT count(*) FROM staff_accounts a JOIN staff_roles r ON r.account_id = a.id
         WHERE r.role = 'owner' AND a.disabled_at IS NULL AND a.id != ?1",
        params![except],
        |row| row.get(0),
    )
}

fn write(conn: &mut Connection) -> Result<Transaction<'_>, rusqlite::Error> {
    // IMMEDIATE: take the write lock before reading, so two owners changing
    // roles at once cannot both see "another owner is left".
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
}

impl StaffStore {
    /// Adds a person, with a password hash (the command line) or none (the
    /// staff page, which then makes a set-password link).
    pub fn add(
        &self,
        new: &NewAccount,
        password_hash: Option<&str>,
        by: &Actor,
        now: i64,
    ) -> Result<Account, AuthError> {
        let mut conn = self.conn();
        let tx = write(&mut conn)?;
        let taken: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM staff_accounts WHERE username = ?1)",
            params![new.username],
            |row| row.get(0),
        )?;
        if taken {
            return Err(AuthError::UsernameTaken(new.username.clone()));
        }
        tx.execute(
            "INSERT INTO staff_accounts (username, name, credentials, password_hash, password_changed_at, created_at)
             VALUES (?1, ?2, ?3, ?4, CASE WHEN ?4 IS NULL THEN NULL ELSE ?5 END, ?5)",
            params![new.username, new.name, new.credentials, password_hash, now],
        )?;
        let id = tx.last_insert_rowid();
        for role in new.roles.iter() {
            tx.execute("INSERT INTO staff_roles (account_id, role) VALUES (?1, ?2)", params![id, role.as_str()])?;
        }
        let detail = format!("{}, roles: {}", new.name, new.roles.describe());
        record(&tx, by, Kind::AccountAdded, &new.username, &detail, now)?;
        let account = account_by_id(&tx, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
        tx.commit()?;
        Ok(account)
    }

    /// Everyone, in username order, disabled people included.
    pub fn accounts(&self) -> Result<Vec<Account>, AuthError> {
        let conn = self.conn();
        let mut statement = conn.prepare(&format!("SELECT {ACCOUNT_COLUMNS} FROM staff_accounts ORDER BY username"))?;
        let accounts = statement.query_map([], |row| account_from_row(&conn, row))?;
        Ok(accounts.collect::<Result<_, _>>()?)
    }

    pub fn account(&self, id: i64) -> Result<Option<Account>, AuthError> {
        Ok(account_by_id(&self.conn(), id)?)
    }

    /// The person with this username (any case), with their password hash.
    pub fn find(&self, username: &str) -> Result<Option<(Account, Option<String>)>, AuthError> {
        let conn = self.conn();
        let found = conn
            .query_row(
                &format!("SELECT {ACCOUNT_COLUMNS}, password_hash FROM staff_accounts WHERE username = ?1"),
                params![username.trim()],
                |row| Ok((account_from_row(&conn, row)?, row.get::<_, Option<String>>(8)?)),
            )
            .optional()?;
        Ok(found)
    }

    /// The person with this username, or the error that says there is none.
    pub fn require(&self, username: &str) -> Result<Account, AuthError> {
        self.find(username)?.map(|(account, _)| account).ok_or_else(|| AuthError::NoSuchUser(username.trim().into()))
    }

    pub fn has_accounts(&self) -> Result<bool, AuthError> {
        Ok(self.conn().query_row("SELECT EXISTS (SELECT 1 FROM staff_accounts)", [], |row| row.get(0))?)
    }

    /// Gives a person exactly these roles. The last active owner cannot
    /// stop being one: someone must be able to add staff.
    pub fn set_roles(&self, id: i64, roles: Roles, by: &Actor, now: i64) -> Result<Account, AuthError> {
        if roles.is_empty() {
            return Err(AuthError::Invalid("give the person at least one role, or disable them instead".into()));
        }
        let mut conn = self.conn();
        let tx = write(&mut conn)?;
        let before = account_by_id(&tx, id)?.ok_or_else(|| AuthError::NoSuchUser(format!("#{id}")))?;
        if before.roles == roles {
            return Ok(before);
        }
        if before.roles.holds(Role::Owner) && !roles.holds(Role::Owner) && other_active_owners(&tx, id)? == 0 {
            return Err(AuthError::LastOwner);
        }
        tx.execute("DELETE FROM staff_roles WHERE account_id = ?1", params![id])?;
        for role in roles.iter() {
            tx.execute("INSERT INTO staff_roles (account_id, role) VALUES (?1, ?2)", params![id, role.as_str()])?;
        }
        let detail = format!("from {} to {}", before.roles.describe(), roles.describe());
        record(&tx, by, Kind::RolesChanged, &before.username, &detail, now)?;
        let account = account_by_id(&tx, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
        tx.commit()?;
        Ok(account)
    }

    /// Disables a person: their sessions and links end at once; their
    /// history stays. Enabling them again needs a new password.
    pub fn set_disabled(&self, id: i64, disabled: bool, by: &Actor, now: i64) -> Result<Account, AuthError> {
        let mut conn = self.conn();
        let tx = write(&mut conn)?;
        let before = account_by_id(&tx, id)?.ok_or_else(|| AuthError::NoSuchUser(format!("#{id}")))?;
        if before.disabled == disabled {
            return Ok(before);
        }
        if disabled {
            if before.roles.holds(Role::Owner) && other_active_owners(&tx, id)? == 0 {
                return Err(AuthError::LastOwner);
            }
            tx.execute("UPDATE staff_accounts SET disabled_at = ?2 WHERE id = ?1", params![id, now])?;
            tx.execute("DELETE FROM staff_sessions WHERE account_id = ?1", params![id])?;
            tx.execute("DELETE FROM staff_sign_in_steps WHERE account_id = ?1", params![id])?;
            tx.execute(
                "UPDATE staff_links SET used_at = ?2 WHERE account_id = ?1 AND used_at IS NULL",
                params![id, now],
            )?;
            record(&tx, by, Kind::AccountDisabled, &before.username, "", now)?;
        } else {
            tx.execute("UPDATE staff_accounts SET disabled_at = NULL WHERE id = ?1", params![id])?;
            record(&tx, by, Kind::AccountEnabled, &before.username, "", now)?;
        }
        let account = account_by_id(&tx, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
        tx.commit()?;
        Ok(account)
    }

    /// Sets a person's password hash and ends their sessions, but for
    /// `keep` (the session they changed it from). `kind` says how it came
    /// about: changed by themselves, set with a link, or by the command line.
    pub fn set_password_hash(
        &self,
        id: i64,
        hash: &str,
        keep: Option<&str>,
        by: &Actor,
        kind: Kind,
        now: i64,
    ) -> Result<(), AuthError> {
        let mut conn = self.conn();
        let tx = write(&mut conn)?;
        let account = account_by_id(&tx, id)?.ok_or_else(|| AuthError::NoSuchUser(format!("#{id}")))?;
        set_hash(&tx, &account, hash, keep, by, kind, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Makes a one-time set-password link token for a person, ending any
    /// earlier unused one (only the newest link given out works).
    pub fn make_link(&self, id: i64, by: &Actor, now: i64) -> Result<String, AuthError> {
        let token = hex(&random_bytes()?);
        let mut conn = self.conn();
        let tx = write(&mut conn)?;
        let account = account_by_id(&tx, id)?.ok_or_else(|| AuthError::NoSuchUser(format!("#{id}")))?;
        if account.disabled {
            return Err(AuthError::Invalid(format!("{} is disabled: enable them first", account.name)));
        }
        tx.execute("UPDATE staff_links SET used_at = ?2 WHERE account_id = ?1 AND used_at IS NULL", params![id, now])?;
        tx.execute(
            "INSERT INTO staff_links (token_hash, account_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![token_hash(&token), id, now, now + LINK_LIFETIME],
        )?;
        record(&tx, by, Kind::PasswordReset, &account.username, "set-password link made, valid 24 hours", now)?;
        tx.commit()?;
        Ok(token)
    }

    /// Whose link this is, if it can still be used.
    pub fn link_account(&self, token: &str, now: i64) -> Result<Account, AuthError> {
        let conn = self.conn();
        link_account(&conn, token, now)
    }

    /// Uses a link: sets the password and ends the person's sessions, once.
    pub fn use_link(&self, token: &str, hash: &str, now: i64) -> Result<Account, AuthError> {
        let mut conn = self.conn();
        let tx = write(&mut conn)?;
        let account = link_account(&tx, token, now)?;
        tx.execute("UPDATE staff_links SET used_at = ?2 WHERE token_hash = ?1", params![token_hash(token), now])?;
        set_hash(&tx, &account, hash, None, &Actor::person(&account), Kind::PasswordSet, now)?;
        tx.commit()?;
        Ok(account)
    }

    /// The first start of a data folder that has the shared staff password
    /// of earlier versions and no accounts: the password becomes the
    /// account `owner`, and the file goes. `None` when there was nothing
    /// to do.
    pub fn upgrade_shared_password(&self, data: &DataFolder, now: i64) -> Result<Option<Account>, AuthError> {
        let file = data.staff_password();
        let Ok(stored) = std::fs::read_to_string(&file) else { return Ok(None) };
        if self.has_accounts()? {
            // Accounts exist: the file is left over; it opens nothing.
            std::fs::remove_file(&file)?;
            return Ok(None);
        }
        let hash = stored.trim();
        argon2::password_hash::PasswordHash::new(hash)
            .map_err(|e| AuthError::Invalid(format!("the old staff password file {} is damaged ({e}); delete it and add an owner with `clinic-site staff add`", file.display())))?;
        let new = NewAccount::parse("owner", "Owner", "", Roles::of([Role::Owner]))?;
        let mut conn = self.conn();
        let tx = write(&mut conn)?;
        tx.execute(
            "INSERT INTO staff_accounts (username, name, credentials, password_hash, password_changed_at, created_at)
             VALUES (?1, ?2, '', ?3, ?4, ?4)",
            params![new.username, new.name, hash, now],
        )?;
        let id = tx.last_insert_rowid();
        tx.execute("INSERT INTO staff_roles (account_id, role) VALUES (?1, 'owner')", params![id])?;
        record(
            &tx,
            &Actor { account_id: Some(id), label: "Owner (owner)".into() },
            Kind::AccountUpgraded,
            "owner",
            "the shared staff password is now the password of the account \"owner\"",
            now,
        )?;
        let account = account_by_id(&tx, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
        tx.commit()?;
        // Only once the account holds the hash.
        std::fs::remove_file(&file)?;
        Ok(Some(account))
    }
}

fn set_hash(
    tx: &Connection,
    account: &Account,
    hash: &str,
    keep: Option<&str>,
    by: &Actor,
    kind: Kind,
    now: i64,
) -> Result<(), AuthError> {
    tx.execute(
        "UPDATE staff_accounts SET password_hash = ?2, password_changed_at = ?3 WHERE id = ?1",
        params![account.id, hash, now],
    )?;
    let keep = keep.map(token_hash).unwrap_or_default();
    tx.execute("DELETE FROM staff_sessions WHERE account_id = ?1 AND token_hash != ?2", params![account.id, keep])?;
    tx.execute("DELETE FROM staff_sign_in_steps WHERE account_id = ?1", params![account.id])?;
    record(tx, by, kind, &account.username, "their other sessions were ended", now)?;
    Ok(())
}

fn link_account(conn: &Connection, token: &str, now: i64) -> Result<Account, AuthError> {
    let found: Option<(i64, i64, Option<i64>)> = conn
        .query_row(
            "SELECT account_id, expires_at, used_at FROM staff_links WHERE token_hash = ?1",
            params![token_hash(token)],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    let Some((id, expires_at, used_at)) = found else { return Err(AuthError::LinkUnknown) };
    if used_at.is_some() {
        return Err(AuthError::LinkUsed);
    }
    if now >= expires_at {
        return Err(AuthError::LinkExpired);
    }
    let account = account_by_id(conn, id)?.ok_or(AuthError::LinkUnknown)?;
    if account.disabled {
        return Err(AuthError::LinkUsed);
    }
    Ok(account)
}
