//! What each person may do. Roles add up: a physical therapist who also
//! moderates holds `editor` and `moderator`; `owner` may do everything.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads, approves, hides and answers readers' comments.
    Moderator,
    /// Writes and edits the content.
    Editor,
    /// Signs content off clinically; their name and credentials are shown
    /// to readers.
    Reviewer,
    /// Everything, plus staff accounts and settings.
    Owner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Moderator, Role::Editor, Role::Reviewer, Role::Owner];

    /// The name stored, typed on the command line and sent by forms.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Moderator => "moderator",
            Role::Editor => "editor",
            Role::Reviewer => "reviewer",
            Role::Owner => "owner",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == name.trim().to_ascii_lowercase())
    }

    /// What the role is for, in the staff pages' words.
    pub fn description(self) -> &'static str {
        match self {
            Role::Moderator => "approves, hides and answers readers' comments",
            Role::Editor => "writes and edits pages",
            Role::Reviewer => "signs pages off clinically; their name and credentials are shown to readers",
            Role::Owner => "can do everything, including adding staff and changing their roles",
        }
    }

    /// The same message everywhere a role name is not known.
    pub fn unknown(name: &str) -> String {
        format!("there is no role called \"{name}\"; the roles are {}", Role::ALL.map(Role::as_str).join(", "))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The roles one person holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Roles(u8);

impl Roles {
    pub fn of(roles: impl IntoIterator<Item = Role>) -> Roles {
        roles.into_iter().fold(Roles::default(), |set, role| set.with(role))
    }

    pub fn with(self, role: Role) -> Roles {
        Roles(self.0 | 1 << role as u8)
    }

    /// Holds this role itself (an owner does not hold `reviewer` unless
    /// given it: readers see reviewers' names).
    pub fn holds(self, role: Role) -> bool {
        self.0 & (1 << role as u8) != 0
    }

    /// May act as `role`: holds it, or is an owner.
    pub fn may(self, role: Role) -> bool {
        self.holds(role) || self.holds(Role::Owner)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |role| self.holds(*role))
    }

    /// "editor, moderator", or "no role".
    pub fn describe(self) -> String {
        if self.is_empty() { "no role".into() } else { self.iter().map(Role::as_str).collect::<Vec<_>>().join(", ") }
    }
}

/// Who may use a staff address: stated once per route, in
/// `http::admin::routes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Anyone, signed in or not: the sign-in pages.
    Nobody,
    /// Any signed-in person, whatever their roles: their own account.
    SignedIn,
    /// People who may act as this role.
    Role(Role),
    /// People who may act as either role: readers' feedback is read by
    /// moderators (it is readers' words) and editors (they fix the pages).
    Either(Role, Role),
}

impl Need {
    pub fn allows(self, roles: Roles) -> bool {
        match self {
            Need::Nobody | Need::SignedIn => true,
            Need::Role(role) => roles.may(role),
            Need::Either(one, other) => roles.may(one) || roles.may(other),
        }
    }

    /// The role or roles needed, in a sentence: "moderator", "moderator or
    /// editor"; `None` when anyone signed in will do.
    pub fn roles_named(self) -> Option<String> {
        match self {
            Need::Nobody | Need::SignedIn => None,
            Need::Role(role) => Some(role.as_str().to_string()),
            Need::Either(one, other) => Some(format!("{one} or {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn either_of_two_roles_lets_in_holders_of_one_and_owners() {
        let need = Need::Either(Role::Moderator, Role::Editor);
        assert!(need.allows(Roles::of([Role::Moderator])));
        assert!(need.allows(Roles::of([Role::Editor])));
        assert!(need.allows(Roles::of([Role::Owner])));
        assert!(!need.allows(Roles::of([Role::Reviewer])));
        assert_eq!(need.roles_named().as_deref(), Some("moderator or editor"));
        assert_eq!(Need::SignedIn.roles_named(), None);
    }

    #[test]
    fn owners_may_act_as_every_role_but_hold_only_their_own() {
        let owner = Roles::of([Role::Owner]);
        for role in Role::ALL {
            assert!(owner.may(role), "{role}");
        }
        assert!(!owner.holds(Role::Reviewer));
        let two = Roles::of([Role::Editor, Role::Moderator]);
        assert!(two.may(Role::Editor) && two.may(Role::Moderator));
        assert!(!two.may(Role::Owner) && !two.may(Role::Reviewer));
        assert_eq!(two.describe(), "moderator, editor");
        assert_eq!(Roles::default().describe(), "no role");
    }

    #[test]
    fn role_names_round_trip_and_unknown_ones_are_named() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(Role::parse(&role.as_str().to_uppercase()), Some(role));
        }
        assert_eq!(Role::parse("admin"), None);
        assert!(Role::unknown("admin").contains("moderator, editor, reviewer, owner"));
    }
}
