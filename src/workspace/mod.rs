//! The editing workspace's core, without HTTP: page files as documents
//! whose front matter can be changed in place (`document`), saving them
//! with a history of every version and who made it (`revisions`), the
//! word-by-word difference between two versions (`diff`), changes to an
//! article's pages: adding, renaming, ordering, the trash (`structure`),
//! and pictures uploaded for the pages (`images`).
//!
//! Like `auth`, calls block and times are passed in; `http` runs them off
//! the async threads.

pub mod diff;
pub mod document;
pub mod images;
pub mod revisions;
pub mod signoff;
pub mod structure;

pub use diff::Segment;
pub use document::{Document, DocumentError, Fields};
pub use revisions::{
    MAX_MESSAGE_CHARS, MAX_TEXT_BYTES, Revision, RevisionKind, RevisionSummary, SaveError, Saved, Workspace,
    content_hash,
};
pub use signoff::{QueueItem, Reason, ReviewQueue, SignOffError, SignOffRecord, SignOffRequest, SignedOff};
pub use structure::{PageAddress, StructureError, check_address, keep_old_address, page_address};
