//! A real SMTP server on loopback (mailin-embedded) for the mail tests: it
//! keeps every message it accepts, over TCP like any mail server, and can
//! be told to refuse them all (554 to `DATA`).
//!
//! Shared by the `app` and `e2e` test crates, which each use a part of it.
#![allow(dead_code)]

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailin_embedded::response::{OK, TRANSACTION_FAILED};
use mailin_embedded::{Handler, Response, Server, SslConfig};

/// A message as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

impl Received {
    /// The message parsed by an independent MIME parser.
    pub fn parsed(&self) -> mailparse::ParsedMail<'_> {
        mailparse::parse_mail(&self.data).expect("a well-formed message")
    }

    pub fn header(&self, name: &str) -> String {
        use mailparse::MailHeaderMap;
        self.parsed()
            .headers
            .get_first_value(name)
            .unwrap_or_default()
    }

    /// The decoded body of the part of type `mime` (`text/plain`, `text/html`).
    pub fn part(&self, mime: &str) -> String {
        let parsed = self.parsed();
        let found = parsed
            .subparts
            .iter()
            .find(|part| part.ctype.mimetype == mime)
            .unwrap_or_else(|| {
                panic!(
                    "no {mime} part in {:?}",
                    String::from_utf8_lossy(&self.data)
                )
            });
        found.get_body().expect("a decodable part")
    }

    /// The first link in the text part that contains `path`.
    pub fn link(&self, path: &str) -> String {
        let text = self.part("text/plain");
        text.split_whitespace()
            .find(|word| word.contains(path))
            .unwrap_or_else(|| panic!("no link to {path} in {text}"))
            .to_owned()
    }
}

pub struct SmtpServer {
    pub port: u16,
    inbox: Arc<Mutex<Vec<Received>>>,
    refuse: Arc<AtomicBool>,
    refused: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct Keeper {
    inbox: Arc<Mutex<Vec<Received>>>,
    refuse: Arc<AtomicBool>,
    refused: Arc<AtomicUsize>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Keeper {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        // Refused at DATA: mailin keeps a session that was refused at the
        // end of the data in its data state, and the client then hangs.
        if self.refuse.load(Ordering::SeqCst) {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return TRANSACTION_FAILED;
        }
        self.to = to.to_vec();
        self.data.clear();
        OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.inbox.lock().unwrap().push(Received {
            to: std::mem::take(&mut self.to),
            data: std::mem::take(&mut self.data),
        });
        OK
    }
}

impl SmtpServer {
    /// A server on a free port.
    pub fn start() -> SmtpServer {
        SmtpServer::listen(TcpListener::bind("127.0.0.1:0").expect("a free port"))
    }

    /// A server on `port` (one an app was already told about).
    pub fn start_on(port: u16) -> SmtpServer {
        SmtpServer::listen(TcpListener::bind(("127.0.0.1", port)).expect("the SMTP port is free"))
    }

    fn listen(listener: TcpListener) -> SmtpServer {
        let port = listener.local_addr().expect("a bound port").port();
        let server = SmtpServer {
            port,
            inbox: Arc::default(),
            refuse: Arc::default(),
            refused: Arc::default(),
        };
        let keeper = Keeper {
            inbox: server.inbox.clone(),
            refuse: server.refuse.clone(),
            refused: server.refused.clone(),
            to: Vec::new(),
            data: Vec::new(),
        };
        let mut smtp = Server::new(keeper);
        smtp.with_name("smtp.test")
            .with_ssl(SslConfig::None)
            .expect("no TLS")
            .with_tcp_listener(listener);
        // Runs until the test process ends.
        std::thread::spawn(move || {
            let _ = smtp.serve();
        });
        server
    }

    /// Refuse every message from now on (554), or accept them again.
    pub fn refuse_all(&self, refuse: bool) {
        self.refuse.store(refuse, Ordering::SeqCst);
    }

    /// How many messages were refused so far.
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }

    pub fn messages(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().clone()
    }

    /// The messages that arrived with this subject.
    pub fn with_subject(&self, subject: &str) -> Vec<Received> {
        self.messages()
            .into_iter()
            .filter(|message| message.header("Subject") == subject)
            .collect()
    }

    /// Waits up to 15 s for `count` messages with `subject` to have arrived.
    pub async fn wait_for_mail(&self, subject: &str, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let messages = self.with_subject(subject);
            if messages.len() >= count {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "{count} message(s) expected, {} arrived",
                messages.len()
            );
            rocket::tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The `smtp_url` of a plain SMTP server on loopback at `port`.
pub fn smtp_url(port: u16) -> String {
    format!("smtp://127.0.0.1:{port}?tls=none")
}
