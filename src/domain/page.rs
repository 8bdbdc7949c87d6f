//! Which slice of a listing to show, and what comes before and after it.
//!
//! A listing is read in index order from a *position*: a page number near
//! the start, or a keyset cursor ("the items after this one") anywhere. A
//! numbered page must skip every item before it, so page numbers are taken
//! only while they stay cheap ([`Page::MAX_OFFSET`] items skipped at most);
//! deeper, the `next` and `prev` links carry cursors, whose cost is the page
//! itself however deep it is.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::Checker;
use crate::domain::error::AppResult;

/// A numbered page: `number` from 1, `per_page` items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub number: u32,
    pub per_page: u32,
}

/// A listing's place between two items, as the client holds it: the sort key
/// of an item and its id (which breaks ties). Opaque to clients; one that
/// was forged or whose item has gone still names a place in the order, so it
/// simply gives the page from there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub key: i64,
    pub id: i32,
}

/// Where a slice of a listing starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// Page `n` from the start.
    Number(u32),
    /// The items just after this place (older, or further down the order).
    After(Cursor),
    /// The items just before this place (newer, or further up).
    Before(Cursor),
}

/// A slice of a listing to read: where it starts and how long it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    pub position: Position,
    pub per_page: u32,
}

/// A slice as read: its items, in listing order, and where its neighbours
/// start (`None` at either end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window<T> {
    pub items: Vec<T>,
    /// The slice was asked for by number: this one.
    pub number: Option<u32>,
    pub per_page: u32,
    pub prev: Option<Position>,
    pub next: Option<Position>,
}

impl Page {
    pub const DEFAULT_PER_PAGE: u32 = 20;
    pub const MAX_PER_PAGE: u32 = 100;
    /// The most items a numbered page may skip: beyond, follow cursors.
    /// (Skipping 1,000 index entries costs about as much as reading a page.)
    pub const MAX_OFFSET: i64 = 1_000;

    /// Reads `page` (from 1) and `per_page` (1–100) as the client wrote them.
    pub fn parse(page: Option<&str>, per_page: Option<&str>) -> AppResult<Page> {
        let mut checker = Checker::default();
        let per_page = checker.check_optional("per_page", per_page, parse_per_page);
        let per_page = per_page.flatten().unwrap_or(Self::DEFAULT_PER_PAGE);
        let number = checker.check_optional("page", page, |raw| parse_number(raw, per_page));
        checker.finish(|| {
            Some(Page {
                number: number?.unwrap_or(1),
                per_page,
            })
        })
    }

    /// The first page of `per_page` items.
    pub fn first(per_page: u32) -> Page {
        Page {
            number: 1,
            per_page,
        }
    }

    pub fn limit(self) -> i64 {
        self.per_page.into()
    }

    pub fn offset(self) -> i64 {
        (i64::from(self.number) - 1) * i64::from(self.per_page)
    }

    /// The window of this page, for a listing that counts all it holds
    /// (`total`) and is read by number only (search results).
    pub fn window<T>(self, items: Vec<T>, total: i64) -> Window<T> {
        let more = self.offset() + self.limit() < total;
        Window {
            items,
            number: Some(self.number),
            per_page: self.per_page,
            prev: (self.number > 1).then(|| Position::Number(self.number - 1)),
            next: (more && self.number < Page::last_number(self.per_page))
                .then(|| Position::Number(self.number + 1)),
        }
    }

    /// The highest page number that stays within [`Page::MAX_OFFSET`].
    pub fn last_number(per_page: u32) -> u32 {
        (Self::MAX_OFFSET / i64::from(per_page.max(1))) as u32 + 1
    }
}

fn parse_per_page(raw: &str) -> Result<u32, String> {
    raw.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=Page::MAX_PER_PAGE).contains(n))
        .ok_or_else(|| format!("must be a whole number from 1 to {}", Page::MAX_PER_PAGE))
}

fn parse_number(raw: &str, per_page: u32) -> Result<u32, String> {
    let number = raw
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| "must be a whole number from 1".to_owned())?;
    let last = Page::last_number(per_page);
    if number > last {
        return Err(format!(
            "goes up to {last} at {per_page} a page; for items further on, follow the `next` links"
        ));
    }
    Ok(number)
}

impl Cursor {
    /// The cursor as clients see it: URL-safe text.
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}.{}", self.key, self.id))
    }

    /// Reads a cursor that [`Cursor::encode`] wrote (or anything that
    /// decodes the same way).
    pub fn decode(raw: &str) -> Option<Cursor> {
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).ok()?;
        let text = std::str::from_utf8(&bytes).ok()?;
        let (key, id) = text.split_once('.')?;
        Some(Cursor {
            key: key.parse().ok()?,
            id: id.parse().ok()?,
        })
    }
}

impl Slice {
    /// Reads `page`, `after`, `before` and `per_page` as the client wrote
    /// them: at most one of the first three (none is the first page).
    pub fn parse(
        page: Option<&str>,
        after: Option<&str>,
        before: Option<&str>,
        per_page: Option<&str>,
    ) -> AppResult<Slice> {
        let numbered = Page::parse(page, per_page)?;
        let mut checker = Checker::default();
        let cursor = |field: &str, raw: &str, checker: &mut Checker| {
            let cursor = Cursor::decode(raw);
            if cursor.is_none() {
                checker.fail(field, "is not a cursor from a `next` or `prev` link");
            }
            cursor
        };
        let position = match (page, after, before) {
            (_, None, None) => Some(Position::Number(numbered.number)),
            (None, Some(raw), None) => cursor("after", raw, &mut checker).map(Position::After),
            (None, None, Some(raw)) => cursor("before", raw, &mut checker).map(Position::Before),
            _ => {
                checker.fail(
                    "page",
                    "cannot be combined with `after` or `before`; use one",
                );
                None
            }
        };
        checker.finish(|| {
            Some(Slice {
                position: position?,
                per_page: numbered.per_page,
            })
        })
    }

    /// The first `per_page` items.
    pub fn first(per_page: u32) -> Slice {
        Slice {
            position: Position::Number(1),
            per_page,
        }
    }

    /// How many rows to read: one more than shown, to learn whether there
    /// is a next page without counting.
    pub fn fetch(self) -> i64 {
        i64::from(self.per_page) + 1
    }

    /// Whether the rows are read against the listing's order (nearest the
    /// cursor first), as [`Position::Before`] needs.
    pub fn reversed(self) -> bool {
        matches!(self.position, Position::Before(_))
    }

    /// Turns the rows a listing read for this slice (at most
    /// [`Slice::fetch`], in read order) into the window, given each row's
    /// cursor.
    pub fn window<T>(self, mut rows: Vec<T>, cursor_of: impl Fn(&T) -> Cursor) -> Window<T> {
        let more = rows.len() > self.per_page as usize;
        rows.truncate(self.per_page as usize);
        if self.reversed() {
            rows.reverse();
        }
        let first = rows.first().map(&cursor_of);
        let last = rows.last().map(&cursor_of);
        let (number, prev, next) = match self.position {
            // From a numbered page, `next` is a cursor all the same: it
            // stays put when newer items arrive (a page number would shift)
            // and costs the same at any depth.
            Position::Number(n) => (
                Some(n),
                (n > 1).then(|| Position::Number(n - 1)),
                more.then_some(()).and(last).map(Position::After),
            ),
            Position::After(at) => (
                None,
                // Back from here: before this page's first item, or before
                // the cursor itself when nothing is left after it.
                Some(Position::Before(first.unwrap_or(at))),
                more.then_some(()).and(last).map(Position::After),
            ),
            Position::Before(at) => (
                None,
                more.then_some(()).and(first).map(Position::Before),
                Some(Position::After(last.unwrap_or(at))),
            ),
        };
        Window {
            items: rows,
            number,
            per_page: self.per_page,
            prev,
            next,
        }
    }
}

impl<T> Window<T> {
    /// The same window with other items (the rows its keys stand for).
    pub fn with_items<U>(self, items: Vec<U>) -> Window<U> {
        Window {
            items,
            number: self.number,
            per_page: self.per_page,
            prev: self.prev,
            next: self.next,
        }
    }

    /// The same window with each item changed by `f`.
    pub fn map<U>(mut self, f: impl FnMut(T) -> U) -> Window<U> {
        let items = std::mem::take(&mut self.items).into_iter().map(f).collect();
        self.with_items(items)
    }
}

impl Position {
    /// The query parameter that asks for this position (`page=2`,
    /// `after=...`), for links.
    pub fn query(self) -> String {
        match self {
            Position::Number(n) => format!("page={n}"),
            Position::After(cursor) => format!("after={}", cursor.encode()),
            Position::Before(cursor) => format!("before={}", cursor.encode()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pages_default_to_the_first_twenty() {
        assert_eq!(Page::parse(None, None).unwrap(), Page::first(20));
        assert_eq!(
            Slice::parse(None, None, None, None).unwrap(),
            Slice::first(20)
        );
    }

    #[test]
    fn nonsense_page_numbers_are_refused() {
        for bad in ["0", "-1", "abc", "1.5", "99999999999999999999", "", "52"] {
            assert!(Page::parse(Some(bad), None).is_err(), "page={bad}");
        }
        for bad in ["0", "101", "x"] {
            assert!(Page::parse(None, Some(bad)).is_err(), "per_page={bad}");
        }
        // Numbers go only as deep as is cheap: 1,000 items skipped.
        assert!(Page::parse(Some("51"), None).is_ok());
        assert!(Page::parse(Some("11"), Some("100")).is_ok());
        assert!(Page::parse(Some("12"), Some("100")).is_err());
    }

    #[test]
    fn offsets_follow_from_the_page() {
        let page = Page::parse(Some("3"), Some("10")).unwrap();
        assert_eq!(page.offset(), 20);
        assert_eq!(page.limit(), 10);
    }

    #[test]
    fn a_slice_takes_one_position_and_refuses_bad_cursors() {
        let cursor = Cursor { key: -5, id: 7 }.encode();
        let after = Slice::parse(None, Some(&cursor), None, Some("5")).unwrap();
        assert_eq!(after.position, Position::After(Cursor { key: -5, id: 7 }));
        assert_eq!(after.per_page, 5);
        assert!(Slice::parse(Some("2"), Some(&cursor), None, None).is_err());
        assert!(Slice::parse(None, Some(&cursor), Some(&cursor), None).is_err());
        for bad in [
            "",
            "!!",
            "bm90IGEgY3Vyc29y",
            "MS4",
            "%00",
            "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAuMQ",
        ] {
            assert!(Slice::parse(None, Some(bad), None, None).is_err(), "{bad}");
            assert!(Slice::parse(None, None, Some(bad), None).is_err(), "{bad}");
        }
    }

    /// Walks a listing of `0..len` (as cursors `key = id = n`) with
    /// `window`, the way a listing's query would read it.
    fn read(all: &[i32], slice: Slice) -> Window<i32> {
        let rows: Vec<i32> = match slice.position {
            Position::Number(n) => all
                .iter()
                .copied()
                .skip(((n - 1) * slice.per_page) as usize)
                .take(slice.fetch() as usize)
                .collect(),
            Position::After(c) => all
                .iter()
                .copied()
                .filter(|x| *x > c.id)
                .take(slice.fetch() as usize)
                .collect(),
            Position::Before(c) => all
                .iter()
                .rev()
                .copied()
                .filter(|x| *x < c.id)
                .take(slice.fetch() as usize)
                .collect(),
        };
        slice.window(rows, |x| Cursor {
            key: i64::from(*x),
            id: *x,
        })
    }

    proptest! {
        /// Following `next` from the first page visits every item once, in
        /// order; following `prev` back from the end visits them again.
        #[test]
        fn next_and_prev_links_walk_every_item_once(len in 0i32..400, per_page in 1u32..30) {
            let all: Vec<i32> = (0..len).collect();
            let mut seen = Vec::new();
            let mut slice = Slice::first(per_page);
            let mut windows = Vec::new();
            loop {
                let window = read(&all, slice);
                seen.extend(window.items.iter().copied());
                windows.push(window.clone());
                match window.next {
                    Some(next) => slice = Slice { position: next, per_page },
                    None => break,
                }
            }
            prop_assert_eq!(&seen, &all);
            // And back, from the last window, by `prev` links.
            let mut back = Vec::new();
            let mut window = windows.pop().unwrap();
            loop {
                back.splice(0..0, window.items.iter().copied());
                match window.prev {
                    Some(prev) => window = read(&all, Slice { position: prev, per_page }),
                    None => break,
                }
            }
            prop_assert_eq!(&back, &all);
        }

        #[test]
        fn cursors_round_trip(key in any::<i64>(), id in any::<i32>()) {
            let cursor = Cursor { key, id };
            prop_assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        }
    }
}
