//! What each template reads, as types: one struct per template, holding
//! exactly the fields it reads, so that a misspelt or missing field fails
//! to compile instead of rendering a blank. [`Layout::render`] adds the
//! layout's own fields ([`LayoutContext`]) to every page.
//!
//! [`Layout::render`]: super::Layout::render

use serde::Serialize;

use super::views::{PostCard, UserCard};
use crate::domain::error::FieldErrors;

/// A page's context, and the template that reads it.
pub trait PageContext: Serialize {
    /// The template's name (`posts/show` for `templates/posts/show.html.tera`).
    const TEMPLATE: &'static str;
}

/// A page whose form may come back with problems: [`super::form_error`]
/// sets them on its [`FormState`] and renders the same context again.
pub trait FormPage: PageContext {
    type Values: Serialize;

    fn form(&mut self) -> &mut FormState<Self::Values>;
}

/// What `base` reads on every page: who is logged in, the form token, and
/// the flash message from the previous request.
#[derive(Serialize)]
pub struct LayoutContext<'a> {
    pub me: Option<Me<'a>>,
    pub csrf_token: &'a str,
    pub flash: Option<FlashContext<'a>>,
}

impl LayoutContext<'static> {
    /// A page rendered outside a request's layout (the error page): no one
    /// logged in, so no form shows the token, and no flash message.
    pub fn nobody() -> Self {
        LayoutContext {
            me: None,
            csrf_token: "",
            flash: None,
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
    pub trending: Vec<TrendingPost>,
    pub trending_days: u64,
    pub pager: Pager,
}

impl PageContext for HomePage {
    const TEMPLATE: &'static str = "home";
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
}

/// `posts/show`: the card plus its Markdown rendered to safe HTML.
#[derive(Serialize)]
pub struct PostPage {
    pub post: PostCard,
    pub html: String,
    pub can_edit: bool,
}

impl PageContext for PostPage {
    const TEMPLATE: &'static str = "posts/show";
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

/// `admin/users`
#[derive(Serialize)]
pub struct AdminUsersPage {
    pub users: Vec<UserCard>,
    pub pager: Pager,
}

impl PageContext for AdminUsersPage {
    const TEMPLATE: &'static str = "admin/users";
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
}
