//! A minimal scripted HTTP/1.1 server for the client's unit tests: every request is
//! recorded and answered by a closure, one connection per request.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{IconicSettings, Transport};
use crate::http::Backoff;
use crate::secret::Secret;

#[derive(Debug, Clone)]
pub(super) struct Seen {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
}

pub(super) struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

pub(super) fn reply(status: u16, body: &str) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: body.to_string(),
    }
}

pub(super) fn token_reply(token: &str) -> Reply {
    reply(
        200,
        &format!(r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":3600}}"#),
    )
}

type Handler = dyn Fn(&Seen) -> Reply + Send + Sync;

pub(super) struct TestServer {
    pub url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl TestServer {
    pub async fn start(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, handler.clone(), log.clone()));
            }
        });
        Self { url, seen }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// A transport to this server with millisecond backoff.
    pub fn transport(&self, concurrency: usize) -> Transport {
        let settings = IconicSettings {
            endpoint: format!("{}/", self.url),
            client_id: "iconic-id".into(),
            client_secret: Secret::new("iconic-secret"),
            concurrency,
        };
        Transport::new(settings, reqwest::Client::new()).with_backoff(Backoff {
            attempts: 5,
            base: Duration::from_millis(1),
            max: Duration::from_millis(4),
        })
    }
}

async fn serve(mut stream: TcpStream, handler: Arc<Handler>, log: Arc<Mutex<Vec<Seen>>>) {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut buf).await.unwrap();
        if n == 0 {
            return;
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_string();
    let mut lines = head.lines();
    let mut start = lines.next().unwrap().split(' ');
    let method = start.next().unwrap().to_string();
    let target = start.next().unwrap().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().unwrap());
    while raw.len() < head_end + length {
        let n = stream.read(&mut buf).await.unwrap();
        raw.extend_from_slice(&buf[..n]);
    }
    let seen = Seen {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&raw[head_end..head_end + length]).to_string(),
    };
    let answer = handler(&seen);
    log.lock().unwrap().push(seen);
    let mut out = format!(
        "HTTP/1.1 {} Scripted\r\nContent-Length: {}\r\nConnection: close\r\n",
        answer.status,
        answer.body.len()
    );
    for (name, value) in &answer.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&answer.body);
    let _ = stream.write_all(out.as_bytes()).await;
    let _ = stream.shutdown().await;
}
