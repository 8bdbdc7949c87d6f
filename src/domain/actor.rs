//! Who is acting: a logged-in user and the credential they proved it with,
//! or nobody. The web layer's request guards (`web::guard`) produce these;
//! the use cases take them to decide what may be done.

use crate::domain::User;

#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    /// How this request proved who it is.
    pub credential: Credential,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A login session (the cookie), by its id.
    Session(i32),
    /// A personal API token, by its id.
    ApiToken(i32),
}

impl CurrentUser {
    /// The session this request came with, if it came with one (kept when
    /// its user changes their password; ended at logout).
    pub fn session_id(&self) -> Option<i32> {
        match self.credential {
            Credential::Session(id) => Some(id),
            Credential::ApiToken(_) => None,
        }
    }
}

/// Whoever is asking: `Viewer(None)` for an anonymous visitor.
#[derive(Debug, Clone)]
pub struct Viewer(pub Option<CurrentUser>);

impl Viewer {
    pub fn user(&self) -> Option<&User> {
        self.0.as_ref().map(|current| &current.user)
    }
}
