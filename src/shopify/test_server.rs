//! A scripted HTTP server for the client's unit tests: answers requests in order from
//! canned replies and records what it received. (End-to-end behaviour against the
//! stateful sandbox lives in tests/e2e.)

use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub(super) struct Canned {
    status: u16,
    content_type: &'static str,
    body: String,
    date: Option<&'static str>,
}

impl Canned {
    pub fn json(body: Value) -> Self {
        Self::raw(200, "application/json", &body.to_string())
    }

    pub fn raw(status: u16, content_type: &'static str, body: &str) -> Self {
        Self {
            status,
            content_type,
            body: body.to_string(),
            date: None,
        }
    }

    /// Sends `Date: <date>` (RFC 2822).
    pub fn dated(mut self, date: &'static str) -> Self {
        self.date = Some(date);
        self
    }
}

#[derive(Debug, Clone)]
pub(super) struct Received {
    pub method: String,
    pub path: String,
    /// Header lines as sent, names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `operationName` of a GraphQL request.
    pub fn operation(&self) -> String {
        serde_json::from_str::<Value>(&self.body)
            .ok()
            .and_then(|v| v["operationName"].as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

pub(super) struct Server {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Server {
    /// Serves the replies `script(base_url)` returns, one per request, in order.
    pub async fn start(script: impl FnOnce(&str) -> Vec<Canned>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mut replies = script(&url).into_iter();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let request = read_request(&mut stream).await;
                log.lock().unwrap().push(request);
                let reply = replies
                    .next()
                    .unwrap_or_else(|| Canned::raw(599, "text/plain", "script exhausted"));
                write_reply(&mut stream, reply).await;
            }
        });
        Server { url, received }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The operation names (or `METHOD path` for other requests) in arrival order.
    pub fn log(&self) -> Vec<String> {
        self.received()
            .iter()
            .map(|r| match r.operation() {
                op if op.is_empty() => format!("{} {}", r.method, r.path),
                op => op,
            })
            .collect()
    }
}

async fn read_request(stream: &mut TcpStream) -> Received {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed mid-request");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.lines();
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_string();
    let path = first.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed mid-body");
        body.extend_from_slice(&chunk[..n]);
    }
    Received {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
    }
}

async fn write_reply(stream: &mut TcpStream, reply: Canned) {
    let date = reply
        .date
        .map(|d| format!("Date: {d}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\n{date}Connection: close\r\n\r\n",
        reply.status,
        reply.content_type,
        reply.body.len()
    );
    // The client may already have hung up; that is its business.
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(reply.body.as_bytes()).await;
    let _ = stream.shutdown().await;
}
