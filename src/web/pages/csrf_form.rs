//! CSRF protection by construction: a page handler that changes anything
//! takes its form as [`CsrfForm<T>`], and the form's token is checked
//! against the browser's before the handler runs. There is no line for a
//! handler to forget; a form route that takes a plain `Form<T>` instead is
//! caught by the test that walks every mounted form route
//! (`tests/app/csrf.rs`).

use std::ops::Deref;

use rocket::data::{self, Data, FromData};
use rocket::form::{self, DataField, Form, FromForm, Options, ValueField};
use rocket::http::Status;
use rocket::outcome::try_outcome;
use rocket::Request;

use crate::web::csrf;

/// A form of `T`'s fields whose CSRF token (the field
/// [`csrf::FIELD_NAME`]) matched the browser's. A missing or wrong token is
/// a 403 page that says why, and the handler does not run.
pub struct CsrfForm<T>(T);

impl<T> Deref for CsrfForm<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> CsrfForm<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// A form with no fields but its token (log out, confirmations): whatever
/// else is sent is ignored.
pub struct Confirmation;

#[rocket::async_trait]
impl<'r> FromForm<'r> for Confirmation {
    type Context = ();

    fn init(_: Options) -> Self::Context {}

    fn push_value(_: &mut Self::Context, _: ValueField<'r>) {}

    async fn push_data(_: &mut Self::Context, _: DataField<'r, '_>) {}

    fn finalize(_: Self::Context) -> form::Result<'r, Self> {
        Ok(Confirmation)
    }
}

/// Set on the request when its form was refused for its token, so that the
/// error page can say so ([`refused_for_token`]).
struct RefusedForToken(bool);

/// Whether `request`'s form was refused for its CSRF token.
pub fn refused_for_token(request: &Request<'_>) -> bool {
    request.local_cache(|| RefusedForToken(false)).0
}

#[rocket::async_trait]
impl<'r, T: FromForm<'r>> FromData<'r> for CsrfForm<T> {
    type Error = form::Errors<'r>;

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let WithToken { form, token } =
            try_outcome!(Form::<WithToken<T>>::from_data(request, data).await).into_inner();
        // The token first: a forged request is a 403 whatever its fields.
        if csrf::verify(request.cookies(), token.unwrap_or_default()).is_err() {
            request.local_cache(|| RefusedForToken(true));
            return data::Outcome::Error((Status::Forbidden, form::Errors::new()));
        }
        match form {
            Ok(form) => data::Outcome::Success(CsrfForm(form)),
            Err(errors) => data::Outcome::Error((errors.status(), errors)),
        }
    }
}

/// `T`'s fields and the token beside them: the token field is taken out
/// here, every other field goes to `T` as it would in a `Form<T>`. `T`'s
/// own errors wait until the token is checked.
struct WithToken<'r, T> {
    form: form::Result<'r, T>,
    token: Option<&'r str>,
}

struct WithTokenContext<'r, T: FromForm<'r>> {
    form: T::Context,
    token: Option<&'r str>,
}

#[rocket::async_trait]
impl<'r, T: FromForm<'r>> FromForm<'r> for WithToken<'r, T> {
    type Context = WithTokenContext<'r, T>;

    fn init(options: Options) -> Self::Context {
        WithTokenContext {
            form: T::init(options),
            token: None,
        }
    }

    fn push_value(context: &mut Self::Context, field: ValueField<'r>) {
        if field.name.source().as_str() == csrf::FIELD_NAME {
            context.token = Some(field.value);
        } else {
            T::push_value(&mut context.form, field);
        }
    }

    async fn push_data(context: &mut Self::Context, field: DataField<'r, '_>) {
        // A file is never the token: it goes to `T`, which may want it.
        T::push_data(&mut context.form, field).await;
    }

    fn push_error(context: &mut Self::Context, error: form::Error<'r>) {
        T::push_error(&mut context.form, error);
    }

    fn finalize(context: Self::Context) -> form::Result<'r, Self> {
        Ok(WithToken {
            form: T::finalize(context.form),
            token: context.token,
        })
    }
}
