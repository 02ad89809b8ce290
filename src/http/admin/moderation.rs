//! Moderating readers' comments (`/admin/comments`): approve, reject,
//! hide, delete and reply, each on the activity record with the person
//! who did it.

use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::dashboard::{Problem, site_problems};
use super::{Nav, Staff, admin_chrome, done_at, now, page};
use crate::auth::activity::{Entry, comment_subject};
use crate::auth::{Actor, Kind};
use crate::comments::store::{Counts, StoreError};
use crate::comments::{Comment, PersonalDetail, Status, TEXT_MAX, in_words};
use crate::http::AppState;
use crate::http::error::{AppError, blocking};
use crate::site::Chrome;
use crate::urls;
use crate::util::date::Date;
use crate::util::number::thousands;

/// A comment as the moderation page shows it.
struct Row {
    comment: Comment,
    page_title: String,
    date: String,
    /// What the writer was warned about, in words ("a phone number and
    /// the name of a medicine"); empty when not kept.
    flag_reasons: String,
    unwell_now: bool,
    /// A reply that was not saved, shown again in its box.
    draft: Option<String>,
    /// "Approved by Jane Smith on 2 December 2026", from the activity record.
    approved_by: Option<String>,
}

impl Row {
    /// What the reply box holds: an unsaved draft, else the saved reply.
    fn reply_text(&self) -> &str {
        self.draft.as_deref().or(self.comment.reply.as_deref()).unwrap_or("")
    }
}

#[derive(Template)]
#[template(path = "admin_comments.html")]
struct CommentsTemplate<'a> {
    chrome: Chrome<'a>,
    nav: Nav,
    csrf: String,
    /// What is wrong with the site now, in full: a failing comments
    /// database is why the list may be missing.
    problems: Vec<Problem>,
    /// `None` when the comments could not be loaded.
    counts: Option<Counts>,
    pending: Vec<Row>,
    approved: Vec<Row>,
    /// What the last action did, for the status message.
    done: Option<String>,
    /// Why the last action was not done.
    refused: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Done {
    done: Option<String>,
}

pub(super) async fn comments(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Query(query): Query<Done>,
) -> Result<Response, AppError> {
    let done = query.done.as_deref().and_then(|d| match d {
        "approved" => Some("Comment approved: it is now on the page."),
        "rejected" => Some("Comment rejected: it will not appear."),
        "hidden" => Some("Comment hidden: it is no longer on the page."),
        "deleted" => Some("Comment deleted for good."),
        "replied" => Some("Reply saved: it shows under the comment once the comment is approved."),
        _ => None,
    });
    comments_page(&state, &staff, Outcome { done: done.map(String::from), refused: None }).await
}

/// What the moderation page reports about the last action.
struct Outcome {
    done: Option<String>,
    /// The action was refused: why, and the reply typed (comment id and
    /// text) to show again.
    refused: Option<(String, Option<(i64, String)>)>,
}

/// The comments and who approved them, or why they could not be loaded.
type Loaded = Result<(Counts, Vec<Comment>, Vec<Comment>, Vec<(String, Entry)>), String>;

async fn comments_page(state: &AppState, staff: &Staff, outcome: Outcome) -> Result<Response, AppError> {
    let looking = state.clone();
    let (loaded, problems): (Loaded, _) = blocking(move || {
        let store = &looking.comments;
        let loaded = (|| {
            let approved = store.with_status(Status::Approved, 50)?;
            Ok::<_, StoreError>((store.counts()?, store.with_status(Status::Pending, 200)?, approved))
        })()
        .map_err(|e| e.to_string())
        .and_then(|(counts, pending, approved)| {
            let subjects: Vec<String> = approved.iter().map(|c| comment_subject(c.id)).collect();
            let by = looking.staff.latest_about(Kind::CommentApproved, &subjects).map_err(|e| e.to_string())?;
            Ok((counts, pending, approved, by))
        });
        // After loading, so a failure just now is among the problems.
        Ok::<_, AppError>((loaded, site_problems(&looking)))
    })
    .await?;
    let ok = if outcome.refused.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    // Staff still get the page, with the problems that say why the
    // comments are missing.
    let (status, counts, pending, approved, approvals) = match loaded {
        Ok((counts, pending, approved, by)) => (ok, Some(counts), pending, approved, by),
        Err(e) => {
            tracing::error!("loading comments for the staff page failed: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, None, Vec::new(), Vec::new(), Vec::new())
        }
    };
    let (refused, draft) = match outcome.refused {
        Some((why, draft)) => (Some(why), draft),
        None => (None, None),
    };
    let site = state.site.load();
    let row = |comment: Comment| Row {
        page_title: site.comment_page(&comment.page).map_or_else(|| comment.page.clone(), |p| p.title.clone()),
        date: Date::from_unix(comment.created_at).long(),
        flag_reasons: in_words(&comment.flags.iter().map(|f| f.for_staff()).collect::<Vec<_>>(), "and"),
        unwell_now: comment.flags.contains(&PersonalDetail::SymptomsNow),
        draft: draft.as_ref().filter(|(id, _)| *id == comment.id).map(|(_, text)| text.clone()),
        approved_by: approvals
            .iter()
            .find(|(subject, _)| *subject == comment_subject(comment.id))
            .map(|(_, entry)| format!("Approved by {} on {}", entry.actor, Date::from_unix(entry.at).long())),
        comment,
    };
    page(
        status,
        &CommentsTemplate {
            chrome: admin_chrome(&site, "Comments to moderate"),
            nav: Nav::new(staff, urls::ADMIN_COMMENTS),
            csrf: staff.session.csrf.clone(),
            problems,
            counts,
            pending: pending.into_iter().map(row).collect(),
            approved: approved.into_iter().map(row).collect(),
            done: outcome.done,
            refused,
        },
    )
}

#[derive(Deserialize)]
pub(super) struct ModerateForm {
    #[serde(default)]
    reply: String,
}

#[tracing::instrument(skip(state, staff, form), fields(by = %staff.account.username))]
pub(super) async fn moderate(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    UrlPath((id, action)): UrlPath<(i64, String)>,
    Form(form): Form<ModerateForm>,
) -> Result<Response, AppError> {
    let reply = form.reply;
    // The same rule as readers' comments: characters, not bytes, with a
    // line break counted once however the browser sent it.
    let length = reply.trim().replace("\r\n", "\n").chars().count();
    if action == "reply" && length > TEXT_MAX {
        let why = format!(
            "The reply was not saved: it is {} characters long, and replies can be at most {}. It is still in its box below: shorten it and save it again.",
            thousands(length as u64),
            thousands(TEXT_MAX as u64)
        );
        return comments_page(&state, &staff, Outcome { done: None, refused: Some((why, Some((id, reply)))) }).await;
    }
    let (store, records, by) = (state.comments.clone(), state.staff.clone(), Actor::person(&staff.account));
    let done = blocking(move || {
        let before = store.get(id)?.ok_or(AppError::NotFound)?;
        let (done, kind) = match action.as_str() {
            "approve" => (store.set_status(id, Status::Approved)?.map(|_| "approved"), Kind::CommentApproved),
            // Rejecting a comment that is on the page takes it off: "hide".
            "reject" if before.status == Status::Approved => {
                (store.set_status(id, Status::Rejected)?.map(|_| "hidden"), Kind::CommentHidden)
            }
            "reject" => (store.set_status(id, Status::Rejected)?.map(|_| "rejected"), Kind::CommentRejected),
            "delete" => (store.delete(id)?.map(|_| "deleted"), Kind::CommentDeleted),
            "reply" => (store.set_reply(id, &reply)?.map(|_| "replied"), Kind::CommentReplied),
            _ => return Err(AppError::NotFound),
        };
        let done = done.ok_or(AppError::NotFound)?;
        let detail = format!("on {}, left by {}", before.page, before.display_name());
        records.record(&by, kind, &comment_subject(id), &detail, now())?;
        Ok::<_, AppError>(done)
    })
    .await?;
    tracing::info!(id, done, "comment moderated");
    crate::http::publish_comments(&state).await;
    Ok(done_at(urls::ADMIN_COMMENTS, done))
}
