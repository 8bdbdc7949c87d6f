//! The admin dashboard, `GET /admin`: who may see it, that its figures
//! follow what happens on the site, and that its charts are well-formed,
//! accessible SVG with a table of the same figures beside each.

use quick_xml::events::Event;
use rocket::http::Status;
use serde_json::json;

use crate::browser::Browser;
use crate::helpers::{spawn_app, TestApp, TestUser};

/// The daily series, as the page names them.
const CHARTS: [&str; 3] = ["signups", "posts", "views"];

/// The number inside the element with `id`.
fn number(html: &str, id: &str) -> i64 {
    let marker = format!("id=\"{id}\">");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no #{id}")) + marker.len();
    let text: String = html[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    text.parse()
        .unwrap_or_else(|_| panic!("#{id} is not a number"))
}

/// The rows of the table `<chart>-table`: (day, figure), oldest first.
fn table(html: &str, chart: &str) -> Vec<(String, i64)> {
    let start = html
        .find(&format!("id=\"{chart}-table\""))
        .unwrap_or_else(|| panic!("no table for {chart}"));
    let body = &html[start..];
    let body = &body[..body.find("</tbody>").unwrap()];
    body.split("<tr><th scope=\"row\">")
        .skip(1)
        .map(|row| {
            let (day, rest) = row.split_once("</th><td>").unwrap();
            let (value, _) = rest.split_once("</td>").unwrap();
            (day.to_owned(), value.parse().unwrap())
        })
        .collect()
}

/// The inline `<svg>` element whose id is `chart`.
fn svg<'h>(html: &'h str, chart: &str) -> &'h str {
    let id = format!("id=\"{chart}\"");
    let start = html
        .match_indices("<svg ")
        .map(|(at, _)| at)
        .find(|at| html[*at..].split('>').next().unwrap().contains(&id))
        .unwrap_or_else(|| panic!("no chart {chart}"));
    let end = start + html[start..].find("</svg>").unwrap() + "</svg>".len();
    &html[start..end]
}

/// What a chart is made of, read with an XML parser (which fails on
/// anything not well-formed).
#[derive(Debug, Default)]
struct Drawn {
    role: Option<String>,
    labelled_by: Option<String>,
    title_id: Option<String>,
    title: String,
    /// The data's bars: (x, height), left to right.
    bars: Vec<(f64, f64)>,
    /// The data's dots: (x, y), left to right.
    dots: Vec<(f64, f64)>,
}

/// The colour the data is drawn in (`web::charts`).
const DATA: &str = "#2563EB";

fn parse_svg(svg: &str) -> Drawn {
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut drawn = Drawn::default();
    let mut depth = 0usize;
    let mut in_title = false;
    let mut roots = 0;
    loop {
        let event = reader.read_event().expect("the chart is well-formed XML");
        let element = match &event {
            Event::Start(e) | Event::Empty(e) => Some(e.clone()),
            _ => None,
        };
        if let Some(e) = element {
            let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
            let attr = |key: &str| -> Option<String> {
                e.attributes()
                    .map(|a| a.unwrap())
                    .find(|a| a.key.as_ref() == key.as_bytes())
                    .map(|a| String::from_utf8(a.value.to_vec()).unwrap())
            };
            let number = |key: &str| attr(key).unwrap().parse::<f64>().unwrap();
            let data = attr("fill").is_some_and(|fill| fill.eq_ignore_ascii_case(DATA));
            match name.as_str() {
                "svg" if depth == 0 => {
                    roots += 1;
                    drawn.role = attr("role");
                    drawn.labelled_by = attr("aria-labelledby");
                }
                "title" => {
                    drawn.title_id = attr("id");
                    in_title = true;
                }
                "rect" if data => drawn.bars.push((number("x"), number("height"))),
                "circle" if data => drawn.dots.push((number("cx"), number("cy"))),
                _ => {}
            }
            if matches!(event, Event::Start(_)) {
                depth += 1;
            }
        }
        match event {
            Event::Text(text) if in_title => drawn.title.push_str(&text.decode().unwrap()),
            Event::GeneralRef(reference) if in_title => {
                drawn.title.push_str(match &*reference as &[u8] {
                    b"lt" => "<",
                    b"gt" => ">",
                    b"amp" => "&",
                    _ => "?",
                })
            }
            Event::End(e) => {
                depth -= 1;
                if e.name().as_ref() == b"title" {
                    in_title = false;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!((roots, depth), (1, 0), "one <svg>, every element closed");
    drawn.bars.sort_by(|a, b| a.0.total_cmp(&b.0));
    drawn.dots.sort_by(|a, b| a.0.total_cmp(&b.0));
    drawn
}

async fn make_token(app: &TestApp, who: &TestUser, name: &str) {
    let reply = app
        .post("/api/tokens", &json!({ "name": name }), Some(who))
        .await;
    assert_eq!(reply.status, Status::Created, "{:?}", reply.body);
}

async fn comment(app: &TestApp, who: &TestUser, post: i32) {
    let reply = app
        .post(
            &format!("/api/posts/{post}/comments"),
            &json!({ "body": "Counted on the dashboard." }),
            Some(who),
        )
        .await;
    assert_eq!(reply.status, Status::Created, "{:?}", reply.body);
}

#[rocket::async_test]
async fn only_admins_see_the_dashboard() {
    let app = spawn_app().await;
    let boss = app.create_admin("boss").await;
    let worker = app.create_user("worker").await;

    let anonymous = app.get("/admin", None).await;
    assert_eq!(anonymous.status, Status::SeeOther);
    assert_eq!(anonymous.location.as_deref(), Some("/login?next=%2Fadmin"));

    let (status, html) = app.page_html("/admin", &worker).await;
    assert_eq!(status, Status::Forbidden);
    assert!(!html.contains("id=\"totals\""));
    // The admin link is not in a user's navigation.
    let (_, home) = app.page_html("/", &worker).await;
    assert!(!home.contains("id=\"nav-admin\""));

    let (status, html) = app.page_html("/admin", &boss).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("<h1>Dashboard</h1>"));
    let (_, home) = app.page_html("/", &boss).await;
    assert!(home.contains("<a href=\"/admin\" id=\"nav-admin\">Admin</a>"));
}

#[rocket::async_test]
async fn the_dashboard_follows_sign_ups_posts_drafts_comments_tokens_and_views() {
    let app = spawn_app().await;
    let boss = app.create_admin("boss").await;
    let ada = app.create_user("ada").await;
    let bob = app.create_user("bob").await;
    let popular = app.create_post(&ada, "Popular", true).await;
    let quiet = app.create_post(&ada, "Quiet", true).await;
    app.create_post(&ada, "Unfinished", false).await;
    app.create_post(&bob, "Second thoughts", false).await;
    comment(&app, &bob, popular).await;
    comment(&app, &ada, popular).await;
    comment(&app, &bob, quiet).await;
    make_token(&app, &ada, "laptop").await;
    make_token(&app, &bob, "phone").await;

    // Views, counted in memory and written by the background task within a
    // second or so: wait for them.
    let mut reader = Browser::new(&app);
    for post in [popular, popular, popular, quiet] {
        let page = reader.visit(&format!("/posts/{post}")).await;
        assert_eq!(page.status, Status::Ok);
    }
    assert_eq!(app.views_written(popular, 3).await, 3);
    assert_eq!(app.views_written(quiet, 1).await, 1);

    let (status, html) = app.page_html("/admin", &boss).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(number(&html, "total-people"), 3);
    assert_eq!(number(&html, "total-posts"), 2);
    assert_eq!(number(&html, "total-drafts"), 2);
    assert_eq!(number(&html, "total-comments"), 3);
    assert_eq!(number(&html, "total-api-tokens"), 2);

    // A month of days, today last, with today's figures.
    let today = portfolio::domain::post_views::today().to_string();
    for (chart, expected) in CHARTS.iter().zip([3, 4, 4]) {
        let rows = table(&html, chart);
        assert_eq!(rows.len(), 30, "{chart}: one row a day");
        assert_eq!(rows.last().unwrap(), &(today.clone(), expected), "{chart}");
        assert!(rows[..29].iter().all(|(_, value)| *value == 0), "{chart}");
    }

    // The week's most viewed, most first, from the trending ranking.
    let listed = &html[html.find("id=\"dashboard-trending\"").unwrap()..];
    let (first, second) = (listed.find(">Popular</a>"), listed.find(">Quiet</a>"));
    assert!(first.unwrap() < second.unwrap(), "{listed}");
    assert!(listed.contains("3 views in 7 days"));

    // The database's size: something, in bytes too.
    let marker = "id=\"database-size\" title=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let bytes: i64 = html[start..].split(' ').next().unwrap().parse().unwrap();
    assert!(bytes > 10_000, "{bytes}");
    assert!(html.contains("id=\"last-backup\">No backup yet<"));

    // Deleting a post takes it out of the totals, its day and its views.
    let reply = app.delete(&format!("/api/posts/{quiet}"), Some(&ada)).await;
    assert_eq!(reply.status, Status::NoContent);
    let (_, html) = app.page_html("/admin", &boss).await;
    assert_eq!(number(&html, "total-posts"), 1);
    assert_eq!(number(&html, "total-comments"), 2);
    assert_eq!(table(&html, "posts").last().unwrap().1, 3);
    assert_eq!(table(&html, "views").last().unwrap().1, 3);
}

#[rocket::async_test]
async fn each_chart_is_accessible_svg_with_a_table_of_the_same_figures() {
    let app = spawn_app().await;
    let boss = app.create_admin("boss").await;
    let ada = app.create_user("ada").await;
    let post = app.create_post(&ada, "Charted", true).await;
    // Figures on several days, written as the triggers and the view writer
    // would have on those days.
    {
        use diesel::prelude::*;
        use portfolio::db::schema::site_daily;
        let mut conn = app.conn();
        let today = portfolio::domain::post_views::today();
        for (days_ago, signups, posts, views) in [(1, 2, 5, 40), (3, 1, 0, 7), (12, 4, 2, 90)] {
            diesel::insert_into(site_daily::table)
                .values((
                    site_daily::day.eq(today - chrono::Days::new(days_ago)),
                    site_daily::signups.eq(signups),
                    site_daily::posts.eq(posts),
                    site_daily::views.eq(views),
                ))
                .execute(&mut conn)
                .unwrap();
        }
        // Older than the window: not shown.
        diesel::insert_into(site_daily::table)
            .values((
                site_daily::day.eq(today - chrono::Days::new(30)),
                site_daily::views.eq(1_000_000),
            ))
            .execute(&mut conn)
            .unwrap();
    }
    let mut reader = Browser::new(&app);
    reader.visit(&format!("/posts/{post}")).await;
    assert_eq!(app.views_written(post, 1).await, 1);

    let (status, html) = app.page_html("/admin", &boss).await;
    assert_eq!(status, Status::Ok);
    let figures = portfolio::domain::dashboard::figures(
        &mut app.conn(),
        portfolio::domain::post_views::today(),
    )
    .unwrap();
    for chart in CHARTS {
        let drawn = parse_svg(svg(&html, chart));
        assert_eq!(drawn.role.as_deref(), Some("img"), "{chart}");
        let title_id = format!("{chart}-title");
        assert_eq!(drawn.labelled_by.as_deref(), Some(title_id.as_str()));
        assert_eq!(drawn.title_id.as_deref(), Some(title_id.as_str()));
        assert!(
            drawn.title.contains("per day, the last 30 days"),
            "{drawn:?}"
        );

        // The table has the database's figures, day by day.
        let expected: Vec<(String, i64)> = figures
            .days
            .iter()
            .map(|day| {
                let value = match chart {
                    "signups" => day.signups,
                    "posts" => day.posts,
                    _ => day.views,
                };
                (day.day.to_string(), value)
            })
            .collect();
        let rows = table(&html, chart);
        assert_eq!(rows, expected, "{chart}: the table");
        assert!(rows.iter().all(|(_, value)| *value < 1_000_000));
        let values: Vec<i64> = rows.iter().map(|(_, value)| *value).collect();

        // And the chart draws the same figures: a bar (or a dot) a day, in
        // proportion (bars) or in the same order (dots).
        if chart == "views" {
            assert_eq!(drawn.dots.len(), 30, "{chart}: a dot a day");
            for (i, a) in values.iter().enumerate() {
                for (j, b) in values.iter().enumerate() {
                    let (ya, yb) = (drawn.dots[i].1, drawn.dots[j].1);
                    assert_eq!(a.cmp(b), yb.total_cmp(&ya), "{chart}: days {i} and {j}");
                }
            }
        } else {
            assert_eq!(drawn.bars.len(), 30, "{chart}: a bar a day");
            let (top, tallest) = (
                *values.iter().max().unwrap() as f64,
                drawn.bars.iter().map(|bar| bar.1).fold(0.0, f64::max),
            );
            for (value, (_, height)) in values.iter().zip(&drawn.bars) {
                let expected = *value as f64 * tallest / top;
                assert!(
                    (height - expected).abs() <= 1.5,
                    "{chart}: a bar of {height} for {value} (tallest {tallest} for {top})"
                );
            }
        }
    }
}
