//! Full-text search over posts, ranked, with highlighted snippets: SQLite's
//! FTS5 or PostgreSQL's `tsvector`, one function each (`sqlite_page` and
//! `postgres_page`), side by side. The indexes are in migration
//! `2026-11-23-000005_search_posts` of each backend.
//!
//! Both index titles and content with stemming ("inventors" finds
//! "inventor") and without accents ("Lovelace" finds "Lovélace"), weigh a
//! title hit ten times a content hit, and match posts that have every word.
//! What a user typed is never read as query syntax by either.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Double, Float, Integer, Text};
use diesel::sqlite::Sqlite;
use diesel::SqliteConnection;

use super::post::{PostFilter, PostWithAuthor};
use super::{Page, Post, User};
use crate::db::schema::posts;
use crate::db::DbConnection;
use crate::domain::error::AppResult;

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

diesel::infix_operator!(Matches, " MATCH ", backend: Sqlite);

diesel::define_sql_function! {
    /// Relevance, higher is better; a title hit weighs as much as ten in
    /// the content. BM25 without the rarity of each word, whose cost would
    /// grow with the table (our own FTS5 function: `db/fts5_rank.rs`).
    fn portfolio_rank(index: Text, title_weight: Double, content_weight: Double) -> Double;
}

diesel::define_sql_function! {
    /// A few words around the best match, the hits wrapped in `open`/`close`.
    fn snippet(index: Text, column: Integer, open: Text, close: Text, ellipsis: Text, tokens: Integer) -> Text;
}

/// What each hit of a snippet is wrapped in: private-use characters, which
/// [`highlight`] turns into `<mark>` tags after escaping the rest.
const HIT_OPEN: &str = "\u{E000}";
const HIT_CLOSE: &str = "\u{E001}";
/// Stands for `<` in PostgreSQL's content snippets (see [`postgres_page`]).
const LESS_THAN: &str = "\u{E002}";

/// What a user typed, made into a query that matches every word.
///
/// FTS5 has its own syntax (`AND`, `NEAR(...)`, `col:`, `"`, `*`, `^`,
/// parentheses); fed raw, `NEAR(` or a lone quote is a syntax error and
/// `content:` picks a column. So for FTS5 each word becomes a quoted string
/// (quotes inside doubled): the operators lose their meaning and every word
/// must appear. PostgreSQL gets the words for `plainto_tsquery`, which reads
/// no operators at all. Words without a letter or digit are dropped, since
/// the tokenizers would make an empty phrase of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    fts: String,
    plain: String,
}

impl SearchQuery {
    /// `None` when there is nothing to search for.
    pub fn parse(typed: &str) -> Option<SearchQuery> {
        // FTS5 reads the query as a C string and PostgreSQL text cannot
        // hold NUL: a NUL would cut it short or fail (and other control
        // characters have no business in a word).
        let cleaned: String = typed
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let words: Vec<&str> = cleaned
            .split_whitespace()
            .filter(|word| word.chars().any(char::is_alphanumeric))
            .take(32)
            .collect();
        (!words.is_empty()).then(|| SearchQuery {
            fts: words
                .iter()
                .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
                .collect::<Vec<_>>()
                .join(" "),
            plain: words.join(" "),
        })
    }

    /// The query as FTS5 reads it.
    pub fn as_fts(&self) -> &str {
        &self.fts
    }

    /// The words, for PostgreSQL's `plainto_tsquery`.
    pub fn as_plain(&self) -> &str {
        &self.plain
    }
}

/// A post found, with a snippet ready for HTML (escaped, hits in `<mark>`).
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub post: PostWithAuthor,
    pub snippet_html: String,
}

/// How many matches are ranked at most: the newest this many.
///
/// Ranking means scoring every match; a common word matches most posts,
/// and scoring a million of them on each request would cost a second. So a
/// search takes the newest matches (both indexes hand them out newest
/// first without scoring), at most this many, and ranks those best first.
/// What it trades away: when more posts match, older ones are not offered
/// even where they would rank higher; the results say the total is capped,
/// and more words narrow the search down to what is wanted. (The number
/// is also as deep as numbered pages go, [`Page::MAX_OFFSET`].)
pub const CANDIDATES: i64 = 1_000;

/// One page of search results.
#[derive(Debug, Clone)]
pub struct Found {
    pub hits: Vec<SearchHit>,
    /// How many matches were ranked (at most [`CANDIDATES`]).
    pub total: i64,
    /// More posts match than were ranked.
    pub capped: bool,
}

/// A match: the post's id and its score, higher is better.
type Candidate = (i32, f64);

/// One page of the posts matching `query` that `viewer` may see (published
/// ones, and their own drafts), best first, among the newest
/// [`CANDIDATES`] matches.
pub fn search(
    conn: &mut DbConnection,
    query: &SearchQuery,
    filter: PostFilter,
    viewer: Option<&User>,
    page: Page,
) -> AppResult<Found> {
    let mut candidates = match conn {
        DbConnection::Sqlite(c) => sqlite_candidates(c, query, filter, viewer)?,
        DbConnection::Postgres(_) => postgres_candidates(conn, query, filter, viewer)?,
    };
    let capped = candidates.len() as i64 > CANDIDATES;
    candidates.truncate(CANDIDATES as usize);
    // Best first; on a tie, the newer post.
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
    let ids: Vec<i32> = candidates
        .iter()
        .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
        .take(page.per_page as usize)
        .map(|(id, _)| *id)
        .collect();
    let mut snippets: std::collections::HashMap<i32, String> = match conn {
        _ if ids.is_empty() => Default::default(),
        DbConnection::Sqlite(c) => sqlite_snippets(c, query, &ids)?,
        DbConnection::Postgres(_) => postgres_snippets(conn, query, &ids)?,
    }
    .into_iter()
    .collect();
    let hits = Post::find_many(conn, &ids)?
        .into_iter()
        .map(|post| SearchHit {
            snippet_html: highlight(&snippets.remove(&post.post.id).unwrap_or_default()),
            post,
        })
        .collect();
    Ok(Found {
        hits,
        total: candidates.len() as i64,
        capped,
    })
}

/// SQLite: the newest matches in the FTS5 index `posts_search` (one more
/// than [`CANDIDATES`], to tell whether there are more), scored by
/// `portfolio_rank`.
fn sqlite_candidates(
    conn: &mut SqliteConnection,
    query: &SearchQuery,
    filter: PostFilter,
    viewer: Option<&User>,
) -> QueryResult<Vec<Candidate>> {
    let found = posts_search::table
        .inner_join(posts::table)
        .filter(Matches::new(
            posts_search::index,
            query.as_fts().to_owned().into_sql::<Text>(),
        ))
        .into_boxed();
    let found = match filter.author {
        Some(author) => found.filter(posts::user_id.eq(author)),
        None => found,
    };
    let found = found.filter(Post::visible_in_lists_to(viewer));
    found
        .select((posts::id, portfolio_rank(posts_search::index, 10.0, 1.0)))
        .order(posts_search::rowid.desc())
        .limit(CANDIDATES + 1)
        .load(conn)
}

/// SQLite: the snippets of the posts `ids` (found by `query`).
fn sqlite_snippets(
    conn: &mut SqliteConnection,
    query: &SearchQuery,
    ids: &[i32],
) -> QueryResult<Vec<(i32, String)>> {
    posts_search::table
        .filter(Matches::new(
            posts_search::index,
            query.as_fts().to_owned().into_sql::<Text>(),
        ))
        .filter(posts_search::rowid.eq_any(ids))
        .select((
            posts_search::rowid,
            snippet(
                posts_search::index,
                -1, // the column with the best hits
                HIT_OPEN,
                HIT_CLOSE,
                "…",
                24,
            ),
        ))
        .load(conn)
}

/// PostgreSQL: each post's search document, stored and indexed by GIN
/// (`posts_search`, migrations 000005 and 000010). Titles weigh 'A',
/// content 'B'.
const PG_DOCUMENT: &str = "posts.search_document";

/// PostgreSQL: the newest matches over the GIN index (one more than
/// [`CANDIDATES`]), scored by `ts_rank`. Only constant SQL is spelled out
/// here; the words are a bound parameter. (It runs on the [`DbConnection`]
/// so as to share [`Post::listable`].)
fn postgres_candidates(
    conn: &mut DbConnection,
    query: &SearchQuery,
    filter: PostFilter,
    viewer: Option<&User>,
) -> QueryResult<Vec<Candidate>> {
    let words = || query.as_plain().to_owned();
    let matches = sql::<Bool>(&format!(
        "{PG_DOCUMENT} @@ plainto_tsquery('portfolio_search', "
    ))
    .bind::<Text, _>(words())
    .sql(")");
    // Weights {D, C, B, A}: a title ('A') hit counts ten times a content
    // one. Normalization 1 divides by 1 + log(length), so that a long
    // post's one hit counts for less, as in SQLite's rank.
    let rank = sql::<Float>(&format!(
        "ts_rank('{{0, 0, 0.1, 1}}', {PG_DOCUMENT}, plainto_tsquery('portfolio_search', "
    ))
    .bind::<Text, _>(words())
    .sql("), 1)");
    // The ids first, then the ranks of those alone: in one statement, when
    // the planner takes every match from the GIN index and sorts them, it
    // computes the select list (`ts_rank`) for every match before cutting
    // to the limit.
    let ids: Vec<i32> = Post::listable(filter, viewer)
        .filter(matches)
        .select(posts::id)
        .order(posts::id.desc())
        .limit(CANDIDATES + 1)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(i32, f32)> = posts::table
        .filter(posts::id.eq_any(&ids))
        .select((posts::id, rank))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, rank)| (id, rank.into()))
        .collect())
}

/// PostgreSQL: the headlines of the posts `ids` (found by `query`). Like
/// FTS5's snippet of "the column with the best hits": the whole title when
/// the words are all in it, else a fragment of the content. PostgreSQL's
/// parser takes `<b>` for an HTML tag and leaves it out: `<` goes in as
/// LESS_THAN and comes back out in `highlight`.
fn postgres_snippets(
    conn: &mut DbConnection,
    query: &SearchQuery,
    ids: &[i32],
) -> QueryResult<Vec<(i32, String)>> {
    let words = || query.as_plain().to_owned();
    let marks = format!("StartSel={HIT_OPEN}, StopSel={HIT_CLOSE}");
    let title_options = format!("'{marks}, HighlightAll=true'");
    let content_options = format!("'{marks}, MaxWords=24, MinWords=12'");
    let headline = sql::<Text>(
        "CASE WHEN to_tsvector('portfolio_search', posts.title) @@ plainto_tsquery('portfolio_search', ",
    )
    .bind::<Text, _>(words())
    .sql(&format!(") THEN ts_headline('portfolio_search', replace(posts.title, '<', '{LESS_THAN}'), plainto_tsquery('portfolio_search', "))
    .bind::<Text, _>(words())
    .sql(&format!("), {title_options}) ELSE ts_headline('portfolio_search', replace(posts.content, '<', '{LESS_THAN}'), plainto_tsquery('portfolio_search', "))
    .bind::<Text, _>(words())
    .sql(&format!("), {content_options}) END"));
    posts::table
        .filter(posts::id.eq_any(ids))
        .select((posts::id, headline))
        .load(conn)
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
            '<' | '\u{E002}' => html.push_str("&lt;"),
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
