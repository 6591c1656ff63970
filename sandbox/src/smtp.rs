//! An SMTP sink: a real SMTP server on its own port that keeps every message it is
//! given, so email can be tested (and a merchant can rehearse notifications) without a
//! mail provider. It speaks the RFC 5321 subset lettre 0.11 uses — EHLO/HELO, AUTH
//! PLAIN/LOGIN (any credentials, the user is recorded), MAIL, RCPT, DATA, RSET, NOOP,
//! QUIT — without TLS.
//!
//! Control routes: `GET /_sandbox/mail` lists the received messages oldest first,
//! `GET /_sandbox/mail.txt` shows them as plain text,
//! `DELETE /_sandbox/mail` forgets them, and `PUT /_sandbox/mail/outage` sets how new
//! connections are met: `{"down": true}` (or `{"mode": "down"}`) answers `421` and
//! closes, as an outage does; `{"mode": "silent"}` accepts the connection and never says
//! a word; `{"mode": "stall_after_greeting"}` greets, then never answers a command (a hung
//! relay); `{"mode": "up"}` or `{"down": false}` serves again.

mod mime;
mod session;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::App;
use session::{Envelope, Session};

/// Advertised as `SIZE` and enforced.
const MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;

/// Longer lines are cut and refused. Far above RFC 5321's 1000-octet text lines and
/// RFC 4954's 12288-octet AUTH lines, so only a broken client meets it.
const MAX_LINE_BYTES: usize = 64 * 1024;

/// RFC 5321 §4.5.3.2.7: a server waits at least 5 minutes for the next command.
const IDLE_TIMEOUT: Duration = Duration::from_secs(5 * 60);

const OUTAGE: &[u8] = b"421 4.3.2 Service not available\r\n";

/// One received message, as `GET /_sandbox/mail` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReceivedMail {
    /// The envelope sender (MAIL FROM); empty for the null sender `<>`.
    pub from: String,
    /// The envelope recipients (RCPT TO), Bcc included, in the order given.
    pub to: Vec<String>,
    /// The `Subject` field with its encoded-words decoded; empty when there is none.
    pub subject: String,
    /// The text: the first `text/plain` part of a multipart message, decoded per its
    /// Content-Transfer-Encoding, `\n` line endings, no trailing line breaks.
    pub body: String,
    /// Header fields, unfolded but not decoded; the first of repeated names wins.
    pub headers: BTreeMap<String, String>,
    /// The user an AUTH exchange named, if the client authenticated.
    pub auth_user: Option<String>,
    /// The mail data as received: dot-stuffing undone, the final `.` line removed.
    pub raw: String,
}

/// How the sink meets a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum MailMode {
    /// Serves SMTP.
    Up,
    /// Answers `421` and closes.
    Down,
    /// Accepts the TCP connection and never sends a byte.
    Silent,
    /// Sends the greeting, then reads and never answers.
    StallAfterGreeting,
}

impl MailMode {
    const ALL: [MailMode; 4] = [Self::Up, Self::Down, Self::Silent, Self::StallAfterGreeting];
}

/// Received messages, and how the sink is behaving.
#[derive(Default)]
pub struct MailStore {
    messages: Mutex<Vec<ReceivedMail>>,
    /// A [`MailMode`] as its discriminant.
    mode: AtomicU8,
}

impl MailStore {
    /// Every message received since the start or the last clear, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.messages.lock().unwrap().clone()
    }

    pub fn clear(&self) {
        self.messages.lock().unwrap().clear();
    }

    /// While down, each new connection is answered `421` and closed.
    pub fn set_down(&self, down: bool) {
        self.set_mode(if down { MailMode::Down } else { MailMode::Up });
    }

    /// How new connections are met from now on (open ones carry on as they were).
    pub fn set_mode(&self, mode: MailMode) {
        self.mode.store(mode as u8, Ordering::Relaxed);
    }

    pub fn mode(&self) -> MailMode {
        let n = self.mode.load(Ordering::Relaxed);
        MailMode::ALL[usize::from(n)]
    }

    /// Keeps a message; returns how many are now held (the reply's queue id).
    fn deliver(&self, envelope: Envelope, auth_user: Option<String>, data: &[u8]) -> usize {
        let raw = String::from_utf8_lossy(data).into_owned();
        let decoded = mime::decode(&raw);
        let mut headers = BTreeMap::new();
        for (name, value) in decoded.fields {
            headers.entry(name).or_insert(value);
        }
        let mail = ReceivedMail {
            from: envelope.from,
            to: envelope.to,
            subject: decoded.subject,
            body: decoded.body,
            headers,
            auth_user,
            raw,
        };
        let mut messages = self.messages.lock().unwrap();
        messages.push(mail);
        messages.len()
    }
}

/// The listening sink; dropping it stops accepting and closes every open connection.
pub(crate) struct Server {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Server {
    /// Binds `addr` (port 0 picks a free one) and accepts in a background task.
    pub(crate) async fn start(addr: SocketAddr, app: Arc<App>) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the SMTP sink to {addr}"))?;
        Ok(Self {
            addr: listener.local_addr()?,
            task: tokio::spawn(accept(listener, app)),
        })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Connections live in a `JoinSet` owned by this task, so aborting it aborts them.
async fn accept(listener: TcpListener, app: Arc<App>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(converse(stream, app.clone()));
                }
                Err(error) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(%error, "SMTP accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            // Reap finished connections so the set does not grow.
            Some(_) = connections.join_next() => {}
        }
    }
}

/// Serves one connection until QUIT, disconnect, idle timeout or a write error. A
/// client that leaves mid-DATA leaves nothing behind: only the end of data delivers.
async fn converse(mut stream: TcpStream, app: Arc<App>) {
    let mode = app.mail.mode();
    match mode {
        MailMode::Down => {
            let _ = stream.write_all(OUTAGE).await;
            return;
        }
        MailMode::Silent => return swallow(&mut stream).await,
        MailMode::Up | MailMode::StallAfterGreeting => {}
    }
    let (reader, mut writer) = stream.split();
    let mut reader = BufReader::new(reader);
    if writer
        .write_all(session::greeting().as_bytes())
        .await
        .is_err()
    {
        return;
    }
    if mode == MailMode::StallAfterGreeting {
        return swallow(&mut reader).await;
    }
    let mut session = Session::new(MAX_MESSAGE_BYTES);
    let mut line = Vec::new();
    loop {
        let read = tokio::time::timeout(
            IDLE_TIMEOUT,
            read_line(&mut reader, &mut line, MAX_LINE_BYTES),
        )
        .await;
        let reply = match read {
            Err(_elapsed) => {
                let _ = writer.write_all(b"421 4.4.2 Idle timeout\r\n").await;
                return;
            }
            Ok(Err(_)) | Ok(Ok(Line::End)) => return,
            Ok(Ok(Line::Whole)) => session.on_line(&line, &app.mail),
            Ok(Ok(Line::TooLong)) => session.on_overlong_line(),
        };
        if let Some(reply) = reply {
            if writer.write_all(reply.text.as_bytes()).await.is_err() || reply.close {
                return;
            }
        }
    }
}

/// Reads and drops whatever the client sends, answering nothing, until it hangs up
/// (or the idle timeout a real server would apply).
async fn swallow<R: tokio::io::AsyncRead + Unpin>(reader: &mut R) {
    let mut sink = tokio::io::sink();
    let _ = tokio::time::timeout(IDLE_TIMEOUT, tokio::io::copy(reader, &mut sink)).await;
}

#[derive(Debug, PartialEq)]
enum Line {
    /// The line, through its `\n`, is in the buffer.
    Whole,
    /// The line was longer than the limit: the buffer holds its start, the rest was read
    /// and dropped.
    TooLong,
    /// The peer closed the connection before a line ended.
    End,
}

/// Reads one `\n`-terminated line into `line`, however the bytes were split across
/// reads, keeping at most `limit` bytes of it.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
    limit: usize,
) -> io::Result<Line> {
    line.clear();
    let mut too_long = false;
    loop {
        let buffer = reader.fill_buf().await?;
        if buffer.is_empty() {
            return Ok(Line::End);
        }
        let newline = buffer.iter().position(|&b| b == b'\n');
        let chunk = &buffer[..newline.map_or(buffer.len(), |i| i + 1)];
        let room = limit.saturating_sub(line.len());
        too_long |= chunk.len() > room;
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let consumed = chunk.len();
        reader.consume(consumed);
        if newline.is_some() {
            return Ok(if too_long { Line::TooLong } else { Line::Whole });
        }
    }
}

pub(crate) fn control_router() -> Router<Arc<App>> {
    Router::new()
        .route("/_sandbox/mail", get(list_mail).delete(clear_mail))
        .route("/_sandbox/mail.txt", get(mail_text))
        .route("/_sandbox/mail/outage", put(set_outage))
}

/// The received mail as plain text, as a mail client would show it (what `make demo` prints).
async fn mail_text(State(app): State<Arc<App>>) -> String {
    app.mail
        .messages()
        .iter()
        .map(|m| {
            format!(
                "From: {}\nTo: {}\nSubject: {}\n\n{}\n",
                m.from,
                m.to.join(", "),
                m.subject,
                m.body
            )
        })
        .collect::<Vec<_>>()
        .join("\n----------------------------------------------------------------\n")
}

async fn list_mail(State(app): State<Arc<App>>) -> Json<Vec<ReceivedMail>> {
    Json(app.mail.messages())
}

async fn clear_mail(State(app): State<Arc<App>>) -> Json<Value> {
    app.mail.clear();
    Json(json!({}))
}

/// `{"down": bool}` or `{"mode": "..."}`.
#[derive(Deserialize)]
#[serde(untagged, deny_unknown_fields)]
enum Outage {
    Down { down: bool },
    Mode { mode: MailMode },
}

async fn set_outage(State(app): State<Arc<App>>, Json(outage): Json<Outage>) -> Json<Value> {
    match outage {
        Outage::Down { down } => app.mail.set_down(down),
        Outage::Mode { mode } => app.mail.set_mode(mode),
    }
    Json(json!({}))
}
