//! People: the list, a profile, editing it, the password, deleting it.

use rocket::http::uri::Origin;
use rocket::{get, post, routes, FromForm, Route, State};

use super::contexts::{
    FormState, PasswordPage, ProfileFormPage, ProfilePage, ProfileValues, UserDeletePage,
    UserListPage, UserRef,
};
use super::csrf_form::{Confirmation, CsrfForm};
use super::presenters::{PostCard, UserCard};
use super::{done, form_error, pager, refused, Layout, PageResponse, PageResult, Paging};
use crate::db::Db;
use crate::domain::accounts;
use crate::domain::error::{AppError, AppResult};
use crate::domain::images::Uploads;
use crate::domain::outbox::Outbox;
use crate::domain::post::PostFilter;
use crate::domain::user::UserPatch;
use crate::domain::CurrentUser;
use crate::domain::{Page, Post, User, UserOrder};
use crate::web::csrf;
use crate::web::mail::Composer;
use crate::web::session_cookie;

pub fn routes() -> Vec<Route> {
    routes![
        list,
        profile,
        edit_form,
        edit,
        password_form,
        change_password,
        delete_form,
        delete
    ]
}

/// `GET /users?sort&page|after|before`: everyone, with their post counts;
/// `sort=posts` puts the most prolific first.
#[get("/users?<sort>&<paging..>")]
async fn list(
    layout: Layout<'_>,
    db: Db<'_>,
    uri: &Origin<'_>,
    sort: Option<String>,
    paging: Paging,
) -> PageResult {
    let slice = paging.slice_of(Page::DEFAULT_PER_PAGE)?;
    let order = UserOrder::parse(sort.as_deref())?;
    let (window, total) = db
        .read(move |conn| User::list_with_total(conn, slice, order))
        .await?;
    let users: Vec<UserCard> = window
        .items
        .iter()
        .map(|user| UserCard::new(user, layout.viewer.as_ref()))
        .collect();
    Ok(PageResponse::Page(layout.render(UserListPage {
        users,
        sort,
        pager: pager(uri, &window, total),
    })))
}

/// `GET /users/<id>?page|after|before`: a profile and its posts.
#[get("/users/<id>?<paging..>")]
async fn profile(
    layout: Layout<'_>,
    db: Db<'_>,
    uri: &Origin<'_>,
    id: i32,
    paging: Paging,
) -> PageResult {
    let slice = paging.slice_of(10)?;
    let viewer = layout.viewer.clone();
    let (user, window, total) = db
        .read(move |conn| {
            let user = User::find(conn, id)?;
            let filter = PostFilter { author: Some(id) };
            let (window, total) = Post::list(conn, filter, viewer.as_ref(), slice)?;
            Ok::<_, AppError>((user, window, total))
        })
        .await?;
    let can_manage = layout
        .viewer
        .as_ref()
        .is_some_and(|v| user.can_be_managed_by(v));
    let posts: Vec<PostCard> = window.items.iter().map(PostCard::from).collect();
    Ok(PageResponse::Page(layout.render(ProfilePage {
        user: UserCard::new(&user, layout.viewer.as_ref()),
        can_manage,
        posts,
        pager: pager(uri, &window, total),
    })))
}

/// Loads account `id` for `actor` to manage: 403 if it is not theirs.
async fn manageable(db: &Db<'_>, actor: &CurrentUser, id: i32) -> AppResult<User> {
    let user = db.read(move |conn| User::find(conn, id)).await?;
    if !user.can_be_managed_by(&actor.user) {
        return Err(AppError::Forbidden("you can only change your own account"));
    }
    Ok(user)
}

#[derive(FromForm)]
pub struct ProfileForm {
    name: String,
    email: String,
    dob: String,
}

impl UserRef {
    fn of(user: &User) -> Self {
        UserRef {
            id: user.id,
            uid: user.uid.clone(),
        }
    }
}

/// `GET /users/<id>/edit`
#[get("/users/<id>/edit")]
async fn edit_form(actor: CurrentUser, layout: Layout<'_>, db: Db<'_>, id: i32) -> PageResult {
    let user = manageable(&db, &actor, id).await?;
    let values = ProfileValues {
        name: user.name.clone(),
        email: user.email.clone().unwrap_or_default(),
        dob: user.dob.map(|d| d.to_string()).unwrap_or_default(),
    };
    Ok(PageResponse::Page(layout.render(ProfileFormPage {
        user: UserRef::of(&user),
        form: FormState::new(values),
    })))
}

/// `POST /users/<id>/edit`: name, email and date of birth (empty clears).
#[post("/users/<id>/edit", data = "<form>")]
async fn edit(
    actor: CurrentUser,
    layout: Layout<'_>,
    db: Db<'_>,
    id: i32,
    form: CsrfForm<ProfileForm>,
    outbox: &State<Outbox>,
    composer: Composer<'_>,
) -> PageResult {
    let user = manageable(&db, &actor, id).await?;
    let patch = UserPatch {
        name: Some(form.name.clone()),
        email: Some(Some(form.email.clone())),
        dob: Some(Some(form.dob.clone())),
        ..UserPatch::default()
    };
    match accounts::update(&db, &actor, id, patch).await {
        Ok(saved) => {
            composer.verify_new_address(&db, outbox, &saved).await;
            done(format!("/users/{id}"), "Profile saved.")
        }
        Err(error) => {
            let form = form.into_inner();
            let values = ProfileValues {
                name: form.name,
                email: form.email,
                dob: form.dob,
            };
            let page = ProfileFormPage {
                user: UserRef::of(&user),
                form: FormState::new(values),
            };
            form_error(&layout, error, page)
        }
    }
}

#[derive(FromForm)]
pub struct PasswordForm {
    #[field(default = String::new())]
    current_password: String,
    password: String,
    confirm: String,
}

/// `GET /users/<id>/password`
#[get("/users/<id>/password")]
async fn password_form(actor: CurrentUser, layout: Layout<'_>, db: Db<'_>, id: i32) -> PageResult {
    let user = manageable(&db, &actor, id).await?;
    Ok(PageResponse::Page(layout.render(PasswordPage {
        user: UserRef::of(&user),
        own: actor.user.id == id,
        form: FormState::default(),
    })))
}

/// `POST /users/<id>/password`: needs the current password (unless an
/// admin resets someone else's); ends the account's other sessions.
#[post("/users/<id>/password", data = "<form>")]
async fn change_password(
    actor: CurrentUser,
    layout: Layout<'_>,
    db: Db<'_>,
    id: i32,
    form: CsrfForm<PasswordForm>,
) -> PageResult {
    let user = manageable(&db, &actor, id).await?;
    let page = PasswordPage {
        user: UserRef::of(&user),
        own: actor.user.id == id,
        form: FormState::default(),
    };
    if form.password != form.confirm {
        let error = AppError::invalid_field("confirm", "does not match the new password");
        return form_error(&layout, error, page);
    }
    let patch = UserPatch {
        password: Some(form.password.clone()),
        current_password: Some(form.current_password.clone()),
        ..UserPatch::default()
    };
    match accounts::update(&db, &actor, id, patch).await {
        Ok(_) => done(
            format!("/users/{id}"),
            "Password changed. Your other sessions were logged out.",
        ),
        Err(error) => form_error(&layout, error, page),
    }
}

/// `GET /users/<id>/delete`: asks first.
#[get("/users/<id>/delete")]
async fn delete_form(actor: CurrentUser, layout: Layout<'_>, db: Db<'_>, id: i32) -> PageResult {
    let user = manageable(&db, &actor, id).await?;
    Ok(PageResponse::Page(layout.render(UserDeletePage {
        user: UserCard::new(&user, Some(&actor.user)),
        own: actor.user.id == id,
    })))
}

/// `POST /users/<id>/delete`: deletes the account and its posts.
#[post("/users/<id>/delete", data = "<_confirmed>")]
async fn delete(
    actor: CurrentUser,
    layout: Layout<'_>,
    db: Db<'_>,
    uploads: &State<Uploads>,
    id: i32,
    _confirmed: CsrfForm<Confirmation>,
) -> PageResult {
    match accounts::delete(&db, uploads, &actor, id).await {
        Ok(()) if actor.user.id == id => {
            session_cookie::remove(layout.cookies);
            csrf::rotate(layout.cookies);
            done("/", "Your account and its posts were deleted.")
        }
        Ok(()) => done("/admin/users", "The account and its posts were deleted."),
        Err(error @ AppError::Conflict { .. }) => {
            refused(format!("/users/{id}"), error.to_string())
        }
        Err(error) => Err(error),
    }
}
