//! Integration tests: the whole application driven through its router.

mod check;
mod content_errors;
mod export;
mod helpers;
mod pages;
mod reload;
mod security;
mod sharing;
mod seed;
