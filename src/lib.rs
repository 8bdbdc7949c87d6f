//! portfolio: users and their posts, served as HTML pages and a JSON API
//! over one SQLite file.
//!
//! [`rocket()`] builds the whole application; `main.rs` launches it and the
//! tests drive it, so both run the same thing.

// The layers, from the top down; a module uses only those below its own
// (docs/ARCHITECTURE.md; tests/app/architecture.rs keeps it so).
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod mail;
pub mod web;

use rocket::fairing::{self, AdHoc};
use rocket::figment::Figment;
use rocket::{Build, Rocket};

use config::Settings;

/// The application, configured from `Rocket.toml` and `ROCKET_*` variables.
pub fn rocket() -> Rocket<Build> {
    build(config::figment())
}

/// The application, configured from `figment` (tests merge their own
/// database path and settings into [`config::figment`]).
pub fn build(figment: Figment) -> Rocket<Build> {
    // A bad configuration is reported by the `Settings` fairing below; the
    // defaults only stand in until then.
    let settings = Settings::from_figment(&figment).unwrap_or_default();
    domain::password::limit_concurrency(settings.hash_concurrency);
    let throttle = domain::throttle::LoginThrottle::new(
        settings.login_attempts,
        std::time::Duration::from_secs(settings.login_window_secs),
    );
    // Uploads are checked by us against `max_image_bytes` (a clear 422);
    // Rocket's own limits only need to let such a form through.
    let upload_limit = settings.max_image_bytes.saturating_add(1 << 20);
    let figment = figment
        .merge(("limits.file", upload_limit))
        .merge(("limits.data-form", upload_limit));
    let uploads = settings.uploads();
    let site = web::site::Site::new(
        &settings,
        figment
            .extract_inner("port")
            .unwrap_or(config::DEFAULT_PORT),
    );
    let outbox = domain::outbox::Outbox::new(settings.smtp_url.is_some());
    let ask_throttle = domain::password_reset::AskThrottle::new(
        settings.login_attempts,
        std::time::Duration::from_secs(settings.login_window_secs),
    );
    // Templates and static files are built in; `assets` picks the folder
    // rocket_dyn_templates must be given and what overrides the built-ins.
    let assets = web::assets::Sources::new(&figment, &settings);
    let templates = web::templates::Templates::default();
    let figment = figment.merge(("template_dir", assets.template_dir()));
    rocket::custom(figment)
        .attach(AdHoc::config::<Settings>())
        // Before the pool: the folder must exist and the schema be current
        // before any pooled connection opens the file.
        .attach(AdHoc::try_on_ignite("Database setup", set_up_database))
        .manage(db::ReadPoolHandle::default())
        // Only once the setup has succeeded: its failure is the one line
        // to read, not the pool's time-outs on a database it never made.
        .attach(AdHoc::try_on_ignite("Database readers", open_readers))
        .attach(AdHoc::on_shutdown("WAL checkpoint", |rocket| {
            Box::pin(checkpoint_on_shutdown(rocket))
        }))
        .manage(domain::post_views::ViewCounter::default())
        .manage(domain::posts::ShownPosts::default())
        .manage(web::pages::posts::KeptPages::default())
        .attach(AdHoc::on_liftoff("Post views writer", |rocket| {
            Box::pin(start_writing_views(rocket))
        }))
        .manage(domain::post_views::TrendingBoard::default())
        .attach(web::trending::refresher(std::time::Duration::from_secs(
            settings.trending_refresh_secs.max(1),
        )))
        .manage(throttle)
        .manage(ask_throttle)
        .manage(outbox)
        .manage(domain::comments::CommentThrottle::default())
        .manage(domain::posts::WritingRules {
            require_verified_email: settings.require_verified_email,
        })
        .attach(AdHoc::try_on_ignite("Mail settings", check_mail_settings))
        .attach(AdHoc::on_liftoff("Mail sender", |rocket| {
            Box::pin(start_sending_mail(rocket))
        }))
        .attach(AdHoc::on_liftoff("Scheduled posts", |rocket| {
            Box::pin(start_publishing_scheduled(rocket))
        }))
        .manage(domain::backups::BackupStatus::default())
        .attach(AdHoc::on_liftoff("Scheduled backups", |rocket| {
            Box::pin(start_backing_up(rocket))
        }))
        .manage(uploads)
        .manage(site)
        .attach(AdHoc::on_liftoff("Public URL", |rocket| {
            Box::pin(web::site::warn_without_public_url(rocket))
        }))
        .attach(web::request_log::RequestLog)
        .attach(web::metrics::fairing())
        .mount("/", web::metrics::routes(&settings))
        .manage(templates.clone())
        .attach(assets.templates(templates))
        .attach(web::security::SecurityHeaders)
        .mount("/", web::pages::routes())
        .mount("/", web::health::routes())
        .mount("/", web::uploads::routes())
        .mount("/", web::feeds::routes())
        .mount("/", web::sitemap::routes())
        .register("/", web::pages::catchers())
        .manage(web::api::ApiPaths::default())
        .mount("/api", web::api::routes())
        .register("/api", web::api::catchers())
        .mount("/static", web::assets::routes())
        .manage(assets)
}

/// Opens the readers' pool (rocket_sync_db_pools' fairing) when the
/// database setup before it succeeded.
async fn open_readers(rocket: Rocket<Build>) -> fairing::Result {
    use rocket::fairing::Fairing;
    if rocket.state::<db::Writer>().is_none() {
        return Err(rocket);
    }
    db::ReadPool::fairing().on_ignite(rocket).await
}

/// Starts the task that writes the counted post views every second, until
/// shutdown (when `checkpoint_on_shutdown` writes the rest).
async fn start_writing_views(rocket: &Rocket<rocket::Orbit>) {
    let (Some(writer), Some(counter)) = (
        rocket.state::<db::Writer>().cloned(),
        rocket.state::<domain::post_views::ViewCounter>().cloned(),
    ) else {
        return;
    };
    let every = domain::post_views::WRITE_EVERY;
    let stop = rocket.shutdown();
    rocket::tokio::spawn(async move {
        domain::post_views::write_every(writer, counter, every, async move {
            stop.await;
        })
        .await;
    });
}

/// Refuses mail settings that cannot work: an SMTP server but no sender
/// address, no `public_url` for the links, or a URL lettre cannot use.
async fn check_mail_settings(rocket: Rocket<Build>) -> fairing::Result {
    let Ok(settings) = Settings::from_figment(rocket.figment()) else {
        return Err(rocket); // reported by the Settings fairing
    };
    match mailer_of(&settings) {
        Ok(Some(_)) => {
            log::info!("mail goes out through {:?}", settings.smtp_url.as_ref());
            Ok(rocket)
        }
        Ok(None) => {
            log::info!("no smtp_url: this server sends no mail");
            Ok(rocket)
        }
        Err(message) => {
            log::error!("{message}");
            Err(rocket)
        }
    }
}

/// The mailer `settings` ask for, if any.
fn mailer_of(settings: &Settings) -> Result<Option<mail::Mailer>, String> {
    let Some(url) = &settings.smtp_url else {
        if settings.require_verified_email {
            return Err(
                "require_verified_email needs smtp_url: without mail, no address \
                        could ever be verified, and nobody could write"
                    .to_owned(),
            );
        }
        return Ok(None);
    };
    let from = settings
        .mail_from
        .as_deref()
        .ok_or("smtp_url is set but mail_from is not: say who mail comes from")?;
    match settings.public_url.as_deref() {
        Some(site) if site.starts_with("https://") || site.starts_with("http://") => {}
        _ => {
            return Err("smtp_url is set but public_url is not (or is not an http(s) URL):                         the links in mail need the site's address"
                .to_owned())
        }
    }
    mail::Mailer::new(url, from)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// Starts the task that delivers the outbox, when mail is configured.
async fn start_sending_mail(rocket: &Rocket<rocket::Orbit>) {
    let (Some(writer), Some(outbox), Some(settings)) = (
        rocket.state::<db::Writer>().cloned(),
        rocket.state::<domain::outbox::Outbox>().cloned(),
        rocket.state::<Settings>(),
    ) else {
        return;
    };
    let Ok(Some(mailer)) = mailer_of(settings) else {
        return;
    };
    let policy = domain::outbox::RetryPolicy {
        attempts: settings.mail_attempts.max(1),
        first_wait: std::time::Duration::from_secs(settings.mail_retry_secs),
    };
    let stop = rocket.shutdown();
    rocket::tokio::spawn(domain::outbox::deliver_until(
        writer, mailer, outbox, policy, stop,
    ));
}

/// Starts the task that publishes scheduled posts when their time comes.
async fn start_publishing_scheduled(rocket: &Rocket<rocket::Orbit>) {
    let (Some(readers), Some(writer)) = (
        db::Db::readers(rocket),
        rocket.state::<db::Writer>().cloned(),
    ) else {
        return;
    };
    let stop = rocket.shutdown();
    rocket::tokio::spawn(domain::schedule::publish_until(readers, writer, stop));
}

/// Starts the scheduled backups, when `backup_every` is set (only on
/// SQLite: the setup refuses it on PostgreSQL).
async fn start_backing_up(rocket: &Rocket<rocket::Orbit>) {
    let (Ok(settings), Ok(url), Some(status)) = (
        Settings::from_figment(rocket.figment()),
        config::database_url(rocket.figment()),
        rocket.state::<domain::backups::BackupStatus>().cloned(),
    ) else {
        return;
    };
    let Some(every) = settings.backup_every else {
        return;
    };
    let folder = domain::backups::BackupFolder::in_volume(&settings.volume_dir.relative());
    let stop = rocket.shutdown();
    rocket::tokio::spawn(domain::backups::back_up_until(
        url,
        folder,
        every.duration(),
        settings.backup_keep,
        status,
        stop,
    ));
}

/// On shutdown (after in-flight requests finish), write the views counted
/// in memory, then fold the write-ahead log into the database file, so the
/// file alone is a complete copy.
async fn checkpoint_on_shutdown(rocket: &Rocket<rocket::Orbit>) {
    let Some(writer) = rocket.state::<db::Writer>() else {
        return;
    };
    if let Some(counter) = rocket.state::<domain::post_views::ViewCounter>() {
        let batch = counter.take_all();
        if let Err(error) = writer
            .write(move |conn| {
                domain::post_views::write_batch(conn, &batch, domain::post_views::today())
            })
            .await
        {
            log::warn!("could not write the last post views: {error}");
        }
    }
    match writer
        .alone(|conn| db::checkpoint(conn).map_err(domain::error::AppError::from))
        .await
    {
        Ok(()) => log::info!("checkpointed the write-ahead log"),
        Err(error) => log::warn!("could not checkpoint the write-ahead log: {error}"),
    }
}

/// Scheduled backups copy a SQLite file; PostgreSQL has its own tools.
fn check_backup_settings(settings: &Settings, url: &str) -> Result<(), String> {
    if settings.backup_every.is_some() && db::Backend::of_url(url) == db::Backend::Postgres {
        return Err(String::from(
            "backup_every is for a SQLite database and this one is on PostgreSQL: \
             unset backup_every, and back up with pg_dump (or `portfolio db export`)",
        ));
    }
    if settings.backup_keep == 0 {
        return Err("backup_keep must be at least 1".into());
    }
    Ok(())
}

/// Refuses an insecure configuration, then creates the database folder,
/// runs pending migrations and seeds an empty database (unless
/// `seed = false`), in that order and before anything else touches the
/// file. (A failed ignite fairing does not stop the later ones, so the
/// checks live here, in front of the writes.)
async fn set_up_database(rocket: Rocket<Build>) -> fairing::Result {
    let figment = rocket.figment();
    if let Err(message) = config::require_secret_key(figment) {
        log::error!("{message}");
        return Err(rocket);
    }
    let (url, settings) = match (
        config::database_url(figment),
        Settings::from_figment(figment),
    ) {
        (Ok(url), Ok(settings)) => (url, settings),
        (Err(e), _) | (_, Err(e)) => {
            log::error!("bad configuration: {e}");
            return Err(rocket);
        }
    };
    if let Err(message) = check_backup_settings(&settings, &url) {
        log::error!("{message}");
        return Err(rocket);
    }
    let deadline = std::time::Duration::from_secs(
        figment
            .extract_inner("databases.portfolio.timeout")
            .unwrap_or(5),
    );
    let result = rocket::tokio::task::spawn_blocking(
        move || -> Result<(Option<db::ServerLock>, db::Writer), String> {
            let volume = settings.volume_dir.relative();
            db::check_writable(&volume, &url).map_err(|e| e.to_string())?;
            let (mut conn, lock) = db::prepare(&url).map_err(|e| e.to_string())?;
            // Files no post refers to (a crash between a commit and a file
            // removal) go before anything can be uploaded.
            let referenced = domain::Post::all_images(&mut conn)
                .map_err(|e| format!("cannot read the post images: {e}"))?;
            let uploads = settings.uploads();
            match uploads.sweep(&referenced.into_iter().collect()) {
                Ok(0) => {}
                Ok(n) => log::info!("removed {n} unreferenced upload(s)"),
                Err(e) => log::warn!("cannot tidy the uploads folder: {e}"),
            }
            if settings.seed {
                let outcome = domain::seed::seed_if_empty(
                    &mut conn,
                    domain::seed::admin_password_from_env(),
                    Some(&uploads),
                )
                .map_err(|e| format!("cannot seed the database: {e}"))?;
                if let domain::seed::Outcome::Seeded { .. } = outcome {
                    for line in domain::seed::describe(&outcome) {
                        log::warn!("{line}");
                    }
                }
            }
            let writer = db::Writer::start(&url, deadline)
                .map_err(|e| format!("cannot open the database for writing: {e}"))?;
            Ok((lock, writer))
        },
    )
    .await;
    match result {
        Ok(Ok((lock, writer))) => {
            let rocket = rocket.manage(writer);
            // Held as long as the app runs, so `restore` refuses meanwhile.
            Ok(match lock {
                Some(lock) => rocket.manage(lock),
                None => rocket,
            })
        }
        Ok(Err(message)) => {
            log::error!("{message}");
            Err(rocket)
        }
        Err(panic) => {
            log::error!("database setup failed: {panic}");
            Err(rocket)
        }
    }
}
