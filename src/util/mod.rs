//! Small leaf helpers that know nothing of the site: HTML escaping, slugs,
//! dates, numbers, bytes, CSV cells and files. They import nothing of ours but each other.

pub mod bytes;
pub mod csv;
pub mod date;
pub mod fs;
pub mod html;
pub mod memory;
pub mod number;
pub mod slug;
