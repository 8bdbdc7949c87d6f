//! The command line: `portfolio [serve]` runs the server; the other
//! subcommands look after the database and accounts. Every one reads the
//! same configuration as the server (`Rocket.toml`, `ROCKET_*` variables).

use std::io::{BufRead, IsTerminal, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::auth::password;
use crate::config;
use crate::db::{self, DbConnection};
use crate::error::AppError;
use crate::models::fields::Password;
use crate::models::user::SignUp;
use crate::models::{Role, User};
use crate::seed;

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
    /// Write a consistent copy of the database to FILE, while the server keeps serving.
    Backup {
        /// Where to write the copy (must not exist yet).
        file: PathBuf,
    },
    /// Replace the database with the backup FILE (stop the server first).
    Restore {
        /// A file written by `portfolio backup`.
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
}

/// A command that failed, with the message for the person who ran it.
#[derive(Debug)]
pub struct Failure(pub String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure(error.to_string())
    }
}

type Outcome = Result<(), Failure>;

/// Runs a maintenance command (everything but `serve`), printing its report.
pub fn run(command: Command, out: &mut dyn Write) -> Outcome {
    let figment = config::figment();
    let url = config::database_url(&figment)?;
    let shown = db::redacted(&url);
    match command {
        Command::Serve => Err(Failure("`serve` is run by main".into())),
        Command::Db(DbCommand::Migrate) => {
            let (mut conn, _claim) = db::prepare(&url)?;
            let status = db::migration_status(&mut conn)?;
            writeln!(
                out,
                "database {shown} is up to date ({} migrations applied)",
                status.applied.len()
            )?;
            Ok(())
        }
        Command::Db(DbCommand::Status) => {
            let (mut conn, _claim) = open_existing(&url)?;
            let status = db::migration_status(&mut conn)?;
            for version in &status.applied {
                writeln!(out, "applied  {version}")?;
            }
            for version in &status.pending {
                writeln!(out, "pending  {version}")?;
            }
            for version in &status.unknown {
                writeln!(out, "unknown  {version} (applied by a newer portfolio)")?;
            }
            Ok(())
        }
        Command::Db(DbCommand::Rollback { steps }) => {
            let (mut conn, _claim) = open_existing(&url)?;
            let reverted = db::rollback(&mut conn, steps)?;
            if reverted.is_empty() {
                writeln!(out, "nothing to roll back")?;
            }
            for version in reverted {
                writeln!(out, "rolled back {version}")?;
            }
            Ok(())
        }
        Command::Db(DbCommand::Seed) => {
            let (mut conn, _claim) = db::prepare(&url)?;
            let uploads = config::Settings::from_figment(&figment)?.uploads();
            let outcome =
                seed::seed_if_empty(&mut conn, seed::admin_password_from_env(), Some(&uploads))
                    .map_err(describe)?;
            for line in seed::describe(&outcome) {
                writeln!(out, "{line}")?;
            }
            Ok(())
        }
        Command::Db(DbCommand::Export { file }) => {
            if file.exists() {
                return Err(Failure(format!(
                    "{} already exists: choose a new file",
                    file.display()
                )));
            }
            let (mut conn, _claim) = open_existing(&url)?;
            let data = crate::transfer::export(&mut conn).map_err(describe)?;
            // It holds every password hash: readable by its owner only.
            let mut output = {
                use std::os::unix::fs::OpenOptionsExt;
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&file)?
            };
            serde_json::to_writer(&mut output, &data)?;
            output.sync_all()?;
            writeln!(
                out,
                "exported {} users, {} posts, {} sessions, {} API tokens to {}",
                data.users.len(),
                data.posts.len(),
                data.sessions.len(),
                data.api_tokens.len(),
                file.display()
            )?;
            Ok(())
        }
        Command::Db(DbCommand::Import { file }) => {
            let json = std::fs::read(&file)
                .map_err(|e| Failure(format!("cannot read {}: {e}", file.display())))?;
            let data: crate::transfer::Export = serde_json::from_slice(&json)
                .map_err(|e| Failure(format!("{} is not an export: {e}", file.display())))?;
            let (mut conn, _claim) = db::prepare(&url)?;
            crate::transfer::import(&mut conn, &data).map_err(describe)?;
            writeln!(
                out,
                "imported {} users and {} posts into {shown}",
                data.users.len(),
                data.posts.len()
            )?;
            Ok(())
        }
        Command::User(UserCommand::Create {
            uid,
            name,
            email,
            admin,
        }) => {
            // Asked before the database is opened: on PostgreSQL, `prepare`
            // holds the start-up lock, which a server starting meanwhile
            // would wait for.
            let raw = read_password()?;
            let (mut conn, _claim) = db::prepare(&url)?;
            let form = SignUp {
                uid,
                name,
                email,
                password: raw,
                dob: None,
            };
            let mut new = form.validate().map_err(describe)?;
            if admin {
                new.role = Role::Admin;
            }
            let hash = password::hash_blocking(&new.password).map_err(describe)?;
            let user = User::create(&mut conn, &new, &hash).map_err(describe)?;
            writeln!(
                out,
                "created {} {} (id {})",
                user.role.as_str(),
                user.uid,
                user.id
            )?;
            Ok(())
        }
        Command::User(UserCommand::SetPassword { uid }) => {
            let (mut conn, _claim) = open_existing(&url)?;
            let user = User::find_by_uid(&mut conn, &uid)
                .map_err(describe)?
                .ok_or_else(|| Failure(format!("there is no user {uid}")))?;
            let raw = read_password()?;
            let password = Password::parse(&raw, &user.uid, &user.name)
                .map_err(|e| Failure(format!("password: {e}")))?;
            let hash = password::hash_blocking(&password).map_err(describe)?;
            let changes = crate::models::UserChanges {
                password_hash: Some(hash),
                updated_at: crate::models::now(),
                ..Default::default()
            };
            User::update(&mut conn, user.id, &changes, None).map_err(describe)?;
            writeln!(
                out,
                "set the password of {} and ended its sessions",
                user.uid
            )?;
            Ok(())
        }
        Command::Backup { file } => backup(&url, &file, out),
        Command::Restore { file } => restore(&url, &file, out),
        Command::Healthcheck => healthcheck(&figment, out),
    }
}

/// An error with its per-field messages, for a terminal.
fn describe(error: AppError) -> Failure {
    match &error {
        AppError::Validation { fields, .. } | AppError::Conflict { fields, .. }
            if !fields.is_empty() =>
        {
            let details: Vec<String> = fields
                .iter()
                .map(|(field, message)| format!("{field} {message}"))
                .collect();
            Failure(details.join("; "))
        }
        AppError::Internal(cause) => Failure(crate::error::chain(cause.as_ref())),
        _ => Failure(error.to_string()),
    }
}

/// Opens a database that must already exist (inspecting a path that does
/// not should not create an empty database there), with the shared claim
/// that keeps `restore` from swapping it meanwhile.
fn open_existing(url: &str) -> Result<(DbConnection, Option<db::ServerLock>), Failure> {
    if db::Backend::of_url(url) == db::Backend::Postgres {
        return Ok((db::establish(url)?, None));
    }
    let file = db::file_of(url).ok_or_else(|| Failure(format!("{url} is not a database file")))?;
    if !file.is_file() {
        return Err(Failure(format!(
            "there is no database at {}: start the server or run `portfolio db migrate` first",
            file.display()
        )));
    }
    let claim = db::lock_shared(url)?;
    Ok((db::establish(url)?, claim))
}

/// `backup` and `restore` copy SQLite files; PostgreSQL has its own tools.
fn require_sqlite(url: &str, command: &str) -> Outcome {
    match db::Backend::of_url(url) {
        db::Backend::Sqlite => Ok(()),
        db::Backend::Postgres => Err(Failure(format!(
            "`portfolio {command}` {}",
            db::SQLITE_ONLY.trim_start_matches("this ")
        ))),
    }
}

/// The password, from a prompt (typed twice, not echoed) on a terminal, or
/// the first line of standard input otherwise. Never from an argument,
/// where it would show in the shell history and the process list.
fn read_password() -> Result<String, Failure> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password again: ")?;
        if first != again {
            return Err(Failure("the passwords do not match".into()));
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let password = line.trim_end_matches(['\r', '\n']).to_owned();
        if password.is_empty() {
            return Err(Failure("no password on standard input".into()));
        }
        Ok(password)
    }
}

fn backup(url: &str, target: &Path, out: &mut dyn Write) -> Outcome {
    require_sqlite(url, "backup")?;
    if target.exists() {
        return Err(Failure(format!(
            "{} already exists: choose a new file",
            target.display()
        )));
    }
    let target_text = target
        .to_str()
        .ok_or_else(|| Failure("the backup path must be valid UTF-8".into()))?;
    let (mut conn, _claim) = open_existing(url)?;
    db::vacuum_into(&mut conn, target_text).map_err(|e| Failure(format!("backup failed: {e}")))?;
    // Prove the copy is sound before calling it a backup.
    let mut copy = db::establish(target_text)?;
    db::integrity_check(&mut copy).map_err(|e| Failure(format!("the backup is damaged: {e}")))?;
    let size = std::fs::metadata(target)?.len();
    writeln!(
        out,
        "backed up {url} to {} ({size} bytes)",
        target.display()
    )?;
    Ok(())
}

fn restore(url: &str, source: &Path, out: &mut dyn Write) -> Outcome {
    require_sqlite(url, "restore")?;
    let database =
        db::file_of(url).ok_or_else(|| Failure(format!("{url} is not a database file")))?;
    if !source.is_file() {
        return Err(Failure(format!("there is no file {}", source.display())));
    }
    if let Some(folder) = database.parent().filter(|f| !f.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)?;
    }
    // Held until we are done: no server can start meanwhile.
    let _lock = db::lock_exclusive(url)?;

    // Check a copy, so the backup itself is never modified.
    let mut staging = database.as_os_str().to_owned();
    staging.push(".restoring");
    let staging = PathBuf::from(staging);
    std::fs::copy(source, &staging)?;
    if let Err(problem) = check_restorable(&staging) {
        let _ = std::fs::remove_file(&staging);
        return Err(Failure(format!(
            "{} cannot be restored: {}",
            source.display(),
            problem.0
        )));
    }
    // The old database's WAL must not be replayed onto the restored file.
    for suffix in ["-wal", "-shm"] {
        let mut side = database.as_os_str().to_owned();
        side.push(suffix);
        match std::fs::remove_file(PathBuf::from(side)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    std::fs::rename(&staging, &database)?;
    writeln!(
        out,
        "restored {} from {}",
        database.display(),
        source.display()
    )?;
    Ok(())
}

/// A file is restorable when SQLite finds it sound and it is a portfolio
/// database this build knows (no migration from a newer version).
fn check_restorable(file: &Path) -> Result<(), Failure> {
    let path = file
        .to_str()
        .ok_or_else(|| Failure("the path must be valid UTF-8".into()))?;
    let mut conn = db::establish(path)?;
    db::integrity_check(&mut conn).map_err(|e| Failure(format!("integrity check failed: {e}")))?;
    db::integrity_ping(&mut conn).map_err(|_| Failure("it is not a portfolio database".into()))?;
    let status = db::migration_status(&mut conn)?;
    if let Some(unknown) = status.unknown.first() {
        return Err(Failure(format!(
            "it has migration {unknown}, from a newer portfolio"
        )));
    }
    Ok(())
}

fn healthcheck(figment: &rocket::figment::Figment, out: &mut dyn Write) -> Outcome {
    let config = rocket::Config::try_from(figment)?;
    // A server listening on every address is reachable on loopback.
    let address = if config.address.is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        config.address
    };
    let socket = SocketAddr::new(address, config.port);
    let timeout = Duration::from_secs(5);
    let mut stream = TcpStream::connect_timeout(&socket, timeout)
        .map_err(|e| Failure(format!("no server at {socket}: {e}")))?;
    stream.set_read_timeout(Some(timeout))?;
    write!(
        stream,
        "GET /health HTTP/1.1\r\nHost: {socket}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status_line = response.lines().next().unwrap_or("");
    if status_line.split(' ').nth(1) == Some("200") {
        writeln!(out, "healthy: {socket}")?;
        Ok(())
    } else {
        let body = response.split("\r\n\r\n").nth(1).unwrap_or("");
        Err(Failure(format!("unhealthy: {status_line} {body}")))
    }
}
