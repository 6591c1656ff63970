//! Just enough RFC 5322 / MIME to show a received message the way a person reads it:
//! unfolded header fields, the `Subject` with its RFC 2047 encoded-words decoded, and the
//! text of the body (the first `text/plain` part of a multipart message).
//!
//! Every charset is read as UTF-8 (invalid bytes become U+FFFD): lettre, the only client
//! skubridge uses, always declares UTF-8.

use crate::base64;

/// Multipart nesting deeper than this is not searched (a hostile message could nest
/// until the stack runs out).
const MAX_NESTING: usize = 8;

/// A message's header fields in order (unfolded, values trimmed) and its body text.
#[derive(Debug, PartialEq)]
pub(super) struct Decoded {
    pub(super) fields: Vec<(String, String)>,
    pub(super) subject: String,
    pub(super) body: String,
}

/// Decodes a whole message (the mail data of one SMTP transaction).
pub(super) fn decode(message: &str) -> Decoded {
    let (fields, body) = split(message);
    let subject = field(&fields, "Subject")
        .map(decode_words)
        .unwrap_or_default();
    let content_type = field(&fields, "Content-Type").unwrap_or("text/plain");
    let body = if media_type(content_type).starts_with("multipart/") {
        first_plain_text(&fields, body, 0).unwrap_or_default()
    } else {
        // A single part is shown whatever its type: better than nothing for a person.
        text(&fields, body)
    };
    Decoded {
        fields,
        subject,
        body,
    }
}

/// Splits a message or MIME part into its header fields and its body. The header ends at
/// the first empty line, or at the first line that is neither a field nor a continuation
/// (a hand-written message without headers is all body).
fn split(text: &str) -> (Vec<(String, String)>, &str) {
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find('\n').map_or(rest.len(), |i| i + 1);
        let line = rest[..end].trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            rest = &rest[end..];
            break;
        }
        if line.starts_with([' ', '\t']) {
            // Unfolding removes the line break and keeps the whitespace (RFC 5322 §2.2.3).
            match fields.last_mut() {
                Some((_, value)) => value.push_str(line),
                None => break,
            }
        } else {
            match line.split_once(':') {
                Some((name, value))
                    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic()) =>
                {
                    fields.push((name.to_string(), value.to_string()));
                }
                _ => break,
            }
        }
        rest = &rest[end..];
    }
    for (_, value) in &mut fields {
        *value = value.trim().to_string();
    }
    (fields, rest)
}

/// The first field called `name` (case-insensitive).
fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `type/subtype` of a Content-Type value, lowercased.
fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// A parameter of a Content-Type value (`boundary`...), unquoted. Semicolons inside
/// quoted values do not split parameters.
fn parameter(content_type: &str, name: &str) -> Option<String> {
    let mut segments = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in content_type.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => {
                segments.push(&content_type[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    segments.push(&content_type[start..]);
    segments.into_iter().skip(1).find_map(|segment| {
        let (key, value) = segment.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().trim_matches('"').to_string())
    })
}

/// The decoded text of the first `text/plain` part, searching nested multiparts depth
/// first.
fn first_plain_text(fields: &[(String, String)], body: &str, depth: usize) -> Option<String> {
    let content_type = field(fields, "Content-Type").unwrap_or("text/plain");
    let media_type = media_type(content_type);
    if media_type == "text/plain" {
        return Some(text(fields, body));
    }
    if !media_type.starts_with("multipart/") || depth >= MAX_NESTING {
        return None;
    }
    let boundary = parameter(content_type, "boundary")?;
    parts(body, &boundary).into_iter().find_map(|part| {
        let (part_fields, part_body) = split(part);
        first_plain_text(&part_fields, part_body, depth + 1)
    })
}

/// The parts of a multipart body (RFC 2046 §5.1.1): the preamble and epilogue are dropped,
/// and the line break before each delimiter belongs to the delimiter. A body whose closing
/// delimiter never comes keeps its last part.
fn parts<'a>(body: &'a str, boundary: &str) -> Vec<&'a str> {
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut part_start = None;
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        let after = line.trim_end().strip_prefix(delimiter.as_str());
        if let Some(suffix @ ("" | "--")) = after {
            if let Some(start) = part_start {
                parts.push(strip_line_break(&body[start..offset]));
            }
            if suffix == "--" {
                return parts;
            }
            part_start = Some(offset + line.len());
        }
        offset += line.len();
    }
    if let Some(start) = part_start {
        parts.push(&body[start..]);
    }
    parts
}

fn strip_line_break(text: &str) -> &str {
    text.strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(text)
}

/// A part's body decoded per its Content-Transfer-Encoding, with `\n` line endings and
/// no trailing line breaks (SMTP and MIME framing add them; the sender's text rarely
/// ends with one that matters, and tests compare exactly).
fn text(fields: &[(String, String)], body: &str) -> String {
    let encoding = field(fields, "Content-Transfer-Encoding")
        .unwrap_or("7bit")
        .to_ascii_lowercase();
    let bytes = match encoding.as_str() {
        "quoted-printable" => unquote(body, false),
        "base64" => {
            let compact: String = body.split_ascii_whitespace().collect();
            // Not valid base64: show what was sent rather than nothing.
            base64::decode(&compact).unwrap_or_else(|| body.as_bytes().to_vec())
        }
        _ => body.as_bytes().to_vec(),
    };
    String::from_utf8_lossy(&bytes)
        .replace("\r\n", "\n")
        .trim_end_matches('\n')
        .to_string()
}

/// Quoted-printable (RFC 2045 §6.7) or, with `underscore_is_space`, the Q encoding of
/// encoded-words (RFC 2047 §4.2). `=XX` is a byte, `=` before a line break is a soft
/// break; any other `=` is kept as written.
fn unquote(text: &str, underscore_is_space: bool) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'=' => {
                let rest = &bytes[i + 1..];
                if rest.starts_with(b"\r\n") {
                    i += 3;
                } else if rest.starts_with(b"\n") {
                    i += 2;
                } else if let Some(byte) = rest.get(..2).and_then(hex_byte) {
                    out.push(byte);
                    i += 3;
                } else {
                    out.push(b'=');
                    i += 1;
                }
            }
            b'_' if underscore_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

fn hex_byte(pair: &[u8]) -> Option<u8> {
    let digit = |b: u8| char::from(b).to_digit(16);
    Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8)
}

/// Decodes the RFC 2047 encoded-words of an unstructured header value. Whitespace
/// between two encoded-words is dropped (§6.2), and adjacent words' bytes are joined
/// before being read as text, so a character split across two words survives.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut in_words = false;
    let mut rest = value;
    while let Some((before, bytes, after)) = next_word(rest) {
        if !(in_words && before.trim().is_empty()) {
            out.push_str(&String::from_utf8_lossy(&std::mem::take(&mut pending)));
            out.push_str(before);
        }
        pending.extend(bytes);
        in_words = true;
        rest = after;
    }
    out.push_str(&String::from_utf8_lossy(&pending));
    out.push_str(rest);
    out
}

/// The first well-formed encoded-word in `text`: the text before it, its decoded bytes,
/// and the text after it. A malformed `=?` is plain text.
fn next_word(text: &str) -> Option<(&str, Vec<u8>, &str)> {
    let mut from = 0;
    while let Some(found) = text[from..].find("=?") {
        let start = from + found;
        if let Some((bytes, len)) = encoded_word(&text[start..]) {
            return Some((&text[..start], bytes, &text[start + len..]));
        }
        from = start + 2;
    }
    None
}

/// `=?charset?B|Q?text?=` at the start of `text`: its bytes and its length.
fn encoded_word(text: &str) -> Option<(Vec<u8>, usize)> {
    let inner = text.strip_prefix("=?")?;
    let (charset, rest) = inner.split_once('?')?;
    let (encoding, rest) = rest.split_once('?')?;
    let encoded = &rest[..rest.find("?=")?];
    let spaced = |s: &str| s.is_empty() || s.contains(|c: char| c.is_ascii_whitespace());
    if spaced(charset) || encoded.contains(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let bytes = match encoding {
        "B" | "b" => base64::decode(encoded)?,
        "Q" | "q" => unquote(encoded, true),
        _ => return None,
    };
    let len = "=?".len() + charset.len() + 1 + encoding.len() + 1 + encoded.len() + "?=".len();
    Some((bytes, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_are_unfolded_and_the_body_follows_the_blank_line() {
        let decoded = decode(
            "From: Shop <shop@example.com>\r\nX-Long: first\r\n\tsecond\r\n  third\r\n\
             Subject: plain\r\n\r\nBody: not a header\r\n",
        );
        assert_eq!(
            decoded.fields,
            [
                ("From".to_string(), "Shop <shop@example.com>".to_string()),
                ("X-Long".to_string(), "first\tsecond  third".to_string()),
                ("Subject".to_string(), "plain".to_string()),
            ]
        );
        assert_eq!(decoded.subject, "plain");
        assert_eq!(decoded.body, "Body: not a header");
    }

    #[test]
    fn a_message_without_headers_is_all_body() {
        let decoded = decode("just some text\r\nand more\r\n");
        assert!(decoded.fields.is_empty());
        assert_eq!(decoded.subject, "");
        assert_eq!(decoded.body, "just some text\nand more");
    }

    #[test]
    fn encoded_words_decode_and_join() {
        assert_eq!(
            decode_words("=?utf-8?q?Caf=C3=A9_order?= =?UTF-8?B?IOKckw==?= done"),
            "Café order ✓ done"
        );
        // "é" (C3 A9) split across two words, folded onto two lines.
        assert_eq!(decode_words("=?utf-8?Q?Caf=C3?=\t =?utf-8?Q?=A9?="), "Café");
        // Text between words stays; malformed words are plain text.
        assert_eq!(
            decode_words("a =?utf-8?q?b?= c =?utf-8?x?d?= =?bad"),
            "a b c =?utf-8?x?d?= =?bad"
        );
        assert_eq!(decode_words("=?utf-8?b?!!!?="), "=?utf-8?b?!!!?=");
    }

    #[test]
    fn quoted_printable_bodies_decode() {
        let decoded = decode(
            "Content-Type: text/plain; charset=utf-8\r\n\
             Content-Transfer-Encoding: Quoted-Printable\r\n\r\n\
             Stock =E2=80=94 SKU-1 is lo=\r\nw\r\n1+1=3D2, 50% =ZZ off\r\n\r\n",
        );
        assert_eq!(decoded.body, "Stock — SKU-1 is low\n1+1=2, 50% =ZZ off");
    }

    #[test]
    fn base64_bodies_decode_across_lines() {
        let decoded = decode(
            "Content-Transfer-Encoding: base64\r\n\r\nU3RvY2sgcmVwb3J0DQpT\r\nS1UtMTogNSDihpIgMw0K\r\n",
        );
        assert_eq!(decoded.body, "Stock report\nSKU-1: 5 → 3");
        // Not base64 after all: the text as sent.
        let broken = decode("Content-Transfer-Encoding: base64\r\n\r\nnot*base64\r\n");
        assert_eq!(broken.body, "not*base64");
    }

    #[test]
    fn multipart_shows_the_first_plain_text_part() {
        let message = "Content-Type: multipart/mixed; boundary=\"=_outer x\"\r\n\r\n\
            preamble\r\n\
            --=_outer x\r\n\
            Content-Type: multipart/alternative; boundary=inner\r\n\r\n\
            --inner\r\n\
            Content-Type: text/html\r\n\r\n<p>Hi</p>\r\n\
            --inner\r\n\
            Content-Type: text/plain; charset=utf-8\r\n\
            Content-Transfer-Encoding: quoted-printable\r\n\r\n\
            Hi =E2=9C=93\r\n\
            --inner--\r\n\
            --=_outer x\r\n\
            Content-Type: text/plain\r\n\r\nsecond plain part\r\n\
            --=_outer x--\r\nepilogue\r\n";
        assert_eq!(decode(message).body, "Hi ✓");
        let no_plain = "Content-Type: multipart/alternative; boundary=b\r\n\r\n\
            --b\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--b--\r\n";
        assert_eq!(decode(no_plain).body, "");
    }

    #[test]
    fn parameters_respect_quotes_and_case() {
        let value = "multipart/mixed; name=\"a;b\"; BOUNDARY=\"xyz\"";
        assert_eq!(parameter(value, "boundary").as_deref(), Some("xyz"));
        assert_eq!(parameter(value, "name").as_deref(), Some("a;b"));
        assert_eq!(parameter(value, "charset"), None);
        assert_eq!(media_type(" Multipart/Mixed ; x=y"), "multipart/mixed");
    }

    #[test]
    fn an_unterminated_multipart_keeps_its_last_part() {
        let parts = parts("--b\r\none\r\n--b\r\ntwo\r\n", "b");
        assert_eq!(parts, ["one", "two\r\n"]);
    }
}
