//! First-launch data: demo accounts modelled on famous inventors, a few
//! Markdown posts each, and an `admin` account.
//!
//! Runs only while the `users` table is empty, in one transaction, so a
//! crash half-way leaves nothing and a second launch adds nothing.

use chrono::NaiveDate;
use rand::distributions::{Alphanumeric, DistString};

use diesel::prelude::*;

use crate::db::schema::users;
use crate::db::DbConnection;
use crate::domain::error::AppResult;
use crate::domain::fields::{BirthDate, Password, PersonName, PostContent, PostTitle, Uid};
use crate::domain::images::Uploads;
use crate::domain::password;
use crate::domain::post::PublishRequest;
use crate::domain::tags::TagList;
use crate::domain::{NewPost, NewUser, Post, Role, User};

/// The password of every demo account (documented in the README).
pub const DEMO_PASSWORD: &str = "portfolio-demo";

/// Where the admin password comes from; random when unset.
pub const ADMIN_PASSWORD_ENV: &str = "PORTFOLIO_ADMIN_PASSWORD";

struct Demo {
    uid: &'static str,
    name: &'static str,
    born: (i32, u32, u32),
    posts: &'static [(&'static str, &'static str)],
}

const DEMOS: &[Demo] = &[
    Demo {
        uid: "toby",
        name: "Thomas Edison",
        born: (1847, 2, 11),
        posts: &[
            (
                "On the electric lamp",
                "After **many** trials, the carbonised bamboo filament burns for over \
                 1,200 hours.\n\n- cheap to make\n- lasts\n- safe in a home\n\n\
                 > Genius is one percent inspiration and ninety-nine percent perspiration.",
            ),
            (
                "The phonograph speaks",
                "Today the tinfoil cylinder recited *Mary had a little lamb* back to us.",
            ),
        ],
    },
    Demo {
        uid: "niko",
        name: "Nikola Tesla",
        born: (1856, 7, 10),
        posts: &[
            (
                "Alternating current, explained",
                "Why AC wins over DC for long lines:\n\n1. transformers step the voltage up\n\
                 2. high voltage means low current\n3. low current means low losses",
            ),
            (
                "Wireless power at Colorado Springs",
                "Lamps lit **26 miles** away without wires. More in my notes.",
            ),
            (
                "The induction motor",
                "A rotating magnetic field, and no brushes to wear out.",
            ),
        ],
    },
    Demo {
        uid: "lex",
        name: "Alexander Graham Bell",
        born: (1847, 3, 3),
        posts: &[(
            "Mr. Watson, come here",
            "The first words spoken over the telephone: *\"Mr. Watson, come here, I want to see you.\"*",
        )],
    },
    Demo {
        uid: "hop",
        name: "Grace Hopper",
        born: (1906, 12, 9),
        posts: &[
            (
                "The first actual bug",
                "Found a moth in relay 70, panel F, of the Mark II. Taped it into the log book.",
            ),
            (
                "Why COBOL reads like English",
                "Programs should be readable by the people who pay for them:\n\n\
                 ```\nMULTIPLY PRICE BY QUANTITY GIVING TOTAL.\n```",
            ),
        ],
    },
    Demo {
        uid: "marie",
        name: "Marie Curie",
        born: (1867, 11, 7),
        posts: &[(
            "Polonium and radium",
            "Two new elements from tonnes of pitchblende. Named the first for **Poland**.",
        )],
    },
    Demo {
        uid: "hedy",
        name: "Hedy Lamarr",
        born: (1914, 11, 9),
        posts: &[
            (
                "Frequency hopping",
                "A radio signal that hops between 88 frequencies, like piano keys, \
                 cannot be jammed. Patent 2,292,387 with George Antheil.",
            ),
            (
                "Films and inventions",
                "Any girl can be glamorous. All you have to do is stand still and look stupid.",
            ),
        ],
    },
];

/// The demo posts' tags, by title, so the home page's popular tags and the
/// tag pages have something to show.
const DEMO_TAGS: &[(&str, &[&str])] = &[
    ("On the electric lamp", &["electricity", "light"]),
    ("The phonograph speaks", &["sound"]),
    ("Alternating current, explained", &["electricity", "power"]),
    (
        "Wireless power at Colorado Springs",
        &["electricity", "power", "radio"],
    ),
    ("The induction motor", &["electricity", "machines"]),
    ("Mr. Watson, come here", &["sound", "telephone"]),
    ("The first actual bug", &["computing"]),
    ("Why COBOL reads like English", &["computing", "languages"]),
    ("Polonium and radium", &["chemistry"]),
    ("Frequency hopping", &["radio"]),
];

fn demo_tags(title: &str) -> &'static [&'static str] {
    DEMO_TAGS
        .iter()
        .find(|(demo, _)| *demo == title)
        .map_or(&[], |(_, tags)| tags)
}

/// A prepared account: validated, its password already hashed.
struct Account {
    user: NewUser,
    hash: String,
    posts: Vec<NewPost>,
}

fn demo_account(demo: &Demo) -> AppResult<Account> {
    let (year, month, day) = demo.born;
    let born = NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| invalid("birth date"))?;
    let user = NewUser {
        uid: Uid::parse(demo.uid).map_err(|_| invalid("uid"))?,
        name: PersonName::parse(demo.name).map_err(|_| invalid("name"))?,
        email: None,
        password: Password::parse(DEMO_PASSWORD, demo.uid, demo.name)
            .map_err(|_| invalid("password"))?,
        dob: Some(BirthDate::historical(born)),
        role: Role::User,
    };
    let posts = demo
        .posts
        .iter()
        .map(|(title, content)| {
            Ok(NewPost {
                title: PostTitle::parse(title).map_err(|_| invalid("title"))?,
                content: PostContent::parse(content).map_err(|_| invalid("content"))?,
                publish: PublishRequest::Now,
                tags: TagList::parse(demo_tags(title)).map_err(|_| invalid("tags"))?,
                comments_closed: false,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let hash = password::hash_blocking(&user.password)?;
    Ok(Account { user, hash, posts })
}

fn invalid(what: &str) -> crate::domain::error::AppError {
    crate::domain::error::AppError::Internal(format!("the seed data has an invalid {what}").into())
}

/// The admin password from the environment, if set.
pub fn admin_password_from_env() -> Option<String> {
    std::env::var(ADMIN_PASSWORD_ENV)
        .ok()
        .filter(|p| !p.is_empty())
}

fn admin_account(raw_password: &str) -> AppResult<Account> {
    let name = "Administrator";
    let password = Password::parse(raw_password, "admin", name).map_err(|reason| {
        crate::domain::error::AppError::Internal(format!("{ADMIN_PASSWORD_ENV} {reason}").into())
    })?;
    let user = NewUser {
        uid: Uid::parse("admin").map_err(|_| invalid("uid"))?,
        name: PersonName::parse(name).map_err(|_| invalid("name"))?,
        email: None,
        password,
        dob: None,
        role: Role::Admin,
    };
    let hash = password::hash_blocking(&user.password)?;
    Ok(Account {
        user,
        hash,
        posts: Vec::new(),
    })
}

/// What seeding did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Seeded {
        users: usize,
        posts: usize,
        /// The admin password we made up, to be shown once; `None` when it
        /// was given.
        generated_admin_password: Option<String>,
    },
    AlreadyHadUsers,
}

/// Fills an empty database. The admin gets `admin_password`, or a random
/// one that is logged once. Hashing (slow) happens before the write
/// transaction, which re-checks emptiness so two processes starting at once
/// cannot both seed.
/// The image of the first demo post, so the demo shows one.
const DEMO_IMAGE: &[u8] = include_bytes!("seed_assets/gears.png");

/// Seeds an empty database; with `uploads`, the first demo post gets an
/// image (stored there first, and removed again if nothing is seeded).
pub fn seed_if_empty(
    conn: &mut DbConnection,
    admin_password: Option<String>,
    uploads: Option<&Uploads>,
) -> AppResult<Outcome> {
    if User::count(conn)? > 0 {
        return Ok(Outcome::AlreadyHadUsers);
    }
    let generated = admin_password.is_none();
    let admin_password =
        admin_password.unwrap_or_else(|| Alphanumeric.sample_string(&mut rand::rngs::OsRng, 20));
    // Seven argon2 hashes are most of a first start: compute them as many
    // at once as `hash_concurrency` allows (each takes argon2's ~19 MiB;
    // all seven at once took the first start to ~150 MB).
    // `None` stands for the admin, ahead of the demo accounts.
    let jobs: Vec<Option<&Demo>> = std::iter::once(None)
        .chain(DEMOS.iter().map(Some))
        .collect();
    let mut accounts: Vec<Account> = Vec::with_capacity(jobs.len());
    let admin_password_ref = admin_password.as_str();
    for round in jobs.chunks(password::concurrency()) {
        let done = std::thread::scope(|scope| {
            let handles: Vec<_> = round
                .iter()
                .map(|job| {
                    scope.spawn(move || match job {
                        None => admin_account(admin_password_ref),
                        Some(demo) => demo_account(demo),
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|_| Err(invalid("account (hashing failed)")))
                })
                .collect::<AppResult<Vec<_>>>()
        })?;
        accounts.extend(done);
    }

    let image = uploads
        .map(|uploads| uploads.save_blocking(DEMO_IMAGE))
        .transpose()?;
    let outcome = crate::db::write_transaction(conn, |conn| {
        if User::count(conn)? > 0 {
            return Ok(Outcome::AlreadyHadUsers);
        }
        let mut post_count = 0;
        let mut image = image.as_deref();
        for account in &accounts {
            let user = User::create(conn, &account.user, &account.hash)?;
            // Demo addresses are taken as verified: nobody could click a
            // link sent to them.
            if user.email.is_some() {
                diesel::update(users::table.find(user.id))
                    .set(users::email_verified_at.eq(crate::domain::now()))
                    .execute(conn)?;
            }
            for post in &account.posts {
                let made = Post::create(conn, &user, post)?;
                if let Some(name) = image.take() {
                    Post::set_image(conn, &user, made.post.id, Some(name))?;
                }
                post_count += 1;
            }
        }
        Ok::<_, crate::domain::error::AppError>(Outcome::Seeded {
            users: accounts.len(),
            posts: post_count,
            generated_admin_password: generated.then(|| admin_password.clone()),
        })
    });
    // Not used after all: remove the file again.
    if !matches!(outcome, Ok(Outcome::Seeded { .. })) {
        if let (Some(uploads), Some(name)) = (uploads, image) {
            uploads.remove_blocking([name]);
        }
    }
    outcome
}

/// The words for what seeding did. The made-up admin password is shown
/// once, on purpose: there is no other way to learn it.
pub fn describe(outcome: &Outcome) -> Vec<String> {
    match outcome {
        Outcome::AlreadyHadUsers => {
            vec!["the database already has users: nothing seeded".to_owned()]
        }
        Outcome::Seeded {
            users,
            posts,
            generated_admin_password,
        } => {
            let mut lines = vec![format!(
                "seeded the empty database with {users} users and {posts} posts"
            )];
            if let Some(password) = generated_admin_password {
                lines.push(format!(
                    "created the account 'admin' with the password {password} \
                     (shown only now; set {ADMIN_PASSWORD_ENV} to choose it)"
                ));
            }
            lines
        }
    }
}
