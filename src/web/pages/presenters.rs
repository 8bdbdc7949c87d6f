//! What the templates get: display-ready values (dates as text, Markdown as
//! safe HTML).

use std::sync::Arc;

use chrono::{NaiveDateTime, Utc};
use rocket::http::Status;
use serde::Serialize;

use super::contexts::{CommentsBlock, ErrorPage, LayoutContext, PostPage};
use crate::domain::comments::CommentWithAuthor;
use crate::domain::markdown;
use crate::domain::post::Publication;
use crate::domain::search::SearchHit;
use crate::domain::{Post, PostWithAuthor, User};
use crate::web::site::SiteImage;

/// `2026-12-04 09:30 UTC`. Written out by hand: chrono's `format` parses
/// its pattern again on every call, and a listing formats two dates a post.
pub fn when(time: NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        time.year(),
        time.month(),
        time.day(),
        time.hour(),
        time.minute()
    )
}

#[derive(Serialize)]
pub struct PostCard {
    pub id: i32,
    /// The page's address, `/posts/<id>-<slug>`.
    pub path: String,
    pub title: String,
    pub excerpt: Arc<str>,
    pub published: bool,
    pub views: i32,
    pub created: String,
    pub updated: String,
    pub author_id: i32,
    pub author_uid: String,
    pub author_name: String,
    /// Search results only: HTML, escaped, hits in `<mark>`.
    pub snippet_html: Option<String>,
    /// The stored image's file name (served at `/uploads/<name>`).
    pub image: Option<String>,
    pub tags: Vec<String>,
    /// When it was published (for a draft: when it was written).
    pub published_on: String,
    /// A scheduled post's time.
    pub scheduled_for: Option<String>,
    /// Comments shown on it.
    pub comments: i32,
}

impl From<&SearchHit> for PostCard {
    fn from(hit: &SearchHit) -> Self {
        PostCard {
            snippet_html: Some(hit.snippet_html.clone()),
            ..PostCard::from(&hit.post)
        }
    }
}

impl From<&PostWithAuthor> for PostCard {
    fn from(item: &PostWithAuthor) -> Self {
        let excerpt = markdown::card_excerpt(&item.post.content);
        let (published_on, scheduled_for) = match item.post.publication() {
            Publication::Published(at) => (when(at), None),
            Publication::Scheduled(at) => (when(item.post.created_at), Some(when(at))),
            Publication::Draft => (when(item.post.created_at), None),
        };
        PostCard {
            id: item.post.id,
            path: item.post.path(),
            title: item.post.title.clone(),
            excerpt,
            published: item.post.published,
            views: item.post.views,
            created: when(item.post.created_at),
            updated: when(item.post.updated_at),
            author_id: item.author.id,
            author_uid: item.author.uid.clone(),
            author_name: item.author.name.clone(),
            snippet_html: None,
            image: item.post.image.clone(),
            tags: item.tags.clone(),
            published_on,
            scheduled_for,
            comments: item.post.comments,
        }
    }
}

impl PostPage {
    /// A post's page: the card plus its Markdown rendered to safe HTML,
    /// and its comments.
    pub fn new(
        item: &PostWithAuthor,
        can_edit: bool,
        comments: CommentsBlock,
        preview_image: Option<SiteImage>,
    ) -> Self {
        PostPage {
            post: PostCard::from(item),
            views: views_text(item.post.views),
            html: markdown::to_safe_html(&item.post.content),
            can_edit,
            comments,
            preview_image,
        }
    }
}

/// A post's views as its page says them.
pub fn views_text(views: i32) -> String {
    if views == 1 {
        "1 view".to_owned()
    } else {
        format!("{views} views")
    }
}

/// A comment as shown under its post.
#[derive(Serialize)]
pub struct CommentCard {
    pub id: i32,
    pub author_id: i32,
    pub author_name: String,
    /// The body rendered: safe HTML, no images.
    pub html: Arc<str>,
    pub created: String,
    /// When it was last changed, if it was.
    pub edited: Option<String>,
    pub can_edit: bool,
    pub can_delete: bool,
}

impl CommentCard {
    /// `found` (on `post`) as `viewer` sees it: with the buttons they may use.
    pub fn new(found: &CommentWithAuthor, viewer: Option<&User>, post: &Post) -> Self {
        let comment = &found.comment;
        CommentCard {
            id: comment.id,
            author_id: found.author.id,
            author_name: found.author.name.clone(),
            html: markdown::comment_html(&comment.body),
            created: when(comment.created_at),
            edited: (comment.updated_at != comment.created_at).then(|| when(comment.updated_at)),
            can_edit: viewer.is_some_and(|v| comment.can_be_edited_by(v)),
            can_delete: viewer.is_some_and(|v| comment.can_be_deleted_by(v, post)),
        }
    }
}

#[derive(Serialize)]
pub struct UserCard {
    pub id: i32,
    pub uid: String,
    pub name: String,
    pub email: Option<String>,
    /// Whether `email` (when shown) is verified.
    pub email_verified: bool,
    pub dob: Option<String>,
    pub age: Option<u32>,
    pub role: &'static str,
    pub joined: String,
    pub post_count: i64,
    pub suspended: bool,
    /// Why, for admins only.
    pub suspension_reason: Option<String>,
}

impl UserCard {
    pub fn new(user: &User, viewer: Option<&User>) -> Self {
        UserCard {
            id: user.id,
            uid: user.uid.clone(),
            name: user.name.clone(),
            email: if user.email_visible_to(viewer) {
                user.email.clone()
            } else {
                None
            },
            email_verified: user.email_verified_at.is_some(),
            dob: user.dob.map(|dob| dob.to_string()),
            age: user.age_on(Utc::now().date_naive()),
            role: user.role.as_str(),
            joined: when(user.created_at),
            post_count: user.published_posts.into(),
            suspended: user.suspended_at.is_some(),
            suspension_reason: user
                .suspension_reason
                .clone()
                .filter(|_| viewer.is_some_and(User::is_admin)),
        }
    }
}

/// The error page in the site's layout, for catchers and failed handlers.
pub fn error_page(status: Status, message: Option<&str>) -> super::Html {
    let default = match status.code {
        403 => "You are not allowed to do that.",
        404 => "There is nothing here.",
        422 => "The request could not be understood.",
        500 => "Something went wrong on our side. Please try again.",
        _ => status.reason_lossy(),
    };
    let page = ErrorPage {
        status: status.code,
        reason: status.reason_lossy(),
        message: message.unwrap_or(default),
    };
    super::render(LayoutContext::nobody(), page)
}

/// A size for people: `980 B`, `12.3 kB`, `4.5 MB`, `1.2 GB` (powers of
/// 1,000, as disks are sold).
pub fn bytes(size: i64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if size < 1000 {
        return format!("{size} B");
    }
    let mut value = size as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// The dashboard's figures, as its template shows them: totals, and each
/// daily series as a chart with its table.
pub fn dashboard(
    figures: &crate::domain::dashboard::Figures,
    trending: Vec<super::contexts::TrendingPost>,
    backups: &crate::domain::backups::BackupRecord,
) -> super::contexts::AdminDashboardPage {
    use super::contexts::{AdminDashboardPage, DailyChart, DailyRow, DashboardTotals};
    use crate::domain::dashboard::{Day, DAYS};
    use crate::web::charts::{daily_svg, Style};

    let days: Vec<chrono::NaiveDate> = figures.days.iter().map(|day| day.day).collect();
    let chart =
        |id: &'static str, what: &str, column: &'static str, style, value: fn(&Day) -> i64| {
            let values: Vec<i64> = figures.days.iter().map(value).collect();
            let title = format!("{what} per day, the last {DAYS} days");
            DailyChart {
                id,
                svg: daily_svg(id, &title, &days, &values, style),
                title,
                column,
                rows: figures
                    .days
                    .iter()
                    .map(|day| DailyRow {
                        day: day.day.to_string(),
                        value: value(day),
                    })
                    .collect(),
                total: values.iter().sum(),
            }
        };
    let totals = figures.totals;
    AdminDashboardPage {
        totals: DashboardTotals {
            people: totals.people,
            posts: totals.posts,
            drafts: totals.drafts,
            comments: totals.comments,
            api_tokens: totals.api_tokens,
        },
        charts: vec![
            chart("signups", "Sign-ups", "Sign-ups", Style::Bars, |d| {
                d.signups
            }),
            chart("posts", "Posts created", "Posts", Style::Bars, |d| d.posts),
            chart("views", "Views", "Views", Style::Line, |d| d.views),
        ],
        days: DAYS,
        trending,
        trending_days: crate::domain::post_views::TRENDING_DAYS,
        database_size: bytes(figures.database_bytes),
        database_bytes: figures.database_bytes,
        last_backup: backups
            .last_success
            .as_ref()
            .map(|backup| super::contexts::LastBackup {
                taken: when(backup.taken_at.naive_utc()),
                file: backup.name.clone(),
                size: bytes(i64::try_from(backup.bytes).unwrap_or(i64::MAX)),
            }),
        backups_scheduled: backups.scheduled,
        backup_failure: backups.last_error.clone(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    #[test]
    fn dates_read_as_chrono_would_write_them() {
        for (y, mo, d, h, mi) in [(2026, 12, 4, 9, 5), (1999, 1, 31, 23, 59), (5, 2, 3, 0, 0)] {
            let time = NaiveDate::from_ymd_opt(y, mo, d)
                .unwrap()
                .and_hms_micro_opt(h, mi, 7, 123_456)
                .unwrap();
            assert_eq!(
                super::when(time),
                time.format("%Y-%m-%d %H:%M UTC").to_string()
            );
        }
    }
}
