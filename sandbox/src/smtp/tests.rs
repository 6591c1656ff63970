//! The sink driven over real loopback TCP, as a mail client and a test would.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

use super::session::greeting;
use super::{read_line, Line};
use crate::{Fixture, Options, Sandbox};

/// base64("\0alice\0s3cret")
const PLAIN_ALICE: &str = "AGFsaWNlAHMzY3JldA==";

/// No reply should take anywhere near this on loopback.
const PATIENCE: Duration = Duration::from_secs(5);

async fn sandbox() -> Sandbox {
    let addr = "127.0.0.1:0".parse().unwrap();
    crate::start(Fixture::default(), addr, Options::default())
        .await
        .unwrap()
}

struct Client {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl Client {
    /// Connects and returns the client with the server's first reply.
    async fn connect(sandbox: &Sandbox) -> (Self, String) {
        let stream = TcpStream::connect(sandbox.smtp_addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (reader, writer) = stream.into_split();
        let mut client = Self {
            reader: BufReader::new(reader),
            writer,
        };
        let first = client.reply().await;
        (client, first)
    }

    /// Connects, checks the greeting and says EHLO.
    async fn greeted(sandbox: &Sandbox) -> Self {
        let (mut client, first) = Self::connect(sandbox).await;
        assert_eq!(first, greeting());
        client.expect("EHLO client.test", "250").await;
        client
    }

    /// One whole reply (every line of a multi-line one), line endings kept.
    async fn reply(&mut self) -> String {
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            let read = tokio::time::timeout(PATIENCE, self.reader.read_line(&mut line)).await;
            let n = read.expect("a reply in time").unwrap();
            assert!(n > 0, "connection closed after {reply:?}");
            reply.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return reply;
            }
        }
    }

    async fn send(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).await.unwrap();
    }

    /// Sends `line` with CRLF, asserts the reply's code and returns the reply.
    async fn expect(&mut self, line: &str, code: &str) -> String {
        self.send(&format!("{line}\r\n")).await;
        let reply = self.reply().await;
        assert!(reply.starts_with(code), "{line:?} -> {reply:?}");
        reply
    }

    /// One transaction; `data` is sent as is and must end with `\r\n.\r\n`.
    async fn mail(&mut self, from: &str, to: &[&str], data: &str) -> String {
        self.expect(&format!("MAIL FROM:<{from}>"), "250").await;
        for rcpt in to {
            self.expect(&format!("RCPT TO:<{rcpt}>"), "250").await;
        }
        self.expect("DATA", "354").await;
        self.send(data).await;
        self.reply().await
    }

    /// Half-closes, then reads until the server closes too: by then it has finished
    /// with this connection. Returns what it still sent.
    async fn hang_up(mut self) -> String {
        self.writer.shutdown().await.unwrap();
        self.closed().await
    }

    async fn closed(mut self) -> String {
        let mut rest = String::new();
        let read = tokio::time::timeout(PATIENCE, self.reader.read_to_string(&mut rest)).await;
        read.expect("the server closes").unwrap();
        rest
    }
}

/// A control request over real HTTP: (status, JSON body or Null).
async fn http(sandbox: &Sandbox, method: &str, path: &str, body: &str) -> (u16, Value) {
    let mut stream = TcpStream::connect(sandbox.addr).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: sandbox\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_session_with_auth_plain_delivers_two_messages() {
    let sandbox = sandbox().await;
    assert_ne!(sandbox.smtp_addr.port(), sandbox.addr.port());
    assert_eq!(
        sandbox.smtp_url(),
        format!("smtp://127.0.0.1:{}", sandbox.smtp_addr.port())
    );
    let (mut client, greeting) = Client::connect(&sandbox).await;
    assert_eq!(greeting, "220 localhost ESMTP skubridge-sandbox\r\n");
    let ehlo = client.expect("EHLO client.test", "250").await;
    assert!(ehlo.ends_with("250 AUTH PLAIN LOGIN\r\n"), "{ehlo}");
    assert!(!ehlo.contains("STARTTLS") && !ehlo.contains("PIPELINING"));
    client
        .expect(&format!("AUTH PLAIN {PLAIN_ALICE}"), "235")
        .await;

    let first = "From: Shop <shop@example.com>\r\nTo: ops@example.com\r\n\
                 Subject: Order held\r\nMessage-ID: <1@example.com>\r\n\r\n\
                 SKU-1 is unmatched.\r\n.\r\n";
    let reply = client
        .mail(
            "shop@example.com",
            &["ops@example.com", "boss@example.com"],
            first,
        )
        .await;
    assert_eq!(reply, "250 2.0.0 OK: queued as 1\r\n");
    client
        .expect("MAIL FROM:<shop@example.com> BODY=8BITMIME SIZE=100", "250")
        .await;
    client.expect("RCPT TO:<ops@example.com>", "250").await;
    client.expect("DATA", "354").await;
    client
        .send("Subject: Stock\r\nContent-Transfer-Encoding: 8bit\r\n\r\nSKU-1 — 3 left\r\n.\r\n")
        .await;
    assert_eq!(client.reply().await, "250 2.0.0 OK: queued as 2\r\n");
    client.expect("QUIT", "221").await;
    assert_eq!(client.closed().await, "");

    let (status, mail) = http(&sandbox, "GET", "/_sandbox/mail", "").await;
    assert_eq!(status, 200);
    assert_eq!(
        mail[0],
        json!({
            "from": "shop@example.com",
            "to": ["ops@example.com", "boss@example.com"],
            "subject": "Order held",
            "body": "SKU-1 is unmatched.",
            "headers": {
                "From": "Shop <shop@example.com>",
                "To": "ops@example.com",
                "Subject": "Order held",
                "Message-ID": "<1@example.com>",
            },
            "auth_user": "alice",
            "raw": &first[..first.len() - ".\r\n".len()],
        })
    );
    assert_eq!(mail[1]["to"], json!(["ops@example.com"]));
    assert_eq!(mail[1]["body"], "SKU-1 — 3 left");
    assert_eq!(mail[1]["auth_user"], "alice");
    assert_eq!(mail.as_array().map(Vec::len), Some(2));

    let (status, _) = http(&sandbox, "DELETE", "/_sandbox/mail", "").await;
    assert_eq!(status, 200);
    assert!(sandbox.app.mail.messages().is_empty());
    assert_eq!(
        http(&sandbox, "GET", "/_sandbox/mail", "").await.1,
        json!([])
    );
}

#[tokio::test]
async fn auth_plain_on_the_next_line_and_auth_login_record_the_user() {
    let sandbox = sandbox().await;
    let mut client = Client::greeted(&sandbox).await;
    assert_eq!(client.expect("AUTH PLAIN", "334").await, "334 \r\n");
    client.expect(PLAIN_ALICE, "235").await;
    client
        .mail("a@x.test", &["b@x.test"], "Subject: one\r\n\r\nx\r\n.\r\n")
        .await;

    let mut client = Client::greeted(&sandbox).await;
    assert_eq!(
        client.expect("AUTH LOGIN", "334").await,
        "334 VXNlcm5hbWU6\r\n"
    );
    assert_eq!(client.expect("Ym9i", "334").await, "334 UGFzc3dvcmQ6\r\n");
    client.expect("cHc=", "235").await;
    client
        .mail("a@x.test", &["b@x.test"], "Subject: two\r\n\r\nx\r\n.\r\n")
        .await;

    // No AUTH at all is fine too.
    let mut client = Client::greeted(&sandbox).await;
    client
        .mail(
            "a@x.test",
            &["b@x.test"],
            "Subject: three\r\n\r\nx\r\n.\r\n",
        )
        .await;

    let users: Vec<_> = sandbox
        .app
        .mail
        .messages()
        .into_iter()
        .map(|m| (m.subject, m.auth_user))
        .collect();
    assert_eq!(
        users,
        [
            ("one".to_string(), Some("alice".to_string())),
            ("two".to_string(), Some("bob".to_string())),
            ("three".to_string(), None),
        ]
    );
}

#[tokio::test]
async fn dot_stuffing_is_undone_and_lines_may_arrive_in_pieces() {
    let sandbox = sandbox().await;
    let mut client = Client::greeted(&sandbox).await;
    let wire = "MAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n";
    // One byte at a time, pausing so the server sees separate reads.
    for (i, byte) in wire.char_indices() {
        client.send(&wire[i..i + byte.len_utf8()]).await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    for code in ["250", "250", "354"] {
        assert!(client.reply().await.starts_with(code));
    }
    let data = "Subject: dots\r\n\r\n..\r\n...two\r\nend.\r\n .\r\n.\n..\r\n.\r\n";
    for chunk in data.as_bytes().chunks(3) {
        client.send(std::str::from_utf8(chunk).unwrap()).await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(client.reply().await.starts_with("250"));
    let mail = &sandbox.app.mail.messages()[0];
    // A bare-LF ".\n" does not end the data; it is a line like any other.
    assert_eq!(
        mail.raw,
        "Subject: dots\r\n\r\n.\r\n..two\r\nend.\r\n .\r\n\n.\r\n"
    );
    assert_eq!(mail.body, ".\n..two\nend.\n .\n\n.");
}

#[tokio::test]
async fn bodies_and_subjects_are_decoded() {
    let sandbox = sandbox().await;
    let mut client = Client::greeted(&sandbox).await;
    let quoted = "Subject: =?utf-8?q?Caf=C3=A9_order?=\r\n =?UTF-8?B?IOKckw==?=\r\n\
                  Content-Type: text/plain; charset=utf-8\r\n\
                  Content-Transfer-Encoding: quoted-printable\r\n\r\n\
                  Stock =E2=80=94 SKU-1 is lo=\r\nw\r\n1+1=3D2\r\n.\r\n";
    client.mail("a@x.test", &["b@x.test"], quoted).await;
    let base64 = "Subject: Report\r\nContent-Type: text/plain; charset=utf-8\r\n\
                  Content-Transfer-Encoding: base64\r\n\r\n\
                  U3RvY2sgcmVwb3J0DQpT\r\nS1UtMTogNSDihpIgMw0K\r\n.\r\n";
    client.mail("a@x.test", &["b@x.test"], base64).await;

    let mail = sandbox.app.mail.messages();
    assert_eq!(mail[0].subject, "Café order ✓");
    assert_eq!(
        mail[0].headers["Subject"],
        "=?utf-8?q?Caf=C3=A9_order?= =?UTF-8?B?IOKckw==?="
    );
    assert_eq!(mail[0].body, "Stock — SKU-1 is low\n1+1=2");
    assert_eq!(mail[1].body, "Stock report\nSKU-1: 5 → 3");
}

#[tokio::test]
async fn an_outage_answers_421_and_closes_new_connections() {
    let sandbox = sandbox().await;
    let mut before = Client::greeted(&sandbox).await;

    let (status, _) = http(
        &sandbox,
        "PUT",
        "/_sandbox/mail/outage",
        r#"{"down": true}"#,
    )
    .await;
    assert_eq!(status, 200);
    let (refused, first) = Client::connect(&sandbox).await;
    assert_eq!(first, "421 4.3.2 Service not available\r\n");
    assert_eq!(refused.closed().await, "");
    // Connections already open carry on.
    before.expect("NOOP", "250").await;

    let (status, _) = http(
        &sandbox,
        "PUT",
        "/_sandbox/mail/outage",
        r#"{"down": false}"#,
    )
    .await;
    assert_eq!(status, 200);
    Client::greeted(&sandbox).await;
    let (status, _) = http(&sandbox, "PUT", "/_sandbox/mail/outage", r#"{"up": 1}"#).await;
    assert!((400..500).contains(&status), "{status}");
}

#[tokio::test]
async fn a_silent_or_stalled_server_says_nothing_until_the_client_leaves() {
    let sandbox = sandbox().await;
    let set_mode = |mode: &'static str| {
        let sandbox = &sandbox;
        async move {
            let body = format!(r#"{{"mode": "{mode}"}}"#);
            let (status, _) = http(sandbox, "PUT", "/_sandbox/mail/outage", &body).await;
            assert_eq!(status, 200);
        }
    };
    let quiet = |mut reader: OwnedReadHalf| async move {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_millis(300), reader.read(&mut byte)).await;
        assert!(read.is_err(), "the server said {read:?}");
    };

    set_mode("silent").await;
    let stream = TcpStream::connect(sandbox.smtp_addr).await.unwrap();
    let (reader, _writer) = stream.into_split();
    quiet(reader).await;

    set_mode("stall_after_greeting").await;
    let (mut stalled, first) = Client::connect(&sandbox).await;
    assert_eq!(first, greeting());
    stalled.send("EHLO client.test\r\n").await;
    quiet(stalled.reader.into_inner()).await;

    set_mode("up").await;
    Client::greeted(&sandbox).await;
}

#[tokio::test]
async fn a_disconnect_mid_data_leaves_no_message() {
    let sandbox = sandbox().await;
    for partial in [
        "Subject: half\r\n\r\nsome",
        "Subject: half\r\n\r\nall but\r\n.",
    ] {
        let mut client = Client::greeted(&sandbox).await;
        client.expect("MAIL FROM:<a@x.test>", "250").await;
        client.expect("RCPT TO:<b@x.test>", "250").await;
        client.expect("DATA", "354").await;
        client.send(partial).await;
        assert_eq!(client.hang_up().await, "");
    }
    assert!(sandbox.app.mail.messages().is_empty());
}

#[tokio::test]
async fn dropping_the_sandbox_closes_the_sink() {
    let sandbox = sandbox().await;
    let addr = sandbox.smtp_addr;
    let client = Client::greeted(&sandbox).await;
    drop(sandbox);
    assert_eq!(client.closed().await, "");
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn read_line_joins_pieces_and_cuts_long_lines() {
    // A 4-byte buffer makes every line arrive in several reads.
    let input: &[u8] = b"HELO a.test\r\n0123456789abcdefgh\nok\r\nrest";
    let mut reader = BufReader::with_capacity(4, input);
    let mut line = Vec::new();
    let expected: [(Line, &[u8]); 4] = [
        (Line::Whole, b"HELO a.test\r\n"),
        (Line::TooLong, b"0123456789abcdef"),
        (Line::Whole, b"ok\r\n"),
        (Line::End, b"rest"),
    ];
    for (kind, bytes) in expected {
        assert_eq!(read_line(&mut reader, &mut line, 16).await.unwrap(), kind);
        assert_eq!(line, bytes);
    }
}
