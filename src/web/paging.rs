//! Where a listing starts, as a request's query says, for the API and the
//! pages alike: `page=N` near the start, `after=` or `before=` (cursors from
//! `next` and `prev` links) anywhere, and `per_page`.

use rocket::FromForm;

use crate::domain::error::{AppError, AppResult};
use crate::domain::page::{Page, Position, Slice, Window};

#[derive(FromForm, Debug, Default)]
pub struct Paging {
    page: Option<String>,
    after: Option<String>,
    before: Option<String>,
    per_page: Option<String>,
}

impl Paging {
    /// The slice asked for, `per_page` items (20 unless the query says);
    /// 422 for a bad one.
    pub fn slice(&self) -> AppResult<Slice> {
        self.slice_sized(self.per_page.as_deref())
    }

    /// The slice asked for, of a page's own size (whatever `per_page` says).
    pub fn slice_of(&self, per_page: u32) -> AppResult<Slice> {
        self.slice_sized(Some(&per_page.to_string()))
    }

    fn slice_sized(&self, per_page: Option<&str>) -> AppResult<Slice> {
        Slice::parse(
            self.page.as_deref(),
            self.after.as_deref(),
            self.before.as_deref(),
            per_page,
        )
    }

    /// A numbered page, for listings read by number only (search results,
    /// which are ranked): a cursor is a 422.
    pub fn page(&self) -> AppResult<Page> {
        self.refuse_cursors()?;
        Page::parse(self.page.as_deref(), self.per_page.as_deref())
    }

    /// A numbered page of a page's own size.
    pub fn page_of(&self, per_page: u32) -> AppResult<Page> {
        self.refuse_cursors()?;
        Page::parse(self.page.as_deref(), Some(&per_page.to_string()))
    }

    fn refuse_cursors(&self) -> AppResult<()> {
        let given = [("after", &self.after), ("before", &self.before)];
        match given.into_iter().find(|(_, value)| value.is_some()) {
            Some((field, _)) => Err(AppError::invalid_field(
                field,
                "search results are paged by number (`page`), not by cursor",
            )),
            None => Ok(()),
        }
    }
}
/// The links to the slices before and after `window` in the listing at
/// `path`: `path?<position>&<others…>`, where `others` are the listing's
/// other query parameters, already encoded. The API's `prev`/`next` and the
/// pages' pager both come from here.
pub fn neighbours<T>(
    path: &str,
    window: &Window<T>,
    others: &[String],
) -> (Option<String>, Option<String>) {
    let link = |position: Position| {
        let mut link = format!("{path}?{}", position.query());
        for param in others {
            link.push('&');
            link.push_str(param);
        }
        link
    };
    (window.prev.map(link), window.next.map(link))
}
