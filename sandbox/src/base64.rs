//! Standard-alphabet base64 decoding, shared by HTTP Basic auth and the SMTP sink (the
//! sandbox has no base64 dependency).

/// Decodes `text`; padding is optional. `None` for a character outside the alphabet or a
/// length no encoder produces.
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.trim_end_matches('=').bytes() {
        let sextet = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(sextet);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // One character left over (6 bits) cannot end a valid encoding.
    (bits < 6).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_with_and_without_padding() {
        // RFC 7617's example credentials.
        let decoded = decode("QWxhZGRpbjpvcGVuIHNlc2FtZQ==").unwrap();
        assert_eq!(decoded, b"Aladdin:open sesame");
        assert_eq!(decode("QWxhZGRpbjpvcGVuIHNlc2FtZQ").unwrap(), decoded);
        assert_eq!(decode("YWI=").unwrap(), b"ab");
        assert_eq!(decode("YWJj").unwrap(), b"abc");
        assert_eq!(decode("").unwrap(), b"");
        assert_eq!(decode("Y"), None);
        assert_eq!(decode("YW*="), None);
    }
}
