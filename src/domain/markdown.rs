//! Posts are written in Markdown (CommonMark) and shown as HTML. The HTML is
//! cleaned with an allow-list (ammonia) after rendering, because Markdown
//! lets raw HTML through: `<script>`, `onerror=` attributes and
//! `javascript:` links all come out inert.

use std::sync::{Arc, LazyLock};

use pulldown_cmark::{html, Options, Parser};
use quick_cache::sync::Cache;
use quick_cache::Weighter;

/// Safe HTML for a post's Markdown source.
pub fn to_safe_html(source: &str) -> Arc<str> {
    POSTS.get_or_render(source)
}

/// Safe HTML for a comment's Markdown source: as a post's, but without
/// images (neither Markdown's `![]()` nor an `<img>` tag), so a comment
/// cannot load anything from elsewhere or fill the page with pictures.
pub fn comment_html(source: &str) -> Arc<str> {
    COMMENTS.get_or_render(source)
}

/// Rendered HTML by its Markdown source, so that a page read again and
/// again is rendered once (parsing, then cleaning with html5ever, was the
/// largest part of a post page's time: docs/PERFORMANCE.md).
///
/// Rendering is a pure function of the text, so an entry is right for as
/// long as it lives, on every instance: a post changed anywhere has a new
/// text, which is a new key, and the old entry ages out. The key is the
/// whole text, compared in full on a hit, so no hash collision can show
/// one text's HTML for another's. The total size is bounded (`capacity`
/// bytes of keys and values), the least used going first.
struct Rendered {
    cache: Cache<String, Arc<str>, BySize>,
    render: fn(&str) -> String,
}

/// A post's text rendered, up to 8 MiB of texts and their HTML.
static POSTS: LazyLock<Rendered> = LazyLock::new(|| Rendered::new(8 << 20, |s| render(s, true)));
/// Comments: short, and many to a page.
static COMMENTS: LazyLock<Rendered> =
    LazyLock::new(|| Rendered::new(2 << 20, |s| render(s, false)));
/// The excerpts on post cards (every listing, and a post's own page).
static CARD_EXCERPTS: LazyLock<Rendered> =
    LazyLock::new(|| Rendered::new(4 << 20, |s| excerpt(s, CARD_EXCERPT_CHARS)));

/// How long a post card's excerpt is, in characters.
pub const CARD_EXCERPT_CHARS: usize = 180;

/// A post card's excerpt of `source` ([`excerpt`], [`CARD_EXCERPT_CHARS`]
/// long), kept as rendered HTML is.
pub fn card_excerpt(source: &str) -> Arc<str> {
    CARD_EXCERPTS.get_or_render(source)
}

impl Rendered {
    fn new(capacity: u64, render: fn(&str) -> String) -> Self {
        // An estimate only (quick_cache sizes its tables by it): a short
        // post and its HTML are about 2 KiB.
        let items = (capacity / 2048) as usize;
        Rendered {
            cache: Cache::with_weighter(items, capacity, BySize),
            render,
        }
    }

    /// The HTML of `source`, rendered now if not kept. Two requests for a
    /// text not kept yet may both render it (the same result): waiting for
    /// the other instead would block an async worker.
    fn get_or_render(&self, source: &str) -> Arc<str> {
        if let Some(html) = self.cache.get(source) {
            return html;
        }
        let html: Arc<str> = (self.render)(source).into();
        self.cache.insert(source.to_owned(), html.clone());
        html
    }
}

/// An entry's weight: its bytes, plus what the table spends on it.
#[derive(Clone)]
struct BySize;

impl Weighter<String, Arc<str>> for BySize {
    fn weight(&self, key: &String, value: &Arc<str>) -> u64 {
        (key.len() + value.len() + 64) as u64
    }
}

fn render(source: &str, images: bool) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut unsafe_html = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(source, options));
    let cleaner = if images {
        &*POST_CLEANER
    } else {
        &*COMMENT_CLEANER
    };
    cleaner.clean(&unsafe_html).to_string()
}

/// The allow-lists, built once: a `Builder` is a dozen hash sets and maps,
/// which were built again for every text.
static POST_CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| cleaner(true));
static COMMENT_CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| cleaner(false));

fn cleaner(images: bool) -> ammonia::Builder<'static> {
    let mut cleaner = ammonia::Builder::default();
    cleaner
        .link_rel(Some("nofollow noopener noreferrer"))
        .url_schemes(["http", "https", "mailto"].into());
    if !images {
        cleaner.rm_tags(["img"]);
    }
    cleaner
}

/// The first `max_chars` characters of a post's text, without Markdown
/// syntax or HTML: for listings.
pub fn excerpt(source: &str, max_chars: usize) -> String {
    use pulldown_cmark::{Event, TagEnd};
    let mut text = String::new();
    for event in Parser::new(source) {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak
            | Event::HardBreak
            | Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item) => text.push(' '),
            _ => {}
        }
        if text.chars().count() > max_chars {
            break;
        }
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > max_chars {
        let cut: String = text.chars().take(max_chars).collect();
        format!("{}…", cut.trim_end())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{comment_html, excerpt, to_safe_html};

    #[test]
    fn a_text_is_rendered_once_and_its_html_kept_by_the_whole_text() {
        let text = "# Kept\n\nrendered *once* (a text no other test renders)";
        let first = to_safe_html(text);
        assert!(first.contains("<em>once</em>"), "{first}");
        assert!(Arc::ptr_eq(&first, &to_safe_html(text)), "the kept HTML");
        // One byte more is another text, rendered for itself.
        let changed = to_safe_html(&format!("{text}!"));
        assert!(changed.contains("renders)!</p>"), "{changed}");
        // Posts and comments are kept apart: a comment has no images.
        let image = "![a cat](https://example.org/cat.png) kept apart";
        assert!(to_safe_html(image).contains("<img"));
        assert!(!comment_html(image).contains("<img"));
        assert!(to_safe_html(image).contains("<img"));
    }

    #[test]
    fn comments_render_markdown_without_images_or_script() {
        let html = comment_html(
            "**Yes** ![a cat](https://example.org/cat.png) <img src=x onerror=alert(1)> \
             <script>alert(2)</script> [site](https://example.org)",
        );
        assert!(html.contains("<strong>Yes</strong>"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            !html.contains("<script") && !html.contains("onerror"),
            "{html}"
        );
        assert!(html.contains("href=\"https://example.org\""), "{html}");
        // A post keeps its images.
        assert!(to_safe_html("![a cat](https://example.org/cat.png)").contains("<img"));
    }

    #[test]
    fn excerpts_are_plain_text_without_markup_or_html() {
        assert_eq!(
            excerpt("# Title\n\nSome *emphasis*, [a link](javascript:x).", 100),
            "Title Some emphasis, a link."
        );
        assert_eq!(excerpt("<script>alert(1)</script>", 100), "");
        assert_eq!(excerpt("one two three", 7), "one two…");
    }

    #[test]
    fn markdown_becomes_html() {
        let html = to_safe_html("# Title\n\nSome *emphasis* and a [link](https://example.com).");
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(html.contains("<em>emphasis</em>"), "{html}");
        assert!(html.contains(r#"href="https://example.com""#), "{html}");
    }

    #[test]
    fn scripts_and_event_handlers_are_removed() {
        let html = to_safe_html("<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("alert(1)"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
    }

    #[test]
    fn javascript_links_are_disarmed() {
        let html =
            to_safe_html("[click](javascript:alert(1)) <a href=\"javascript:alert(2)\">x</a>");
        assert!(!html.contains("javascript:"), "{html}");
    }

    #[test]
    fn code_blocks_are_escaped_not_run() {
        let html = to_safe_html("```\n<script>alert(1)</script>\n```");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }
}
