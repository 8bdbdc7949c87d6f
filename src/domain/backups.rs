//! Scheduled backups of the SQLite database: every `backup_every` the
//! server writes `<volume_dir>/backups/<UTC time>.db` with `VACUUM INTO`
//! (one read transaction: writers go on meanwhile, WAL mode lets them),
//! checks the copy with `PRAGMA integrity_check`, and keeps the newest
//! `backup_keep`. A copy is written under a `.partial` name and renamed only
//! once checked, so a file with a backup's name is always a sound backup.
//! A failed backup (disk full, folder not writable) is logged and kept in
//! [`BackupStatus`] (the metrics and the dashboard read it); the server goes
//! on serving. `portfolio backup --list` and `portfolio restore <name>` use
//! the same folder.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::db;

/// The folder's name under the volume folder.
pub const FOLDER: &str = "backups";
/// A backup's file name: its UTC time, sortable, with no `:` (which some
/// file systems and tools refuse).
const NAME_FORMAT: &str = "%Y-%m-%dT%H-%M-%SZ";
const EXTENSION: &str = ".db";
const PARTIAL: &str = ".partial";
/// After a failure, the next try comes this soon (or at the next regular
/// time, if that is sooner).
const RETRY_AFTER: Duration = Duration::from_secs(60);

/// One backup in the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupFile {
    /// The file's name, which `restore` takes: `2026-12-04T18-00-00Z.db`.
    pub name: String,
    pub path: PathBuf,
    pub bytes: u64,
    /// When it was taken (from its name).
    pub taken_at: DateTime<Utc>,
}

/// Why a backup could not be written.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("cannot use the backup folder {}: {source}", path.display())]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the database: {0}")]
    Open(#[from] diesel::ConnectionError),
    #[error("cannot write {}: {message}", path.display())]
    Write { path: PathBuf, message: String },
    #[error("the copy {} is damaged: {message}", path.display())]
    Damaged { path: PathBuf, message: String },
    #[error("a backup named {0} exists already")]
    Exists(String),
}

/// The folder of scheduled backups, `<volume_dir>/backups`.
#[derive(Debug, Clone)]
pub struct BackupFolder(PathBuf);

impl BackupFolder {
    pub fn in_volume(volume: &Path) -> Self {
        BackupFolder(volume.join(FOLDER))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The backups, newest first. A folder that does not exist holds none;
    /// files that are not backups (other names, unfinished copies) are not
    /// listed.
    pub fn list(&self) -> std::io::Result<Vec<BackupFile>> {
        let entries = match std::fs::read_dir(&self.0) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            entries => entries?,
        };
        let mut backups = Vec::new();
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(taken_at) = taken_at(&name) else {
                continue;
            };
            let meta = entry.metadata()?;
            if meta.is_file() {
                backups.push(BackupFile {
                    name,
                    path: entry.path(),
                    bytes: meta.len(),
                    taken_at,
                });
            }
        }
        backups.sort_by_key(|b| std::cmp::Reverse(b.taken_at));
        Ok(backups)
    }

    /// The backup called `name` (with or without `.db`), if there is one.
    pub fn find(&self, name: &str) -> std::io::Result<Option<BackupFile>> {
        let wanted = if name.ends_with(EXTENSION) {
            name.to_owned()
        } else {
            format!("{name}{EXTENSION}")
        };
        Ok(self.list()?.into_iter().find(|b| b.name == wanted))
    }

    /// Writes a backup of the SQLite database at `url`, taken at `now`, and
    /// checks it; then removes all but the newest `keep`. Blocking: seconds
    /// for a large database.
    pub fn write(
        &self,
        url: &str,
        now: DateTime<Utc>,
        keep: usize,
    ) -> Result<BackupFile, BackupError> {
        let folder_error = |source| BackupError::Folder {
            path: self.0.clone(),
            source,
        };
        std::fs::create_dir_all(&self.0).map_err(folder_error)?;
        let name = format!("{}{EXTENSION}", now.format(NAME_FORMAT));
        let path = self.0.join(&name);
        if path.exists() {
            return Err(BackupError::Exists(name));
        }
        let partial = self.0.join(format!("{name}{PARTIAL}"));
        let written = copy_and_check(url, &partial);
        if written.is_err() {
            remove_with_companions(&partial);
        }
        written?;
        std::fs::rename(&partial, &path).map_err(folder_error)?;
        let bytes = std::fs::metadata(&path).map_err(folder_error)?.len();
        for old in self.list().map_err(folder_error)?.iter().skip(keep.max(1)) {
            if let Err(e) = std::fs::remove_file(&old.path) {
                log::warn!(
                    "backups: cannot remove the old backup {}: {e}",
                    old.path.display()
                );
            }
        }
        Ok(BackupFile {
            name,
            path,
            bytes,
            taken_at: now,
        })
    }

    /// Removes copies left unfinished by a crash.
    fn tidy(&self) {
        let Ok(entries) = std::fs::read_dir(&self.0) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.contains(PARTIAL) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

fn copy_and_check(url: &str, partial: &Path) -> Result<(), BackupError> {
    let target = partial.to_str().ok_or_else(|| BackupError::Write {
        path: partial.to_owned(),
        message: "the path is not valid UTF-8".into(),
    })?;
    let mut conn = db::establish(url)?;
    db::vacuum_into(&mut conn, target).map_err(|message| BackupError::Write {
        path: partial.to_owned(),
        message,
    })?;
    drop(conn);
    let damaged = |message| BackupError::Damaged {
        path: partial.to_owned(),
        message,
    };
    let mut copy = db::establish(target).map_err(|e| damaged(e.to_string()))?;
    db::integrity_check(&mut copy).map_err(damaged)
}

fn remove_with_companions(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

/// When the backup called `name` was taken; `None` for other files.
fn taken_at(name: &str) -> Option<DateTime<Utc>> {
    let stem = name.strip_suffix(EXTENSION)?;
    NaiveDateTime::parse_from_str(stem, NAME_FORMAT)
        .ok()
        .map(|t| t.and_utc())
}

/// What the last scheduled backups did, for metrics and the dashboard.
#[derive(Debug, Clone, Default)]
pub struct BackupStatus(Arc<Mutex<BackupRecord>>);

#[derive(Debug, Clone, Default)]
pub struct BackupRecord {
    /// Whether scheduled backups are on.
    pub scheduled: bool,
    /// The newest sound backup (found at start-up, or written since).
    pub last_success: Option<BackupFile>,
    /// When the last attempt ended, and whether it worked.
    pub last_attempt: Option<(DateTime<Utc>, bool)>,
    /// The last failure's message, until a backup succeeds.
    pub last_error: Option<String>,
    pub successes: u64,
    pub failures: u64,
}

impl BackupStatus {
    pub fn record(&self) -> BackupRecord {
        self.0.lock().map(|r| r.clone()).unwrap_or_default()
    }

    fn update(&self, change: impl FnOnce(&mut BackupRecord)) {
        if let Ok(mut record) = self.0.lock() {
            change(&mut record);
        }
    }
}

/// The task: a backup of `url` every `every` into `folder`, keeping `keep`,
/// until `stop`. The schedule follows the newest backup in the folder, so a
/// restart neither skips one nor takes an extra.
pub async fn back_up_until(
    url: String,
    folder: BackupFolder,
    every: Duration,
    keep: usize,
    status: BackupStatus,
    stop: impl Future<Output = ()>,
) {
    folder.tidy();
    let newest = folder.list().ok().and_then(|list| list.into_iter().next());
    status.update(|r| {
        r.scheduled = true;
        r.last_success = newest.clone();
    });
    let mut due = newest.map_or_else(Utc::now, |b| b.taken_at + every);
    let mut stop = std::pin::pin!(stop);
    loop {
        let wait = (due - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        rocket::tokio::select! {
            _ = &mut stop => break,
            _ = rocket::tokio::time::sleep(wait) => {}
        }
        let (url, target) = (url.clone(), folder.clone());
        let started = Utc::now();
        let result = rocket::tokio::task::spawn_blocking(move || target.write(&url, started, keep))
            .await
            .unwrap_or_else(|panic| {
                Err(BackupError::Write {
                    path: folder.path().to_owned(),
                    message: panic.to_string(),
                })
            });
        let ended = Utc::now();
        match result {
            Ok(backup) => {
                log::info!(
                    "backups: wrote {} ({} bytes) in {} ms",
                    backup.path.display(),
                    backup.bytes,
                    (ended - started).num_milliseconds()
                );
                due = backup.taken_at + every;
                status.update(|r| {
                    r.last_success = Some(backup);
                    r.last_attempt = Some((ended, true));
                    r.last_error = None;
                    r.successes += 1;
                });
            }
            Err(error) => {
                log::error!("backups: the scheduled backup failed: {error}");
                due = ended + every.min(RETRY_AFTER);
                status.update(|r| {
                    r.last_attempt = Some((ended, false));
                    r.last_error = Some(error.to_string());
                    r.failures += 1;
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backups_name_is_its_time_and_nothing_else_is_one() {
        let t = taken_at("2026-12-04T18-05-09Z.db").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-04T18:05:09+00:00");
        for other in [
            "2026-12-04T18-05-09Z.db.partial",
            "2026-12-04T18:05:09Z.db",
            "backup.db",
            "2026-12-04T18-05-09Z",
        ] {
            assert_eq!(taken_at(other), None, "{other}");
        }
    }

    #[test]
    fn backups_are_written_checked_listed_newest_first_and_rotated() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("live.db").display().to_string();
        let mut conn = db::establish(&url).unwrap();
        db::migrate(&mut conn).unwrap();
        let folder = BackupFolder::in_volume(dir.path());
        let start = DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        for hour in 0..4 {
            let backup = folder
                .write(&url, start + chrono::Duration::hours(hour), 2)
                .unwrap();
            assert!(backup.bytes > 0);
        }
        let names: Vec<String> = folder.list().unwrap().into_iter().map(|b| b.name).collect();
        assert_eq!(
            names,
            ["2026-12-04T13-00-00Z.db", "2026-12-04T12-00-00Z.db"]
        );
        let files = std::fs::read_dir(folder.path()).unwrap().count();
        assert_eq!(files, 2, "no partial copies or companions are left");
        assert!(folder.find("2026-12-04T13-00-00Z").unwrap().is_some());
        assert!(folder.find("2026-12-04T10-00-00Z.db").unwrap().is_none());
        assert!(matches!(
            folder.write(&url, start + chrono::Duration::hours(3), 2),
            Err(BackupError::Exists(_))
        ));
    }
}
