//! The tests' SMTP server: mailin's SMTP state machine (commands, replies, dot-unstuffing)
//! on a loopback port, in this process, so the suite needs nothing installed for mail. Each
//! mail received is decoded by mail-parser into `{to, from, subject, text, html}`. With
//! `fail` it refuses every mail with a temporary error (at the DATA command: mailin keeps a
//! mail whose data-end reply is an error in its data state, where RSET and QUIT would go
//! unanswered). Stopped on drop.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use mailin::{Action, Handler, Response, SessionBuilder};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::common::eventually;

/// The mails received so far, in order of arrival.
type Mailbox = Arc<Mutex<Vec<Value>>>;

/// A running SMTP server on `127.0.0.1:port`, stopped on drop.
pub struct SmtpSink {
    port: u16,
    pub mails: Mailbox,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SmtpSink {
    /// Starts the server on a free port, on a thread and runtime of its own (so a test that
    /// blocks its own thread does not stall the mail it waits for).
    pub fn start(fail: bool) -> SmtpSink {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .unwrap_or_else(|e| panic!("the SMTP sink cannot listen on 127.0.0.1: {e}"));
        let port = listener.local_addr().unwrap().port();
        let mails = Mailbox::default();
        let (stop, stopped) = oneshot::channel();
        let received = mails.clone();
        let thread = std::thread::Builder::new()
            .name("smtp-sink".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the SMTP sink");
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("a tokio listener");
                    tokio::select! {
                        () = accept(listener, fail, received) => {}
                        _ = stopped => {}
                    }
                });
            })
            .expect("a thread for the SMTP sink");
        SmtpSink {
            port,
            mails,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The `--mail-url` that reaches this server.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every mail received so far whose first recipient is `address`.
    pub fn mails_to(&self, address: &str) -> Vec<Value> {
        self.mails
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m["to"][0] == address)
            .cloned()
            .collect()
    }

    /// The `n`th mail to `address` (1-based), once it has arrived.
    pub async fn mail(&self, address: &str, n: usize) -> Value {
        let what = format!("mail {n} to {address} arrives");
        eventually(&what, || async { self.mails_to(address).len() >= n }).await;
        self.mails_to(address)[n - 1].clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Serves every connection until the sink stops (the runtime's end closes them all).
async fn accept(listener: TcpListener, fail: bool, mails: Mailbox) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        let receiver = Receiver::new(fail, mails.clone());
        tokio::spawn(async move {
            if let Err(e) = converse(stream, peer.ip(), receiver).await {
                eprintln!("SMTP sink: the connection from {peer} ended early: {e}");
            }
        });
    }
}

/// One SMTP connection: each line the client sends goes through mailin's state machine, whose
/// reply goes back. STARTTLS and AUTH are not offered.
async fn converse(stream: TcpStream, peer: IpAddr, receiver: Receiver) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut smtp = SessionBuilder::new("smtp-sink.test").build(peer, receiver);
    write.write_all(&smtp.greeting().buffer()?).await?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let response = smtp.process(&line);
        match response.action {
            Action::NoReply => {}
            Action::Reply => write.write_all(&response.buffer()?).await?,
            Action::Close => return write.write_all(&response.buffer()?).await,
            Action::UpgradeTls => {
                return Err(std::io::Error::other("STARTTLS was never offered"));
            }
        }
    }
}

/// mailin's handler for one connection: collects a mail's envelope and data, and records
/// the decoded mail when the data ends.
struct Receiver {
    fail: bool,
    mails: Mailbox,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Receiver {
    fn new(fail: bool, mails: Mailbox) -> Receiver {
        Receiver {
            fail,
            mails,
            from: String::new(),
            to: Vec::new(),
            data: Vec::new(),
        }
    }
}

impl Handler for Receiver {
    fn data_start(&mut self, _domain: &str, from: &str, _8bit: bool, to: &[String]) -> Response {
        if self.fail {
            return Response::custom(
                451,
                "4.3.0 Mailbox temporarily unavailable (test server told to fail)".into(),
            );
        }
        self.from = from.to_string();
        self.to = to.to_vec();
        self.data.clear();
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let mail = decode(&self.data, &self.from, &self.to);
        self.mails.lock().unwrap().push(mail);
        mailin::response::OK
    }
}

/// A mail as the tests read it: the envelope, the subject, and the plain-text and HTML
/// bodies as sent (`null` for a body the mail lacks).
fn decode(data: &[u8], from: &str, to: &[String]) -> Value {
    let message = mail_parser::MessageParser::default()
        .parse(data)
        .unwrap_or_else(|| panic!("the SMTP sink received no parsable mail from {from}"));
    let text = message
        .text_part(0)
        .filter(|part| !part.is_text_html())
        .and_then(|part| part.text_contents());
    let html = message
        .html_part(0)
        .filter(|part| part.is_text_html())
        .and_then(|part| part.text_contents());
    json!({
        "to": to,
        "from": from,
        "subject": message.subject(),
        "text": text,
        "html": html,
    })
}

/// The sink itself: a mail sent with lettre, as firegate sends it, arrives whole — the
/// envelope, a non-ASCII subject, both bodies, and a body line that starts with a dot.
#[tokio::test]
async fn a_mail_arrives_whole() {
    use lettre::message::MultiPart;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

    let sink = SmtpSink::start(false);
    let mail = Message::builder()
        .from("Timetable <no-reply@school.example>".parse().unwrap())
        .to("kim@example.com".parse().unwrap())
        .subject("Réinitialiser · 비밀번호")
        .multipart(MultiPart::alternative_plain_html(
            "Open the link:\n.https://auth.example.com/#token=abc\n".to_string(),
            "<p>Open <a href=\"https://auth.example.com/\">the link</a></p>".to_string(),
        ))
        .unwrap();
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&sink.url())
        .unwrap()
        .build();
    transport.send(mail).await.unwrap();

    let got = sink.mail("kim@example.com", 1).await;
    assert_eq!(got["from"], "no-reply@school.example");
    assert_eq!(got["subject"], "Réinitialiser · 비밀번호");
    assert_eq!(
        got["text"].as_str().map(|t| t.replace("\r\n", "\n")),
        Some("Open the link:\n.https://auth.example.com/#token=abc\n".to_string())
    );
    assert!(got["html"].as_str().unwrap().contains("<a href"), "{got}");
}

/// A refusing sink answers with a temporary error, keeps nothing, and still answers the
/// client's next commands.
#[tokio::test]
async fn a_failing_sink_refuses_with_a_temporary_error() {
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

    let sink = SmtpSink::start(true);
    let mail = Message::builder()
        .from("no-reply@school.example".parse().unwrap())
        .to("kim@example.com".parse().unwrap())
        .subject("refused")
        .body("text".to_string())
        .unwrap();
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&sink.url())
        .unwrap()
        .build();
    let refused = transport.send(mail).await.unwrap_err();
    assert!(refused.is_transient(), "{refused}");
    assert!(sink.mails.lock().unwrap().is_empty());
}
