//! `portfolio backup` and `portfolio restore` (SQLite only).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{open_existing, require_sqlite, Failure, Outcome};
use crate::db;
use crate::domain::backups::BackupFolder;

/// `backup --list`: the scheduled backups, newest first.
pub fn list(folder: &BackupFolder, out: &mut dyn Write) -> Outcome {
    let backups = folder.list()?;
    if backups.is_empty() {
        writeln!(
            out,
            "no scheduled backups in {} (set backup_every to make them)",
            folder.path().display()
        )?;
        return Ok(());
    }
    for backup in backups {
        writeln!(
            out,
            "{}  {:>12} bytes  {}",
            backup.name,
            backup.bytes,
            backup.taken_at.format("%Y-%m-%d %H:%M:%S UTC")
        )?;
    }
    Ok(())
}

/// What `restore` was given: a file's path, or a scheduled backup's name
/// (as `backup --list` shows it, with or without `.db`).
pub fn resolve(folder: &BackupFolder, given: &Path) -> Result<PathBuf, Failure> {
    if given.is_file() {
        return Ok(given.to_owned());
    }
    let is_a_name = given.components().count() == 1;
    if let Some(name) = given.to_str().filter(|_| is_a_name) {
        if let Some(backup) = folder.find(name)? {
            return Ok(backup.path);
        }
    }
    Err(Failure::refused(format!(
        "there is no file {} and no scheduled backup of that name in {} (see `portfolio backup --list`)",
        given.display(),
        folder.path().display()
    )))
}

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
