//! The counts that listings read instead of counting (each account's
//! published and draft posts, the number of accounts, the number of
//! published posts) stay equal to `COUNT(*)` whatever changes the rows:
//! the app's own use cases, cascades, and statements typed by hand.

use diesel::prelude::*;
use portfolio::db::schema::{post_totals, posts, user_totals, users};
use portfolio::db::{self, DbConnection};
use portfolio::domain::post::{PostChanges, PostDraft};
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
    },
    Publish {
        post: usize,
        published: bool,
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
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => Just(Step::SignUp),
        4 => (any::<usize>(), any::<bool>()).prop_map(|(author, published)| Step::Write { author, published }),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(post, published)| Step::Publish { post, published }),
        1 => any::<usize>().prop_map(|post| Step::DeletePost { post }),
        1 => any::<usize>().prop_map(|user| Step::DeleteUser { user }),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(post, to)| Step::HandOver { post, to }),
        1 => any::<usize>().prop_map(|user| Step::HandDeleteAll { user }),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(author, published)| Step::HandInsert { author, published }),
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
        Step::Write { author, published } => {
            let author = User::find(conn, pick(&users, author).unwrap()).unwrap();
            let draft = PostDraft {
                title: "Counted".into(),
                content: "Counted.".into(),
                published: Some(published),
            };
            Post::create(conn, &author, &draft.validate().unwrap()).unwrap();
        }
        Step::Publish { post, published } => {
            if let Some(post) = pick(&post_ids, post) {
                let changes = PostChanges {
                    title: None,
                    content: None,
                    published: Some(published),
                    updated_at: portfolio::domain::now(),
                };
                Post::update(conn, &admin, post, &changes).unwrap();
            }
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
