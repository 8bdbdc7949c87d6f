//! Tag pages: the published posts carrying a tag, newest first.

use rocket::http::uri::Origin;
use rocket::{get, routes, Route};

use super::contexts::TagPage;
use super::presenters::PostCard;
use super::{pager, Layout, PageResponse, PageResult, Paging};
use crate::db::Db;
use crate::domain::error::AppError;
use crate::domain::{tags, Page};

pub fn routes() -> Vec<Route> {
    routes![show]
}

/// `GET /tags/<name>?page|after|before`: paged like the post list, as deep
/// as the tag goes. A tag without published posts is a 404.
#[get("/tags/<name>?<paging..>")]
async fn show(
    layout: Layout<'_>,
    db: Db<'_>,
    uri: &Origin<'_>,
    name: String,
    paging: Paging,
) -> PageResult {
    let slice = paging.slice_of(Page::DEFAULT_PER_PAGE)?;
    let (tag, window, total) = db
        .read(move |conn| {
            let tag = tags::in_use(conn, &name)?;
            let (window, total) = tag.posts(conn, slice)?;
            Ok::<_, AppError>((tag, window, total))
        })
        .await?;
    let posts: Vec<PostCard> = window.items.iter().map(PostCard::from).collect();
    Ok(PageResponse::Page(layout.render(TagPage {
        tag: tag.name,
        total,
        posts,
        pager: pager(uri, &window, total),
    })))
}
