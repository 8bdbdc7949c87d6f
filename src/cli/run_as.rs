//! In the container: never run as root, whoever owns the volume folder.
//!
//! The image starts as root with `PORTFOLIO_RUN_AS_VOLUME_OWNER=1`; before
//! anything else every command (the server, `docker compose exec` ones and
//! the healthcheck alike) becomes the owner of the volume folder, so files it
//! makes there belong to whoever owns `./volumes` on the host. A folder owned
//! by root (a checkout made as root, or one Docker created for the bind
//! mount) is first given to `PORTFOLIO_UID:PORTFOLIO_GID` (1000:1000 unless
//! set). Outside a container this does nothing: a server run by hand keeps
//! the user it was started as.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The variable that turns this on (set by the Dockerfile).
pub const SWITCH: &str = "PORTFOLIO_RUN_AS_VOLUME_OWNER";
const DEFAULT_ID: u32 = 1000;

/// Becomes the volume folder's owner when [`SWITCH`] is set and we are root.
/// Returns a line to print when it gave a root-owned folder away.
pub fn become_volume_owner(volume: &Path) -> Result<Option<String>, String> {
    // SAFETY: geteuid cannot fail and touches no memory.
    if std::env::var_os(SWITCH).is_none_or(|v| v.is_empty() || v == "0")
        || unsafe { libc::geteuid() } != 0
    {
        return Ok(None);
    }
    std::fs::create_dir_all(volume)
        .map_err(|e| format!("cannot create the volume folder {}: {e}", volume.display()))?;
    let meta = std::fs::metadata(volume)
        .map_err(|e| format!("cannot read the volume folder {}: {e}", volume.display()))?;
    let mut note = None;
    let (uid, gid) = if meta.uid() == 0 {
        let uid = id_from_env("PORTFOLIO_UID")?;
        let gid = id_from_env("PORTFOLIO_GID")?;
        if uid == 0 {
            return Err("PORTFOLIO_UID must not be 0: portfolio does not run as root".into());
        }
        give_away(volume, uid, gid).map_err(|e| {
            format!(
                "the volume folder {} belongs to root and cannot be given to uid {uid}, gid {gid}: {e}; \
                 run `sudo chown -R {uid}:{gid} ./volumes` on the host",
                volume.display()
            )
        })?;
        note = Some(format!(
            "{} belonged to root: it now belongs to uid {uid}, gid {gid} (PORTFOLIO_UID, PORTFOLIO_GID)",
            volume.display()
        ));
        (uid, gid)
    } else {
        (meta.uid(), meta.gid())
    };
    switch_user(uid, gid).map_err(|e| format!("cannot run as uid {uid}, gid {gid}: {e}"))?;
    Ok(note)
}

fn id_from_env(name: &str) -> Result<u32, String> {
    match std::env::var(name) {
        Err(_) => Ok(DEFAULT_ID),
        Ok(text) if text.trim().is_empty() => Ok(DEFAULT_ID),
        Ok(text) => text
            .trim()
            .parse()
            .map_err(|_| format!("{name} must be a number, not {text:?}")),
    }
}

/// `chown -R uid:gid folder`, without following links.
fn give_away(folder: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    std::os::unix::fs::lchown(folder, Some(uid), Some(gid))?;
    if std::fs::symlink_metadata(folder)?.is_dir() {
        for entry in std::fs::read_dir(folder)? {
            give_away(&entry?.path(), uid, gid)?;
        }
    }
    Ok(())
}

/// Drops root for good: supplementary groups, then the group, then the user
/// (in that order: after `setuid` the others are no longer allowed). Called
/// before any thread starts.
fn switch_user(uid: u32, gid: u32) -> std::io::Result<()> {
    // SAFETY: plain system calls on integers; no memory is shared.
    unsafe {
        if libc::setgroups(0, std::ptr::null()) != 0
            || libc::setgid(gid) != 0
            || libc::setuid(uid) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}
