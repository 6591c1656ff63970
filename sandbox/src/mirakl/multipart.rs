//! Just enough `multipart/form-data` (RFC 7578) to read an uploaded file part, so the
//! sandbox needs no multipart dependency.

/// The content of the part named `name`: `Ok(None)` when the form has no such part,
/// `Err` when the body is not a multipart form.
pub(super) fn part<'a>(
    content_type: &str,
    body: &'a [u8],
    name: &str,
) -> Result<Option<&'a [u8]>, &'static str> {
    let not_multipart = "the body must be multipart/form-data with a boundary";
    let (media, params) = content_type.split_once(';').ok_or(not_multipart)?;
    if !media.trim().eq_ignore_ascii_case("multipart/form-data") {
        return Err(not_multipart);
    }
    let boundary = params
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(key, _)| key.eq_ignore_ascii_case("boundary"))
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|b| !b.is_empty())
        .ok_or(not_multipart)?;
    let delimiter = format!("--{boundary}");
    let mut rest = &body[find(body, delimiter.as_bytes()).ok_or(not_multipart)?..];
    let wanted = format!("name=\"{name}\"");
    loop {
        rest = &rest[delimiter.len()..];
        if rest.starts_with(b"--") {
            return Ok(None);
        }
        let headers_end = find(rest, b"\r\n\r\n").ok_or(not_multipart)?;
        let headers = String::from_utf8_lossy(&rest[..headers_end]);
        let content = &rest[headers_end + 4..];
        let end = find(content, format!("\r\n{delimiter}").as_bytes()).ok_or(not_multipart)?;
        let disposition = headers
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"));
        if disposition.is_some_and(|d| d.split(';').any(|p| p.trim() == wanted)) {
            return Ok(Some(&content[..end]));
        }
        rest = &content[end + 2..];
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPE: &str = "multipart/form-data; boundary=\"XyZ\"";

    #[test]
    fn finds_the_named_part() {
        let body = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"s.csv\"\r\nContent-Type: text/csv\r\n\r\na;b\r\n1;2\r\n--XyZ--\r\n";
        assert_eq!(part(TYPE, body, "file").unwrap(), Some(&b"a;b\r\n1;2"[..]));
        assert_eq!(part(TYPE, body, "note").unwrap(), Some(&b"hi"[..]));
        assert_eq!(part(TYPE, body, "other").unwrap(), None);
        assert!(part("application/json", body, "file").is_err());
        assert!(part("multipart/form-data; boundary=QQ", body, "file").is_err());
        assert!(part(TYPE, b"--XyZ\r\nno end", "file").is_err());
    }
}
