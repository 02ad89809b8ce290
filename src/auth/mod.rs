//! Staff sign-in: how passwords are kept and checked, and the sessions a
//! right password starts. Nothing here knows about HTTP; `http::admin`
//! turns it into pages and cookies.

pub mod password;
pub mod sessions;
