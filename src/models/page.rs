//! Which slice of a listing to show.

use super::Checker;
use crate::error::AppResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub number: u32,
    pub per_page: u32,
}

impl Page {
    pub const DEFAULT_PER_PAGE: u32 = 20;
    pub const MAX_PER_PAGE: u32 = 100;

    /// Reads `page` (from 1) and `per_page` (1–100) as the client wrote them.
    pub fn parse(page: Option<&str>, per_page: Option<&str>) -> AppResult<Page> {
        let mut checker = Checker::default();
        let number = checker.check_optional("page", page, |raw| {
            raw.trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| "must be a whole number from 1".to_owned())
        });
        let per_page = checker.check_optional("per_page", per_page, |raw| {
            raw.trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=Self::MAX_PER_PAGE).contains(n))
                .ok_or_else(|| format!("must be a whole number from 1 to {}", Self::MAX_PER_PAGE))
        });
        checker.finish(|| {
            Some(Page {
                number: number?.unwrap_or(1),
                per_page: per_page?.unwrap_or(Self::DEFAULT_PER_PAGE),
            })
        })
    }

    pub fn limit(self) -> i64 {
        self.per_page.into()
    }

    pub fn offset(self) -> i64 {
        (i64::from(self.number) - 1) * i64::from(self.per_page)
    }

    pub fn has_next(self, total: i64) -> bool {
        self.offset() + self.limit() < total
    }

    pub fn has_prev(self) -> bool {
        self.number > 1
    }
}

#[cfg(test)]
mod tests {
    use super::Page;

    #[test]
    fn pages_default_to_the_first_twenty() {
        assert_eq!(
            Page::parse(None, None).unwrap(),
            Page {
                number: 1,
                per_page: 20
            }
        );
    }

    #[test]
    fn nonsense_page_numbers_are_refused() {
        for bad in ["0", "-1", "abc", "1.5", "99999999999999999999", ""] {
            assert!(Page::parse(Some(bad), None).is_err(), "page={bad}");
        }
        for bad in ["0", "101", "x"] {
            assert!(Page::parse(None, Some(bad)).is_err(), "per_page={bad}");
        }
    }

    #[test]
    fn offsets_and_neighbours_follow_from_the_page() {
        let page = Page::parse(Some("3"), Some("10")).unwrap();
        assert_eq!(page.offset(), 20);
        assert!(page.has_prev());
        assert!(page.has_next(31));
        assert!(!page.has_next(30));
    }
}
