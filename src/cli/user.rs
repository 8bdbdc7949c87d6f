//! `portfolio user …`: accounts from the command line.

use std::io::Write;

use super::{open_existing, read_password, Failure, Outcome};
use crate::db;
use crate::domain::fields::Password;
use crate::domain::password;
use crate::domain::user::SignUp;
use crate::domain::{Role, User};

/// `user create`: an account, its password asked for.
pub fn create(
    url: &str,
    uid: String,
    name: String,
    email: Option<String>,
    admin: bool,
    out: &mut dyn Write,
) -> Outcome {
    // Asked before the database is opened: on PostgreSQL, `prepare`
    // holds the start-up lock, which a server starting meanwhile
    // would wait for.
    let raw = read_password()?;
    let (mut conn, _claim) = db::prepare(url)?;
    let form = SignUp {
        uid,
        name,
        email,
        password: raw,
        dob: None,
        // Whoever runs the command administers the server: no invite.
        invite: None,
    };
    let mut new = form.validate()?;
    if admin {
        new.role = Role::Admin;
    }
    let hash = password::hash_blocking(&new.password)?;
    let user = User::create(&mut conn, &new, &hash)?;
    writeln!(
        out,
        "created {} {} (id {})",
        user.role.as_str(),
        user.uid,
        user.id
    )?;
    Ok(())
}

/// `user set-password UID`: a new password; the account's sessions end.
pub fn set_password(url: &str, uid: &str, out: &mut dyn Write) -> Outcome {
    let (mut conn, _claim) = open_existing(url)?;
    let user = User::find_by_uid(&mut conn, uid)?
        .ok_or_else(|| Failure::refused(format!("there is no user {uid}")))?;
    let raw = read_password()?;
    let password =
        Password::parse(&raw, &user.uid, &user.name).map_err(|e| Failure::step("password", e))?;
    let hash = password::hash_blocking(&password)?;
    let changes = crate::domain::UserChanges {
        password_hash: Some(hash),
        updated_at: crate::domain::now(),
        ..Default::default()
    };
    User::update(&mut conn, user.id, &changes, None)?;
    writeln!(
        out,
        "set the password of {} and ended its sessions",
        user.uid
    )?;
    Ok(())
}

/// `user reset-link UID`: a one-time link to choose a new password, for an
/// admin to pass on (when the server sends no mail, say). Replaces any
/// link sent before.
pub fn reset_link(
    figment: &rocket::figment::Figment,
    url: &str,
    uid: &str,
    out: &mut dyn Write,
) -> Outcome {
    let settings = crate::config::Settings::from_figment(figment)?;
    let (mut conn, _claim) = open_existing(url)?;
    let user = User::find_by_uid(&mut conn, uid)?
        .ok_or_else(|| Failure::refused(format!("there is no user {uid}")))?;
    let token = crate::domain::password_reset::issue(&mut conn, user.id)?;
    print_link(&settings, &format!("/password/reset?token={token}"), out)?;
    writeln!(
        out,
        "The link works once, for an hour, for {}; a newer one replaces it.",
        user.uid
    )?;
    Ok(())
}

/// `invite create --days N`: a link with which one person can sign up.
pub fn invite(
    figment: &rocket::figment::Figment,
    url: &str,
    days: u32,
    out: &mut dyn Write,
) -> Outcome {
    let settings = crate::config::Settings::from_figment(figment)?;
    let (mut conn, _claim) = open_existing(url)?;
    let (made, token) = crate::domain::invite::create(&mut conn, None, days)?;
    print_link(&settings, &crate::domain::invite::path(&token), out)?;
    writeln!(
        out,
        "Invite {} works for one sign-up until {} UTC.",
        made.id,
        made.expires_at.format("%Y-%m-%d %H:%M")
    )?;
    if settings.registration != crate::config::Registration::Invite {
        writeln!(
            out,
            "(registration is not \"invite\" now: the site does not ask for it)"
        )?;
    }
    Ok(())
}

/// Prints the link to `path` on the site's `public_url`, or the path and
/// how to complete it.
fn print_link(settings: &crate::config::Settings, path: &str, out: &mut dyn Write) -> Outcome {
    match settings.public_url {
        Some(_) => writeln!(out, "{}", settings.link_to(path))?,
        None => writeln!(
            out,
            "{path}\n(set public_url to print the whole address; until then, put the site's address in front)"
        )?,
    }
    Ok(())
}

/// `user reset-2fa UID`: two-factor login off, its recovery codes and
/// half-done logins gone; the password stays.
pub fn reset_two_factor(url: &str, uid: &str, out: &mut dyn Write) -> Outcome {
    let (mut conn, _claim) = open_existing(url)?;
    let user = User::find_by_uid(&mut conn, uid)?
        .ok_or_else(|| Failure::refused(format!("there is no user {uid}")))?;
    let was_on = crate::domain::two_factor::is_enabled(&mut conn, user.id)?;
    crate::db::write_transaction(&mut conn, |conn| {
        crate::domain::two_factor::remove(conn, user.id)
    })?;
    if was_on {
        writeln!(out, "turned two-factor login off for {}", user.uid)?;
    } else {
        writeln!(out, "{} had no two-factor login; nothing changed", user.uid)?;
    }
    Ok(())
}
