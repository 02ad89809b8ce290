//! Staff sign-in: how passwords are kept and checked. Nothing here knows
//! about HTTP; `http::admin` turns it into pages and cookies.

pub mod password;
