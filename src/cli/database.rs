//! `portfolio db …`: migrations, the seed, export and import.

use std::io::Write;
use std::path::Path;

use super::{open_existing, Failure, Outcome};
use crate::config;
use crate::db;
use crate::domain::{seed as demo, transfer};

/// `db migrate`: applies pending migrations.
pub fn migrate(url: &str, out: &mut dyn Write) -> Outcome {
    let shown = db::redacted(url);
    let (mut conn, _claim) = db::prepare(url)?;
    let status = db::migration_status(&mut conn)?;
    writeln!(
        out,
        "database {shown} is up to date ({} migrations applied)",
        status.applied.len()
    )?;
    Ok(())
}

/// `db status`: applied, pending and unknown migrations.
pub fn status(url: &str, out: &mut dyn Write) -> Outcome {
    let (mut conn, _claim) = open_existing(url)?;
    let status = db::migration_status(&mut conn)?;
    for version in &status.applied {
        writeln!(out, "applied  {version}")?;
    }
    for version in &status.pending {
        writeln!(out, "pending  {version}")?;
    }
    for version in &status.unknown {
        writeln!(out, "unknown  {version} (applied by a newer portfolio)")?;
    }
    Ok(())
}

/// `db rollback --steps N`.
pub fn rollback(url: &str, steps: usize, out: &mut dyn Write) -> Outcome {
    let (mut conn, _claim) = open_existing(url)?;
    let reverted = db::rollback(&mut conn, steps)?;
    if reverted.is_empty() {
        writeln!(out, "nothing to roll back")?;
    }
    for version in reverted {
        writeln!(out, "rolled back {version}")?;
    }
    Ok(())
}

/// `db seed`: the demo data, into an empty database.
pub fn seed(figment: &rocket::figment::Figment, url: &str, out: &mut dyn Write) -> Outcome {
    let (mut conn, _claim) = db::prepare(url)?;
    let uploads = config::Settings::from_figment(figment)?.uploads();
    let outcome = demo::seed_if_empty(&mut conn, demo::admin_password_from_env(), Some(&uploads))?;
    for line in demo::describe(&outcome) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// `db export FILE`: every row, as JSON readable by its owner only.
pub fn export(url: &str, file: &Path, out: &mut dyn Write) -> Outcome {
    if file.exists() {
        return Err(Failure::refused(format!(
            "{} already exists: choose a new file",
            file.display()
        )));
    }
    let (mut conn, _claim) = open_existing(url)?;
    let data = transfer::export(&mut conn)?;
    // It holds every password hash: readable by its owner only.
    let mut output = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(file)?
    };
    serde_json::to_writer(&mut output, &data)
        .map_err(|e| Failure::step(format!("cannot write {}", file.display()), e))?;
    output.sync_all()?;
    writeln!(
        out,
        "exported {} users, {} posts, {} sessions, {} API tokens to {}",
        data.users.len(),
        data.posts.len(),
        data.sessions.len(),
        data.api_tokens.len(),
        file.display()
    )?;
    Ok(())
}

/// `db import FILE`: an export, into an empty database.
pub fn import(url: &str, file: &Path, out: &mut dyn Write) -> Outcome {
    let shown = db::redacted(url);
    let json = std::fs::read(file)
        .map_err(|e| Failure::step(format!("cannot read {}", file.display()), e))?;
    let data: transfer::Export = serde_json::from_slice(&json)
        .map_err(|e| Failure::step(format!("{} is not an export", file.display()), e))?;
    let (mut conn, _claim) = db::prepare(url)?;
    transfer::import(&mut conn, &data)?;
    writeln!(
        out,
        "imported {} users and {} posts into {shown}",
        data.users.len(),
        data.posts.len()
    )?;
    Ok(())
}
