//! One SMTP conversation as a state machine: lines in, replies out. No I/O here, so each
//! rule of the RFC 5321 subset can be tested by feeding lines.

use super::MailStore;
use crate::base64;

/// The name the sink gives itself in the greeting and the EHLO reply.
const HOST: &str = "localhost";

/// The first thing a client reads.
pub(super) fn greeting() -> String {
    format!("220 {HOST} ESMTP skubridge-sandbox\r\n")
}

/// RFC 4954 challenges: base64 of "Username:" and "Password:", the prompts lettre and
/// other clients look for.
const LOGIN_USERNAME: &str = "334 VXNlcm5hbWU6";
const LOGIN_PASSWORD: &str = "334 UGFzc3dvcmQ6";

const TOO_BIG: &str = "552 5.3.4 Message size exceeds fixed maximum message size";

/// What to send back, and whether to close the connection after sending it.
#[derive(Debug, PartialEq)]
pub(super) struct Reply {
    pub(super) text: String,
    pub(super) close: bool,
}

/// A reply of one or more lines (joined by `\r\n`), connection kept.
fn reply(text: impl Into<String>) -> Reply {
    let mut text = text.into();
    text.push_str("\r\n");
    Reply { text, close: false }
}

#[derive(Clone, Copy, PartialEq)]
enum Hello {
    Helo,
    Ehlo,
}

/// MAIL FROM and RCPT TO so far.
pub(super) struct Envelope {
    pub(super) from: String,
    pub(super) to: Vec<String>,
}

enum State {
    Command,
    /// `AUTH PLAIN` came without an initial response: the next line is the response.
    AuthPlain,
    AuthLoginUser,
    AuthLoginPassword {
        user: String,
    },
    Data(Data),
}

/// A transaction between DATA and the end of its data.
struct Data {
    envelope: Envelope,
    bytes: Vec<u8>,
    /// Over the size limit: the rest is read and dropped, the end is refused.
    too_big: bool,
}

pub(super) struct Session {
    max_message_bytes: usize,
    hello: Option<Hello>,
    auth_user: Option<String>,
    envelope: Option<Envelope>,
    state: State,
}

impl Session {
    pub(super) fn new(max_message_bytes: usize) -> Self {
        Self {
            max_message_bytes,
            hello: None,
            auth_user: None,
            envelope: None,
            state: State::Command,
        }
    }

    /// Handles one line as read, line ending included. Mail data lines get no reply;
    /// the line that ends the data delivers the message to `store`.
    pub(super) fn on_line(&mut self, line: &[u8], store: &MailStore) -> Option<Reply> {
        let text = || {
            let text = String::from_utf8_lossy(line);
            text.trim_end_matches(['\r', '\n']).to_string()
        };
        match std::mem::replace(&mut self.state, State::Command) {
            State::Command => Some(self.command(&text())),
            State::AuthPlain => Some(self.auth_plain(&text())),
            State::AuthLoginUser => Some(self.login_user(&text())),
            State::AuthLoginPassword { user } => Some(self.login_password(user, &text())),
            State::Data(data) => self.data_line(data, line, store),
        }
    }

    /// A line longer than the reader keeps: its rest was discarded.
    pub(super) fn on_overlong_line(&mut self) -> Option<Reply> {
        match &mut self.state {
            State::Data(data) => {
                data.too_big = true;
                None
            }
            _ => {
                // Also abandons an AUTH exchange.
                self.state = State::Command;
                Some(reply("500 5.5.2 Line too long"))
            }
        }
    }

    fn command(&mut self, line: &str) -> Reply {
        let (verb, argument) = line.split_once(' ').unwrap_or((line, ""));
        let argument = argument.trim();
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => self.hello(Hello::Ehlo, argument),
            "HELO" => self.hello(Hello::Helo, argument),
            "AUTH" => self.auth(argument),
            "MAIL" => self.mail(argument),
            "RCPT" => self.rcpt(argument),
            "DATA" => self.data(argument),
            "RSET" => {
                self.envelope = None;
                reply("250 2.0.0 OK")
            }
            "NOOP" => reply("250 2.0.0 OK"),
            "QUIT" => Reply {
                close: true,
                ..reply("221 2.0.0 Bye")
            },
            _ => reply("502 5.5.2 Command not recognized"),
        }
    }

    /// EHLO/HELO; a repeated one also drops any transaction in progress (RFC 5321 §4.1.4).
    fn hello(&mut self, kind: Hello, domain: &str) -> Reply {
        if domain.is_empty() {
            return reply("501 5.5.4 Syntax: EHLO/HELO domain");
        }
        self.hello = Some(kind);
        self.envelope = None;
        match kind {
            Hello::Ehlo => reply(format!(
                "250-{HOST}\r\n250-8BITMIME\r\n250-SIZE {}\r\n250 AUTH PLAIN LOGIN",
                self.max_message_bytes
            )),
            Hello::Helo => reply(format!("250 {HOST}")),
        }
    }

    fn auth(&mut self, argument: &str) -> Reply {
        // AUTH is an ESMTP extension: a HELO client never saw it offered.
        if self.hello != Some(Hello::Ehlo) {
            return reply("503 5.5.1 Send EHLO first");
        }
        if self.auth_user.is_some() {
            return reply("503 5.5.1 Already authenticated");
        }
        if self.envelope.is_some() {
            return reply("503 5.5.1 Not allowed during a mail transaction");
        }
        let (mechanism, initial) = argument.split_once(' ').unwrap_or((argument, ""));
        match (mechanism.to_ascii_uppercase().as_str(), initial.trim()) {
            ("PLAIN", "") => {
                self.state = State::AuthPlain;
                reply("334 ")
            }
            ("PLAIN", initial) => self.auth_plain(initial),
            ("LOGIN", "") => {
                self.state = State::AuthLoginUser;
                reply(LOGIN_USERNAME)
            }
            ("LOGIN", initial) => self.login_user(initial),
            ("", _) => reply("501 5.5.4 Syntax: AUTH mechanism [initial-response]"),
            _ => reply("504 5.5.4 Unrecognized authentication type"),
        }
    }

    /// RFC 4616: `authzid NUL authcid NUL password`; any password is accepted.
    fn auth_plain(&mut self, response: &str) -> Reply {
        let message = match decode_response(response) {
            Ok(message) => message,
            Err(refusal) => return refusal,
        };
        let fields: Vec<&[u8]> = message.split(|&b| b == 0).collect();
        match fields.as_slice() {
            [_authzid, user, _password] => self.authenticated(user),
            _ => reply("501 5.5.2 Malformed PLAIN response"),
        }
    }

    fn login_user(&mut self, response: &str) -> Reply {
        match decode_response(response) {
            Ok(user) => {
                self.state = State::AuthLoginPassword {
                    user: String::from_utf8_lossy(&user).into_owned(),
                };
                reply(LOGIN_PASSWORD)
            }
            Err(refusal) => refusal,
        }
    }

    fn login_password(&mut self, user: String, response: &str) -> Reply {
        match decode_response(response) {
            Ok(_password) => self.authenticated(user.as_bytes()),
            Err(refusal) => refusal,
        }
    }

    fn authenticated(&mut self, user: &[u8]) -> Reply {
        self.auth_user = Some(String::from_utf8_lossy(user).into_owned());
        reply("235 2.7.0 Authentication successful")
    }

    fn mail(&mut self, argument: &str) -> Reply {
        if self.hello.is_none() {
            return reply("503 5.5.1 Send HELO/EHLO first");
        }
        if self.envelope.is_some() {
            return reply("503 5.5.1 Sender already given");
        }
        let Some((from, parameters)) = path(argument, "FROM:") else {
            return reply("501 5.5.4 Syntax: MAIL FROM:<address>");
        };
        if declared_size(parameters).is_some_and(|size| size > self.max_message_bytes) {
            return reply(TOO_BIG);
        }
        self.envelope = Some(Envelope {
            from: from.to_string(),
            to: Vec::new(),
        });
        reply("250 2.1.0 OK")
    }

    fn rcpt(&mut self, argument: &str) -> Reply {
        let Some(envelope) = self.envelope.as_mut() else {
            return reply("503 5.5.1 Need MAIL before RCPT");
        };
        match path(argument, "TO:") {
            // The null path is only a sender.
            Some((to, _)) if !to.is_empty() => {
                envelope.to.push(to.to_string());
                reply("250 2.1.5 OK")
            }
            _ => reply("501 5.5.4 Syntax: RCPT TO:<address>"),
        }
    }

    fn data(&mut self, argument: &str) -> Reply {
        if !argument.is_empty() {
            return reply("501 5.5.4 Syntax: DATA");
        }
        match self.envelope.take() {
            Some(envelope) if !envelope.to.is_empty() => {
                self.state = State::Data(Data {
                    envelope,
                    bytes: Vec::new(),
                    too_big: false,
                });
                reply("354 End data with <CR><LF>.<CR><LF>")
            }
            Some(envelope) => {
                self.envelope = Some(envelope);
                reply("503 5.5.1 Need RCPT before DATA")
            }
            None => reply("503 5.5.1 Need MAIL before DATA"),
        }
    }

    /// One line of mail data, dot-stuffing undone; the end line delivers to `store`.
    fn data_line(&mut self, mut data: Data, line: &[u8], store: &MailStore) -> Option<Reply> {
        // Only CRLF.CRLF ends the data: a bare-LF variant is data (no smuggling).
        if line == b".\r\n" {
            if data.too_big {
                return Some(reply(TOO_BIG));
            }
            let id = store.deliver(data.envelope, self.auth_user.clone(), &data.bytes);
            return Some(reply(format!("250 2.0.0 OK: queued as {id}")));
        }
        let line = line.strip_prefix(b".").unwrap_or(line);
        data.too_big |= data.bytes.len() + line.len() > self.max_message_bytes;
        if !data.too_big {
            data.bytes.extend_from_slice(line);
        }
        self.state = State::Data(data);
        None
    }
}

/// A base64 SASL response; `*` cancels the exchange (RFC 4954 §4), `=` is empty.
fn decode_response(response: &str) -> Result<Vec<u8>, Reply> {
    match response.trim() {
        "*" => Err(reply("501 5.7.0 Authentication cancelled")),
        "=" => Ok(Vec::new()),
        text => base64::decode(text).ok_or_else(|| reply("501 5.5.2 Cannot decode response")),
    }
}

/// `FROM:<address> PARAMETERS` (after `keyword`, case-insensitive): the address without
/// its angle brackets, and the parameters. A space after the colon is tolerated.
fn path<'a>(argument: &'a str, keyword: &str) -> Option<(&'a str, &'a str)> {
    let head = argument.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = argument[keyword.len()..].trim_start().strip_prefix('<')?;
    let (address, parameters) = rest.split_once('>')?;
    Some((address, parameters.trim()))
}

/// The `SIZE=n` MAIL parameter (RFC 1870), when given and numeric.
fn declared_size(parameters: &str) -> Option<usize> {
    parameters.split_ascii_whitespace().find_map(|parameter| {
        let (key, value) = parameter.split_once('=')?;
        key.eq_ignore_ascii_case("SIZE")
            .then(|| value.parse().ok())
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `lines` (each gets CRLF) and returns the replies' first lines.
    fn feed(session: &mut Session, store: &MailStore, lines: &[&str]) -> Vec<String> {
        lines
            .iter()
            .filter_map(|line| session.on_line(format!("{line}\r\n").as_bytes(), store))
            .map(|reply| reply.text.lines().next().unwrap_or_default().to_string())
            .collect()
    }

    fn codes(replies: &[String]) -> Vec<&str> {
        replies.iter().map(|r| &r[..3]).collect()
    }

    #[test]
    fn commands_out_of_order_are_refused() {
        let store = MailStore::default();
        let mut session = Session::new(1000);
        let replies = feed(
            &mut session,
            &store,
            &[
                "MAIL FROM:<a@x>",
                "AUTH PLAIN AGEAYg==",
                "HELO client",
                "AUTH PLAIN AGEAYg==",
                "RCPT TO:<b@x>",
                "DATA",
                "MAIL FROM:<a@x>",
                "MAIL FROM:<a@x>",
                "DATA",
                "RSET",
                "RCPT TO:<b@x>",
                "STARTTLS",
                "VRFY a",
                "",
                "NOOP",
            ],
        );
        assert_eq!(
            codes(&replies),
            [
                "503", "503", "250", "503", "503", "503", "250", "503", "503", "250", "503", "502",
                "502", "502", "250"
            ]
        );
        assert!(store.messages().is_empty());
    }

    #[test]
    fn syntax_errors_are_501() {
        let store = MailStore::default();
        let mut session = Session::new(1000);
        let replies = feed(
            &mut session,
            &store,
            &[
                "EHLO",
                "EHLO client",
                "AUTH",
                "AUTH PLAIN !!",
                "AUTH PLAIN bm8tbnVscw==",
                "AUTH CRAM-MD5",
                "AUTH LOGIN",
                "*",
                "MAIL FROM:a@x",
                "MAIL TO:<a@x>",
                "mail from: <a@x> SIZE=10",
                "RCPT TO:<>",
                "rcpt to:<b@x>",
                "DATA now",
            ],
        );
        assert_eq!(
            codes(&replies),
            [
                "501", "250", "501", "501", "501", "504", "334", "501", "501", "501", "250", "501",
                "250", "501"
            ]
        );
    }

    #[test]
    fn auth_records_the_user_whatever_the_password() {
        let store = MailStore::default();
        let mut session = Session::new(1000);
        // AUTH LOGIN with the user as initial response, then the password.
        let replies = feed(
            &mut session,
            &store,
            &[
                "EHLO c",
                "AUTH LOGIN Ym9i",
                "cHc=",
                "AUTH LOGIN",
                "MAIL FROM:<>",
                "RCPT TO:<ops@x>",
                "DATA",
                "hi",
                ".",
            ],
        );
        assert_eq!(
            replies[1..],
            [
                LOGIN_PASSWORD,
                "235 2.7.0 Authentication successful",
                "503 5.5.1 Already authenticated",
                "250 2.1.0 OK",
                "250 2.1.5 OK",
                "354 End data with <CR><LF>.<CR><LF>",
                "250 2.0.0 OK: queued as 1",
            ]
        );
        let mail = &store.messages()[0];
        assert_eq!(mail.auth_user.as_deref(), Some("bob"));
        assert_eq!(mail.from, "");
        assert_eq!(mail.raw, "hi\r\n");
    }

    #[test]
    fn oversized_messages_are_refused_and_the_session_goes_on() {
        let store = MailStore::default();
        let mut session = Session::new(10);
        let replies = feed(
            &mut session,
            &store,
            &[
                "HELO c",
                "MAIL FROM:<a@x> SIZE=11",
                "MAIL FROM:<a@x> SIZE=10",
                "RCPT TO:<b@x>",
                "DATA",
                "0123456789",
                ".",
            ],
        );
        assert_eq!(codes(&replies), ["250", "552", "250", "250", "354", "552"]);
        // A line the reader cut short also spoils the message, but not the session.
        let replies = feed(&mut session, &store, &["MAIL FROM:<a@x>", "RCPT TO:<b@x>"]);
        assert_eq!(codes(&replies), ["250", "250"]);
        assert_eq!(codes(&feed(&mut session, &store, &["DATA"])), ["354"]);
        assert_eq!(session.on_overlong_line(), None);
        assert_eq!(codes(&feed(&mut session, &store, &["x", "."])), ["552"]);
        let replies = feed(
            &mut session,
            &store,
            &["MAIL FROM:<a@x>", "RCPT TO:<b@x>", "DATA", "ok", "."],
        );
        assert_eq!(codes(&replies), ["250", "250", "354", "250"]);
        assert_eq!(store.messages().len(), 1);
        // Outside the data, an overlong line is refused and any AUTH exchange dropped.
        let reply = session.on_overlong_line().map(|r| r.text);
        assert_eq!(reply.as_deref(), Some("500 5.5.2 Line too long\r\n"));
    }

    #[test]
    fn ehlo_offers_exactly_the_supported_extensions() {
        let store = MailStore::default();
        let mut session = Session::new(1234);
        let Some(reply) = session.on_line(b"EHLO client.example\r\n", &store) else {
            panic!("EHLO has a reply");
        };
        assert_eq!(
            reply.text,
            "250-localhost\r\n250-8BITMIME\r\n250-SIZE 1234\r\n250 AUTH PLAIN LOGIN\r\n"
        );
        let quit = session.on_line(b"quit\r\n", &store);
        assert_eq!(
            quit,
            Some(Reply {
                text: "221 2.0.0 Bye\r\n".into(),
                close: true
            })
        );
    }
}
