//! clinic-site: a patient-facing health article site.
//!
//! Data flows one way: `content` reads the markdown folder, `render` turns
//! each page into HTML, `checks` looks across the rendered pages, `site`
//! puts every page through the templates into one immutable snapshot, and
//! `http` serves that snapshot (or `export` writes it to disk). See
//! ARCHITECTURE.md for what each module may import.

pub mod asset;
pub mod auth;
pub mod cache;
pub mod card;
pub mod checks;
pub mod comments;
pub mod config;
pub mod content;
pub mod export;
pub mod feedback;
pub mod figures;
pub mod http;
pub mod plain_english;
pub mod quality;
pub mod readability;
pub mod render;
pub mod report;
pub mod site;
pub mod urls;
pub mod util;
pub mod watch;
pub mod workspace;
