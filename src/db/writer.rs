//! The one writer: a thread that owns the only connection allowed to write,
//! and commits the writes queued for it in groups.
//!
//! SQLite lets one transaction write at a time. Rather than have request
//! threads fight over that lock (and fail with SQLITE_BUSY), every write is
//! sent here as a job, and the writer runs the jobs in the order they came:
//!
//! - **Group commit.** The writer takes every job already waiting (up to
//!   [`MAX_BATCH`]), opens one `BEGIN IMMEDIATE` transaction, runs each job
//!   inside its own savepoint, then commits once. A job that returns an
//!   error is rolled back to its savepoint alone; the others still commit.
//!   (A job that panics, or an error that makes SQLite abandon the whole
//!   transaction, fails the group: every job in it is answered with the
//!   error, none is half-written.) Under load this
//!   turns a thousand commits into a few, and a request's write costs two
//!   thread hand-offs (to the writer and back) instead of a pool checkout.
//! - **Nothing acknowledged is lost.** A job's answer is released only after
//!   the commit that holds it succeeded; if the commit fails, every job of
//!   the group is answered with the error instead.
//! - **A full queue is a 503, not a hang.** Jobs wait at most the configured
//!   deadline for a place in the queue, then the request is answered
//!   [`DbError::Busy`] (503 with `Retry-After`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use diesel::connection::TransactionManager;
use diesel::Connection;
use rocket::tokio::sync::{mpsc, oneshot};

use super::{establish, immediate_transaction, DbConnection};

/// The transaction manager of [`DbConnection`] (it asks the backend's own).
type Manager = <DbConnection as Connection>::TransactionManager;
use super::DbError;

/// How many jobs may wait for the writer before new ones wait for a place.
const QUEUE_CAPACITY: usize = 1024;

/// The most jobs committed together: bounds how long the first job of a
/// group waits for the last.
const MAX_BATCH: usize = 256;

/// Sends write jobs to the writer thread. Managed by Rocket; clones send to
/// the same thread, and dropping the last one ends it once the queued jobs
/// are done.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    deadline: Duration,
}

/// The kind of closure the writer runs.
type Work<T, E> = Box<dyn FnOnce(&mut DbConnection) -> Result<T, E> + Send>;

enum Job {
    /// Runs in a savepoint of the current group's transaction.
    Grouped(Box<dyn Pending>),
    /// Runs on its own, outside any transaction (a WAL checkpoint cannot run
    /// inside one): the group before it is committed first.
    Alone(Box<dyn Pending>),
}

/// A job whose closure has run (or not yet) and whose answer waits for the
/// commit.
trait Pending: Send {
    /// Runs the closure: in a savepoint of the open group transaction when
    /// `grouped`, else on the bare connection.
    fn run(&mut self, conn: &mut DbConnection, grouped: bool);
    /// The group committed: send the closure's own result.
    fn answer(self: Box<Self>);
    /// The group did not commit: send `error` instead of the result.
    fn fail(self: Box<Self>, error: DbError);
}

struct Task<T, E> {
    work: Option<Work<T, E>>,
    result: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<T: Send + 'static, E: From<DbError> + Send + 'static> Pending for Task<T, E> {
    fn run(&mut self, conn: &mut DbConnection, grouped: bool) {
        let Some(work) = self.work.take() else { return };
        self.result = Some(if grouped {
            // A savepoint: an `Err` undoes this job's changes only.
            in_savepoint(conn, work)
        } else {
            work(conn)
        });
    }

    fn answer(self: Box<Self>) {
        let result = self
            .result
            .unwrap_or_else(|| Err(internal("a write job was answered before it ran").into()));
        // The request may have gone (client hung up); its write stands.
        let _ = self.reply.send(result);
    }

    fn fail(self: Box<Self>, error: DbError) {
        let _ = self.reply.send(Err(error.into()));
    }
}

fn internal(message: &'static str) -> DbError {
    DbError::internal(message)
}

/// Runs `work` in a savepoint (the writer's jobs run inside their group's
/// transaction). Diesel's `transaction` wants an error type that Diesel's
/// own errors convert into; a job's error type need only take a
/// [`DbError`], so the savepoint's own failures travel beside it.
fn in_savepoint<T, E: From<DbError>>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    enum Failed<E> {
        Work(E),
        Savepoint(diesel::result::Error),
    }
    impl<E> From<diesel::result::Error> for Failed<E> {
        fn from(error: diesel::result::Error) -> Self {
            Failed::Savepoint(error)
        }
    }
    conn.transaction(|conn| work(conn).map_err(Failed::Work))
        .map_err(|failed| match failed {
            Failed::Work(error) => error,
            Failed::Savepoint(error) => DbError::from(error).into(),
        })
}

impl Writer {
    /// Opens the writer's connection to `url` and starts its thread.
    /// `deadline` is how long a job may wait for a place in the queue.
    pub fn start(url: &str, deadline: Duration) -> Result<Writer, diesel::ConnectionError> {
        let conn = establish(url)?;
        let url = url.to_owned();
        let (jobs, queue) = mpsc::channel(QUEUE_CAPACITY);
        std::thread::Builder::new()
            .name("portfolio-writer".into())
            .spawn(move || run_writer(conn, &url, queue))
            .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
        Ok(Writer { jobs, deadline })
    }

    /// Runs `work` on the writer's connection, in a savepoint of a group
    /// transaction, and returns its result once that group is committed.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.send(Job::Grouped, work).await
    }

    /// Runs `work` on the writer's connection outside any transaction, after
    /// everything queued before it is committed.
    pub async fn alone<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.send(Job::Alone, work).await
    }

    async fn send<T, E, F>(&self, kind: fn(Box<dyn Pending>) -> Job, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let queued = Instant::now();
        let task = Task {
            work: Some(Box::new(work)),
            result: None,
            reply,
        };
        self.jobs
            .send_timeout(kind(Box::new(task)), self.deadline)
            .await
            .map_err(|error| match error {
                mpsc::error::SendTimeoutError::Timeout(_) => DbError::Busy,
                mpsc::error::SendTimeoutError::Closed(_) => internal("the writer has stopped"),
            })?;
        let result = answer
            .await
            .unwrap_or_else(|_| Err(internal("the writer stopped before answering").into()));
        // From joining the queue to the answer after the commit: what a
        // request waits for its write.
        metrics::histogram!("portfolio_writer_wait_seconds").record(queued.elapsed().as_secs_f64());
        result
    }

    /// How many writes wait in the queue now.
    pub fn queued(&self) -> usize {
        QUEUE_CAPACITY - self.jobs.capacity()
    }
}

/// The writer's connection, reopened when a failure left it in a state we
/// cannot trust.
///
/// It is opened again only when there is work for it: a writer whose
/// database went away (dropped, unmounted, the server down) answers the
/// waiting writes "busy" instead of retrying forever, and stops as soon as
/// every [`Writer`] is gone, rather than keep a thread in a connect loop for
/// the life of the process.
struct WriterConnection {
    url: String,
    open: Option<DbConnection>,
}

impl WriterConnection {
    /// The open connection, reopened first if it was dropped; `None` (and
    /// the reason in the log) if the database cannot be opened now.
    fn get(&mut self) -> Option<&mut DbConnection> {
        if self.open.is_none() {
            match establish(&self.url) {
                Ok(conn) => self.open = Some(conn),
                Err(error) => log::error!("the writer cannot reopen the database: {error}"),
            }
        }
        self.open.as_mut()
    }

    /// Drops the connection (closing it rolls back whatever it left open);
    /// the next job opens a fresh one.
    fn discard(&mut self) {
        self.open = None;
    }
}

/// The writer thread: takes what is queued, commits it as one group,
/// answers, and repeats until every [`Writer`] is gone.
fn run_writer(conn: DbConnection, url: &str, mut queue: mpsc::Receiver<Job>) {
    let mut conn = WriterConnection {
        url: url.to_owned(),
        open: Some(conn),
    };
    let mut group: Vec<Box<dyn Pending>> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = queue.blocking_recv() {
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Grouped(task) => {
                    group.push(task);
                    if group.len() < MAX_BATCH {
                        next = queue.try_recv().ok();
                    }
                }
                Job::Alone(task) => {
                    commit_group(&mut conn, &mut group);
                    run_alone(&mut conn, task);
                    next = queue.try_recv().ok();
                }
            }
        }
        commit_group(&mut conn, &mut group);
    }
    log::debug!("the writer has stopped");
}

/// Runs a job outside any transaction and answers it.
fn run_alone(conn: &mut WriterConnection, mut task: Box<dyn Pending>) {
    let Some(open) = conn.get() else {
        task.fail(DbError::Busy);
        return;
    };
    if run_caught(open, task.as_mut(), false) {
        task.answer();
    } else {
        task.fail(internal("a write job panicked"));
        conn.discard();
    }
}

/// Runs `group` in one immediate transaction, one savepoint per job, and
/// answers every job after the commit (or fails them all if it did not).
fn commit_group(conn: &mut WriterConnection, group: &mut Vec<Box<dyn Pending>>) {
    if group.is_empty() {
        return;
    }
    let Some(open) = conn.get() else {
        group.drain(..).for_each(|task| task.fail(DbError::Busy));
        return;
    };
    metrics::histogram!("portfolio_writer_group_size").record(group.len() as f64);
    let started = std::time::Instant::now();
    let outcome: Result<(), DbError> = immediate_transaction(open, |conn| {
        for task in group.iter_mut() {
            if !run_caught(conn, task.as_mut(), true) {
                return Err(internal("a write job panicked"));
            }
            // Some errors (disk full, I/O) make SQLite roll back the whole
            // transaction, not just the job's savepoint. Running the next
            // job would then commit it on its own while the group is
            // reported failed: stop here, and fail the group.
            if transaction_depth(conn) != Some(1) {
                return Err(internal("the group's transaction was rolled back"));
            }
        }
        Ok(())
    });
    metrics::histogram!("portfolio_writer_commit_seconds").record(started.elapsed().as_secs_f64());
    match outcome {
        Ok(()) => group.drain(..).for_each(|task| task.answer()),
        Err(error) => {
            log::error!(
                "a group of {} writes was not committed: {error}",
                group.len()
            );
            let busy = matches!(error, DbError::Busy);
            for task in group.drain(..) {
                task.fail(if busy {
                    DbError::Busy
                } else {
                    internal("the write was not committed")
                });
            }
            if !busy {
                // After a panic or a failed commit the connection's state is
                // unknown: the next job starts from a fresh one.
                conn.discard();
            }
        }
    }
}

/// How many transactions and savepoints are open on `conn`, as Diesel
/// tracks it (`None`: none, or the state is broken).
fn transaction_depth(conn: &mut DbConnection) -> Option<u32> {
    Manager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .ok()
        .flatten()
        .map(|depth| depth.get())
}

/// Runs one job; `false` if it panicked.
fn run_caught(conn: &mut DbConnection, task: &mut dyn Pending, grouped: bool) -> bool {
    catch_unwind(AssertUnwindSafe(|| task.run(conn, grouped))).is_ok()
}

/// The transaction every write in the model layer runs in.
///
/// On the writer, a job already runs inside its group's `BEGIN IMMEDIATE`
/// transaction, so this is a savepoint: an `Err` undoes this job's changes
/// only. Anywhere else (the CLI, the seed, tests holding a connection of
/// their own) it is a transaction of its own, begun `IMMEDIATE` so that it
/// waits for the write lock instead of failing with SQLITE_BUSY when it
/// later writes.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let depth = Manager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .map_err(E::from)?;
    if depth.is_some() {
        conn.transaction(work)
    } else {
        immediate_transaction(conn, work)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    diesel::table! {
        notes (id) {
            id -> Integer,
            body -> Text,
        }
    }

    /// A writer over a fresh file with one table, and a second connection
    /// to look at what it committed.
    async fn writer_on_temp_file(deadline: Duration) -> (tempfile::TempDir, Writer, DbConnection) {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("w.db").to_str().unwrap().to_owned();
        let writer = Writer::start(&url, deadline).unwrap();
        writer.alone(create_notes).await.unwrap();
        let observer = establish(&url).unwrap();
        (dir, writer, observer)
    }

    /// The one table the tests write to.
    fn create_notes(conn: &mut DbConnection) -> Result<(), DbError> {
        conn.batch_execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            .map_err(DbError::from)
    }

    fn count(conn: &mut DbConnection) -> i64 {
        notes::table.count().get_result(conn).unwrap()
    }

    fn insert(body: String) -> impl FnOnce(&mut DbConnection) -> Result<(), DbError> + Send {
        move |c| {
            diesel::insert_into(notes::table)
                .values(notes::body.eq(body))
                .execute(c)?;
            Ok(())
        }
    }

    #[rocket::async_test]
    async fn a_failed_job_is_undone_alone_and_the_rest_of_its_group_commits() {
        let (_dir, writer, mut observer) = writer_on_temp_file(Duration::from_secs(5)).await;
        // Sent all at once, so they queue and share group transactions.
        let jobs = (0..200).map(|i| {
            let writer = &writer;
            async move {
                let result = writer
                    .write(move |c| {
                        insert(format!("note {i}"))(c)?;
                        if i % 3 == 0 {
                            // Wrote, then failed: this write must not stand.
                            return Err(DbError::internal("the job failed"));
                        }
                        Ok(())
                    })
                    .await;
                (i, result)
            }
        });
        let results = futures::future::join_all(jobs).await;
        for (i, result) in &results {
            assert_eq!(result.is_ok(), i % 3 != 0, "job {i}: {result:?}");
        }
        let mut kept: Vec<String> = notes::table
            .select(notes::body)
            .load(&mut observer)
            .unwrap();
        kept.sort_by_key(|body| body[5..].parse::<i32>().unwrap());
        let expected: Vec<String> = (0..200)
            .filter(|i| i % 3 != 0)
            .map(|i| format!("note {i}"))
            .collect();
        assert_eq!(
            kept, expected,
            "every good job kept, every failed one undone"
        );
    }

    #[rocket::async_test]
    async fn an_answered_write_is_already_committed() {
        let (_dir, writer, mut observer) = writer_on_temp_file(Duration::from_secs(5)).await;
        for i in 0..20 {
            writer.write(insert(format!("{i}"))).await.unwrap();
            // Another connection sees it the moment the answer arrives.
            assert_eq!(count(&mut observer), i + 1);
        }
    }

    #[rocket::async_test]
    async fn a_panicking_job_fails_and_the_writer_goes_on() {
        let (_dir, writer, mut observer) = writer_on_temp_file(Duration::from_secs(5)).await;
        let result: Result<(), DbError> = writer
            .write(|c| {
                insert("half-done".into())(c)?;
                panic!("a bug in a write job")
            })
            .await;
        assert!(matches!(result, Err(DbError::Internal(_))), "{result:?}");
        writer.write(insert("after".into())).await.unwrap();
        let kept: Vec<String> = notes::table
            .select(notes::body)
            .load(&mut observer)
            .unwrap();
        assert_eq!(kept, ["after"]);
    }

    #[rocket::async_test]
    async fn a_database_that_cannot_be_reopened_is_busy_until_it_can() {
        let (dir, writer, _observer) = writer_on_temp_file(Duration::from_secs(5)).await;
        let folder = dir.path().to_owned();
        // The folder goes away, then a panic makes the writer drop its
        // connection: it cannot open the file again.
        std::fs::remove_dir_all(&folder).unwrap();
        let panicked: Result<(), DbError> = writer.write(|_| panic!("a bug")).await;
        assert!(
            matches!(panicked, Err(DbError::Internal(_))),
            "{panicked:?}"
        );
        for _ in 0..3 {
            let refused = writer.write(insert("lost".into())).await;
            assert!(matches!(refused, Err(DbError::Busy)), "{refused:?}");
            let alone: Result<(), DbError> = writer.alone(|_| Ok(())).await;
            assert!(matches!(alone, Err(DbError::Busy)), "{alone:?}");
        }
        // The folder is back: the next write opens the database again.
        std::fs::create_dir_all(&folder).unwrap();
        writer.write(create_notes).await.unwrap();
        writer.write(insert("kept".into())).await.unwrap();
        let mut observer = establish(folder.join("w.db").to_str().unwrap()).unwrap();
        assert_eq!(count(&mut observer), 1);
    }

    #[rocket::async_test]
    async fn a_queue_that_does_not_move_is_busy_after_the_deadline() {
        let (_dir, writer, mut observer) = writer_on_temp_file(Duration::from_millis(100)).await;
        let writer = std::sync::Arc::new(writer);
        // Hold the writer until released, then fill its queue.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let stuck = rocket::tokio::spawn({
            let writer = writer.clone();
            async move {
                writer
                    .write(move |_| {
                        held.recv().ok();
                        Ok::<_, DbError>(())
                    })
                    .await
            }
        });
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
        let queued: Vec<_> = (0..QUEUE_CAPACITY)
            .map(|i| {
                let writer = writer.clone();
                rocket::tokio::spawn(async move { writer.write(insert(format!("{i}"))).await })
            })
            .collect();
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
        let refused = writer.write(insert("one too many".into())).await;
        assert!(matches!(refused, Err(DbError::Busy)), "{refused:?}");

        release.send(()).unwrap();
        stuck.await.unwrap().unwrap();
        for job in queued {
            job.await.unwrap().unwrap();
        }
        assert_eq!(count(&mut observer), QUEUE_CAPACITY as i64);
    }

    #[test]
    fn write_transaction_nests_as_a_savepoint() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = establish(dir.path().join("t.db").to_str().unwrap()).unwrap();
        create_notes(&mut conn).unwrap();
        let outer: Result<(), DbError> = write_transaction(&mut conn, |c| {
            insert("kept".into())(c)?;
            let inner: Result<(), DbError> = write_transaction(c, |c| {
                insert("undone".into())(c)?;
                Err(DbError::internal("undone"))
            });
            assert!(inner.is_err());
            Ok(())
        });
        outer.unwrap();
        let kept: Vec<String> = notes::table.select(notes::body).load(&mut conn).unwrap();
        assert_eq!(kept, ["kept"]);
    }
}
