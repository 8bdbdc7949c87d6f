//! Validated values. Each newtype has a private field and one way in,
//! `parse`, so holding a `Uid` means holding a valid one. The JSON API and the
//! HTML forms both go through these, so one rule serves both.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

/// Why a value was refused, in words meant for the person who typed it.
pub type FieldError = String;

fn has_control_chars(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// A login handle: 3–32 characters of `a-z 0-9 _ -`, compared and stored
/// lower-case (so `Toby` and `toby` are the same account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Uid(String);

impl Uid {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let uid = raw.trim().to_lowercase();
        let length = uid.chars().count();
        if !(3..=32).contains(&length) {
            return Err("must be 3 to 32 characters long".into());
        }
        let allowed =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-';
        if !uid.chars().all(allowed) {
            return Err("may only contain letters a-z, digits, _ and -".into());
        }
        Ok(Uid(uid))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's display name: 1–100 characters on one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("must not be empty".into());
        }
        if name.chars().count() > 100 {
            return Err("must be at most 100 characters long".into());
        }
        if has_control_chars(name) {
            return Err("must be a single line of text".into());
        }
        Ok(PersonName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address of the usual shape (`local@domain.tld`), at most 254
/// characters. Uniqueness ignores case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        const INVALID: &str = "must be an email address like name@example.com";
        let email = raw.trim();
        if email.chars().count() > 254 {
            return Err("must be at most 254 characters long".into());
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err(INVALID.into());
        };
        let local_ok = !local.is_empty()
            && local.chars().count() <= 64
            && !local.contains('@')
            && local
                .chars()
                .all(|c| c.is_ascii_graphic() && !"()<>[]\\,;:\"".contains(c));
        let label_ok = |label: &str| {
            !label.is_empty()
                && label.chars().count() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2 && labels.iter().all(|l| label_ok(l));
        if !(local_ok && domain_ok) {
            return Err(INVALID.into());
        }
        Ok(Email(email.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 8–128 characters, and not simply the account's uid or
/// name. Never trimmed (spaces are characters too), never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    /// `uid` and `name` are the account's (as given, valid or not): a password
    /// equal to either is refused.
    pub fn parse(raw: &str, uid: &str, name: &str) -> Result<Self, FieldError> {
        let length = raw.chars().count();
        if length < Self::MIN_CHARS {
            return Err(format!(
                "must be at least {} characters long",
                Self::MIN_CHARS
            ));
        }
        if length > Self::MAX_CHARS {
            return Err(format!(
                "must be at most {} characters long",
                Self::MAX_CHARS
            ));
        }
        let same_as = |other: &str| raw.trim().to_lowercase() == other.trim().to_lowercase();
        if same_as(uid) || same_as(name) {
            return Err("must not be your user name or your name".into());
        }
        Ok(Password(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A date of birth: in the past and not before 1900 (earlier dates are
/// almost always typing mistakes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BirthDate(NaiveDate);

impl BirthDate {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::parse_on(raw, chrono::Utc::now().date_naive())
    }

    pub fn parse_on(raw: &str, today: NaiveDate) -> Result<Self, FieldError> {
        const FORMAT: &str = "must be a date written YYYY-MM-DD";
        let raw = raw.trim();
        // Exactly four, two and two digits: chrono alone would also take
        // `1906-1-9` or `+1906-12-09`, which the API's document does not.
        let shape_ok = raw.len() == 10
            && raw.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                _ => b.is_ascii_digit(),
            });
        if !shape_ok {
            return Err(FORMAT.into());
        }
        let date =
            NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| FieldError::from(FORMAT))?;
        if date >= today {
            return Err("must be in the past".into());
        }
        if date.year() < 1900 {
            return Err("must not be before 1900".into());
        }
        Ok(BirthDate(date))
    }

    /// A known historical date, exempt from the 1900 rule. Only for data we
    /// ship ourselves (the demo accounts of famous inventors).
    pub(crate) fn historical(date: NaiveDate) -> Self {
        BirthDate(date)
    }

    pub fn date(self) -> NaiveDate {
        self.0
    }
}

/// Whole years from `dob` to `today`.
pub fn age_on(dob: NaiveDate, today: NaiveDate) -> u32 {
    today.years_since(dob).unwrap_or(0)
}

/// A post's title: 1–200 characters on one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostTitle(String);

impl PostTitle {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let title = raw.trim();
        if title.is_empty() {
            return Err("must not be empty".into());
        }
        if title.chars().count() > 200 {
            return Err("must be at most 200 characters long".into());
        }
        if has_control_chars(title) {
            return Err("must be a single line of text".into());
        }
        Ok(PostTitle(title.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Markdown as typed, of at most `max_chars`: Windows line ends made plain
/// (so lengths mean the same everywhere), trailing space dropped; line
/// breaks and tabs allowed, other control characters (NUL among them) not.
fn markdown_text(raw: &str, max_chars: usize) -> Result<String, FieldError> {
    let text = raw.replace("\r\n", "\n");
    let text = text.trim_end();
    if text.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if text.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters long"));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err("must not contain control characters".into());
    }
    Ok(text.to_owned())
}

/// A post's Markdown source: 1–20,000 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostContent(String);

impl PostContent {
    pub const MAX_CHARS: usize = 20_000;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        markdown_text(raw, Self::MAX_CHARS).map(PostContent)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A comment's Markdown source: 1–2,000 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommentBody(String);

impl CommentBody {
    pub const MAX_CHARS: usize = 2_000;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        markdown_text(raw, Self::MAX_CHARS).map(CommentBody)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_is_one_to_two_thousand_characters_of_markdown() {
        assert_eq!(
            CommentBody::parse("Nice *post*  \r\n").unwrap().as_str(),
            "Nice *post*"
        );
        assert_eq!(
            CommentBody::parse(" \n\t ").unwrap_err(),
            "must not be empty"
        );
        assert!(CommentBody::parse(&"é".repeat(2_000)).is_ok());
        assert_eq!(
            CommentBody::parse(&"é".repeat(2_001)).unwrap_err(),
            "must be at most 2000 characters long"
        );
        assert!(CommentBody::parse("a\u{0}b").is_err());
        assert!(CommentBody::parse("line\n\tindented").is_ok());
    }

    #[test]
    fn uids_are_lowercased_and_limited_to_a_small_alphabet() {
        assert_eq!(Uid::parse(" Toby ").unwrap().as_str(), "toby");
        assert_eq!(Uid::parse("a_b-9").unwrap().as_str(), "a_b-9");
        for bad in [
            "ab",
            &"x".repeat(33),
            "tö by",
            "a b c",
            "x'; drop",
            "",
            "ünï",
        ] {
            assert!(Uid::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(Uid::parse(&"x".repeat(32)).is_ok());
    }

    #[test]
    fn names_are_one_line_of_one_to_a_hundred_characters() {
        assert_eq!(
            PersonName::parse("  Grace Hopper ").unwrap().as_str(),
            "Grace Hopper"
        );
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"é".repeat(100)).is_ok());
        assert!(PersonName::parse(&"é".repeat(101)).is_err());
        assert!(PersonName::parse("a\nb").is_err());
        assert!(PersonName::parse("a\0b").is_err());
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(Email::parse("grace@navy.mil").is_ok());
        assert!(Email::parse("first.last+tag@sub.example.org").is_ok());
        for bad in [
            "",
            "grace",
            "grace@",
            "@navy.mil",
            "grace@navy",
            "a b@c.de",
            "a@b..c",
            "a@-b.c",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn passwords_have_a_length_range_and_cannot_be_the_uid_or_name() {
        assert!(Password::parse("correct horse", "toby", "Thomas").is_ok());
        assert!(Password::parse("short", "toby", "Thomas").is_err());
        assert!(Password::parse(&"p".repeat(129), "toby", "Thomas").is_err());
        assert!(Password::parse(&"p".repeat(128), "toby", "Thomas").is_ok());
        assert!(Password::parse("tobytoby", "TobyToby", "Thomas").is_err());
        assert!(Password::parse("Thomas Edison", "toby", "thomas edison").is_err());
    }

    #[test]
    fn passwords_never_show_in_debug_output() {
        let password = Password::parse("hunter2hunter2", "toby", "Thomas").unwrap();
        assert!(!format!("{password:?}").contains("hunter2"));
    }

    #[test]
    fn birth_dates_are_in_the_past_and_not_before_1900() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert!(BirthDate::parse_on("1906-12-09", today).is_ok());
        assert!(BirthDate::parse_on("1899-12-31", today).is_err());
        assert!(BirthDate::parse_on("2026-11-23", today).is_err());
        assert!(BirthDate::parse_on("2030-01-01", today).is_err());
        assert!(BirthDate::parse_on("09/12/1906", today).is_err());
        assert!(BirthDate::parse_on("1906-02-30", today).is_err());
        assert!(BirthDate::parse_on("1906-1-9", today).is_err());
        assert!(BirthDate::parse_on("+1906-12-09", today).is_err());
        assert!(BirthDate::parse_on(" 1906-12-09 ", today).is_ok());
    }

    #[test]
    fn age_counts_whole_years() {
        let dob = NaiveDate::from_ymd_opt(1906, 12, 9).unwrap();
        assert_eq!(
            age_on(dob, NaiveDate::from_ymd_opt(2026, 12, 8).unwrap()),
            119
        );
        assert_eq!(
            age_on(dob, NaiveDate::from_ymd_opt(2026, 12, 9).unwrap()),
            120
        );
    }

    #[test]
    fn titles_and_contents_have_length_limits() {
        assert!(PostTitle::parse(&"t".repeat(200)).is_ok());
        assert!(PostTitle::parse(&"t".repeat(201)).is_err());
        assert!(PostTitle::parse(" ").is_err());
        assert!(PostContent::parse(&"c".repeat(20_000)).is_ok());
        assert!(PostContent::parse(&"c".repeat(20_001)).is_err());
        assert!(PostContent::parse("line\r\nline\n\ttabbed").is_ok());
        assert!(PostContent::parse("nul\0byte").is_err());
        assert!(PostContent::parse("\n\n  ").is_err());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn an_accepted_uid_parses_back_to_itself(raw in "\\PC{0,40}") {
                if let Ok(uid) = Uid::parse(&raw) {
                    prop_assert_eq!(Uid::parse(uid.as_str()).unwrap(), uid.clone());
                    prop_assert!(uid.as_str().len() >= 3 && uid.as_str().len() <= 32);
                }
            }

            #[test]
            fn every_well_formed_uid_is_accepted_unchanged(raw in "[a-z0-9_-]{3,32}") {
                let uid = Uid::parse(&raw).unwrap();
                prop_assert_eq!(uid.as_str(), raw.as_str());
            }

            #[test]
            fn accepted_names_and_titles_round_trip(raw in "\\PC{0,250}") {
                if let Ok(name) = PersonName::parse(&raw) {
                    prop_assert_eq!(PersonName::parse(name.as_str()).unwrap(), name.clone());
                    prop_assert_eq!(name.as_str(), raw.trim());
                }
                if let Ok(title) = PostTitle::parse(&raw) {
                    prop_assert_eq!(PostTitle::parse(title.as_str()).unwrap(), title.clone());
                    prop_assert!(title.as_str().chars().count() <= 200);
                }
            }

            #[test]
            fn control_characters_never_get_into_a_title(
                before in "[a-z ]{0,10}", control in proptest::char::range('\u{0}', '\u{1f}'), after in "[a-z ]{0,10}"
            ) {
                let raw = format!("{before}{control}{after}");
                if let Ok(title) = PostTitle::parse(&raw) {
                    prop_assert!(!title.as_str().chars().any(char::is_control), "{:?}", title);
                }
            }

            #[test]
            fn accepted_content_round_trips(raw in "\\PC{0,300}") {
                if let Ok(content) = PostContent::parse(&raw) {
                    prop_assert_eq!(PostContent::parse(content.as_str()).unwrap(), content.clone());
                }
            }

            #[test]
            fn accepted_emails_round_trip(raw in "[a-zA-Z0-9.+_-]{0,12}@?[a-z0-9.-]{0,12}") {
                if let Ok(email) = Email::parse(&raw) {
                    prop_assert_eq!(Email::parse(email.as_str()).unwrap(), email.clone());
                }
            }
        }
    }
}
