//! What each template reads, as types: one struct per template, holding
//! exactly the fields it reads, so that a misspelt or missing field fails
//! to compile instead of rendering a blank. [`Layout::render`] adds the
//! layout's own fields ([`LayoutContext`]) to every page.
//!
//! [`Layout::render`]: super::Layout::render

use std::sync::Arc;

use serde::Serialize;

use crate::domain::tags::Tag;

use super::presenters::{CommentCard, PostCard, UserCard};
use crate::domain::error::FieldErrors;
use crate::web::feeds::feed_path;
use crate::web::site::{Site, SiteImage};

/// A page's context, and the template that reads it.
pub trait PageContext: Serialize {
    /// The template's name (`posts/show` for `templates/posts/show.html.tera`).
    const TEMPLATE: &'static str;

    /// Whether the page can show a form to someone not logged in (the log-in
    /// and sign-up pages do), so that they need a form token (and its
    /// cookie). Logged-in viewers always get one. True unless a page says
    /// otherwise, so a new form is protected by construction; the pages
    /// that only read say false (a form there with no token is refused,
    /// never let through).
    const FORMS_FOR_ANYONE: bool = true;

    /// What the page puts in `<head>` besides its title: feeds, its
    /// canonical URL, link previews. By default the site's feed alone.
    fn head(&self, site: &Site) -> Head {
        Head::of_site(site)
    }
}

/// What `base` puts in `<head>` for feed readers, crawlers and the link
/// previews of chat apps and social sites. Absolute URLs, on `public_url`.
#[derive(Serialize)]
pub struct Head {
    /// The site's feed (on every page).
    pub site_feed: String,
    /// The page's own feeds (a person's posts).
    pub feeds: Vec<FeedLink>,
    pub canonical: Option<String>,
    pub preview: Option<Preview>,
}

impl Head {
    /// The site's feed, and nothing of the page's own.
    pub fn of_site(site: &Site) -> Head {
        Head {
            site_feed: site.url(&feed_path("/")),
            ..Head::default()
        }
    }
}

impl Default for Head {
    /// Outside a request (the error page): the site's feed, as a path.
    fn default() -> Self {
        Head {
            site_feed: feed_path("/"),
            feeds: Vec::new(),
            canonical: None,
            preview: None,
        }
    }
}

/// A `<link rel="alternate" type="application/atom+xml">`.
#[derive(Serialize)]
pub struct FeedLink {
    pub title: String,
    pub href: String,
}

impl FeedLink {
    /// Account `id`'s feed (on their profile and their posts).
    pub fn of_person(site: &Site, id: i32, name: &str) -> FeedLink {
        FeedLink {
            title: format!("{name}: posts"),
            href: site.url(&feed_path(&format!("/users/{id}"))),
        }
    }

    /// Tag `name`'s feed (on its page).
    pub fn of_tag(site: &Site, name: &str) -> FeedLink {
        FeedLink {
            title: format!("Posts tagged {name}"),
            href: site.url(&feed_path(&format!("/tags/{name}"))),
        }
    }
}

/// OpenGraph and Twitter-card tags: what a shared link shows.
#[derive(Serialize)]
pub struct Preview {
    /// `og:type`: `article` or `profile`.
    pub kind: &'static str,
    pub title: String,
    pub description: String,
    pub url: String,
    pub image: Option<SiteImage>,
    /// `profile:username`, on profiles.
    pub username: Option<String>,
}

/// A page whose form may come back with problems: [`super::form_error`]
/// sets them on its [`FormState`] and renders the same context again.
pub trait FormPage: PageContext {
    type Values: Serialize;

    fn form(&mut self) -> &mut FormState<Self::Values>;
}

/// What `base` reads on every page: who is logged in, the form token, the
/// flash message from the previous request, and what goes in `<head>`.
#[derive(Serialize)]
pub struct LayoutContext<'a> {
    pub me: Option<Me<'a>>,
    pub csrf_token: &'a str,
    pub flash: Option<FlashContext<'a>>,
    pub head: Head,
}

impl LayoutContext<'static> {
    /// A page rendered outside a request's layout (the error page): no one
    /// logged in, so no form shows the token, and no flash message.
    pub fn nobody() -> Self {
        LayoutContext {
            me: None,
            csrf_token: "",
            flash: None,
            head: Head::default(),
        }
    }
}

/// The logged-in visitor, as the navigation shows them.
#[derive(Serialize)]
pub struct Me<'a> {
    pub id: i32,
    pub uid: &'a str,
    pub name: &'a str,
    pub is_admin: bool,
}

/// A message from the previous request: `kind` is `success`, `error`...
#[derive(Serialize)]
pub struct FlashContext<'a> {
    pub kind: &'a str,
    pub message: &'a str,
}

/// What a template is rendered with: the layout's fields and the page's,
/// side by side.
#[derive(Serialize)]
pub struct Page<'a, T> {
    #[serde(flatten)]
    pub layout: LayoutContext<'a>,
    #[serde(flatten)]
    pub page: T,
}

/// A form's input and its problems: `values` fill the fields again,
/// `errors` hold a message by each field (by field name), `error` the
/// message for the whole form (empty when there is none).
#[derive(Serialize)]
pub struct FormState<V> {
    pub values: V,
    pub errors: FieldErrors,
    pub error: String,
}

impl<V> FormState<V> {
    /// A form showing `values`, with no problems yet.
    pub fn new(values: V) -> Self {
        FormState {
            values,
            errors: FieldErrors::new(),
            error: String::new(),
        }
    }
}

impl<V: Default> Default for FormState<V> {
    fn default() -> Self {
        FormState::new(V::default())
    }
}

/// The values of a form that shows none again (passwords are never sent
/// back): an empty map.
#[derive(Serialize, Default)]
pub struct NoValues {}

/// Links to a listing's neighbouring slices (the `pager` macro).
#[derive(Serialize)]
pub struct Pager {
    /// The page number, when the slice was asked for by one.
    pub page: Option<u32>,
    pub pages: u64,
    pub total: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// An account named in a form's heading and links.
#[derive(Serialize)]
pub struct UserRef {
    pub id: i32,
    pub uid: String,
}

/// `home`
#[derive(Serialize)]
pub struct HomePage {
    pub posts: Vec<PostCard>,
    pub writers: Vec<UserCard>,
    /// The tags with the most published posts.
    pub popular_tags: Vec<Tag>,
    pub trending: Vec<TrendingPost>,
    pub trending_days: u64,
    pub pager: Pager,
}

impl PageContext for HomePage {
    const TEMPLATE: &'static str = "home";
    const FORMS_FOR_ANYONE: bool = false;
}

#[derive(Serialize)]
pub struct TrendingPost {
    pub post: PostCard,
    pub recent_views: i64,
}

/// `posts/list`
#[derive(Serialize)]
pub struct PostListPage {
    pub posts: Vec<PostCard>,
    pub pager: Pager,
}

impl PageContext for PostListPage {
    const TEMPLATE: &'static str = "posts/list";
    const FORMS_FOR_ANYONE: bool = false;
}

/// `tags/show`: one tag's posts.
#[derive(Serialize)]
pub struct TagPage {
    pub tag: String,
    /// Its published posts, from the kept count.
    pub total: i64,
    pub posts: Vec<PostCard>,
    pub pager: Pager,
}

impl PageContext for TagPage {
    const TEMPLATE: &'static str = "tags/show";
    const FORMS_FOR_ANYONE: bool = false;

    fn head(&self, site: &Site) -> Head {
        Head {
            feeds: vec![FeedLink::of_tag(site, &self.tag)],
            canonical: Some(site.url(&format!("/tags/{}", self.tag))),
            ..Head::of_site(site)
        }
    }
}

/// `posts/show`: the card plus its Markdown rendered to safe HTML, and its
/// comments.
#[derive(Serialize)]
pub struct PostPage {
    pub post: PostCard,
    /// "1 view", "12 views": its own field, so that a page kept for
    /// readers (web::pages::posts::KeptPages) can have the count put in
    /// afresh for each view. Inserted unescaped: only ever digits and words.
    pub views: String,
    pub html: Arc<str>,
    pub can_edit: bool,
    pub comments: CommentsBlock,
    /// The post's image with its size, for link previews (read from the
    /// file's header on a blocking thread before rendering).
    #[serde(skip)]
    pub preview_image: Option<SiteImage>,
}

impl FormPage for PostPage {
    type Values = CommentValues;

    fn form(&mut self) -> &mut FormState<CommentValues> {
        &mut self.comments.form
    }
}

/// A post's comments: a slice, oldest first, and the form for a new one.
#[derive(Serialize)]
pub struct CommentsBlock {
    pub items: Vec<CommentCard>,
    /// The post's comments in all (a kept count).
    pub total: i64,
    pub pager: Pager,
    /// New comments are taken: the post is published and not closed.
    pub open: bool,
    /// Its author closed it to new comments.
    pub closed: bool,
    pub form: FormState<CommentValues>,
}

/// The comment form's field.
#[derive(Serialize, Default)]
pub struct CommentValues {
    pub body: String,
}

/// `comments/edit`: a comment's author changes it.
#[derive(Serialize)]
pub struct CommentEditPage {
    #[serde(flatten)]
    pub form: FormState<CommentValues>,
    pub id: i32,
    pub post_title: String,
    pub post_path: String,
}

impl PageContext for CommentEditPage {
    const TEMPLATE: &'static str = "comments/edit";
}

impl FormPage for CommentEditPage {
    type Values = CommentValues;

    fn form(&mut self) -> &mut FormState<CommentValues> {
        &mut self.form
    }
}

/// `comments/delete`: asks first.
#[derive(Serialize)]
pub struct CommentDeletePage {
    pub comment: CommentCard,
    pub post_title: String,
    pub post_path: String,
}

impl PageContext for CommentDeletePage {
    const TEMPLATE: &'static str = "comments/delete";
}

impl PageContext for PostPage {
    const TEMPLATE: &'static str = "posts/show";
    const FORMS_FOR_ANYONE: bool = false;

    fn head(&self, site: &Site) -> Head {
        let url = site.url(&self.post.path);
        Head {
            feeds: vec![FeedLink::of_person(
                site,
                self.post.author_id,
                &self.post.author_name,
            )],
            canonical: Some(url.clone()),
            preview: Some(Preview {
                kind: "article",
                title: self.post.title.clone(),
                description: self.post.excerpt.to_string(),
                url,
                image: self.preview_image.clone(),
                username: None,
            }),
            ..Head::of_site(site)
        }
    }
}

/// `posts/form`, to write a post (`post` is `None`) or edit one.
#[derive(Serialize)]
pub struct PostFormPage {
    #[serde(flatten)]
    pub form: FormState<PostValues>,
    pub post: Option<PostCard>,
    /// The image size limit, as text (`5 MiB`).
    pub max_image: String,
}

impl PageContext for PostFormPage {
    const TEMPLATE: &'static str = "posts/form";
}

impl FormPage for PostFormPage {
    type Values = PostValues;

    fn form(&mut self) -> &mut FormState<PostValues> {
        &mut self.form
    }
}

/// The post form's fields (a chosen image cannot be sent back).
#[derive(Serialize)]
pub struct PostValues {
    pub title: String,
    pub content: String,
    pub published: bool,
    /// As typed: separated by commas or spaces.
    pub tags: String,
    /// As typed (`datetime-local`), in the writer's time.
    pub publish_at: String,
    /// Minutes east of UTC that `publish_at` was typed in (blank: UTC).
    pub utc_offset: String,
    /// A scheduled post's time in UTC, for the script to show in local time.
    pub publish_at_utc: Option<String>,
    pub comments_closed: bool,
}

/// `posts/delete`: asks first.
#[derive(Serialize)]
pub struct PostDeletePage {
    pub post: PostCard,
}

impl PageContext for PostDeletePage {
    const TEMPLATE: &'static str = "posts/delete";
}

/// `posts/search`
#[derive(Serialize)]
pub struct SearchPage {
    /// The words as typed.
    pub q: String,
    /// Whether there were words to look for.
    pub searched: bool,
    pub posts: Vec<PostCard>,
    /// More matched than are ranked.
    pub capped: bool,
    pub pager: Pager,
}

impl PageContext for SearchPage {
    const TEMPLATE: &'static str = "posts/search";
    const FORMS_FOR_ANYONE: bool = false;
}

/// `users/list`
#[derive(Serialize)]
pub struct UserListPage {
    pub users: Vec<UserCard>,
    /// The `sort` parameter as given.
    pub sort: Option<String>,
    pub pager: Pager,
}

impl PageContext for UserListPage {
    const TEMPLATE: &'static str = "users/list";
    const FORMS_FOR_ANYONE: bool = false;
}

/// `users/show`: a profile and its posts.
#[derive(Serialize)]
pub struct ProfilePage {
    pub user: UserCard,
    pub can_manage: bool,
    pub posts: Vec<PostCard>,
    pub pager: Pager,
}

impl PageContext for ProfilePage {
    const TEMPLATE: &'static str = "users/show";
    const FORMS_FOR_ANYONE: bool = false;

    fn head(&self, site: &Site) -> Head {
        let user = &self.user;
        let page = format!("/users/{}", user.id);
        let url = site.url(&page);
        let posts = match user.post_count {
            1 => "1 published post".to_owned(),
            n => format!("{n} published posts"),
        };
        Head {
            feeds: vec![FeedLink::of_person(site, user.id, &user.name)],
            canonical: Some(url.clone()),
            preview: Some(Preview {
                kind: "profile",
                title: user.name.clone(),
                description: format!("{} ({}) on portfolio: {posts}.", user.name, user.uid),
                url,
                image: None,
                username: Some(user.uid.clone()),
            }),
            ..Head::of_site(site)
        }
    }
}

/// `users/edit`
#[derive(Serialize)]
pub struct ProfileFormPage {
    pub user: UserRef,
    #[serde(flatten)]
    pub form: FormState<ProfileValues>,
}

impl PageContext for ProfileFormPage {
    const TEMPLATE: &'static str = "users/edit";
}

impl FormPage for ProfileFormPage {
    type Values = ProfileValues;

    fn form(&mut self) -> &mut FormState<ProfileValues> {
        &mut self.form
    }
}

/// The profile form's fields; empty text for an unset email or date.
#[derive(Serialize)]
pub struct ProfileValues {
    pub name: String,
    pub email: String,
    pub dob: String,
}

/// `users/password`
#[derive(Serialize)]
pub struct PasswordPage {
    pub user: UserRef,
    /// The account is the visitor's own: the current password is asked for.
    pub own: bool,
    #[serde(flatten)]
    pub form: FormState<NoValues>,
}

impl PageContext for PasswordPage {
    const TEMPLATE: &'static str = "users/password";
}

impl FormPage for PasswordPage {
    type Values = NoValues;

    fn form(&mut self) -> &mut FormState<NoValues> {
        &mut self.form
    }
}

/// `users/delete`: asks first.
#[derive(Serialize)]
pub struct UserDeletePage {
    pub user: UserCard,
    pub own: bool,
}

impl PageContext for UserDeletePage {
    const TEMPLATE: &'static str = "users/delete";
}

/// `users/tokens`: your tokens, the form for a new one, and a new token's
/// secret, shown once.
#[derive(Serialize)]
pub struct TokensPage {
    pub new_token: Option<NewToken>,
    pub tokens: Vec<TokenRow>,
    pub max_tokens: i64,
    #[serde(flatten)]
    pub form: FormState<TokenValues>,
}

impl PageContext for TokensPage {
    const TEMPLATE: &'static str = "users/tokens";
}

impl FormPage for TokensPage {
    type Values = TokenValues;

    fn form(&mut self) -> &mut FormState<TokenValues> {
        &mut self.form
    }
}

#[derive(Serialize)]
pub struct NewToken {
    pub name: String,
    pub secret: String,
}

#[derive(Serialize)]
pub struct TokenRow {
    pub id: i32,
    pub name: String,
    pub created: String,
}

#[derive(Serialize, Default)]
pub struct TokenValues {
    pub name: String,
}

/// `auth/signup`
#[derive(Serialize, Default)]
pub struct SignUpPage {
    #[serde(flatten)]
    pub form: FormState<SignUpValues>,
    /// Who may sign up: the page says so, and asks for the invite.
    pub registration: crate::config::Registration,
}

impl PageContext for SignUpPage {
    const TEMPLATE: &'static str = "auth/signup";
}

impl FormPage for SignUpPage {
    type Values = SignUpValues;

    fn form(&mut self) -> &mut FormState<SignUpValues> {
        &mut self.form
    }
}

/// The sign-up form's fields but the password.
#[derive(Serialize, Default)]
pub struct SignUpValues {
    pub uid: String,
    pub name: String,
    pub email: String,
    pub dob: String,
    /// The invite's token, from the link (`?invite=`).
    pub invite: String,
}

/// `auth/login`
#[derive(Serialize)]
pub struct LogInPage {
    #[serde(flatten)]
    pub form: FormState<LogInValues>,
}

impl PageContext for LogInPage {
    const TEMPLATE: &'static str = "auth/login";
}

impl FormPage for LogInPage {
    type Values = LogInValues;

    fn form(&mut self) -> &mut FormState<LogInValues> {
        &mut self.form
    }
}

/// The login form's fields but the password: `next` is where to go after.
#[derive(Serialize)]
pub struct LogInValues {
    pub uid: String,
    pub next: Option<String>,
}

/// `auth/forgot_password`: asks for a uid or email to send a reset link to.
#[derive(Serialize, Default)]
pub struct ForgotPasswordPage {
    #[serde(flatten)]
    pub form: FormState<ForgotPasswordValues>,
    /// Whether this site sends mail at all (if not, the page says whom to
    /// ask instead).
    pub sends_mail: bool,
}

impl PageContext for ForgotPasswordPage {
    const TEMPLATE: &'static str = "auth/forgot_password";
}

impl FormPage for ForgotPasswordPage {
    type Values = ForgotPasswordValues;

    fn form(&mut self) -> &mut FormState<ForgotPasswordValues> {
        &mut self.form
    }
}

#[derive(Serialize, Default)]
pub struct ForgotPasswordValues {
    pub who: String,
}

/// `auth/reset_password`: the new password, for the link's token.
#[derive(Serialize, Default)]
pub struct ResetPasswordPage {
    #[serde(flatten)]
    pub form: FormState<ResetPasswordValues>,
    /// The link still works (else the page says to ask for a new one).
    pub valid: bool,
}

impl PageContext for ResetPasswordPage {
    const TEMPLATE: &'static str = "auth/reset_password";
}

impl FormPage for ResetPasswordPage {
    type Values = ResetPasswordValues;

    fn form(&mut self) -> &mut FormState<ResetPasswordValues> {
        &mut self.form
    }
}

#[derive(Serialize, Default)]
pub struct ResetPasswordValues {
    pub token: String,
}

/// `auth/verify_email`: what the mailed link did.
#[derive(Serialize, Default)]
pub struct VerifyEmailPage {
    /// The address now verified; `None`: the link did not work.
    pub verified: Option<String>,
}

impl PageContext for VerifyEmailPage {
    const TEMPLATE: &'static str = "auth/verify_email";
}

/// `users/two_factor`: two-factor login, off (a button), being set up
/// (the QR code), just turned on (the recovery codes), or on (the form
/// that turns it off).
#[derive(Serialize)]
pub struct TwoFactorPage {
    pub user: UserRef,
    pub enabled: bool,
    pub setup: Option<TwoFactorSetup>,
    /// Shown once, right after it is turned on.
    pub recovery_codes: Vec<String>,
    #[serde(flatten)]
    pub form: FormState<NoValues>,
}

impl PageContext for TwoFactorPage {
    const TEMPLATE: &'static str = "users/two_factor";
}

impl FormPage for TwoFactorPage {
    type Values = NoValues;

    fn form(&mut self) -> &mut FormState<NoValues> {
        &mut self.form
    }
}

/// A secret being set up: its QR code (SVG drawn by us) and its text.
#[derive(Serialize)]
pub struct TwoFactorSetup {
    pub qr_svg: String,
    pub secret: String,
}

/// `auth/login_code`: the second step of a login.
#[derive(Serialize)]
pub struct LogInCodePage {
    #[serde(flatten)]
    pub form: FormState<LogInCodeValues>,
}

impl PageContext for LogInCodePage {
    const TEMPLATE: &'static str = "auth/login_code";
}

impl FormPage for LogInCodePage {
    type Values = LogInCodeValues;

    fn form(&mut self) -> &mut FormState<LogInCodeValues> {
        &mut self.form
    }
}

/// The half-done login and where to go after it.
#[derive(Serialize)]
pub struct LogInCodeValues {
    pub challenge: String,
    pub next: Option<String>,
}

/// `admin/users`
#[derive(Serialize)]
pub struct AdminUsersPage {
    pub users: Vec<UserCard>,
    pub pager: Pager,
}

impl PageContext for AdminUsersPage {
    const TEMPLATE: &'static str = "admin/users";
}

/// `admin/invites`: invitations to sign up, and the form that makes one.
#[derive(Serialize)]
pub struct AdminInvitesPage {
    pub invites: Vec<InviteRow>,
    /// The site takes new accounts by invitation (else invites do nothing).
    pub invite_only: bool,
    pub default_days: u32,
    pub max_days: u32,
}

impl PageContext for AdminInvitesPage {
    const TEMPLATE: &'static str = "admin/invites";
}

/// `admin/dashboard`: the site's totals, its days in charts (each with a
/// table of the same figures), this week's most viewed posts, and the
/// database's size.
#[derive(Serialize)]
pub struct AdminDashboardPage {
    pub totals: DashboardTotals,
    /// Sign-ups, posts and views per day, in that order.
    pub charts: Vec<DailyChart>,
    pub days: u64,
    pub trending: Vec<TrendingPost>,
    pub trending_days: u64,
    /// `12.3 MB`, and the exact number of bytes.
    pub database_size: String,
    pub database_bytes: i64,
    /// The newest scheduled backup in `<volume_dir>/backups/`; `None` shows
    /// "No backup yet".
    pub last_backup: Option<LastBackup>,
    /// Whether scheduled backups are on (`backup_every`), and the last
    /// attempt's error while it stands.
    pub backups_scheduled: bool,
    pub backup_failure: Option<String>,
}

impl PageContext for AdminDashboardPage {
    const TEMPLATE: &'static str = "admin/dashboard";
}

/// The dashboard's totals.
#[derive(Serialize)]
pub struct DashboardTotals {
    pub people: i64,
    pub posts: i64,
    pub drafts: i64,
    pub comments: i64,
    pub api_tokens: i64,
}

/// One daily series: its chart (an inline `<svg>`, drawn by
/// `crate::web::charts`) and the same figures as table rows.
#[derive(Serialize)]
pub struct DailyChart {
    /// Unique on the page: the chart's id (its title's is `<id>-title`)
    /// and the table's (`<id>-table`).
    pub id: &'static str,
    pub title: String,
    /// The table's column heading for the figures.
    pub column: &'static str,
    pub svg: String,
    /// Oldest first.
    pub rows: Vec<DailyRow>,
    pub total: i64,
}

#[derive(Serialize)]
pub struct DailyRow {
    /// `2026-12-04`
    pub day: String,
    pub value: i64,
}

/// What the dashboard says of the newest scheduled backup.
#[derive(Serialize)]
pub struct LastBackup {
    /// When it was taken, `2026-12-04 09:30 UTC`.
    pub taken: String,
    /// Its file name in `<volume_dir>/backups/`.
    pub file: String,
    /// `12.3 MB`.
    pub size: String,
}

/// One invite in the admin's table.
#[derive(Serialize)]
pub struct InviteRow {
    pub id: i32,
    pub created: String,
    pub expires: String,
    /// Who used it (a user id), when it is used.
    pub used_by: Option<i32>,
    pub open: bool,
}

/// `error`
#[derive(Serialize)]
pub struct ErrorPage<'a> {
    pub status: u16,
    pub reason: &'a str,
    pub message: &'a str,
}

impl PageContext for ErrorPage<'_> {
    const TEMPLATE: &'static str = "error";
    const FORMS_FOR_ANYONE: bool = false;
}

#[cfg(test)]
mod tests {
    //! Every template renders with its typed context, as the site renders
    //! it (the context goes through the same serialisation as
    //! `Template::render`), and shows what it was given.

    use std::collections::BTreeSet;
    use std::path::Path;

    use rocket_dyn_templates::tera::{Context, Tera};

    use super::*;

    /// The repository's templates, named and escaped as the site has them
    /// (see `crate::web::assets`).
    fn templates() -> Tera {
        fn collect(base: &Path, folder: &Path, found: &mut Vec<(String, String)>) {
            for entry in std::fs::read_dir(folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    collect(base, &path, found);
                } else {
                    let relative = path.strip_prefix(base).unwrap().to_str().unwrap();
                    if let Some(name) = crate::web::assets::template_name(relative) {
                        found.push((name, std::fs::read_to_string(&path).unwrap()));
                    }
                }
            }
        }
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut found = Vec::new();
        collect(&base, &base, &mut found);
        let mut tera = Tera::default();
        tera.autoescape_on(vec![""]);
        tera.add_raw_templates(found).unwrap();
        tera
    }

    struct Renderer {
        tera: Tera,
        rendered: BTreeSet<&'static str>,
    }

    impl Renderer {
        fn render<T: PageContext>(&mut self, layout: LayoutContext<'_>, page: T) -> String {
            // As the site converts it (crate::web::templates::Html).
            let context =
                Context::from_serialize(Page { layout, page }).expect("the context is a map");
            self.rendered.insert(T::TEMPLATE);
            match self.tera.render(T::TEMPLATE, &context) {
                Ok(html) => html,
                Err(error) => {
                    let mut message = format!("{}: {error}", T::TEMPLATE);
                    let mut source = std::error::Error::source(&error);
                    while let Some(cause) = source {
                        message.push_str(&format!(": {cause}"));
                        source = cause.source();
                    }
                    panic!("{message}");
                }
            }
        }
    }

    fn admin() -> LayoutContext<'static> {
        LayoutContext {
            me: Some(Me {
                id: 1,
                uid: "ada",
                name: "Ada Admin",
                is_admin: true,
            }),
            csrf_token: "token-123",
            flash: Some(FlashContext {
                kind: "success",
                message: "Post saved.",
            }),
            head: Head::default(),
        }
    }

    /// The site at `https://example.org`.
    fn site() -> Site {
        let settings = crate::config::Settings {
            public_url: Some("https://example.org/".to_owned()),
            ..crate::config::Settings::default()
        };
        Site::new(&settings, 8000)
    }

    fn post_card(id: i32, title: &str) -> PostCard {
        PostCard {
            id,
            path: format!("/posts/{id}-a-slug"),
            title: title.to_owned(),
            excerpt: format!("The excerpt of {title}").into(),
            published: id % 2 == 1,
            views: 3,
            created: "2026-12-04 09:30 UTC".to_owned(),
            updated: "2026-12-05 10:00 UTC".to_owned(),
            author_id: 7,
            author_uid: "grace".to_owned(),
            author_name: "Grace Hopper".to_owned(),
            snippet_html: None,
            image: Some("abc.png".to_owned()),
            tags: vec!["rust".to_owned(), "travel-notes".to_owned()],
            published_on: "2026-12-04 09:30 UTC".to_owned(),
            scheduled_for: None,
            comments: 2,
        }
    }

    fn comment_card(id: i32, mine: bool) -> CommentCard {
        CommentCard {
            id,
            author_id: 8,
            author_name: format!("Commenter {id}"),
            html: format!("<p>Comment <em>{id}</em></p>").into(),
            created: "2026-12-06 11:00 UTC".to_owned(),
            edited: mine.then(|| "2026-12-06 12:00 UTC".to_owned()),
            can_edit: mine,
            can_delete: true,
        }
    }

    fn user_card(id: i32, uid: &str) -> UserCard {
        UserCard {
            id,
            uid: uid.to_owned(),
            name: format!("Name of {uid}"),
            email: Some(format!("{uid}@example.com")),
            email_verified: false,
            dob: Some("1990-01-02".to_owned()),
            age: Some(36),
            role: "user",
            joined: "2026-01-01 00:00 UTC".to_owned(),
            post_count: 4,
            suspended: false,
            suspension_reason: None,
        }
    }

    fn pager() -> Pager {
        Pager {
            page: Some(2),
            pages: 3,
            total: 45,
            prev: Some("/posts?page=1".to_owned()),
            next: Some("/posts?page=3".to_owned()),
        }
    }

    fn assert_shows(html: &str, expected: &[&str]) {
        for text in expected {
            assert!(html.contains(text), "{text:?} is not in:\n{html}");
        }
    }

    #[test]
    fn every_template_renders_with_its_context() {
        let mut pages = Renderer {
            tera: templates(),
            rendered: BTreeSet::new(),
        };

        let html = pages.render(
            admin(),
            HomePage {
                posts: vec![post_card(1, "First post")],
                writers: vec![user_card(7, "grace")],
                popular_tags: vec![Tag {
                    id: 1,
                    name: "rust".to_owned(),
                    posts: 12,
                }],
                trending: vec![TrendingPost {
                    post: post_card(3, "Hot post"),
                    recent_views: 12,
                }],
                trending_days: 7,
                pager: pager(),
            },
        );
        assert_shows(
            &html,
            &[
                "First post",
                "Hot post</a> <span class=\"muted\">12 views in 7 days",
                "Name of grace",
                "Page 2 of 3",
                // Values are escaped, `/` too.
                "href=\"&#x2F;posts?page=3\"",
                // The layout's fields.
                "id=\"nav-me\">Ada Admin</a>",
                "value=\"token-123\"",
                "flash-success\" role=\"status\">Post saved.",
                "href=\"/admin\" id=\"nav-admin\"",
            ],
        );

        let html = pages.render(
            LayoutContext::nobody(),
            PostListPage {
                posts: vec![post_card(1, "One"), post_card(2, "Two")],
                pager: pager(),
            },
        );
        assert_shows(
            &html,
            &["One", "Two", "<span class=\"badge\">Draft</span>", "Log in"],
        );

        let mut scheduled = post_card(4, "Later");
        scheduled.scheduled_for = Some("2027-01-01 08:00 UTC".to_owned());
        let html = pages.render(
            LayoutContext::nobody(),
            TagPage {
                tag: "rust".to_owned(),
                total: 2,
                posts: vec![post_card(1, "One"), scheduled],
                pager: pager(),
            },
        );
        assert_shows(
            &html,
            &[
                "<h1 id=\"tag-heading\">#rust</h1>",
                "2 posts tagged rust",
                "href=\"&#x2F;posts&#x2F;1-a-slug\"",
                "href=\"/tags/travel-notes\" rel=\"tag\"",
                "Scheduled for 2027-01-01 08:00 UTC",
            ],
        );

        let mut comment_form = FormState::new(CommentValues {
            body: "Kept <text>".to_owned(),
        });
        comment_form
            .errors
            .insert("body".to_owned(), "must not be empty".to_owned());
        let page = PostPage {
            post: post_card(5, "Shown <post>"),
            views: "7 views".to_owned(),
            html: "<p>Some <em>text</em></p>".into(),
            can_edit: true,
            comments: CommentsBlock {
                items: vec![comment_card(31, true), comment_card(32, false)],
                total: 2,
                pager: pager(),
                open: true,
                closed: false,
                form: comment_form,
            },
            preview_image: Some(SiteImage {
                url: "https://example.org/uploads/abc.png".to_owned(),
                width: 640,
                height: 480,
            }),
        };
        let mut layout = admin();
        layout.head = page.head(&site());
        let html = pages.render(layout, page);
        assert_shows(
            &html,
            &[
                "Shown &lt;post&gt;",
                "<p>Some <em>text</em></p>",
                "src=\"/uploads/abc.png\"",
                "href=\"/posts/5/edit\"",
                "edited 2026-12-05 10:00 UTC",
                // The head: feeds, canonical URL, link previews.
                "type=\"application/atom+xml\" title=\"portfolio: the newest posts\" \
                 href=\"https:&#x2F;&#x2F;example.org&#x2F;feed.xml\"",
                "<link rel=\"canonical\" href=\"https:&#x2F;&#x2F;example.org&#x2F;posts&#x2F;5-a-slug\">",
                "<meta property=\"og:type\" content=\"article\">",
                "<meta property=\"og:title\" content=\"Shown &lt;post&gt;\">",
                "<meta property=\"og:description\" content=\"The excerpt of Shown &lt;post&gt;\">",
                "<meta property=\"og:image\" content=\"https:&#x2F;&#x2F;example.org&#x2F;uploads&#x2F;abc.png\">",
                "<meta property=\"og:image:width\" content=\"640\">",
                "<meta property=\"og:image:height\" content=\"480\">",
                "<meta name=\"twitter:card\" content=\"summary_large_image\">",
                // The author's feed beside the site's.
                "title=\"Grace Hopper: posts\" href=\"https:&#x2F;&#x2F;example.org&#x2F;users&#x2F;7&#x2F;feed.xml\"",
                // Its comments, the form with the text kept and the message.
                "2 comments</h2>",
                "id=\"comment-31\"",
                "<p>Comment <em>31</em></p>",
                "edited 2026-12-06 12:00 UTC",
                "href=\"/comments/31/edit\"",
                "href=\"/comments/32/delete\"",
                "rel=\"prev\">← Earlier</a>",
                "action=\"/posts/5/comments\"",
                ">Kept &lt;text&gt;</textarea>",
                "Your comment must not be empty",
            ],
        );
        assert!(
            !html.contains("href=\"/comments/32/edit\""),
            "only its author edits"
        );
        // Included by posts/show, and checked just above.
        pages.rendered.insert("posts/comments");

        let mut edit = CommentEditPage {
            form: FormState::new(CommentValues {
                body: "Was *this*".to_owned(),
            }),
            id: 31,
            post_title: "A <post>".to_owned(),
            post_path: "/posts/5-a-post".to_owned(),
        };
        edit.form.error = "some fields are invalid".to_owned();
        let html = pages.render(admin(), edit);
        assert_shows(
            &html,
            &[
                "Edit your comment on “A &lt;post&gt;”",
                "action=\"/comments/31/edit\"",
                ">Was *this*</textarea>",
                "Some fields are invalid.",
            ],
        );
        let html = pages.render(
            admin(),
            CommentDeletePage {
                comment: comment_card(32, false),
                post_title: "A post".to_owned(),
                post_path: "/posts/5-a-post".to_owned(),
            },
        );
        assert_shows(
            &html,
            &[
                "action=\"/comments/32/delete\"",
                "<p>Comment <em>32</em></p>",
            ],
        );

        let mut form = PostFormPage {
            form: FormState::new(PostValues {
                title: "A title".to_owned(),
                content: "Some *content*".to_owned(),
                published: true,
                tags: "rust, web".to_owned(),
                publish_at: "2026-12-05T09:30".to_owned(),
                utc_offset: "60".to_owned(),
                publish_at_utc: Some("2026-12-05T08:30".to_owned()),
                comments_closed: true,
            }),
            post: Some(post_card(9, "Old title")),
            max_image: "5 MiB".to_owned(),
        };
        form.form
            .errors
            .insert("title".to_owned(), "is too long".to_owned());
        form.form.error = "some fields are invalid".to_owned();
        let html = pages.render(admin(), form);
        assert_shows(
            &html,
            &[
                "Edit “Old title”",
                "value=\"A title\"",
                ">Some *content*</textarea>",
                "Title is too long",
                "Some fields are invalid.",
                "up to 5 MiB. Choose the file again",
                "action=\"/posts/9/edit\"",
                "name=\"published\" value=\"true\" checked",
            ],
        );

        let html = pages.render(
            admin(),
            PostDeletePage {
                post: post_card(4, "Doomed"),
            },
        );
        assert_shows(&html, &["Delete “Doomed”?", "action=\"/posts/4/delete\""]);

        let mut hit = post_card(6, "Found");
        hit.snippet_html = Some("a <mark>match</mark>".to_owned());
        let html = pages.render(
            LayoutContext::nobody(),
            SearchPage {
                q: "match".to_owned(),
                searched: true,
                posts: vec![hit],
                capped: false,
                pager: pager(),
            },
        );
        assert_shows(
            &html,
            &["value=\"match\"", "45 posts found.", "a <mark>match</mark>"],
        );

        let html = pages.render(
            admin(),
            UserListPage {
                users: vec![user_card(2, "linus")],
                sort: Some("posts".to_owned()),
                pager: pager(),
            },
        );
        assert_shows(
            &html,
            &["<strong>most posts</strong>", "Name of linus", "linus"],
        );

        let page = ProfilePage {
            user: user_card(2, "linus"),
            can_manage: true,
            posts: vec![post_card(1, "By Linus")],
            pager: pager(),
        };
        let mut layout = admin();
        layout.head = page.head(&site());
        let html = pages.render(layout, page);
        assert_shows(
            &html,
            &[
                "linus@example.com",
                "1990-01-02 (age 36)",
                "href=\"/users/2/password\"",
                "By Linus",
                "id=\"user-feed-link\"",
                "title=\"Name of linus: posts\" href=\"https:&#x2F;&#x2F;example.org&#x2F;users&#x2F;2&#x2F;feed.xml\"",
                "<meta property=\"og:type\" content=\"profile\">",
                "<meta property=\"og:description\" content=\"Name of linus (linus) on portfolio: 4 published posts.\">",
                "<meta property=\"profile:username\" content=\"linus\">",
                "<meta name=\"twitter:card\" content=\"summary\">",
            ],
        );

        let mut form = ProfileFormPage {
            user: UserRef {
                id: 2,
                uid: "linus".to_owned(),
            },
            form: FormState::new(ProfileValues {
                name: "Linus".to_owned(),
                email: "not an email".to_owned(),
                dob: String::new(),
            }),
        };
        form.form
            .errors
            .insert("email".to_owned(), "is not an email address".to_owned());
        let html = pages.render(admin(), form);
        assert_shows(
            &html,
            &[
                "(linus)",
                "value=\"Linus\"",
                "value=\"not an email\"",
                "Email (optional) is not an email address",
                "action=\"/users/2/edit\"",
            ],
        );

        let mut form = PasswordPage {
            user: UserRef {
                id: 2,
                uid: "linus".to_owned(),
            },
            own: true,
            form: FormState::default(),
        };
        form.form
            .errors
            .insert("confirm".to_owned(), "does not match".to_owned());
        let html = pages.render(admin(), form);
        assert_shows(
            &html,
            &[
                "name=\"current_password\"",
                "New password again does not match",
                "action=\"/users/2/password\"",
            ],
        );

        let html = pages.render(
            admin(),
            UserDeletePage {
                user: user_card(2, "linus"),
                own: false,
            },
        );
        assert_shows(
            &html,
            &[
                "Delete Name of linus's account?",
                "(4 published)",
                "/users/2/delete",
            ],
        );

        let html = pages.render(
            admin(),
            TokensPage {
                new_token: Some(NewToken {
                    name: "backup".to_owned(),
                    secret: "pt_secret".to_owned(),
                }),
                tokens: vec![TokenRow {
                    id: 8,
                    name: "backup".to_owned(),
                    created: "2026-12-04 09:30 UTC".to_owned(),
                }],
                max_tokens: 25,
                form: FormState::default(),
            },
        );
        assert_shows(
            &html,
            &[
                "id=\"new-token-secret\">pt_secret</code>",
                "/tokens/8/revoke",
                "2026-12-04 09:30 UTC",
            ],
        );
        let html = pages.render(
            admin(),
            TokensPage {
                new_token: None,
                tokens: Vec::new(),
                max_tokens: 25,
                form: FormState::new(TokenValues {
                    name: "x".repeat(3),
                }),
            },
        );
        assert_shows(&html, &["hold up to 25", "value=\"xxx\""]);

        let mut form = SignUpPage::default();
        form.form.values.uid = "new_one".to_owned();
        form.form
            .errors
            .insert("uid".to_owned(), "is taken".to_owned());
        let html = pages.render(LayoutContext::nobody(), form);
        assert_shows(&html, &["value=\"new_one\"", "User name is taken"]);
        let mut form = SignUpPage {
            registration: crate::config::Registration::Invite,
            ..SignUpPage::default()
        };
        form.form.values.invite = "inv-ite".to_owned();
        let html = pages.render(LayoutContext::nobody(), form);
        assert_shows(&html, &["id=\"invite-only\"", "value=\"inv-ite\""]);
        let closed = SignUpPage {
            registration: crate::config::Registration::Closed,
            ..SignUpPage::default()
        };
        let html = pages.render(LayoutContext::nobody(), closed);
        assert_shows(&html, &["id=\"registration-closed\""]);
        assert!(!html.contains("action=\"/signup\""));

        let mut form = LogInPage {
            form: FormState::new(LogInValues {
                uid: "ada".to_owned(),
                next: Some("/tokens".to_owned()),
            }),
        };
        form.form.error = "wrong user name or password".to_owned();
        let html = pages.render(LayoutContext::nobody(), form);
        assert_shows(
            &html,
            &[
                "name=\"next\" value=\"&#x2F;tokens\"",
                "value=\"ada\"",
                "Wrong user name or password.",
            ],
        );

        let html = pages.render(
            admin(),
            AdminInvitesPage {
                invites: vec![
                    InviteRow {
                        id: 4,
                        created: "2026-12-04 10:00 UTC".to_owned(),
                        expires: "2026-12-11 10:00 UTC".to_owned(),
                        used_by: None,
                        open: true,
                    },
                    InviteRow {
                        id: 3,
                        created: "2026-12-01 10:00 UTC".to_owned(),
                        expires: "2026-12-08 10:00 UTC".to_owned(),
                        used_by: Some(9),
                        open: false,
                    },
                ],
                invite_only: true,
                default_days: 7,
                max_days: 90,
            },
        );
        assert_shows(
            &html,
            &[
                "id=\"invite-4\"",
                "action=\"/admin/invites/4/delete\"",
                "href=\"/users/9\"",
                "action=\"/admin/invites\"",
            ],
        );

        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        let figures = crate::domain::dashboard::Figures {
            totals: crate::domain::dashboard::Totals {
                people: 7,
                posts: 11,
                drafts: 3,
                comments: 5,
                api_tokens: 2,
            },
            days: vec![crate::domain::dashboard::Day {
                day,
                signups: 4,
                posts: 6,
                views: 98,
            }],
            database_bytes: 1_234_567,
        };
        let mut page = crate::web::pages::presenters::dashboard(
            &figures,
            vec![TrendingPost {
                post: post_card(3, "Hot post"),
                recent_views: 12,
            }],
            &Default::default(),
        );
        let html = pages.render(admin(), page);
        assert_shows(
            &html,
            &[
                "id=\"total-people\">7<",
                "id=\"total-posts\">11<",
                "id=\"total-drafts\">3<",
                "id=\"total-comments\">5<",
                "id=\"total-api-tokens\">2<",
                // The charts, inline and unescaped, each with its table.
                "<svg ",
                "role=\"img\" aria-labelledby=\"signups-title\"",
                "aria-labelledby=\"views-title\"",
                "id=\"posts-table\"",
                "<th scope=\"row\">2026-12-04</th><td>98</td>",
                "Hot post</a> <span class=\"muted\">12 views in 7 days",
                "id=\"database-size\" title=\"1234567 bytes\">1.2 MB<",
                "id=\"last-backup\">No backup yet<",
                "Scheduled backups are off",
            ],
        );
        page = crate::web::pages::presenters::dashboard(&figures, Vec::new(), &Default::default());
        page.backups_scheduled = true;
        page.backup_failure = Some("cannot use the backup folder".to_owned());
        page.last_backup = Some(LastBackup {
            taken: "2026-12-04 03:00 UTC".to_owned(),
            file: "portfolio-2026-12-04.db".to_owned(),
            size: "1.2 MB".to_owned(),
        });
        let html = pages.render(admin(), page);
        assert_shows(
            &html,
            &[
                "2026-12-04 03:00 UTC <span class=\"muted\">portfolio-2026-12-04.db, 1.2 MB",
                "id=\"backup-failure\" class=\"error\">The last attempt failed: cannot use the backup folder<",
                "No views in the last 7 days yet.",
            ],
        );

        let html = pages.render(
            admin(),
            AdminUsersPage {
                users: vec![user_card(3, "alan")],
                pager: pager(),
            },
        );
        assert_shows(
            &html,
            &[
                "id=\"user-alan\"",
                "action=\"/admin/users/3/role\"",
                "value=\"token-123\"",
            ],
        );

        let html = pages.render(
            LayoutContext::nobody(),
            ErrorPage {
                status: 404,
                reason: "Not Found",
                message: "there is nothing here.",
            },
        );
        assert_shows(&html, &["404 · Not Found", "There is nothing here."]);

        let html = pages.render(
            LayoutContext::nobody(),
            ForgotPasswordPage {
                form: FormState::new(ForgotPasswordValues {
                    who: "ada".to_owned(),
                }),
                sends_mail: true,
            },
        );
        assert_shows(&html, &["action=\"/password/forgot\"", "value=\"ada\""]);
        let html = pages.render(LayoutContext::nobody(), ForgotPasswordPage::default());
        assert_shows(&html, &["id=\"no-mail\""]);

        let html = pages.render(
            LayoutContext::nobody(),
            ResetPasswordPage {
                form: FormState::new(ResetPasswordValues {
                    token: "tok-en".to_owned(),
                }),
                valid: true,
            },
        );
        assert_shows(&html, &["name=\"token\" value=\"tok-en\"", "new-password"]);
        let html = pages.render(LayoutContext::nobody(), ResetPasswordPage::default());
        assert_shows(&html, &["id=\"link-invalid\""]);

        // Mail: the text part is not HTML-escaped, the HTML part is.
        let mail = crate::web::mail::MailContext {
            site: "https://portfolio.test",
            fields: crate::web::mail::PasswordResetMail {
                name: "Ada & Co".to_owned(),
                uid: "ada".to_owned(),
                link: "https://portfolio.test/password/reset?token=abc".to_owned(),
            },
        };
        let context = Context::from_serialize(&mail).unwrap();
        let text = pages
            .tera
            .render("mail/text/password_reset", &context)
            .unwrap();
        assert_shows(
            &text,
            &[
                "Hello Ada & Co,",
                "https://portfolio.test/password/reset?token=abc",
            ],
        );
        let html = pages
            .tera
            .render("mail/html/password_reset", &context)
            .unwrap();
        assert_shows(&html, &["Hello Ada &amp; Co,", "token=abc"]);
        pages.rendered.insert("mail/text/password_reset");
        pages.rendered.insert("mail/html/password_reset");

        let mail = crate::web::mail::MailContext {
            site: "https://portfolio.test",
            fields: crate::web::mail::VerifyEmailMail {
                name: "Ada".to_owned(),
                email: "ada@example.org".to_owned(),
                link: "https://portfolio.test/email/verify?token=xyz".to_owned(),
            },
        };
        let context = Context::from_serialize(&mail).unwrap();
        for kind in ["text", "html"] {
            let body = pages
                .tera
                .render(&format!("mail/{kind}/verify_email"), &context)
                .unwrap();
            assert_shows(&body, &["ada@example.org", "verify?token=xyz"]);
        }
        pages.rendered.insert("mail/text/verify_email");
        pages.rendered.insert("mail/html/verify_email");

        let html = pages.render(
            LayoutContext::nobody(),
            VerifyEmailPage {
                verified: Some("ada@example.org".to_owned()),
            },
        );
        assert_shows(&html, &["id=\"email-now-verified\"", "ada@example.org"]);
        let html = pages.render(LayoutContext::nobody(), VerifyEmailPage::default());
        assert_shows(&html, &["id=\"link-invalid\""]);

        let page = |enabled, setup, recovery_codes| TwoFactorPage {
            user: UserRef {
                id: 5,
                uid: "ada".to_owned(),
            },
            enabled,
            setup,
            recovery_codes,
            form: FormState::default(),
        };
        let html = pages.render(admin(), page(false, None, Vec::new()));
        assert_shows(&html, &["action=\"/users/5/two-factor/begin\""]);
        let setup = TwoFactorSetup {
            qr_svg: "<svg id=\"qr\"></svg>".to_owned(),
            secret: "JBSWY3DPEHPK3PXP".to_owned(),
        };
        let html = pages.render(admin(), page(false, Some(setup), Vec::new()));
        assert_shows(
            &html,
            &[
                "<svg id=\"qr\"></svg>",
                "JBSWY3DPEHPK3PXP",
                "two-factor/confirm",
            ],
        );
        let html = pages.render(admin(), page(true, None, vec!["abcde-12345".to_owned()]));
        assert_shows(&html, &["abcde-12345", "id=\"recovery-codes\""]);
        let html = pages.render(admin(), page(true, None, Vec::new()));
        assert_shows(&html, &["two-factor/disable"]);
        let html = pages.render(
            LayoutContext::nobody(),
            LogInCodePage {
                form: FormState::new(LogInCodeValues {
                    challenge: "chal-lenge".to_owned(),
                    next: Some("/tokens".to_owned()),
                }),
            },
        );
        assert_shows(&html, &["value=\"chal-lenge\"", "action=\"/login/code\""]);

        // `api_docs` has its context worked out from the OpenAPI document
        // (its test is in `crate::web::api::openapi`); every other page
        // template is covered here.
        pages.rendered.insert("api_docs");
        let all: BTreeSet<&str> = pages
            .tera
            .get_template_names()
            .filter(|name| !matches!(*name, "base" | "macros"))
            .collect();
        assert_eq!(pages.rendered, all);
    }
}
