//! `/search`: full-text search over the posts a visitor may see.

use rocket::http::uri::Origin;
use rocket::{get, routes, Route};

use super::contexts::SearchPage;
use super::presenters::PostCard;
use super::{pager, Layout, PageResponse, PageResult, Paging};
use crate::db::Db;
use crate::domain::post::PostFilter;
use crate::domain::search::{self, SearchQuery};
use crate::domain::Page;

pub fn routes() -> Vec<Route> {
    routes![search_page]
}

/// `GET /search?q&page`: the form, and the posts matching `q`, best first,
/// with the matching words highlighted. Any text is a valid `q`.
#[get("/search?<q>&<paging..>")]
async fn search_page(
    layout: Layout<'_>,
    db: Db<'_>,
    uri: &Origin<'_>,
    q: Option<String>,
    paging: Paging,
) -> PageResult {
    let page = paging.page_of(Page::DEFAULT_PER_PAGE)?;
    let typed = q.unwrap_or_default();
    let (hits, total, capped) = match SearchQuery::parse(&typed) {
        None => (Vec::new(), 0, false),
        Some(query) => {
            let viewer = layout.viewer.clone();
            let found = db
                .read_slow(move |conn| {
                    search::search(conn, &query, PostFilter::default(), viewer.as_ref(), page)
                })
                .await?;
            (found.hits, found.total, found.capped)
        }
    };
    let posts: Vec<PostCard> = hits.iter().map(PostCard::from).collect();
    let window = page.window(posts, total);
    let pager = pager(uri, &window, total);
    Ok(PageResponse::Page(layout.render(SearchPage {
        searched: !typed.trim().is_empty(),
        q: typed,
        posts: window.items,
        capped,
        pager,
    })))
}
