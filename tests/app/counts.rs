//! The counts that listings read instead of counting (each account's
//! published and draft posts, the number of accounts, the number of
//! published posts), and those the admin dashboard reads (drafts, comments,
//! API tokens, and sign-ups, posts and views per day) stay equal to
//! `COUNT(*)` (or `SUM`) whatever changes the rows: the app's own use cases,
//! the view writer, cascades, and statements typed by hand.

use diesel::prelude::*;
use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use portfolio::db::schema::{
    api_tokens, comments, post_daily_views, post_tags, post_totals, posts, site_daily, site_totals,
    tags, user_totals, users,
};
use portfolio::db::{self, DbConnection};
use portfolio::domain::post::{PostChanges, PostDraft, PublishRequest};
use portfolio::domain::tags::TagList;
use portfolio::domain::{NewUser, Post, Role, User};
use proptest::prelude::*;

use crate::test_database::TestDatabase;

/// Every maintained count against a count of the rows themselves.
fn assert_counts_match(conn: &mut DbConnection) {
    let kept: Vec<(i32, i32, i32)> = users::table
        .select((users::id, users::published_posts, users::draft_posts))
        .order(users::id)
        .load(conn)
        .unwrap();
    for (id, published, drafts) in kept {
        let mut counted = |flag: bool| -> i64 {
            posts::table
                .filter(posts::user_id.eq(id))
                .filter(posts::published.eq(flag))
                .count()
                .get_result(conn)
                .unwrap()
        };
        assert_eq!(
            (i64::from(published), i64::from(drafts)),
            (counted(true), counted(false)),
            "user {id}: kept (published, drafts) against COUNT(*)"
        );
    }
    let accounts: i32 = user_totals::table
        .select(user_totals::users)
        .first(conn)
        .unwrap();
    let counted: i64 = users::table.count().get_result(conn).unwrap();
    assert_eq!(i64::from(accounts), counted, "user_totals against COUNT(*)");
    let published: i64 = post_totals::table
        .select(post_totals::published)
        .first(conn)
        .unwrap();
    let counted: i64 = posts::table
        .filter(posts::published.eq(true))
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(published, counted, "post_totals against COUNT(*)");
    let drafts: i64 = post_totals::table
        .select(post_totals::drafts)
        .first(conn)
        .unwrap();
    let counted: i64 = posts::table
        .filter(posts::published.eq(false))
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(drafts, counted, "post_totals.drafts against COUNT(*)");
    let (kept_comments, kept_tokens): (i64, i64) = site_totals::table
        .select((site_totals::comments, site_totals::api_tokens))
        .first(conn)
        .unwrap();
    let counted: i64 = comments::table.count().get_result(conn).unwrap();
    assert_eq!(
        kept_comments, counted,
        "site_totals.comments against COUNT(*)"
    );
    let counted: i64 = api_tokens::table.count().get_result(conn).unwrap();
    assert_eq!(
        kept_tokens, counted,
        "site_totals.api_tokens against COUNT(*)"
    );
    assert_daily_counts_match(conn);

    // Each tag's published posts, and the post columns its index copies.
    let kept: Vec<(i32, i32)> = tags::table
        .select((tags::id, tags::posts))
        .load(conn)
        .unwrap();
    for (tag, published) in kept {
        let counted: i64 = post_tags::table
            .inner_join(posts::table)
            .filter(post_tags::tag_id.eq(tag))
            .filter(posts::published.eq(true))
            .count()
            .get_result(conn)
            .unwrap();
        assert_eq!(i64::from(published), counted, "tag {tag}: kept posts");
    }
    let stale: i64 = post_tags::table
        .inner_join(posts::table)
        .filter(
            post_tags::published
                .ne(posts::published)
                .or(post_tags::updated_at.ne(posts::updated_at)),
        )
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(
        stale, 0,
        "post_tags copy their post's published and updated_at"
    );

    // Each post's shown comments.
    let kept: Vec<(i32, i32)> = posts::table
        .select((posts::id, posts::comments))
        .load(conn)
        .unwrap();
    for (post, shown) in kept {
        let counted: i64 = comments::table
            .filter(comments::post_id.eq(post))
            .filter(comments::hidden.eq(false))
            .count()
            .get_result(conn)
            .unwrap();
        assert_eq!(i64::from(shown), counted, "post {post}: kept comments");
    }
}

/// `site_daily` against the rows: each day's accounts and posts created
/// (`COUNT(*)` grouped by the day of `created_at`) and views (`SUM` of that
/// day's `post_daily_views`). Days whose figures all went back to 0 may
/// keep their row.
fn assert_daily_counts_match(conn: &mut DbConnection) {
    let mut counted: BTreeMap<NaiveDate, (i64, i64, i64)> = BTreeMap::new();
    let signups: Vec<NaiveDateTime> = users::table.select(users::created_at).load(conn).unwrap();
    for created in signups {
        counted.entry(created.date()).or_default().0 += 1;
    }
    let made: Vec<NaiveDateTime> = posts::table.select(posts::created_at).load(conn).unwrap();
    for created in made {
        counted.entry(created.date()).or_default().1 += 1;
    }
    let views: Vec<(NaiveDate, i32)> = post_daily_views::table
        .select((post_daily_views::day, post_daily_views::views))
        .load(conn)
        .unwrap();
    for (day, views) in views {
        counted.entry(day).or_default().2 += i64::from(views);
    }
    let kept: BTreeMap<NaiveDate, (i64, i64, i64)> = site_daily::table
        .select((
            site_daily::day,
            (site_daily::signups, site_daily::posts, site_daily::views),
        ))
        .load::<(NaiveDate, (i64, i64, i64))>(conn)
        .unwrap()
        .into_iter()
        .filter(|(_, figures)| *figures != (0, 0, 0))
        .collect();
    assert_eq!(
        kept, counted,
        "site_daily (signups, posts, views) against the rows"
    );
}

/// The tags a step's bits pick from a small pool, so tags are shared.
fn tags_of(bits: u8) -> TagList {
    let names: Vec<&str> = ["rust", "web", "travel", "notes"]
        .into_iter()
        .enumerate()
        .filter(|(n, _)| bits & (1 << n) != 0)
        .map(|(_, name)| name)
        .collect();
    TagList::parse(&names).unwrap()
}

fn new_database(dir: &std::path::Path) -> (TestDatabase, DbConnection) {
    let database = TestDatabase::new(dir);
    std::fs::create_dir_all(&database.volume).unwrap();
    let mut conn = db::establish(&database.url).unwrap();
    db::migrate(&mut conn).unwrap();
    (database, conn)
}

fn make_user(conn: &mut DbConnection, n: u32) -> User {
    let signup = portfolio::domain::user::SignUp {
        uid: format!("counted{n}"),
        name: format!("Counted {n}"),
        email: None,
        password: "a long enough password".into(),
        dob: None,
        invite: None,
    };
    let new: NewUser = signup.validate().unwrap();
    // A real hash is slow and beside the point: any argon2id string passes.
    User::create(conn, &new, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA").unwrap()
}

/// What a step of the property test does.
#[derive(Debug, Clone)]
enum Step {
    SignUp,
    Write {
        author: usize,
        published: bool,
        tags: u8,
    },
    Publish {
        post: usize,
        published: bool,
    },
    Retag {
        post: usize,
        tags: u8,
    },
    /// A post scheduled for a moment ago, then the scheduler's round.
    PublishDue {
        post: usize,
    },
    /// `INSERT INTO comments ...` by hand (the comment use cases keep to
    /// the same table).
    HandComment {
        post: usize,
        user: usize,
        hidden: bool,
    },
    /// What a suspension (or its lifting) does to an account's comments.
    HideComments {
        user: usize,
        hidden: bool,
    },
    DeletePost {
        post: usize,
    },
    DeleteUser {
        user: usize,
    },
    /// `UPDATE posts SET user_id = ...`, as someone with a SQL shell might.
    HandOver {
        post: usize,
        to: usize,
    },
    /// `DELETE FROM posts WHERE user_id = ...` by hand.
    HandDeleteAll {
        user: usize,
    },
    /// `INSERT INTO posts ...` by hand.
    HandInsert {
        author: usize,
        published: bool,
    },
    /// A batch of views, as the view writer writes it, on one of a few days.
    Views {
        posts: u8,
        views: u8,
        days_ago: u8,
    },
    /// An API token made (or, `revoke`, one deleted) by hand.
    Token {
        user: usize,
        revoke: bool,
    },
    /// `UPDATE posts SET created_at = ...` (a post moved to another day) by hand.
    Backdate {
        post: usize,
        days: u8,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => Just(Step::SignUp),
        4 => (any::<usize>(), any::<bool>(), any::<u8>()).prop_map(|(author, published, tags)| Step::Write { author, published, tags }),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(post, published)| Step::Publish { post, published }),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(post, tags)| Step::Retag { post, tags }),
        1 => any::<usize>().prop_map(|post| Step::PublishDue { post }),
        2 => (any::<usize>(), any::<usize>(), any::<bool>()).prop_map(|(post, user, hidden)| Step::HandComment { post, user, hidden }),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(user, hidden)| Step::HideComments { user, hidden }),
        1 => any::<usize>().prop_map(|post| Step::DeletePost { post }),
        1 => any::<usize>().prop_map(|user| Step::DeleteUser { user }),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(post, to)| Step::HandOver { post, to }),
        1 => any::<usize>().prop_map(|user| Step::HandDeleteAll { user }),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(author, published)| Step::HandInsert { author, published }),
        2 => (any::<u8>(), 1..5u8, 0..3u8).prop_map(|(posts, views, days_ago)| Step::Views { posts, views, days_ago }),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(user, revoke)| Step::Token { user, revoke }),
        1 => (any::<usize>(), 1..3u8).prop_map(|(post, days)| Step::Backdate { post, days }),
    ]
}

fn pick<T: Copy>(items: &[T], n: usize) -> Option<T> {
    (!items.is_empty()).then(|| items[n % items.len()])
}

fn apply(conn: &mut DbConnection, step: &Step, next_user: &mut u32) {
    let users: Vec<i32> = users::table.select(users::id).load(conn).unwrap();
    let post_ids: Vec<i32> = posts::table.select(posts::id).load(conn).unwrap();
    let admin = User {
        role: Role::Admin,
        ..User::find(conn, users[0]).unwrap()
    };
    match *step {
        Step::SignUp => {
            *next_user += 1;
            make_user(conn, *next_user);
        }
        Step::Write {
            author,
            published,
            tags,
        } => {
            let author = User::find(conn, pick(&users, author).unwrap()).unwrap();
            let mut new = PostDraft {
                title: "Counted".into(),
                content: "Counted.".into(),
                published: Some(published),
                publish_at: None,
                tags: None,
                comments_closed: None,
            }
            .validate()
            .unwrap();
            new.tags = tags_of(tags);
            Post::create(conn, &author, &new).unwrap();
        }
        Step::Publish { post, published } => {
            if let Some(post) = pick(&post_ids, post) {
                let changes = PostChanges {
                    publish: Some(if published {
                        PublishRequest::Now
                    } else {
                        PublishRequest::Draft
                    }),
                    ..PostChanges::default()
                };
                Post::update(conn, &admin, post, &changes).unwrap();
            }
        }
        Step::Retag { post, tags } => {
            if let Some(post) = pick(&post_ids, post) {
                let changes = PostChanges {
                    tags: Some(tags_of(tags)),
                    ..PostChanges::default()
                };
                Post::update(conn, &admin, post, &changes).unwrap();
            }
        }
        Step::PublishDue { post } => {
            if let Some(post) = pick(&post_ids, post) {
                let moment_ago = portfolio::domain::now() - chrono::TimeDelta::seconds(1);
                diesel::update(posts::table.find(post))
                    .set((posts::published.eq(false), posts::publish_at.eq(moment_ago)))
                    .execute(conn)
                    .unwrap();
                let now = portfolio::domain::now();
                assert!(portfolio::domain::schedule::publish_due(conn, now).unwrap() >= 1);
            }
        }
        Step::HandComment { post, user, hidden } => {
            if let Some(post) = pick(&post_ids, post) {
                let now = portfolio::domain::now();
                diesel::insert_into(comments::table)
                    .values((
                        comments::post_id.eq(post),
                        comments::user_id.eq(pick(&users, user).unwrap()),
                        comments::body.eq("Counted."),
                        comments::hidden.eq(hidden),
                        comments::created_at.eq(now),
                        comments::updated_at.eq(now),
                    ))
                    .execute(conn)
                    .unwrap();
            }
        }
        Step::HideComments { user, hidden } => {
            diesel::update(
                comments::table.filter(comments::user_id.eq(pick(&users, user).unwrap())),
            )
            .set(comments::hidden.eq(hidden))
            .execute(conn)
            .unwrap();
        }
        Step::DeletePost { post } => {
            if let Some(post) = pick(&post_ids, post) {
                Post::delete(conn, &admin, post).unwrap();
            }
        }
        Step::DeleteUser { user } => {
            // Never the first account: the steps act as that admin.
            if let Some(user) = pick(&users[1..], user) {
                User::delete(conn, user).unwrap();
            }
        }
        Step::HandOver { post, to } => {
            if let Some(post) = pick(&post_ids, post) {
                diesel::sql_query("UPDATE posts SET user_id = $1 WHERE id = $2")
                    .bind::<diesel::sql_types::Integer, _>(pick(&users, to).unwrap())
                    .bind::<diesel::sql_types::Integer, _>(post)
                    .execute(conn)
                    .unwrap();
            }
        }
        Step::HandDeleteAll { user } => {
            diesel::sql_query("DELETE FROM posts WHERE user_id = $1")
                .bind::<diesel::sql_types::Integer, _>(pick(&users, user).unwrap())
                .execute(conn)
                .unwrap();
        }
        Step::HandInsert { author, published } => {
            diesel::sql_query(
                "INSERT INTO posts (user_id, title, content, published, created_at, updated_at) \
                 VALUES ($1, 'By hand', 'Typed in a SQL shell.', $2, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            )
            .bind::<diesel::sql_types::Integer, _>(pick(&users, author).unwrap())
            .bind::<diesel::sql_types::Bool, _>(published)
            .execute(conn)
            .unwrap();
        }
        Step::Views {
            posts,
            views,
            days_ago,
        } => {
            // The posts the bits of `posts` pick, and one that is not there.
            let mut batch: std::collections::HashMap<i32, i32> = post_ids
                .iter()
                .enumerate()
                .filter(|(n, _)| posts & (1 << (n % 8)) != 0)
                .map(|(_, id)| (*id, i32::from(views)))
                .collect();
            batch.insert(i32::MAX, 3);
            let day =
                portfolio::domain::post_views::today() - chrono::Days::new(u64::from(days_ago));
            portfolio::domain::post_views::write_batch(conn, &batch, day).unwrap();
        }
        Step::Token { user, revoke } => {
            let user = pick(&users, user).unwrap();
            if revoke {
                diesel::sql_query(
                    "DELETE FROM api_tokens WHERE id = (SELECT MIN(id) FROM api_tokens WHERE user_id = $1)",
                )
                .bind::<diesel::sql_types::Integer, _>(user)
                .execute(conn)
                .unwrap();
            } else {
                let hash = format!("hash-{}", rand::random::<u64>());
                diesel::insert_into(api_tokens::table)
                    .values((
                        api_tokens::user_id.eq(user),
                        api_tokens::name.eq("counted"),
                        api_tokens::token_hash.eq(hash),
                    ))
                    .execute(conn)
                    .unwrap();
            }
        }
        Step::Backdate { post, days } => {
            if let Some(post) = pick(&post_ids, post) {
                let moved = portfolio::domain::now() - chrono::Days::new(u64::from(days));
                diesel::update(posts::table.find(post))
                    .set(posts::created_at.eq(moved))
                    .execute(conn)
                    .unwrap();
            }
        }
    }
}

#[test]
fn kept_counts_equal_count_star_after_any_mix_of_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (_database, mut conn) = new_database(dir.path());
    let mut next_user = 0;
    for _ in 0..3 {
        next_user += 1;
        make_user(&mut conn, next_user);
    }
    // One database for all cases (a PostgreSQL database per case would be
    // slow): the steps of each case pile onto the last.
    let conn = std::cell::RefCell::new(conn);
    let next_user = std::cell::Cell::new(next_user);
    let config = ProptestConfig {
        cases: 32,
        ..ProptestConfig::default()
    };
    proptest!(config, |(steps in proptest::collection::vec(step(), 1..25))| {
        let mut conn = conn.borrow_mut();
        let mut n = next_user.get();
        for step in &steps {
            apply(&mut conn, step, &mut n);
        }
        next_user.set(n);
        assert_counts_match(&mut conn);
    });
}

/// The edits an operator might make with `sqlite3` or `psql`, one by one,
/// and a migration's down and up again (which recount from the rows).
#[test]
fn kept_counts_follow_hand_edits_and_recounts() {
    let dir = tempfile::tempdir().unwrap();
    let (_database, mut conn) = new_database(dir.path());
    let ada = make_user(&mut conn, 1);
    let bob = make_user(&mut conn, 2);
    for (author, published) in [(&ada, true), (&ada, true), (&ada, false), (&bob, true)] {
        let draft = PostDraft {
            title: "Hand edits".into(),
            content: "Counted.".into(),
            published: Some(published),
            publish_at: None,
            tags: Some(vec!["counted".into()]),
            comments_closed: None,
        };
        Post::create(&mut conn, author, &draft.validate().unwrap()).unwrap();
    }
    assert_counts_match(&mut conn);
    let kept = |conn: &mut DbConnection, id: i32| -> (i32, i32) {
        users::table
            .find(id)
            .select((users::published_posts, users::draft_posts))
            .first(conn)
            .unwrap()
    };
    assert_eq!(kept(&mut conn, ada.id), (2, 1));
    for edit in [
        "UPDATE posts SET published = NOT published",
        "UPDATE posts SET user_id = (SELECT MIN(id) FROM users) WHERE title = 'Hand edits'",
        "DELETE FROM posts WHERE published",
        "INSERT INTO users (uid, name, password_hash) VALUES ('byhand', 'By Hand', '$argon2id$x')",
        "DELETE FROM users WHERE uid = 'counted2'",
        "UPDATE users SET created_at = '2026-01-02 03:04:05' WHERE uid = 'byhand'",
        "DELETE FROM comments",
    ] {
        diesel::sql_query(edit).execute(&mut conn).unwrap();
        assert_counts_match(&mut conn);
    }
    // A recount from the rows, as the migration does, agrees too.
    let known = db::known_migrations(db::Backend::of(&conn)).unwrap();
    let counting = known
        .iter()
        .position(|v| v.ends_with("000009"))
        .expect("the counting migration");
    // Back to before it (the later ones first), then forward again.
    let reverted = db::rollback(&mut conn, known.len() - counting).unwrap();
    assert_eq!(reverted.len(), known.len() - counting);
    assert_eq!(
        reverted.last().unwrap().replace('-', ""),
        known[counting].replace('-', "")
    );
    db::migrate(&mut conn).unwrap();
    assert_counts_match(&mut conn);
}
