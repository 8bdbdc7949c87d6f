//! Posts are written in Markdown (CommonMark) and shown as HTML. The HTML is
//! cleaned with an allow-list (ammonia) after rendering, because Markdown
//! lets raw HTML through: `<script>`, `onerror=` attributes and
//! `javascript:` links all come out inert.

use pulldown_cmark::{html, Options, Parser};

/// Safe HTML for a post's Markdown source.
pub fn to_safe_html(source: &str) -> String {
    render(source, true)
}

/// Safe HTML for a comment's Markdown source: as a post's, but without
/// images (neither Markdown's `![]()` nor an `<img>` tag), so a comment
/// cannot load anything from elsewhere or fill the page with pictures.
pub fn comment_html(source: &str) -> String {
    render(source, false)
}

fn render(source: &str, images: bool) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut unsafe_html = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(source, options));
    let mut cleaner = ammonia::Builder::default();
    cleaner
        .link_rel(Some("nofollow noopener noreferrer"))
        .url_schemes(["http", "https", "mailto"].into());
    if !images {
        cleaner.rm_tags(["img"]);
    }
    cleaner.clean(&unsafe_html).to_string()
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
    use super::{comment_html, excerpt, to_safe_html};

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
