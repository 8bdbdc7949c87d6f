//! The home page.

use rocket::http::uri::Origin;
use rocket::{get, routes, Route, State};

use super::contexts::{HomePage, TrendingPost};
use super::presenters::{PostCard, UserCard};
use super::{pager, Layout, PageResponse, PageResult, Paging};
use crate::db::Db;
use crate::domain::error::AppError;
use crate::domain::page::Slice;
use crate::domain::post::PostFilter;
use crate::domain::post_views::{self, TrendingBoard};
use crate::domain::tags::Tag;
use crate::domain::{Post, User, UserOrder};

/// How many tags the "popular tags" block shows.
const POPULAR_TAGS: i64 = 20;

pub fn routes() -> Vec<Route> {
    routes![home]
}

/// `GET /?page|after|before`: the newest posts, this week's most viewed,
/// and the people who wrote the most. Each block reads only what it shows.
#[get("/?<paging..>")]
async fn home(
    layout: Layout<'_>,
    db: Db<'_>,
    board: &State<TrendingBoard>,
    uri: &Origin<'_>,
    paging: Paging,
) -> PageResult {
    let slice = paging.slice_of(10)?;
    let viewer = layout.viewer.clone();
    let (window, total, writers, popular_tags) = db
        .read(move |conn| {
            let (window, total) = Post::list(conn, PostFilter::default(), viewer.as_ref(), slice)?;
            let writers = User::list(conn, Slice::first(5), UserOrder::MostPosts)?;
            let popular_tags = Tag::popular(conn, POPULAR_TAGS)?;
            Ok::<_, AppError>((window, total, writers, popular_tags))
        })
        .await?;
    let trending = crate::web::trending::top(&db, board, 5).await?;
    let posts: Vec<PostCard> = window.items.iter().map(PostCard::from).collect();
    let writers: Vec<UserCard> = writers
        .items
        .iter()
        .map(|user| UserCard::new(user, None))
        .collect();
    let trending: Vec<TrendingPost> = trending
        .iter()
        .map(|hot| TrendingPost {
            post: PostCard::from(&hot.post),
            recent_views: hot.recent_views,
        })
        .collect();
    Ok(PageResponse::Page(layout.render(HomePage {
        posts,
        writers,
        popular_tags,
        trending,
        trending_days: post_views::TRENDING_DAYS,
        pager: pager(uri, &window, total),
    })))
}
