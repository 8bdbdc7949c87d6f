//! `portfolio backup` and `portfolio restore` (SQLite only).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{open_existing, require_sqlite, Failure, Outcome};
use crate::db;

/// `backup FILE`: a consistent copy, checked, while the server serves.
pub fn backup(url: &str, target: &Path, out: &mut dyn Write) -> Outcome {
    require_sqlite(url, "backup")?;
    if target.exists() {
        return Err(Failure::refused(format!(
            "{} already exists: choose a new file",
            target.display()
        )));
    }
    let target_text = target
        .to_str()
        .ok_or_else(|| Failure::refused("the backup path must be valid UTF-8"))?;
    let (mut conn, _claim) = open_existing(url)?;
    db::vacuum_into(&mut conn, target_text).map_err(|e| Failure::step("backup failed", e))?;
    // Prove the copy is sound before calling it a backup.
    let mut copy = db::establish(target_text)?;
    db::integrity_check(&mut copy).map_err(|e| Failure::step("the backup is damaged", e))?;
    let size = std::fs::metadata(target)?.len();
    writeln!(
        out,
        "backed up {url} to {} ({size} bytes)",
        target.display()
    )?;
    Ok(())
}

/// `restore FILE`: a checked backup in place of the database.
pub fn restore(url: &str, source: &Path, out: &mut dyn Write) -> Outcome {
    require_sqlite(url, "restore")?;
    let database = db::file_of(url)
        .ok_or_else(|| Failure::refused(format!("{url} is not a database file")))?;
    if !source.is_file() {
        return Err(Failure::refused(format!(
            "there is no file {}",
            source.display()
        )));
    }
    if let Some(folder) = database.parent().filter(|f| !f.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)?;
    }
    // Held until we are done: no server can start meanwhile.
    let _lock = db::lock_exclusive(url)?;

    // Check a copy, so the backup itself is never modified.
    let mut staging = database.as_os_str().to_owned();
    staging.push(".restoring");
    let staging = PathBuf::from(staging);
    std::fs::copy(source, &staging)?;
    if let Err(problem) = check_restorable(&staging) {
        let _ = std::fs::remove_file(&staging);
        return Err(Failure::step(
            format!("{} cannot be restored", source.display()),
            problem,
        ));
    }
    // The old database's WAL must not be replayed onto the restored file.
    for suffix in ["-wal", "-shm"] {
        let mut side = database.as_os_str().to_owned();
        side.push(suffix);
        match std::fs::remove_file(PathBuf::from(side)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    std::fs::rename(&staging, &database)?;
    writeln!(
        out,
        "restored {} from {}",
        database.display(),
        source.display()
    )?;
    Ok(())
}

/// A file is restorable when SQLite finds it sound and it is a portfolio
/// database this build knows (no migration from a newer version).
fn check_restorable(file: &Path) -> Result<(), Failure> {
    let path = file
        .to_str()
        .ok_or_else(|| Failure::refused("the path must be valid UTF-8"))?;
    let mut conn = db::establish(path)?;
    db::integrity_check(&mut conn).map_err(|e| Failure::step("integrity check failed", e))?;
    db::integrity_ping(&mut conn)
        .map_err(|_| Failure::refused("it is not a portfolio database"))?;
    let status = db::migration_status(&mut conn)?;
    if let Some(unknown) = status.unknown.first() {
        return Err(Failure::refused(format!(
            "it has migration {unknown}, from a newer portfolio"
        )));
    }
    Ok(())
}
