//! Sending the outbox at the end of a pass: each unsent row becomes one email through the
//! configured transport. A row that fails stays for the next pass; a failure that is not
//! about that one email (server down, bad credentials, disk) stops the flush.

use std::future::Future;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::outbox::{self, Row};
use crate::clock::{self, rfc3339};
use crate::config::{NotifyConfig, NotifyTransport};
use crate::db::Db;
use crate::secret::Secret;

/// What one [`flush`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FlushOutcome {
    pub sent: usize,
    /// Emails tried and not sent (they stay queued).
    pub failed: usize,
    /// Emails still queued afterwards.
    pub pending: usize,
    /// Why the flush stopped, else the last send error.
    pub error: Option<String>,
}

/// Opens the configured transport as a flush would (SMTP: connect and log in) and
/// closes it: `skubridge doctor`'s check. Says what was reached.
pub async fn check(cfg: &NotifyConfig, shop: &str) -> Result<String, String> {
    let deadline = Instant::now() + cfg.timeout * 2;
    let mailer = Mailer::open(cfg, shop, deadline).await?;
    let what = match &mailer {
        Mailer::Smtp { .. } => "SMTP server reachable and the login accepted".to_string(),
        Mailer::File { .. } => "email directory writable".to_string(),
        Mailer::Log => "emails are only logged (no [notify] transport)".to_string(),
    };
    mailer.close(deadline).await;
    Ok(what)
}

/// Sends every queued email, oldest first, and starts none after `deadline`. Never
/// panics; errors are in the outcome and, per email, in its outbox row (attempts, last
/// error).
pub async fn flush(
    db: &Db,
    cfg: &NotifyConfig,
    shop: &str,
    now: DateTime<Utc>,
    deadline: Instant,
) -> FlushOutcome {
    let mut outcome = FlushOutcome::default();
    if let Err(e) = send_all(db, cfg, shop, now, deadline, &mut outcome).await {
        outcome.error = Some(e);
    }
    match outbox::count_unsent(db) {
        Ok(n) => outcome.pending = n,
        Err(e) => {
            outcome.error.get_or_insert(e.to_string());
        }
    }
    outcome
}

/// Err: why the flush stopped.
async fn send_all(
    db: &Db,
    cfg: &NotifyConfig,
    shop: &str,
    now: DateTime<Utc>,
    deadline: Instant,
    outcome: &mut FlushOutcome,
) -> Result<(), String> {
    let rows = outbox::unsent(db).map_err(|e| e.to_string())?;
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let mailer = match Mailer::open(cfg, shop, deadline).await {
        Ok(m) => m,
        // Recorded on the email that was next, as if its own send had failed.
        Err(e) => return Err(record_failure(db, first, e, outcome)),
    };
    // The run's clock (SKUBRIDGE_NOW in tests; main already rejected a bad value).
    let sent_at = rfc3339(now);
    let mut result = Ok(());
    for row in &rows {
        if Instant::now() >= deadline {
            result = Err(OUT_OF_TIME.to_string());
            break;
        }
        match mailer.deliver(&compose(row, shop), deadline).await {
            Ok(()) => {
                outcome.sent += 1;
                // Without the mark the email would go again next pass: stop and say so.
                if let Err(e) = outbox::mark_sent(db, row.id, &sent_at) {
                    result = Err(e.to_string());
                    break;
                }
            }
            Err(f) => {
                let message = record_failure(db, row, f.message, outcome);
                if f.stop {
                    result = Err(message);
                    break;
                }
                outcome.error = Some(message);
            }
        }
    }
    mailer.close(deadline).await;
    result
}

const OUT_OF_TIME: &str = "the pass ran out of time for sending email";

/// The goodbye is a courtesy: a server that does not answer it soon is left.
const GOODBYE: Duration = Duration::from_secs(5);

/// One SMTP exchange, bounded by `limit` or by the flush's deadline, whichever comes
/// first: lettre bounds only the TCP connect, so a server that accepts and then says
/// nothing would otherwise hold the pass (and its lock) for ever.
async fn bounded<T>(
    limit: Duration,
    deadline: Instant,
    what: &str,
    exchange: impl Future<Output = T>,
) -> Result<T, String> {
    let own = Instant::now() + limit;
    tokio::time::timeout_at(own.min(deadline), exchange)
        .await
        .map_err(|_| {
            if own <= deadline {
                format!(
                    "SMTP server: no answer within {} s {what} (notify.timeout_seconds)",
                    limit.as_secs()
                )
            } else {
                format!("{OUT_OF_TIME} ({what})")
            }
        })
}

/// Counts and records a failed send; returns the message to report.
fn record_failure(db: &Db, row: &Row, message: String, outcome: &mut FlushOutcome) -> String {
    outcome.failed += 1;
    match outbox::mark_failed(db, row.id, &message) {
        Ok(()) => message,
        Err(e) => format!("{message}; and recording it failed: {e}"),
    }
}

/// One email, ready for any transport.
#[derive(Debug)]
struct Mail {
    subject: String,
    body: String,
    date: SystemTime,
    message_id: String,
}

/// The subject as the engine wrote it, whole: merchants' mail filters know the exact
/// subjects ("Fulfilment Error"). The store is named in the sender's display name and on
/// the body's first line instead.
fn compose(row: &Row, shop: &str) -> Mail {
    let queued = clock::parse(&row.queued_at);
    let mut body = format!(
        "Store: {shop}\n\n{}\n\n-- \nSent by skubridge for {shop}.\n",
        row.body.trim_end()
    );
    if let Some(secs) = row.repeat_after_s {
        body.push_str(&format!(
            "Unresolved items are mailed again after {}.\n",
            span(secs)
        ));
    }
    // Stable across retries, so a mail client can fold a duplicate (accepted by the server,
    // but the pass died before marking it sent).
    let domain: String = shop
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        .collect();
    let millis = queued.map_or(0, |t| t.timestamp_millis());
    Mail {
        subject: super::one_line(&row.subject),
        body,
        // When it was queued: RFC 5322's "ready to enter the mail delivery system".
        date: queued.map_or_else(SystemTime::now, SystemTime::from),
        message_id: format!("<skubridge.{}.{millis}@{domain}>", row.id),
    }
}

/// "24 hours", "1 hour", "90 minutes".
fn span(secs: i64) -> String {
    let (n, unit) = if secs >= 3600 && secs % 3600 == 0 {
        (secs / 3600, "hour")
    } else {
        ((secs + 59).div_euclid(60).max(1), "minute")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// Why one email was not sent; `stop` when the next one would fail the same way.
struct Failure {
    message: String,
    stop: bool,
}

impl Failure {
    fn stop(message: String) -> Self {
        Self {
            message,
            stop: true,
        }
    }
}

/// Sender and recipients, parsed once per flush.
struct Letterhead {
    from: Mailbox,
    to: Vec<Mailbox>,
}

impl Letterhead {
    /// The sender shows the store: "skubridge for my-store.myshopify.com", or the
    /// configured display name followed by the store.
    fn new(cfg: &NotifyConfig, shop: &str) -> Result<Self, String> {
        let configured: Mailbox = cfg
            .from
            .parse()
            .map_err(|e| format!("notify.from: \"{}\": {e}", cfg.from))?;
        let name = configured.name.as_deref().unwrap_or("skubridge");
        let from = Mailbox::new(Some(format!("{name} for {shop}")), configured.email);
        let to = cfg
            .to
            .iter()
            .map(|a| a.parse().map_err(|e| format!("notify.to: \"{a}\": {e}")))
            .collect::<Result<_, _>>()?;
        Ok(Self { from, to })
    }

    fn message(&self, mail: &Mail) -> Result<Message, Failure> {
        let builder = Message::builder()
            .from(self.from.clone())
            .subject(mail.subject.as_str())
            .date(mail.date)
            .message_id(Some(mail.message_id.clone()))
            .header(ContentType::TEXT_PLAIN);
        self.to
            .iter()
            .fold(builder, |b, to| b.to(to.clone()))
            // CRLF up front: lettre would insert each missing CR in place, which is
            // quadratic in the size of the body.
            .body(mail.body.replace("\r\n", "\n").replace('\n', "\r\n"))
            .map_err(|e| Failure::stop(format!("building the email: {e}")))
    }
}

enum Mailer<'a> {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        head: Letterhead,
        cfg: &'a NotifyConfig,
        url: &'a Secret,
    },
    File {
        transport: AsyncFileTransport<Tokio1Executor>,
        head: Letterhead,
    },
    Log,
}

impl<'a> Mailer<'a> {
    async fn open(
        cfg: &'a NotifyConfig,
        shop: &str,
        deadline: Instant,
    ) -> Result<Mailer<'a>, String> {
        match &cfg.transport {
            NotifyTransport::Smtp { url } => {
                let head = Letterhead::new(cfg, shop)?;
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| format!("notify.smtp_url: {}", redact(&e.to_string(), url)))?
                    .timeout(Some(cfg.timeout))
                    .build();
                // Connecting and logging in first tells a down or misconfigured server (stop)
                // from a server refusing one email (go on); the pool keeps the connection.
                let connected = bounded(
                    cfg.timeout,
                    deadline,
                    "to connect, greet and log in",
                    transport.test_connection(),
                )
                .await?;
                match connected {
                    Ok(true) => Ok(Self::Smtp {
                        transport,
                        head,
                        cfg,
                        url,
                    }),
                    Ok(false) => Err("SMTP server: connected but it does not answer".into()),
                    Err(e) => Err(format!("SMTP server: {}", redact(&e.to_string(), url))),
                }
            }
            NotifyTransport::File { dir } => {
                let head = Letterhead::new(cfg, shop)?;
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| format!("email directory {}: {e}", dir.display()))?;
                Ok(Self::File {
                    transport: AsyncFileTransport::new(dir),
                    head,
                })
            }
            NotifyTransport::Log => Ok(Self::Log),
        }
    }

    async fn deliver(&self, mail: &Mail, deadline: Instant) -> Result<(), Failure> {
        match self {
            Self::Smtp {
                transport,
                head,
                cfg,
                url,
            } => {
                let message = head.message(mail)?;
                // A stalled exchange leaves the pooled connection mid-command: stop.
                let sent = bounded(
                    cfg.timeout,
                    deadline,
                    "to take an email",
                    transport.send(message),
                )
                .await
                .map_err(Failure::stop)?;
                sent.map(drop).map_err(|e| Failure {
                    message: format!("SMTP server: {}", redact(&e.to_string(), url)),
                    // A permanent refusal after a good login is about this email
                    // (recipient, size, content); anything else will hit the next one too.
                    stop: !e.is_permanent(),
                })
            }
            Self::File { transport, head } => transport
                .send(head.message(mail)?)
                .await
                .map(drop)
                .map_err(|e| Failure::stop(format!("writing the email file: {e}"))),
            Self::Log => {
                tracing::warn!("email \"{}\":\n{}", mail.subject, mail.body);
                Ok(())
            }
        }
    }

    /// Says goodbye to pooled SMTP connections instead of dropping them (a server that
    /// does not answer the goodbye is dropped anyway).
    async fn close(self, deadline: Instant) {
        if let Self::Smtp { transport, cfg, .. } = self {
            let limit = cfg.timeout.min(GOODBYE);
            let _ = bounded(limit, deadline, "to say goodbye", transport.shutdown()).await;
        }
    }
}

/// `text` without the SMTP URL or its password (raw or percent-decoded): lettre's errors
/// can quote their input, and server replies can echo a login.
fn redact(text: &str, url: &Secret) -> String {
    let url = url.expose();
    let mut secrets = vec![url.to_string()];
    if let Some(password) = url_password(url) {
        secrets.push(password.to_string());
        secrets.push(percent_decode(password));
    }
    secrets.retain(|s| !s.is_empty());
    // Longest first, so the URL goes whole before its password is looked for.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets
        .iter()
        .fold(text.to_string(), |t, s| t.replace(s.as_str(), "[redacted]"))
}

/// The password in `scheme://user:password@host...`, as written.
fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    userinfo.split_once(':').map(|(_, password)| password)
}

fn percent_decode(s: &str) -> String {
    let hex = |b: Option<&u8>| b.and_then(|&b| char::from(b).to_digit(16));
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
            (b'%', Some(high), Some(low)) => {
                // Two hex digits: always below 256.
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (b, ..) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use chrono::Duration as Span;
    use skubridge_sandbox::{Fixture, MailMode, Options, Sandbox};

    use super::*;
    use crate::db::test_db;
    use crate::notify::{queue_digest, queue_message, Digest, Item};

    const SHOP: &str = "my-store.myshopify.com";
    const PASSWORD: &str = "s3cr@t pass";
    /// `PASSWORD` as a URL carries it.
    const PASSWORD_IN_URL: &str = "s3cr%40t%20pass";

    const BODY: &str = "Store: my-store.myshopify.com\n\n\
        These 2 listings have no Shopify variant with the same SKU.\n\n\
        - HP-TOTE_BLK\n- HP-TOTE_RED\n\n\
        What to do:\nFix the SKU on either side.\n\n\
        -- \nSent by skubridge for my-store.myshopify.com.\n\
        Unresolved items are mailed again after 24 hours.\n";

    fn cfg(transport: NotifyTransport) -> NotifyConfig {
        NotifyConfig {
            transport,
            to: vec!["ops@brand.com".into(), "owner@brand.com".into()],
            from: "skubridge@brand.com".into(),
            repeat_after_hours: 24,
            timeout: std::time::Duration::from_secs(30),
        }
    }

    /// A flush as a pass makes it, with a minute to spare.
    async fn flush_now(db: &Db, cfg: &NotifyConfig) -> FlushOutcome {
        let deadline = Instant::now() + std::time::Duration::from_secs(60);
        flush(db, cfg, SHOP, Utc::now(), deadline).await
    }

    fn smtp(url: String) -> NotifyConfig {
        cfg(NotifyTransport::Smtp {
            url: Secret::new(url),
        })
    }

    fn queue_unmatched(db: &Db) {
        let digest = Digest {
            kind: "unmatched",
            subject: "{count} listings on iconic are not syncing stock".into(),
            intro: "These {count} listings have no Shopify variant with the same SKU.".into(),
            action: "Fix the SKU on either side.".into(),
        };
        let items = ["HP-TOTE_BLK", "HP-TOTE_RED"].map(|sku| Item {
            key: format!("iconic:{sku}"),
            line: sku.into(),
        });
        let now = clock::parse("2026-11-02T09:30:00Z").unwrap();
        queue_digest(db, now, Some(Span::hours(24)), &digest, &items).unwrap();
    }

    fn queue_note(db: &Db, body: &str) {
        let now = clock::parse("2026-11-02T09:31:00Z").unwrap();
        queue_message(db, now, "reset", "Product reset complete", body).unwrap();
    }

    /// (attempts, last_error, sent) per outbox row.
    fn rows(db: &Db) -> Vec<(i64, Option<String>, bool)> {
        db.read(|c| {
            let mut s = c.prepare(
                "SELECT attempts, last_error, sent_at IS NOT NULL FROM notify_outbox ORDER BY id",
            )?;
            let rows = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect()
        })
        .unwrap()
    }

    fn emls(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            // Unfolded, so a long header reads as one line.
            .map(|p| std::fs::read_to_string(p).unwrap().replace("\r\n ", " "))
            .map(|eml| eml.replace("\r\n", "\n"))
            .collect()
    }

    async fn sandbox() -> Sandbox {
        let addr = "127.0.0.1:0".parse().unwrap();
        skubridge_sandbox::start(Fixture::default(), addr, Options::default())
            .await
            .unwrap()
    }

    /// A URL with a login, pointing at `addr`.
    fn url_with_login(addr: impl std::fmt::Display) -> String {
        format!("smtp://merchant:{PASSWORD_IN_URL}@{addr}")
    }

    fn assert_no_secret(text: &str, url: &str) {
        for secret in [url, PASSWORD, PASSWORD_IN_URL] {
            assert!(!text.contains(secret), "{secret:?} in {text:?}");
        }
    }

    #[tokio::test]
    async fn the_file_transport_writes_a_readable_eml() {
        let (tmp, db) = test_db();
        queue_unmatched(&db);
        let dir: PathBuf = tmp.path().join("outbox");
        let outcome = flush_now(&db, &cfg(NotifyTransport::File { dir: dir.clone() })).await;
        assert_eq!(
            outcome,
            FlushOutcome {
                sent: 1,
                ..FlushOutcome::default()
            }
        );
        let emls = emls(&dir);
        assert_eq!(emls.len(), 1);
        let eml = &emls[0];
        for header in [
            "From: \"skubridge for my-store.myshopify.com\" <skubridge@brand.com>\n",
            "To: ops@brand.com, owner@brand.com\n",
            "Subject: 2 listings on iconic are not syncing stock\n",
            "Date: Mon, 02 Nov 2026 09:30:00 +0000\n",
            "Content-Type: text/plain; charset=utf-8\n",
            "Content-Transfer-Encoding: 7bit\n",
        ] {
            assert!(eml.contains(header), "{header:?} missing in\n{eml}");
        }
        assert!(
            eml.contains("Message-ID: <skubridge.1.1793611800000@my-store.myshopify.com>\n"),
            "{eml}"
        );
        assert!(eml.ends_with(&format!("\n\n{BODY}")), "{eml}");
        assert_eq!(rows(&db), [(1, None, true)]);
        // Nothing left: the next flush sends nothing.
        let again = flush_now(&db, &cfg(NotifyTransport::File { dir: dir.clone() })).await;
        assert_eq!(again, FlushOutcome::default());
        assert_eq!(self::emls(&dir).len(), 1);
    }

    #[tokio::test]
    async fn a_failed_flush_keeps_the_email_for_the_next() {
        let (tmp, db) = test_db();
        queue_unmatched(&db);
        // A file where the directory should be: every write fails.
        let dir = tmp.path().join("outbox");
        std::fs::write(&dir, "").unwrap();
        let cfg = cfg(NotifyTransport::File { dir: dir.clone() });

        let failed = flush_now(&db, &cfg).await;
        assert_eq!((failed.sent, failed.failed, failed.pending), (0, 1, 1));
        let error = failed.error.unwrap();
        assert!(error.starts_with("email directory"), "{error}");
        assert_eq!(rows(&db), [(1, Some(error), false)]);
        assert_eq!(crate::notify::pending(&db).unwrap(), 1);

        std::fs::remove_file(&dir).unwrap();
        let sent = flush_now(&db, &cfg).await;
        assert_eq!(
            (sent.sent, sent.failed, sent.pending, sent.error),
            (1, 0, 0, None)
        );
        assert_eq!(rows(&db)[0].0, 2);
        assert!(rows(&db)[0].2);
        assert_eq!(emls(&dir).len(), 1);
    }

    #[tokio::test]
    async fn the_log_transport_sends_without_recipients() {
        let (_tmp, db) = test_db();
        queue_note(&db, "12 listings matched.");
        let mut cfg = cfg(NotifyTransport::Log);
        cfg.to.clear();
        let outcome = flush_now(&db, &cfg).await;
        assert_eq!((outcome.sent, outcome.pending, outcome.error), (1, 0, None));
    }

    #[tokio::test]
    async fn sends_through_smtp() {
        let sandbox = sandbox().await;
        let (_tmp, db) = test_db();
        queue_unmatched(&db);
        queue_note(&db, "12 listings matched, 3 unmatched.");

        let outcome = flush_now(&db, &smtp(url_with_login(sandbox.smtp_addr))).await;
        assert_eq!(
            outcome,
            FlushOutcome {
                sent: 2,
                ..FlushOutcome::default()
            }
        );
        let mail = sandbox.app.mail.messages();
        assert_eq!(mail.len(), 2);
        assert_eq!(
            mail[0].subject,
            "2 listings on iconic are not syncing stock"
        );
        assert_eq!(mail[0].from, "skubridge@brand.com");
        assert_eq!(mail[0].to, ["ops@brand.com", "owner@brand.com"]);
        assert_eq!(mail[0].auth_user.as_deref(), Some("merchant"));
        assert_eq!(mail[0].body, BODY.trim_end());
        assert_eq!(mail[1].subject, "Product reset complete");
        // A one-off message is not repeated, so its footer does not say when.
        assert_eq!(
            mail[1].body,
            "Store: my-store.myshopify.com\n\n12 listings matched, 3 unmatched.\n\n-- \nSent by skubridge for my-store.myshopify.com."
        );
        assert_eq!(rows(&db), [(1, None, true), (1, None, true)]);
    }

    #[tokio::test]
    async fn an_smtp_outage_keeps_the_email_queued() {
        let sandbox = sandbox().await;
        let (_tmp, db) = test_db();
        queue_unmatched(&db);
        queue_note(&db, "done");
        let url = url_with_login(sandbox.smtp_addr);
        let cfg = smtp(url.clone());

        sandbox.app.mail.set_down(true);
        let down = flush_now(&db, &cfg).await;
        // Stopped at the first email: the second was not tried.
        assert_eq!((down.sent, down.failed, down.pending), (0, 1, 2));
        let error = down.error.unwrap();
        assert!(error.contains("421"), "{error}");
        assert_no_secret(&error, &url);
        assert_eq!(rows(&db), [(1, Some(error), false), (0, None, false)]);
        assert!(sandbox.app.mail.messages().is_empty());

        sandbox.app.mail.set_down(false);
        let up = flush_now(&db, &cfg).await;
        assert_eq!((up.sent, up.failed, up.pending, up.error), (2, 0, 0, None));
        assert_eq!(sandbox.app.mail.messages().len(), 2);
    }

    #[tokio::test]
    async fn a_silent_or_stalled_server_is_given_up_on_and_the_email_stays_queued() {
        let sandbox = sandbox().await;
        let (_tmp, db) = test_db();
        queue_unmatched(&db);
        queue_note(&db, "done");
        let mut cfg = smtp(url_with_login(sandbox.smtp_addr));
        cfg.timeout = std::time::Duration::from_secs(1);
        for mode in [MailMode::Silent, MailMode::StallAfterGreeting] {
            sandbox.app.mail.set_mode(mode);
            let started = std::time::Instant::now();
            let outcome = flush_now(&db, &cfg).await;
            assert!(
                started.elapsed() < std::time::Duration::from_secs(5),
                "{mode:?}"
            );
            assert_eq!((outcome.sent, outcome.failed, outcome.pending), (0, 1, 2));
            let error = outcome.error.unwrap();
            assert!(error.contains("no answer within 1 s"), "{error}");
        }
        sandbox.app.mail.set_mode(MailMode::Up);
        let up = flush_now(&db, &cfg).await;
        assert_eq!((up.sent, up.pending, up.error), (2, 0, None));
    }

    #[tokio::test]
    async fn no_email_is_started_after_the_deadline() {
        let sandbox = sandbox().await;
        let (_tmp, db) = test_db();
        queue_note(&db, "done");
        let cfg = smtp(sandbox.smtp_url());
        let outcome = flush(&db, &cfg, SHOP, Utc::now(), Instant::now()).await;
        assert_eq!((outcome.sent, outcome.pending), (0, 1));
        assert!(outcome.error.unwrap().contains("ran out of time"));
        assert!(sandbox.app.mail.messages().is_empty());
    }

    #[tokio::test]
    async fn an_email_the_server_refuses_does_not_hold_up_the_others() {
        let sandbox = sandbox().await;
        let (_tmp, db) = test_db();
        // Over the sandbox's 10 MiB limit: refused with a permanent 552.
        queue_note(&db, &"too big for any mailbox\n".repeat(450_000));
        queue_unmatched(&db);

        let outcome = flush_now(&db, &smtp(sandbox.smtp_url())).await;
        assert_eq!((outcome.sent, outcome.failed, outcome.pending), (1, 1, 1));
        assert!(outcome.error.unwrap().contains("552"));
        let mail = sandbox.app.mail.messages();
        assert_eq!(mail.len(), 1);
        assert!(mail[0].subject.ends_with("not syncing stock"));
    }

    #[tokio::test]
    async fn an_unreachable_server_never_shows_the_password() {
        // A port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (_tmp, db) = test_db();
        queue_unmatched(&db);
        for url in [
            url_with_login(format!("127.0.0.1:{port}")),
            format!("smtp://merchant:{PASSWORD_IN_URL}@127.0.0.1:99999"),
            format!("smtp://merchant:{PASSWORD_IN_URL}@/nohost"),
        ] {
            let outcome = flush_now(&db, &smtp(url.clone())).await;
            assert_eq!((outcome.sent, outcome.pending), (0, 1));
            let error = outcome.error.unwrap();
            assert_no_secret(&error, &url);
        }
        let stored = rows(&db);
        assert_eq!(stored[0].0, 3);
        assert_no_secret(stored[0].1.as_deref().unwrap(), "smtp://");
    }

    #[test]
    fn redacts_the_url_and_the_password_in_any_form() {
        let url = Secret::new(format!(
            "smtps://merchant:{PASSWORD_IN_URL}@smtp.example.com:465"
        ));
        let echoed = format!(
            "bad login {PASSWORD} / {PASSWORD_IN_URL} for {}",
            url.expose()
        );
        assert_eq!(
            redact(&echoed, &url),
            "bad login [redacted] / [redacted] for [redacted]"
        );
        // No password: nothing but the URL to hide, and nothing empty replaced.
        let plain = Secret::new("smtp://relay:25");
        assert_eq!(redact("refused by relay", &plain), "refused by relay");
    }

    #[test]
    fn finds_the_password_in_a_url() {
        assert_eq!(
            url_password("smtps://u:p%40ss@h:465/x?tls=required"),
            Some("p%40ss")
        );
        assert_eq!(url_password("smtp://u:p@ss@h"), Some("p@ss"));
        assert_eq!(url_password("smtp://u@h"), None);
        assert_eq!(url_password("smtp://h:25"), None);
        assert_eq!(percent_decode("p%40ss%2"), "p@ss%2");
        assert_eq!(percent_decode("%e2%89%88"), "≈");
    }

    #[test]
    fn says_when_the_same_problem_is_mailed_again() {
        assert_eq!(span(24 * 3600), "24 hours");
        assert_eq!(span(3600), "1 hour");
        assert_eq!(span(5400), "90 minutes");
        assert_eq!(span(30), "1 minute");
    }
}
