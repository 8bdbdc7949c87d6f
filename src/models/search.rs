//! Full-text search over posts: SQLite FTS5, ranked by bm25, with
//! highlighted snippets. The index and the triggers that keep it in step
//! with `posts` are in migration `2026-11-23-000005_search_posts`.
//!
//! This is SQLite-only by nature (PostgreSQL would use `tsvector`), so all of
//! it lives here: the virtual table, its functions, and the rule that turns
//! what a user typed into a query FTS5 cannot misread.

use diesel::prelude::*;
use diesel::sql_types::{Double, Integer, Text};
use diesel::sqlite::Sqlite;

use super::post::{Author, PostFilter, PostWithAuthor};
use super::{Page, Post, User};
use crate::db::schema::{posts, users};
use crate::db::DbConnection;
use crate::error::AppResult;

diesel::table! {
    /// The FTS5 index (not in schema.rs: print-schema skips virtual tables).
    posts_search (rowid) {
        rowid -> Integer,
        title -> Text,
        content -> Text,
        /// FTS5's hidden column named after the table: the left side of
        /// `MATCH`, and the first argument of its ranking functions.
        #[sql_name = "posts_search"]
        index -> Text,
    }
}

diesel::joinable!(posts_search -> posts (rowid));
diesel::allow_tables_to_appear_in_same_query!(posts_search, posts);
diesel::allow_tables_to_appear_in_same_query!(posts_search, users);

diesel::infix_operator!(Matches, " MATCH ", backend: Sqlite);

diesel::define_sql_function! {
    /// Relevance, lower is better; a title hit weighs as much as ten in
    /// the content.
    fn bm25(index: Text, title_weight: Double, content_weight: Double) -> Double;
}

diesel::define_sql_function! {
    /// A few words around the best match, the hits wrapped in `open`/`close`.
    fn snippet(index: Text, column: Integer, open: Text, close: Text, ellipsis: Text, tokens: Integer) -> Text;
}

/// What FTS5 wraps each hit of a snippet in: private-use characters, which
/// [`highlight`] turns into `<mark>` tags after escaping the rest.
const HIT_OPEN: &str = "\u{E000}";
const HIT_CLOSE: &str = "\u{E001}";

/// What a user typed, made into an FTS5 query that matches every word.
///
/// FTS5 has its own syntax (`AND`, `NEAR(...)`, `col:`, `"`, `*`, `^`,
/// parentheses); fed raw, `NEAR(` or a lone quote is a syntax error and
/// `content:` picks a column. So each word becomes a quoted string (quotes
/// inside doubled): the operators lose their meaning and every word must
/// appear. Words without a letter or digit are dropped, since the tokenizer
/// would make an empty phrase of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery(String);

impl SearchQuery {
    /// `None` when there is nothing to search for.
    pub fn parse(typed: &str) -> Option<SearchQuery> {
        // FTS5 reads the query as a C string: a NUL would cut it short
        // (and other control characters have no business in a word).
        let cleaned: String = typed
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let words: Vec<String> = cleaned
            .split_whitespace()
            .filter(|word| word.chars().any(char::is_alphanumeric))
            .take(32)
            .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
            .collect();
        (!words.is_empty()).then(|| SearchQuery(words.join(" ")))
    }

    pub fn as_fts(&self) -> &str {
        &self.0
    }
}

/// A post found, with a snippet ready for HTML (escaped, hits in `<mark>`).
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub post: PostWithAuthor,
    pub snippet_html: String,
}

/// One page of the posts matching `query` that `viewer` may see (published
/// ones, and their own drafts), best first, and how many match in all.
pub fn search(
    conn: &mut DbConnection,
    query: &SearchQuery,
    filter: PostFilter,
    viewer: Option<&User>,
    page: Page,
) -> AppResult<(Vec<SearchHit>, i64)> {
    let matching = || {
        let found = posts_search::table
            .inner_join(posts::table.inner_join(users::table))
            .filter(Matches::new(
                posts_search::index,
                query.as_fts().to_owned().into_sql::<Text>(),
            ))
            .into_boxed();
        let found = match filter.author {
            Some(author) => found.filter(posts::user_id.eq(author)),
            None => found,
        };
        match viewer {
            Some(viewer) => {
                found.filter(posts::published.eq(true).or(posts::user_id.eq(viewer.id)))
            }
            None => found.filter(posts::published.eq(true)),
        }
    };
    let rows: Vec<(Post, Author, String)> = matching()
        .select((
            Post::as_select(),
            Author::as_select(),
            snippet(
                posts_search::index,
                -1, // the column with the best hits
                HIT_OPEN,
                HIT_CLOSE,
                "…",
                24,
            ),
        ))
        .order((bm25(posts_search::index, 10.0, 1.0), posts::id.desc()))
        .limit(page.limit())
        .offset(page.offset())
        .load(conn)?;
    let total = matching().count().get_result(conn)?;
    let hits = rows
        .into_iter()
        .map(|(post, author, snippet)| SearchHit {
            post: PostWithAuthor { post, author },
            snippet_html: highlight(&snippet),
        })
        .collect();
    Ok((hits, total))
}

/// Escapes a snippet for HTML and turns the hit markers into `<mark>`s.
/// A post may itself contain those characters: at worst they mark a few
/// more words; the tags always balance and nothing else becomes HTML.
fn highlight(snippet: &str) -> String {
    let mut html = String::with_capacity(snippet.len() + 32);
    let mut open = false;
    for ch in snippet.chars() {
        match ch {
            '\u{E000}' if !open => {
                html.push_str("<mark>");
                open = true;
            }
            '\u{E001}' if open => {
                html.push_str("</mark>");
                open = false;
            }
            '\u{E000}' | '\u{E001}' => {}
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#x27;"),
            other => html.push(other),
        }
    }
    if open {
        html.push_str("</mark>");
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_becomes_a_quoted_string() {
        let query = SearchQuery::parse("  Ada  Lovelace ").unwrap();
        assert_eq!(query.as_fts(), r#""Ada" "Lovelace""#);
    }

    #[test]
    fn fts5_syntax_loses_its_meaning() {
        let cases = [
            (r#"say "hi"#, r#""say" """hi""#),
            ("NEAR(a b)", r#""NEAR(a" "b)""#),
            ("content:secret", r#""content:secret""#),
            ("foo*", r#""foo*""#),
            ("a\0b", r#""a" "b""#),
            ("tab\tnew\nline", r#""tab" "new" "line""#),
        ];
        for (typed, fts) in cases {
            assert_eq!(SearchQuery::parse(typed).unwrap().as_fts(), fts, "{typed}");
        }
    }

    #[test]
    fn nothing_to_search_for_is_none() {
        for typed in ["", "   ", "\"", "* ( ) -", "\u{E000}"] {
            assert_eq!(SearchQuery::parse(typed), None, "{typed:?}");
        }
    }

    #[test]
    fn snippets_are_escaped_and_only_hits_are_marked() {
        assert_eq!(
            highlight("a <b> \u{E000}Ada\u{E001} & \"c\""),
            "a &lt;b&gt; <mark>Ada</mark> &amp; &quot;c&quot;"
        );
        // A post's own markers cannot unbalance the tags.
        assert_eq!(highlight("\u{E001}x\u{E000}y"), "x<mark>y</mark>");
    }
}
