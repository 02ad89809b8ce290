//! Integration tests: the whole application driven through its router.

mod admin;
mod check;
mod comments;
mod content_errors;
mod editor;
mod export;
mod feedback;
mod figures;
mod helpers;
mod images;
mod links;
mod pages;
mod properties;
mod publish;
mod quality;
mod reload;
mod safety;
mod security;
mod seed;
mod serving;
mod sharing;
mod signoff;
mod staff;
mod structure;
mod two_step;
mod workspace;
