//! Outgoing mail over SMTP, with lettre: a [`Mailer`] sends one [`Mail`]
//! now, or says why it could not. Queueing, retries and giving up belong to
//! the outbox (`domain::outbox`); this layer only speaks SMTP.
//!
//! The `smtp_url` setting names the server:
//! - `smtp://user:pass@host:587`: STARTTLS, required (the usual submission
//!   port);
//! - `smtps://user:pass@host:465`: TLS from the first byte;
//! - `smtp://host:25?tls=none`: no encryption at all, for a relay on the
//!   same machine or network (and the tests).
//!
//! The URL's password is never printed: see [`SmtpUrl`]'s `Debug`.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::SmtpUrl;

/// How long one delivery may take (connect, TLS, the whole dialogue).
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// One message: to one person, in plain text and HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Why a message did not go.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// `smtp_url` or `mail_from` cannot be used.
    #[error("the mail settings cannot be used: {0}")]
    Settings(String),
    /// The recipient is not an address a message can go to.
    #[error("cannot send to {to}: {reason}")]
    Address { to: String, reason: String },
    /// The server could not be reached, or did not take the message.
    #[error("the mail server did not take the message: {0}")]
    Delivery(#[from] lettre::transport::smtp::Error),
}

/// An SMTP connection's settings and the sender's address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// A mailer for `url`, sending as `from` (`Name <address>` or an
    /// address). Nothing is contacted until the first message.
    pub fn new(url: &SmtpUrl, from: &str) -> Result<Mailer, MailError> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| MailError::Settings(format!("mail_from {from:?}: {e}")))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&lettre_url(url)?)
            .map_err(|e| MailError::Settings(format!("smtp_url {url:?}: {e}")))?
            .timeout(Some(SEND_TIMEOUT))
            .build();
        Ok(Mailer { transport, from })
    }

    /// Hands `mail` to the SMTP server.
    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::Address {
                to: mail.to.clone(),
                reason: e.to_string(),
            })?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|e| MailError::Address {
                to: mail.to.clone(),
                reason: e.to_string(),
            })?;
        self.transport.send(message).await?;
        Ok(())
    }
}

/// Our URL in lettre's terms: lettre reads a bare `smtp://` as no
/// encryption at all, where ours means STARTTLS (required), so that a
/// password is never sent in the clear by accident; `tls=none` says so on
/// purpose.
fn lettre_url(url: &SmtpUrl) -> Result<String, MailError> {
    let raw = url.expose();
    let (scheme, _) = raw
        .split_once("://")
        .ok_or_else(|| MailError::Settings(format!("smtp_url {url:?} is not a URL")))?;
    let (base, query) = raw.split_once('?').unwrap_or((raw, ""));
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    let tls = params
        .iter()
        .find_map(|p| p.strip_prefix("tls="))
        .map(str::to_owned);
    match (scheme.to_ascii_lowercase().as_str(), tls.as_deref()) {
        ("smtps", _) => Ok(raw.to_owned()),
        ("smtp", None) => {
            params.push("tls=required");
            Ok(format!("{base}?{}", params.join("&")))
        }
        ("smtp", Some("none")) => {
            params.retain(|p| !p.starts_with("tls="));
            Ok(if params.is_empty() {
                base.to_owned()
            } else {
                format!("{base}?{}", params.join("&"))
            })
        }
        ("smtp", Some("required" | "opportunistic")) => Ok(raw.to_owned()),
        _ => Err(MailError::Settings(format!(
            "smtp_url {url:?}: use smtp:// (STARTTLS), smtps:// (TLS) or smtp://…?tls=none"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(raw: &str) -> SmtpUrl {
        serde_json::from_value(serde_json::json!(raw)).unwrap()
    }

    #[test]
    fn a_bare_smtp_url_requires_starttls_and_none_must_be_asked_for() {
        let lettre = |raw| lettre_url(&url(raw)).unwrap();
        assert_eq!(
            lettre("smtp://u:p@mail.example.org:587"),
            "smtp://u:p@mail.example.org:587?tls=required"
        );
        assert_eq!(
            lettre("smtp://127.0.0.1:2525?tls=none"),
            "smtp://127.0.0.1:2525"
        );
        assert_eq!(
            lettre("smtps://u:p@mail.example.org"),
            "smtps://u:p@mail.example.org"
        );
        assert!(lettre_url(&url("http://mail.example.org")).is_err());
    }

    #[test]
    fn the_password_is_never_shown() {
        let shown = format!("{:?}", url("smtp://mailer:hunter2@mail.example.org:587"));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("mail.example.org"), "{shown}");
        let error = Mailer::new(&url("ftp://mailer:hunter2@x"), "a@example.org")
            .err()
            .unwrap();
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }
}
