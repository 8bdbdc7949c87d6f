//! Post images: checked by content, stored under `<volume>/uploads/` with
//! random names, and removed with their post.
//!
//! - **By content, not by name.** The first bytes decide (JPEG, PNG, GIF or
//!   WebP); the file name and the Content-Type the client sent are ignored,
//!   so a script renamed `cat.png` is refused.
//! - **Random names.** A file is stored as 32 random hex digits and the
//!   extension of its real type. The client's file name never becomes a
//!   path, and a name cannot be guessed.
//! - **No half states.** The file is written under a temporary name and
//!   renamed into place, then the row is changed; if the row cannot be
//!   changed the file is removed again. The old file of a replaced image,
//!   and the files of deleted posts and accounts, are removed after the
//!   database change is committed. (A crash between the two can only leave
//!   an unreferenced file, never a row pointing at nothing; the start-up
//!   sweep removes such files.)

use std::collections::HashSet;
use std::path::PathBuf;

use crate::domain::error::{AppError, AppResult};

impl crate::config::Settings {
    /// Where post images go (`<volume_dir>/uploads`), and their size limit.
    pub fn uploads(&self) -> Uploads {
        Uploads::new(
            self.volume_dir.relative().join("uploads"),
            self.max_image_bytes,
        )
    }
}

/// How old an unreferenced upload must be before the start-up sweep
/// removes it.
pub const SWEEP_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// The image types we accept, told apart by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
    Gif,
    Webp,
}

impl ImageKind {
    /// The type of an image from its first bytes, if it is one we accept.
    pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
        match bytes {
            [0xFF, 0xD8, 0xFF, ..] => Some(ImageKind::Jpeg),
            [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some(ImageKind::Png),
            [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some(ImageKind::Gif),
            [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => {
                Some(ImageKind::Webp)
            }
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "jpg",
            ImageKind::Png => "png",
            ImageKind::Gif => "gif",
            ImageKind::Webp => "webp",
        }
    }

    fn from_extension(extension: &str) -> Option<ImageKind> {
        [
            ImageKind::Jpeg,
            ImageKind::Png,
            ImageKind::Gif,
            ImageKind::Webp,
        ]
        .into_iter()
        .find(|kind| kind.extension() == extension)
    }
}

/// A stored image's file name: 32 lower-case hex digits, a dot, and the
/// extension of an accepted type. Anything else names no image (so a path
/// parameter like `../portfolio.db` can never reach the file system).
pub fn kind_of_name(name: &str) -> Option<ImageKind> {
    let (stem, extension) = name.split_once('.')?;
    let stem_ok = stem.len() == 32
        && stem
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    stem_ok.then(|| ImageKind::from_extension(extension))?
}

/// Where images live, and how large they may be. Managed by Rocket.
#[derive(Debug, Clone)]
pub struct Uploads {
    dir: PathBuf,
    max_bytes: u64,
}

impl Uploads {
    pub fn new(dir: PathBuf, max_bytes: u64) -> Uploads {
        Uploads { dir, max_bytes }
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// The file of a stored image, if `name` is one.
    pub fn path_of(&self, name: &str) -> Option<(PathBuf, ImageKind)> {
        let kind = kind_of_name(name)?;
        Some((self.dir.join(name), kind))
    }

    /// Checks `bytes` are an image we accept, within the size limit: 422
    /// with a message for the `image` field otherwise.
    pub fn check(&self, bytes: &[u8]) -> AppResult<ImageKind> {
        if bytes.len() as u64 > self.max_bytes {
            return Err(AppError::invalid_field(
                "image",
                format!("must be at most {}", describe_size(self.max_bytes)),
            ));
        }
        if bytes.is_empty() {
            return Err(AppError::invalid_field("image", "is an empty file"));
        }
        ImageKind::sniff(bytes).ok_or_else(|| {
            AppError::invalid_field("image", "must be a JPEG, PNG, GIF or WebP image")
        })
    }

    /// Checks and stores `bytes`; returns the new file's name.
    pub async fn save(&self, bytes: &[u8]) -> AppResult<String> {
        self.check(bytes)?;
        let (uploads, bytes) = (self.clone(), bytes.to_vec());
        rocket::tokio::task::spawn_blocking(move || uploads.save_blocking(&bytes))
            .await
            .map_err(|e| AppError::Internal(Box::new(e)))?
    }

    /// [`Uploads::save`], on the calling thread (the seed, at start-up).
    pub fn save_blocking(&self, bytes: &[u8]) -> AppResult<String> {
        let kind = self.check(bytes)?;
        let name = format!(
            "{}.{}",
            crate::domain::secret::random_hex(16),
            kind.extension()
        );
        let partial = self.dir.join(format!(".{name}.partial"));
        // On disk before the row that names it is committed (sync_all), so
        // a power cut cannot leave a row pointing at a truncated file.
        let result = std::fs::create_dir_all(&self.dir)
            .and_then(|()| {
                let mut file = std::fs::File::create(&partial)?;
                std::io::Write::write_all(&mut file, bytes)?;
                file.sync_all()
            })
            .and_then(|()| std::fs::rename(&partial, self.dir.join(&name)));
        if let Err(error) = result {
            let _ = std::fs::remove_file(&partial);
            return Err(AppError::Internal(
                format!("cannot store an upload in {}: {error}", self.dir.display()).into(),
            ));
        }
        Ok(name)
    }

    /// Removes stored images; a missing file is not an error (it is gone).
    pub async fn remove(&self, names: impl IntoIterator<Item = String>) {
        let (uploads, names): (Uploads, Vec<String>) = (self.clone(), names.into_iter().collect());
        if names.is_empty() {
            return;
        }
        let _ = rocket::tokio::task::spawn_blocking(move || uploads.remove_blocking(names)).await;
    }

    /// [`Uploads::remove`], on the calling thread.
    pub fn remove_blocking(&self, names: impl IntoIterator<Item = String>) {
        for name in names {
            let Some((path, _)) = self.path_of(&name) else {
                continue;
            };
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => log::warn!("cannot remove {}: {error}", path.display()),
            }
        }
    }

    /// Removes files in the uploads folder that no post refers to: left by
    /// a crash between a commit and a file removal, or a half-written
    /// upload. Run at start-up, before requests.
    ///
    /// Careful, because a mistake deletes people's images: only files older
    /// than [`SWEEP_AFTER`] (another server on the same database may be
    /// between saving a file and committing its row), and nothing at all
    /// when the database refers to no image (most likely a different or
    /// fresh database pointed at the same folder).
    pub fn sweep(&self, referenced: &HashSet<String>) -> std::io::Result<usize> {
        if referenced.is_empty() {
            return Ok(0);
        }
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(error) => return Err(error),
        };
        let mut removed = 0;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let ours = kind_of_name(&name).is_some() || name.ends_with(".partial");
            let old = entry
                .metadata()?
                .modified()?
                .elapsed()
                .is_ok_and(|age| age >= SWEEP_AFTER);
            if ours && old && !referenced.contains(&name) && entry.file_type()?.is_file() {
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

pub fn describe_size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_bytes_decide_the_type() {
        assert_eq!(
            ImageKind::sniff(b"\xFF\xD8\xFF\xE0rest"),
            Some(ImageKind::Jpeg)
        );
        assert_eq!(
            ImageKind::sniff(b"\x89PNG\r\n\x1a\nrest"),
            Some(ImageKind::Png)
        );
        assert_eq!(ImageKind::sniff(b"GIF89a..."), Some(ImageKind::Gif));
        assert_eq!(ImageKind::sniff(b"GIF87a..."), Some(ImageKind::Gif));
        assert_eq!(
            ImageKind::sniff(b"RIFF\x10\0\0\0WEBPVP8 "),
            Some(ImageKind::Webp)
        );
        for refused in [
            &b"<svg xmlns='http://www.w3.org/2000/svg'/>"[..],
            b"<script>alert(1)</script>",
            b"RIFF\x10\0\0\0WAVEfmt ",
            b"\x89PNG",
            b"%PDF-1.7",
            b"",
        ] {
            assert_eq!(ImageKind::sniff(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn only_our_own_names_name_a_file() {
        let good = format!("{}.png", "a1".repeat(16));
        assert_eq!(kind_of_name(&good), Some(ImageKind::Png));
        for bad in [
            "../portfolio.db".to_owned(),
            format!("{}.png", "A1".repeat(16)),
            format!("{}.svg", "a1".repeat(16)),
            format!("{}.png.exe", "a1".repeat(16)),
            format!("{}.png", "a1".repeat(15)),
            format!("../{}.png", "a1".repeat(15)),
            ".png".to_owned(),
        ] {
            assert_eq!(kind_of_name(&bad), None, "{bad}");
        }
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(describe_size(5 << 20), "5 MiB");
        assert_eq!(describe_size(300 << 10), "300 KiB");
        assert_eq!(describe_size(1000), "1000 bytes");
    }
}
