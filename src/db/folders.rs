//! The folders a server writes to (the volume folder, the database's own
//! folder and its files), checked before anything else starts, so that a
//! folder the process cannot write to is one clear line, not a lock-file
//! error followed by pool time-outs.

use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::file_of;

/// A folder or file the server needs to write but cannot.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot {action} {} ({} is owned by uid {owner_uid}, gid {owner_gid}, mode {mode:o}); \
     portfolio runs as uid {uid}, gid {gid}: give it to that user, {fix}",
    path.display(),
    owner_path.display()
)]
pub struct NotWritable {
    /// `create` (a folder that does not exist) or `write to`.
    pub action: &'static str,
    pub path: PathBuf,
    /// The nearest part of `path` that exists: whose owner is shown.
    pub owner_path: PathBuf,
    pub owner_uid: u32,
    pub owner_gid: u32,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// The command that fixes it, where to run it.
    pub fix: String,
}

/// Why the folders could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error(transparent)]
    NotWritable(#[from] NotWritable),
    #[error("cannot create the folder {}: {source}", path.display())]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Creates `volume` (and the SQLite database's folder, for `url`) when
/// missing, and proves this process can write in each, and to the database
/// file and its companions (`-wal`, `-shm`, `.lock`) where they exist.
pub fn check_writable(volume: &Path, url: &str) -> Result<(), FolderError> {
    let database = file_of(url);
    let mut folders = vec![volume.to_owned()];
    if let Some(folder) = database.as_deref().and_then(Path::parent) {
        let folder = if folder.as_os_str().is_empty() {
            Path::new(".")
        } else {
            folder
        };
        if !folders.iter().any(|known| known == folder) {
            folders.push(folder.to_owned());
        }
    }
    for folder in &folders {
        std::fs::create_dir_all(folder).map_err(|source| match source.kind() {
            ErrorKind::PermissionDenied => {
                FolderError::from(not_writable("create", folder, folder))
            }
            _ => FolderError::Create {
                path: folder.clone(),
                source,
            },
        })?;
        probe_folder(folder)?;
    }
    if let Some(database) = database {
        let folder = database.parent().unwrap_or(Path::new("."));
        for suffix in ["", "-wal", "-shm", ".lock"] {
            let mut name = database.as_os_str().to_owned();
            name.push(suffix);
            let file = PathBuf::from(name);
            match std::fs::OpenOptions::new().append(true).open(&file) {
                Err(e) if e.kind() == ErrorKind::PermissionDenied => {
                    return Err(not_writable("write to", &file, folder).into())
                }
                // Missing (made later, in a folder we can write) or fine.
                _ => {}
            }
        }
    }
    Ok(())
}

/// Creates and removes a file in `folder`: the only sure test (permission
/// bits do not tell about read-only mounts, ACLs or root squashing).
fn probe_folder(folder: &Path) -> Result<(), FolderError> {
    let probe = folder.join(format!(".portfolio-write-check-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            // Left by a process with our id that died: ours to remove.
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem
            ) =>
        {
            Err(not_writable("write to", folder, folder).into())
        }
        Err(source) => Err(FolderError::Create {
            path: folder.to_owned(),
            source,
        }),
    }
}

fn not_writable(action: &'static str, path: &Path, folder: &Path) -> NotWritable {
    // The nearest part of the path that exists says who owns it.
    let (owner_path, meta) = path
        .ancestors()
        .find_map(|p| std::fs::metadata(p).ok().map(|m| (p.to_owned(), m)))
        .map_or((path.to_owned(), None), |(p, m)| (p, Some(m)));
    // SAFETY: getuid and getgid cannot fail and touch no memory.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    let in_container =
        Path::new("/.dockerenv").exists() || Path::new("/run/.containerenv").exists();
    NotWritable {
        action,
        path: path.to_owned(),
        owner_path,
        owner_uid: meta.as_ref().map_or(0, MetadataExt::uid),
        owner_gid: meta.as_ref().map_or(0, MetadataExt::gid),
        mode: meta.as_ref().map_or(0, |m| m.mode() & 0o7777),
        uid,
        gid,
        // Inside a container the folder is a mount: the fix is made on the
        // host, where docker compose mounts ./volumes.
        fix: if in_container {
            format!("on the host, beside docker-compose.yml: `sudo chown -R {uid}:{gid} ./volumes`")
        } else {
            format!("e.g. `sudo chown -R {uid}:{gid} {}`", folder.display())
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_missing_volume_folder_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let volume = dir.path().join("a/b");
        let url = volume.join("portfolio.db").display().to_string();
        check_writable(&volume, &url).unwrap();
        assert!(volume.is_dir());
        assert_eq!(
            std::fs::read_dir(&volume).unwrap().count(),
            0,
            "no probe left"
        );
    }

    #[test]
    fn a_folder_without_write_permission_is_named_with_its_owner_and_the_fix() {
        // Root writes anywhere: nothing to observe then.
        if unsafe { libc::geteuid() } == 0 {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let volume = dir.path().join("volumes");
        std::fs::create_dir(&volume).unwrap();
        std::fs::set_permissions(&volume, std::fs::Permissions::from_mode(0o555)).unwrap();
        let url = volume.join("portfolio.db").display().to_string();
        let message = check_writable(&volume, &url).unwrap_err().to_string();
        std::fs::set_permissions(&volume, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(message.contains(&volume.display().to_string()), "{message}");
        assert!(message.contains("mode 555"), "{message}");
        assert!(message.contains("sudo chown -R"), "{message}");
        assert!(!message.contains('\n'), "one line: {message}");
    }
}
