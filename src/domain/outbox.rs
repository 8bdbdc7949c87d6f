//! The outbox: mail waits in the database until the sender task has handed
//! it to the SMTP server.
//!
//! - A use case that sends mail [`enqueue`]s it in its own write
//!   transaction: the message exists exactly when the token its link carries
//!   does, and a restart loses neither.
//! - The request then only wakes the sender ([`Outbox::wake`]) and answers;
//!   it never waits for SMTP, so it answers the same whether mail works or
//!   not.
//! - The sender ([`deliver_until`]) claims what is due, sends it, and
//!   deletes it once sent (its body may hold a one-time link). A failure is
//!   tried again later, each wait twice the one before (up to an hour);
//!   after `mail_attempts` tries the message is marked failed, its body
//!   blanked, and the failure logged.
//! - Claiming is a write: it moves the message's next attempt past the time
//!   a delivery can take, so another instance on the same PostgreSQL
//!   database (whose writes take turns) does not send it too.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use rocket::tokio::sync::Notify;

use crate::db::schema::outbox;
use crate::db::{DbConnection, Writer};
use crate::domain::error::AppResult;
use crate::mail::{Mail, Mailer};

/// How many messages one round claims.
const BATCH: i64 = 10;
/// How long a claim holds: longer than a delivery may take.
const CLAIM: Duration = Duration::from_secs(5 * 60);
/// The longest wait between two tries of one message.
const LONGEST_WAIT: Duration = Duration::from_secs(60 * 60);
/// How often the sender looks without being woken (mail queued by another
/// instance, retries coming due).
const LOOK_EVERY: Duration = Duration::from_secs(5);

/// Whether this instance sends mail, and the bell that wakes its sender.
/// Managed by Rocket.
#[derive(Clone, Default)]
pub struct Outbox {
    sends: bool,
    bell: Arc<Notify>,
}

impl Outbox {
    /// An outbox whose mail goes out (`sends`), or one that refuses mail
    /// (no SMTP server configured).
    pub fn new(sends: bool) -> Self {
        Outbox {
            sends,
            bell: Arc::new(Notify::new()),
        }
    }

    /// Whether mail can be sent at all: features that need it say so when
    /// it cannot.
    pub fn sends(&self) -> bool {
        self.sends
    }

    /// Tells the sender there is mail (after the transaction that queued
    /// it has committed).
    pub fn wake(&self) {
        self.bell.notify_one();
    }
}

/// Puts `mail` in the outbox, due now. Call it inside the write transaction
/// that makes what the mail is about.
pub fn enqueue(conn: &mut DbConnection, mail: &Mail) -> AppResult<()> {
    diesel::insert_into(outbox::table)
        .values((
            outbox::recipient.eq(&mail.to),
            outbox::subject.eq(&mail.subject),
            outbox::text_body.eq(&mail.text),
            outbox::html_body.eq(&mail.html),
            outbox::next_attempt_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// A message the sender has claimed.
#[derive(Debug, Clone, Queryable)]
pub struct Queued {
    pub id: i32,
    pub attempts: i32,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
}

impl Queued {
    fn mail(&self) -> Mail {
        Mail {
            to: self.recipient.clone(),
            subject: self.subject.clone(),
            text: self.text_body.clone(),
            html: self.html_body.clone(),
        }
    }
}

/// Claims up to [`BATCH`] messages that are due.
pub fn claim_due(conn: &mut DbConnection) -> AppResult<Vec<Queued>> {
    let now = now();
    let due: Vec<Queued> = outbox::table
        .filter(outbox::failed_at.is_null())
        .filter(outbox::next_attempt_at.le(now))
        .order(outbox::next_attempt_at.asc())
        .limit(BATCH)
        .select((
            outbox::id,
            outbox::attempts,
            outbox::recipient,
            outbox::subject,
            outbox::text_body,
            outbox::html_body,
        ))
        .load(conn)?;
    if !due.is_empty() {
        let ids: Vec<i32> = due.iter().map(|m| m.id).collect();
        diesel::update(outbox::table.filter(outbox::id.eq_any(ids)))
            .set(outbox::next_attempt_at.eq(now + CLAIM))
            .execute(conn)?;
    }
    Ok(due)
}

/// What became of one try.
#[derive(Debug)]
pub enum Outcome {
    Sent,
    /// Failed; tried again at this time.
    Retry(NaiveDateTime, String),
    /// Failed for the last time.
    GaveUp(String),
}

/// What to do after `attempts` tries (this one included) that ended in
/// `error`, under `policy`.
pub fn after_failure(policy: &RetryPolicy, attempts: i32, error: String) -> Outcome {
    if attempts >= policy.attempts as i32 {
        return Outcome::GaveUp(error);
    }
    let doublings = (attempts.max(1) - 1).min(20) as u32;
    let wait = policy
        .first_wait
        .saturating_mul(1 << doublings)
        .min(LONGEST_WAIT);
    Outcome::Retry(now() + wait, error)
}

/// Records how a claimed message's try ended.
pub fn record(conn: &mut DbConnection, id: i32, outcome: &Outcome) -> AppResult<()> {
    let row = outbox::table.find(id);
    match outcome {
        Outcome::Sent => {
            diesel::delete(row).execute(conn)?;
        }
        Outcome::Retry(when, error) => {
            diesel::update(row)
                .set((
                    outbox::attempts.eq(outbox::attempts + 1),
                    outbox::next_attempt_at.eq(when),
                    outbox::last_error.eq(error),
                ))
                .execute(conn)?;
        }
        Outcome::GaveUp(error) => {
            // The body may hold a one-time link: it goes; who and what
            // stay for the record.
            diesel::update(row)
                .set((
                    outbox::attempts.eq(outbox::attempts + 1),
                    outbox::last_error.eq(error),
                    outbox::failed_at.eq(now()),
                    outbox::text_body.eq(""),
                    outbox::html_body.eq(""),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// How often a message is tried, and how long the first wait is.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first_wait: Duration,
}

/// The sender: delivers what is due whenever `outbox` is woken, and every
/// few seconds anyway, until `stop` completes.
pub async fn deliver_until(
    writer: Writer,
    mailer: Mailer,
    outbox: Outbox,
    policy: RetryPolicy,
    stop: impl Future<Output = ()>,
) {
    let mut stop = std::pin::pin!(stop);
    loop {
        deliver_due(&writer, &mailer, &policy).await;
        rocket::tokio::select! {
            _ = &mut stop => break,
            _ = outbox.bell.notified() => {}
            _ = rocket::tokio::time::sleep(LOOK_EVERY) => {}
        }
    }
}

/// One round: claims what is due and tries each, until nothing is due.
async fn deliver_due(writer: &Writer, mailer: &Mailer, policy: &RetryPolicy) {
    loop {
        let claimed = match writer.write(claim_due).await {
            Ok(claimed) => claimed,
            Err(error) => {
                log::warn!("mail: cannot read the outbox: {error}");
                return;
            }
        };
        if claimed.is_empty() {
            return;
        }
        for message in claimed {
            let outcome = match mailer.send(&message.mail()).await {
                Ok(()) => Outcome::Sent,
                Err(error) => {
                    let error = crate::domain::error::chain(&error);
                    after_failure(policy, message.attempts + 1, error)
                }
            };
            match &outcome {
                Outcome::Sent => log::info!("mail: sent message {}", message.id),
                Outcome::Retry(when, error) => log::warn!(
                    "mail: message {} not sent (try {}), trying again at {when}: {error}",
                    message.id,
                    message.attempts + 1
                ),
                Outcome::GaveUp(error) => log::error!(
                    "mail: message {} failed for good after {} tries: {error}",
                    message.id,
                    message.attempts + 1
                ),
            }
            let id = message.id;
            if let Err(error) = writer.write(move |conn| record(conn, id, &outcome)).await {
                log::error!("mail: cannot record how message {id} went: {error}");
            }
        }
    }
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_an_hour_then_it_gives_up() {
        let policy = RetryPolicy {
            attempts: 20,
            first_wait: Duration::from_secs(30),
        };
        let wait = |attempts| match after_failure(&policy, attempts, String::new()) {
            Outcome::Retry(when, _) => (when - now()).num_seconds(),
            other => panic!("{other:?}"),
        };
        assert!((29..=30).contains(&wait(1)));
        assert!((59..=60).contains(&wait(2)));
        assert!((119..=120).contains(&wait(3)));
        assert!((3599..=3600).contains(&wait(12)));
        assert!(matches!(
            after_failure(&policy, 20, "no".into()),
            Outcome::GaveUp(_)
        ));
    }
}
