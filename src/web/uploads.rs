//! `GET /uploads/<name>`: post images, as stored by [`crate::domain::images`].

use rocket::fs::NamedFile;
use rocket::http::{ContentType, Header};
use rocket::response::{self, Responder};
use rocket::{get, routes, Request, Route, State};

use crate::db::Db;
use crate::domain::error::{AppError, AppResult};
use crate::domain::images::{ImageKind, Uploads};
use crate::domain::Post;
use crate::domain::Viewer;

pub fn routes() -> Vec<Route> {
    routes![image]
}

/// An image file with its type and caching headers.
pub struct ImageFile {
    file: NamedFile,
    content_type: ContentType,
    /// Published posts' images may be cached anywhere; drafts' only by the
    /// browser that may see them.
    public: bool,
}

impl<'r> Responder<'r, 'static> for ImageFile {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let mut response = self.file.respond_to(request)?;
        response.set_header(self.content_type);
        // `X-Content-Type-Options: nosniff` comes from Rocket's Shield, on
        // every response; setting it here too made Shield log a warning per
        // image served.
        // A stored file never changes: a new image gets a new name.
        let scope = if self.public { "public" } else { "private" };
        response.set_header(Header::new(
            "Cache-Control",
            format!("{scope}, max-age=31536000, immutable"),
        ));
        Ok(response)
    }
}

/// The image of a post the visitor may see; 404 for any other name, for a
/// file that is not (or no longer) a post's image, and for others' drafts.
#[get("/uploads/<name>")]
async fn image(
    viewer: Result<Viewer, AppError>,
    db: Db<'_>,
    uploads: &State<Uploads>,
    name: &str,
) -> AppResult<ImageFile> {
    let (path, kind) = uploads.path_of(name).ok_or(AppError::NotFound)?;
    let lookup = name.to_owned();
    let post = db
        .read(move |conn| Post::find_by_image(conn, &lookup))
        .await?
        .ok_or(AppError::NotFound)?;
    let viewer = viewer
        .ok()
        .and_then(|viewer| viewer.0)
        .map(|current| current.user);
    if !post.visible_to(viewer.as_ref()) {
        return Err(AppError::NotFound);
    }
    let file = NamedFile::open(&path)
        .await
        .map_err(|_| AppError::NotFound)?;
    Ok(ImageFile {
        file,
        content_type: content_type_of(kind),
        public: post.published,
    })
}

/// The type an image is served with.
fn content_type_of(kind: ImageKind) -> ContentType {
    match kind {
        ImageKind::Jpeg => ContentType::JPEG,
        ImageKind::Png => ContentType::PNG,
        ImageKind::Gif => ContentType::GIF,
        ImageKind::Webp => ContentType::WEBP,
    }
}
