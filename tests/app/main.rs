//! Integration tests: the whole application driven through its router.

mod content_errors;
mod helpers;
mod pages;
mod security;
mod seed;
