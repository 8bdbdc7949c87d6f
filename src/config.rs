//! Settings, read from the same figment as Rocket's own configuration:
//! built-in defaults, then `Rocket.toml` (`ROCKET_CONFIG` names another
//! file), then `ROCKET_*` environment variables, for the profile selected by
//! `ROCKET_PROFILE` (`debug` or `release` by default, as the build).

use rocket::figment::providers::{Env, Format, Serialized, Toml};
use rocket::figment::value::magic::RelativePathBuf;
use rocket::figment::{Figment, Profile};
use serde::{Deserialize, Serialize};

/// Where the database lives unless configured otherwise: in the volume folder
/// that the container mounts.
pub const DEFAULT_DATABASE_URL: &str = "volumes/portfolio.db";
pub const DEFAULT_PORT: u16 = 8086;

/// The configuration key of our one database.
pub const DATABASE_URL_KEY: &str = "databases.portfolio.url";

/// Rocket's figment with our defaults slotted in under `Rocket.toml` and the
/// environment, so the binary works with no `Rocket.toml` at all.
pub fn figment() -> Figment {
    Figment::from(rocket::Config::default())
        .merge(Serialized::defaults(Defaults::default()))
        .merge(Toml::file(Env::var_or("ROCKET_CONFIG", "Rocket.toml")).nested())
        .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global())
        .select(Profile::from_env_or(
            "ROCKET_PROFILE",
            rocket::Config::DEFAULT_PROFILE,
        ))
}

#[derive(Serialize)]
struct Defaults {
    port: u16,
    databases: serde_json::Value,
    limits: serde_json::Value,
    seed: bool,
    /// Rocket's release default is "critical", which would hide the
    /// one-line-per-request log; keep it everywhere unless configured.
    log_level: &'static str,
    /// Rocket trusts `X-Real-IP` by default; a client could then pick its
    /// own address and dodge the per-address login throttle. Only a proxy
    /// that sets the header should be trusted: configure `ip_header` then.
    ip_header: bool,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            port: DEFAULT_PORT,
            databases: serde_json::json!({ "portfolio": { "url": DEFAULT_DATABASE_URL } }),
            limits: serde_json::json!({ "json": "1 MiB", "form": "256 KiB" }),
            seed: true,
            log_level: "normal",
            ip_header: false,
        }
    }
}

/// `url` fit to print: a PostgreSQL URL's password (before the last `@`,
/// whatever characters it holds) and any `password=` parameter become
/// `***`, so that logs and messages never carry them.
pub fn redacted(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let mut shown = url.to_owned();
    if let Some(at) = url[scheme_end..].rfind('@').map(|i| scheme_end + i) {
        if let Some(colon) = url[scheme_end..at].find(':').map(|i| scheme_end + i) {
            shown = format!("{}:***{}", &url[..colon], &url[at..]);
        }
    }
    if let Some(query) = shown.find('?') {
        let (base, params) = shown.split_at(query + 1);
        let params: Vec<String> = params
            .split('&')
            .map(|param| match param.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => param.to_owned(),
            })
            .collect();
        shown = format!("{base}{}", params.join("&"));
    }
    shown
}

/// An SMTP server's URL, which may hold a password: shown only redacted
/// (its `Debug`, every log line and error message use [`redacted`]).
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct SmtpUrl(String);

impl SmtpUrl {
    /// The URL itself, password and all: for the mail transport only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", redacted(&self.0))
    }
}

/// Who may sign up (`registration`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Registration {
    /// Anyone.
    #[default]
    Open,
    /// Only with a valid invite, made by an admin.
    Invite,
    /// Nobody: admins create accounts (API, CLI).
    Closed,
}

/// portfolio's own settings (Rocket reads its own from the same figment).
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Fill an empty database with demo users and posts at start-up.
    #[serde(default = "default_true")]
    pub seed: bool,
    /// Mark the session cookie `Secure` (set when served over HTTPS).
    #[serde(default)]
    pub secure_cookies: bool,
    /// How long a login lasts.
    #[serde(default = "default_session_days")]
    pub session_days: u32,
    /// A folder whose `templates/` and `static/` files replace the built-in
    /// ones of the same name (see [`crate::web::assets`]); relative to
    /// `Rocket.toml`'s folder when set there. Unset: the built-in look.
    #[serde(default)]
    pub theme_dir: Option<RelativePathBuf>,
    /// The folder for data: the database by default, and uploads. Created at
    /// start-up if missing; mount it as a volume and back it up whole.
    #[serde(default = "default_volume_dir")]
    pub volume_dir: RelativePathBuf,
    /// Failed logins allowed per account, and per client address, within
    /// `login_window_secs`; then 429 until the oldest failure expires.
    #[serde(default = "default_login_attempts")]
    pub login_attempts: usize,
    #[serde(default = "default_login_window_secs")]
    pub login_window_secs: u64,
    /// Password hashes computed at once (each takes ~19 MiB and a core for
    /// tens of milliseconds); more wait their turn. Default: the cores.
    #[serde(default)]
    pub hash_concurrency: Option<usize>,
    /// The largest post image accepted, in bytes (5 MiB by default). Rocket's
    /// `file` and `data-form` limits follow it.
    #[serde(default = "default_max_image_bytes")]
    pub max_image_bytes: u64,
    /// How often "trending this week" is ranked anew, in seconds: views
    /// reach it up to this late (ranking sums the week's view rows, which
    /// no request should wait for).
    #[serde(default = "default_trending_refresh_secs")]
    pub trending_refresh_secs: u64,
    /// The SMTP server outgoing mail goes through (see `mail`): password
    /// resets and email verification need it. Unset: no mail is sent, and
    /// those features say so.
    #[serde(default)]
    pub smtp_url: Option<SmtpUrl>,
    /// Who mail comes from: `portfolio <noreply@example.org>`.
    #[serde(default)]
    pub mail_from: Option<String>,
    /// The site's address as people reach it (`https://example.org`), for
    /// the links in mail, feeds, link previews, the sitemap and robots.txt;
    /// needed with `smtp_url` (never taken from a request's `Host`, which a
    /// client chooses). Unset: those links point at `http://localhost`, and
    /// a warning says so at start-up.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Who may sign up: anyone (`open`), people with an admin's invite
    /// (`invite`), or nobody (`closed`: admins create accounts).
    #[serde(default)]
    pub registration: Registration,
    /// Only accounts with a verified email address may write posts (the
    /// pages say why and offer to send the link again).
    #[serde(default)]
    pub require_verified_email: bool,
    /// How many times a message is tried before it is marked failed.
    #[serde(default = "default_mail_attempts")]
    pub mail_attempts: u32,
    /// The wait after the first failed try, in seconds; it doubles after
    /// each one (up to an hour).
    #[serde(default = "default_mail_retry_secs")]
    pub mail_retry_secs: u64,
    /// How many ids one sitemap file covers (at most 50,000, the sitemap
    /// protocol's limit of URLs a file): smaller files cost less each.
    #[serde(default = "default_sitemap_chunk")]
    pub sitemap_chunk: u32,
    /// How often the server backs the SQLite database up into
    /// `<volume_dir>/backups/` (`"6h"`, `"30m"`, `"1d"`); unset: never.
    /// Refused on PostgreSQL, which has its own tools.
    #[serde(default)]
    pub backup_every: Option<Interval>,
    /// How many of those backups are kept (the newest; at least 1).
    #[serde(default = "default_backup_keep")]
    pub backup_keep: usize,
    /// Serves `GET /metrics` (Prometheus) on the site's own address, to
    /// requests bearing this token (`Authorization: Bearer …`). Unset and
    /// without `metrics_address`: no metrics are served.
    #[serde(default)]
    pub metrics_token: Option<MetricsToken>,
    /// Serves `GET /metrics` on this address of its own (`127.0.0.1:9100`),
    /// without a token: for a Prometheus on the same machine or network.
    #[serde(default)]
    pub metrics_address: Option<std::net::SocketAddr>,
}

/// The metrics' bearer token: never shown (its `Debug` is `***`).
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct MetricsToken(String);

impl MetricsToken {
    /// Whether `presented` is the token, in time that does not depend on
    /// where they first differ (both are hashed first).
    pub fn matches(&self, presented: &str) -> bool {
        use sha2::{Digest, Sha256};
        Sha256::digest(self.0.as_bytes()) == Sha256::digest(presented.as_bytes())
    }

    pub fn is_usable(&self) -> bool {
        self.0.trim().len() >= 16
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

fn default_backup_keep() -> usize {
    14
}

/// A length of time written as a whole number and a unit: `s`, `m`, `h`
/// or `d` (`"90s"`, `"30m"`, `"6h"`, `"1d"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Interval(std::time::Duration);

impl Interval {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let unit_at = text
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| format!("{text:?} needs a unit: s, m, h or d (e.g. \"6h\")"))?;
        let (number, unit) = text.split_at(unit_at);
        let number: u64 = number
            .parse()
            .map_err(|_| format!("{text:?} must start with a whole number (e.g. \"6h\")"))?;
        let seconds = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return Err(format!("{text:?}: the unit must be s, m, h or d")),
        };
        match number.checked_mul(seconds) {
            Some(0) => Err(format!("{text:?} must be longer than nothing")),
            // Ten years: anything longer is a typo, and would overflow times.
            Some(total) if total <= 10 * 365 * 86_400 => {
                Ok(Interval(std::time::Duration::from_secs(total)))
            }
            _ => Err(format!("{text:?} is longer than ten years")),
        }
    }

    pub fn duration(self) -> std::time::Duration {
        self.0
    }
}

impl TryFrom<String> for Interval {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        Interval::parse(&text)
    }
}

fn default_sitemap_chunk() -> u32 {
    10_000
}

fn default_mail_attempts() -> u32 {
    8
}

fn default_mail_retry_secs() -> u64 {
    30
}

fn default_trending_refresh_secs() -> u64 {
    10
}

fn default_max_image_bytes() -> u64 {
    5 << 20
}

fn default_login_attempts() -> usize {
    5
}

fn default_login_window_secs() -> u64 {
    15 * 60
}

impl Default for Settings {
    fn default() -> Self {
        // The serde defaults, in one place.
        serde_json::from_str("{}").expect("every setting has a default")
    }
}

fn default_volume_dir() -> RelativePathBuf {
    RelativePathBuf::from("volumes")
}

fn default_true() -> bool {
    true
}

fn default_session_days() -> u32 {
    14
}

impl Settings {
    /// `path` (which starts with `/`) on the site's `public_url`; the path
    /// alone without one.
    pub fn link_to(&self, path: &str) -> String {
        let site = self.public_url.as_deref().unwrap_or("");
        format!("{}{path}", site.trim_end_matches('/'))
    }

    pub fn from_figment(figment: &Figment) -> Result<Self, Box<rocket::figment::Error>> {
        figment.extract().map_err(Box::new)
    }
}

/// The database URL (a file path) configured for the `portfolio` database.
pub fn database_url(figment: &Figment) -> Result<String, Box<rocket::figment::Error>> {
    figment.extract_inner(DATABASE_URL_KEY).map_err(Box::new)
}

/// Outside the debug profile, refuse to run with a key Rocket would make up
/// at random: sessions would die at every restart and differ between
/// instances. (Rocket refuses too, but only after the start-up fairings
/// have migrated and seeded, and without saying how to make a key.)
pub fn require_secret_key(figment: &Figment) -> Result<(), String> {
    let config =
        rocket::Config::try_from(figment).map_err(|e| format!("bad configuration: {e}"))?;
    if config.profile != rocket::Config::DEBUG_PROFILE && !config.secret_key.is_provided() {
        return Err(format!(
            "no secret key is configured for the {} profile: set ROCKET_SECRET_KEY \
             (or `secret_key` in Rocket.toml) to a 256-bit base64 key, made for \
             instance with `openssl rand -base64 32`",
            config.profile
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{redacted, Interval};
    use std::time::Duration;

    #[test]
    fn an_interval_is_a_number_and_a_unit() {
        let secs = |t: &str| Interval::parse(t).map(|i| i.duration());
        assert_eq!(secs("6h"), Ok(Duration::from_secs(6 * 3600)));
        assert_eq!(secs("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(secs("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(secs(" 90s "), Ok(Duration::from_secs(90)));
        for bad in [
            "",
            "6",
            "h",
            "6x",
            "6 h",
            "-1h",
            "0h",
            "1.5h",
            "4000d",
            "99999999999999999d",
        ] {
            assert!(secs(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_password_in_a_url_is_never_printed() {
        assert_eq!(
            redacted("postgres://portfolio:s3cret@db:5432/portfolio?sslmode=require"),
            "postgres://portfolio:***@db:5432/portfolio?sslmode=require"
        );
        assert_eq!(
            redacted("postgresql://user:p@ss:word@host/db"),
            "postgresql://user:***@host/db"
        );
        assert_eq!(
            redacted("postgres://user@host/db"),
            "postgres://user@host/db"
        );
        assert_eq!(redacted("volumes/portfolio.db"), "volumes/portfolio.db");
    }
}
