//! The home page.

use rocket::http::uri::Origin;
use rocket::{get, routes, Route};
use serde_json::{json, Value};

use super::views::{PostCard, UserCard};
use super::{pager, Layout, PageResponse, PageResult};
use crate::db::Db;
use crate::models::post::PostFilter;
use crate::models::post_views;
use crate::models::{Page, Post, User, UserOrder};

pub fn routes() -> Vec<Route> {
    routes![home]
}

/// `GET /?page`: the newest posts, this week's most viewed, and the people
/// who wrote the most.
#[get("/?<page>")]
async fn home(
    layout: Layout<'_>,
    db: Db<'_>,
    uri: &Origin<'_>,
    page: Option<String>,
) -> PageResult {
    let page = Page::parse(page.as_deref(), Some("10"))?;
    let viewer = layout.viewer.clone();
    let (posts, total, writers) = db
        .read(move |conn| {
            let (posts, total) = Post::list(conn, PostFilter::default(), viewer.as_ref(), page)?;
            let top = Page {
                number: 1,
                per_page: 5,
            };
            let (writers, _) = User::list_with_post_counts(conn, top, UserOrder::MostPosts)?;
            Ok((posts, total, writers))
        })
        .await?;
    let trending = db
        .read_slow(|conn| post_views::trending(conn, post_views::today(), 5))
        .await?;
    let posts: Vec<PostCard> = posts.iter().map(PostCard::from).collect();
    let writers: Vec<UserCard> = writers
        .iter()
        .map(|(user, count)| UserCard::new(user, *count, None))
        .collect();
    let trending: Vec<Value> = trending
        .iter()
        .map(|hot| json!({"post": PostCard::from(&hot.post), "recent_views": hot.recent_views}))
        .collect();
    Ok(PageResponse::Page(layout.render(
        "home",
        json!({
            "posts": posts,
            "writers": writers,
            "trending": trending,
            "trending_days": post_views::TRENDING_DAYS,
            "pager": pager(uri, page, total),
        }),
    )))
}
