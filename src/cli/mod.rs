//! The command line: `portfolio [serve]` runs the server; the other
//! subcommands look after the database and accounts. Every one reads the
//! same configuration as the server (`Rocket.toml`, `ROCKET_*` variables).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config;
use crate::db::{self, DbConnection};
use crate::domain::error::AppError;

mod backup;
mod database;
mod healthcheck;
pub mod run_as;
mod user;

#[derive(Debug, Parser)]
#[command(
    name = "portfolio",
    version,
    about = "People and their posts: a web app over one SQLite file."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default).
    Serve,
    /// Migrate, inspect, roll back or seed the database.
    #[command(subcommand)]
    Db(DbCommand),
    /// Create accounts and set passwords.
    #[command(subcommand)]
    User(UserCommand),
    /// Make invitations to sign up (for `registration = "invite"`).
    #[command(subcommand)]
    Invite(InviteCommand),
    /// Write a consistent copy of the database to FILE, while the server keeps serving;
    /// or, with --list, show the scheduled backups (`backup_every`).
    Backup {
        /// Where to write the copy (must not exist yet).
        #[arg(required_unless_present = "list", conflicts_with = "list")]
        file: Option<PathBuf>,
        /// List the scheduled backups in the volume folder's `backups/`, newest first.
        #[arg(long)]
        list: bool,
    },
    /// Replace the database with a backup (stop the server first).
    Restore {
        /// A file written by `portfolio backup`, or the name of a scheduled
        /// backup as `backup --list` shows it.
        file: PathBuf,
    },
    /// Exit 0 when the running server's /health answers OK (for Docker's HEALTHCHECK).
    Healthcheck,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply pending migrations.
    Migrate,
    /// List applied and pending migrations.
    Status,
    /// Undo the most recent migrations.
    Rollback {
        /// How many migrations to undo.
        #[arg(long, default_value_t = 1)]
        steps: usize,
    },
    /// Fill an empty database with the demo users and posts.
    Seed,
    /// Write every row of the database to FILE (JSON), to import elsewhere.
    Export {
        /// Where to write (must not exist yet).
        file: PathBuf,
    },
    /// Read FILE (from `db export`) into this database, which must be empty:
    /// how a SQLite portfolio moves to PostgreSQL. Copy the uploads folder too.
    Import {
        /// A file written by `portfolio db export`.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is asked for (or read from standard input when it is not a terminal).
    Create {
        #[arg(long)]
        uid: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: Option<String>,
        /// Make the account an admin.
        #[arg(long)]
        admin: bool,
    },
    /// Set an account's password (asked for, or read from standard input) and end its sessions.
    SetPassword {
        /// The account's user name.
        uid: String,
    },
    /// Print a one-time link (for an hour) with which the account's owner sets a new password.
    ResetLink {
        /// The account's user name.
        uid: String,
    },
    /// Turn two-factor login off for an account whose owner lost the phone and the recovery codes.
    #[command(name = "reset-2fa")]
    Reset2fa {
        /// The account's user name.
        uid: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum InviteCommand {
    /// Print a link with which one person can sign up.
    Create {
        /// How many days the link works (1 to 90).
        #[arg(long, default_value_t = crate::domain::invite::DEFAULT_DAYS)]
        days: u32,
    },
}

/// Why a command failed. Its `Display` is the message for the person who
/// ran it; the error it came from stays attached as its `source()`.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The command will not do what was asked: no such account, a file in
    /// the way, the wrong backend for it.
    #[error("{0}")]
    Refused(String),
    /// A step went wrong: what it was, and why.
    #[error("{step}: {cause}")]
    Step {
        step: String,
        #[source]
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(transparent)]
    Settings(#[from] Box<rocket::figment::Error>),
    #[error(transparent)]
    Setup(#[from] db::SetupError),
    #[error(transparent)]
    Lock(#[from] db::LockError),
    #[error(transparent)]
    Connect(#[from] diesel::ConnectionError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    /// A rule of the domain, with its per-field messages.
    #[error("{}", describe(.0))]
    Domain(#[from] AppError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl Failure {
    pub(super) fn refused(message: impl Into<String>) -> Self {
        Failure::Refused(message.into())
    }

    /// `step` failed because of `cause`.
    pub(super) fn step(
        step: impl Into<String>,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Failure::Step {
            step: step.into(),
            cause: cause.into(),
        }
    }
}

pub(super) type Outcome = Result<(), Failure>;

/// Runs a maintenance command (everything but `serve`), printing its report.
pub fn run(command: Command, out: &mut dyn Write) -> Outcome {
    let figment = config::figment();
    let url = config::database_url(&figment)?;
    match command {
        Command::Serve => Err(Failure::refused("`serve` is run by main")),
        Command::Db(DbCommand::Migrate) => database::migrate(&url, out),
        Command::Db(DbCommand::Status) => database::status(&url, out),
        Command::Db(DbCommand::Rollback { steps }) => database::rollback(&url, steps, out),
        Command::Db(DbCommand::Seed) => database::seed(&figment, &url, out),
        Command::Db(DbCommand::Export { file }) => database::export(&url, &file, out),
        Command::Db(DbCommand::Import { file }) => database::import(&url, &file, out),
        Command::User(UserCommand::Create {
            uid,
            name,
            email,
            admin,
        }) => user::create(&url, uid, name, email, admin, out),
        Command::User(UserCommand::SetPassword { uid }) => user::set_password(&url, &uid, out),
        Command::User(UserCommand::Reset2fa { uid }) => user::reset_two_factor(&url, &uid, out),
        Command::User(UserCommand::ResetLink { uid }) => {
            user::reset_link(&figment, &url, &uid, out)
        }
        Command::Invite(InviteCommand::Create { days }) => user::invite(&figment, &url, days, out),
        Command::Backup { list: true, .. } => backup::list(&scheduled_backups(&figment)?, out),
        Command::Backup {
            file: Some(file), ..
        } => backup::backup(&url, &file, out),
        Command::Backup { file: None, .. } => Err(Failure::refused("name a FILE, or --list")),
        Command::Restore { file } => {
            let source = backup::resolve(&scheduled_backups(&figment)?, &file)?;
            backup::restore(&url, &source, out)
        }
        Command::Healthcheck => healthcheck::healthcheck(&figment, out),
    }
}

/// Before any command, in the container: stop being root (see [`run_as`]).
/// A bad configuration is left for the command to report.
pub fn prepare_process(err: &mut dyn Write) -> Result<(), String> {
    let Ok(settings) = config::Settings::from_figment(&config::figment()) else {
        return Ok(());
    };
    if let Some(note) = run_as::become_volume_owner(&settings.volume_dir.relative())? {
        let _ = writeln!(err, "portfolio: {note}");
    }
    Ok(())
}

/// Before serving: the folders the server writes to are writable, else one
/// line that says which, who owns it and what to run (see
/// [`db::check_writable`]). A bad configuration (a missing secret key
/// too) is left for the server to report, before anything is written.
pub fn check_folders() -> Result<(), String> {
    let figment = config::figment();
    let (Ok(settings), Ok(url), Ok(())) = (
        config::Settings::from_figment(&figment),
        config::database_url(&figment),
        // A missing secret key is refused first, before anything is written.
        config::require_secret_key(&figment),
    ) else {
        return Ok(());
    };
    db::check_writable(&settings.volume_dir.relative(), &url).map_err(|e| e.to_string())
}

/// The folder the server's scheduled backups go to.
fn scheduled_backups(
    figment: &rocket::figment::Figment,
) -> Result<crate::domain::backups::BackupFolder, Failure> {
    let settings = config::Settings::from_figment(figment)?;
    Ok(crate::domain::backups::BackupFolder::in_volume(
        &settings.volume_dir.relative(),
    ))
}

/// An error with its per-field messages, for a terminal.
fn describe(error: &AppError) -> String {
    match error {
        AppError::Validation { fields, .. } | AppError::Conflict { fields, .. }
            if !fields.is_empty() =>
        {
            let details: Vec<String> = fields
                .iter()
                .map(|(field, message)| format!("{field} {message}"))
                .collect();
            details.join("; ")
        }
        AppError::Internal(cause) => crate::domain::error::chain(cause.as_ref()),
        _ => error.to_string(),
    }
}

/// Opens a database that must already exist (inspecting a path that does
/// not should not create an empty database there), with the shared claim
/// that keeps `restore` from swapping it meanwhile.
pub(super) fn open_existing(url: &str) -> Result<(DbConnection, Option<db::ServerLock>), Failure> {
    if db::Backend::of_url(url) == db::Backend::Postgres {
        return Ok((db::establish(url)?, None));
    }
    let file = db::file_of(url)
        .ok_or_else(|| Failure::refused(format!("{url} is not a database file")))?;
    if !file.is_file() {
        return Err(Failure::refused(format!(
            "there is no database at {}: start the server or run `portfolio db migrate` first",
            file.display()
        )));
    }
    let claim = db::lock_shared(url)?;
    Ok((db::establish(url)?, claim))
}

/// `backup` and `restore` copy SQLite files; PostgreSQL has its own tools.
pub(super) fn require_sqlite(url: &str, command: &str) -> Outcome {
    match db::Backend::of_url(url) {
        db::Backend::Sqlite => Ok(()),
        db::Backend::Postgres => Err(Failure::refused(format!(
            "`portfolio {command}` {}",
            db::SQLITE_ONLY.trim_start_matches("this ")
        ))),
    }
}

/// The password, from a prompt (typed twice, not echoed) on a terminal, or
/// the first line of standard input otherwise. Never from an argument,
/// where it would show in the shell history and the process list.
pub(super) fn read_password() -> Result<String, Failure> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password again: ")?;
        if first != again {
            return Err(Failure::refused("the passwords do not match"));
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let password = line.trim_end_matches(['\r', '\n']).to_owned();
        if password.is_empty() {
            return Err(Failure::refused("no password on standard input"));
        }
        Ok(password)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_step_says_what_and_why_and_keeps_its_cause() {
        let cause = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "read-only");
        let failure = Failure::step("cannot write backup.db", cause);
        assert_eq!(failure.to_string(), "cannot write backup.db: read-only");
        let source = std::error::Error::source(&failure).expect("the cause is kept");
        let io = source.downcast_ref::<std::io::Error>().expect("as itself");
        assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
    }

    #[test]
    fn a_broken_rule_lists_its_fields() {
        let mut fields = crate::domain::error::FieldErrors::new();
        fields.insert("uid".into(), "is already taken".into());
        fields.insert("email".into(), "is not an email address".into());
        let failure = Failure::from(AppError::invalid(fields));
        assert_eq!(
            failure.to_string(),
            "email is not an email address; uid is already taken"
        );
    }
}
