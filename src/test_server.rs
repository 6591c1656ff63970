//! A scripted HTTP/1.1 server for the API clients' unit tests: every request is
//! recorded and answered by a closure, one connection per request (connections are
//! served concurrently). End-to-end behaviour against the stateful sandbox lives in
//! tests/e2e.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the server read it.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Header lines as sent.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    /// The first header called `name`, whatever its case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The target without its query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
}

pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Reply {
    /// `status` and `body`, with no headers but the framing ones.
    pub fn new(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    /// `status` and a `body` of `content_type`.
    pub fn typed(status: u16, content_type: &str, body: &str) -> Self {
        Self::new(status, body).header("Content-Type", content_type)
    }

    /// 200 with a JSON body.
    pub fn json(body: &Value) -> Self {
        Self::typed(200, "application/json", &body.to_string())
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_string()));
        self
    }
}

/// Replies handed out one per request, in order, by a handler.
pub(crate) struct Script(Mutex<VecDeque<Reply>>);

impl Script {
    pub fn new(replies: Vec<Reply>) -> Self {
        Self(Mutex::new(replies.into()))
    }

    /// The next reply, or `None` once all were handed out.
    pub fn pop(&self) -> Option<Reply> {
        self.0.lock().unwrap().pop_front()
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

pub(crate) struct TestServer {
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub url: String,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl TestServer {
    /// Answers every request with `handler`.
    pub async fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        Self::start_with_url(|_| handler).await
    }

    /// Answers requests with the replies `script(url)` returns, one per request in
    /// order, then with 599s. `script` is given the server's URL for replies that link
    /// back to it.
    pub async fn scripted(script: impl FnOnce(&str) -> Vec<Reply>) -> Self {
        Self::start_with_url(|url| {
            let script = Script::new(script(url));
            move |_: &Request| {
                script
                    .pop()
                    .unwrap_or_else(|| Reply::typed(599, "text/plain", "script exhausted"))
            }
        })
        .await
    }

    /// Answers every request with the handler `make(url)` builds.
    async fn start_with_url<H>(make: impl FnOnce(&str) -> H) -> Self
    where
        H: Fn(&Request) -> Reply + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handler: Arc<Handler> = Arc::new(make(&url));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, handler.clone(), log.clone()));
            }
        });
        Self { url, seen }
    }

    /// The requests received so far, in the order they were answered.
    pub fn seen(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve(mut stream: TcpStream, handler: Arc<Handler>, log: Arc<Mutex<Vec<Request>>>) {
    // A client that hangs up mid-request gets no answer and leaves no record.
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    let reply = handler(&request);
    log.lock().unwrap().push(request);
    let mut out = format!(
        "HTTP/1.1 {} Scripted\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&reply.body);
    // The client may already have hung up; that is its business.
    let _ = stream.write_all(out.as_bytes()).await;
    let _ = stream.shutdown().await;
}

async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut raw = Vec::new();
    let head_end = loop {
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        read_more(stream, &mut raw).await?;
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_string();
    let mut lines = head.lines();
    let mut start = lines.next().unwrap_or_default().split(' ');
    let method = start.next().unwrap_or_default().to_string();
    let target = start.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut request = Request {
        method,
        target,
        headers,
        body: String::new(),
    };
    let length: usize = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while raw.len() < head_end + length {
        read_more(stream, &mut raw).await?;
    }
    request.body = String::from_utf8_lossy(&raw[head_end..head_end + length]).to_string();
    Some(request)
}

/// Appends what the next read brings; `None` when the connection is closed or broken.
async fn read_more(stream: &mut TcpStream, raw: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 4096];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => None,
        Ok(n) => {
            raw.extend_from_slice(&chunk[..n]);
            Some(())
        }
    }
}
