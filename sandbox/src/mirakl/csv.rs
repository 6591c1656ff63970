//! Mirakl's CSV dialect: `;` between fields, each optionally in double quotes (a quote
//! inside one doubled), a header row first.

/// One line's fields, or why it cannot be read. Fields never span lines (stock files
/// have no line breaks inside values).
pub(super) fn split(line: &str) -> Result<Vec<String>, &'static str> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err("a quoted field is not closed"),
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                }
            }
            if !matches!(chars.peek(), None | Some(';')) {
                return Err("text follows a closing quote");
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ';') {
                field.push(c);
            }
        }
        fields.push(field);
        if chars.next().is_none() {
            return Ok(fields);
        }
    }
}

/// Fields as one CSV line (no line break), every one quoted as Mirakl's files are.
pub(super) fn join<S: AsRef<str>>(fields: &[S]) -> String {
    let quoted: Vec<String> = fields
        .iter()
        .map(|f| format!("\"{}\"", f.as_ref().replace('"', "\"\"")))
        .collect();
    quoted.join(";")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_split_quoted_or_not_and_join_back() {
        assert_eq!(
            split("a;\"b;c\";;\"d\"\"e\"").unwrap(),
            ["a", "b;c", "", "d\"e"]
        );
        assert_eq!(split("").unwrap(), [""]);
        assert_eq!(split("x;").unwrap(), ["x", ""]);
        assert!(split("\"open").is_err());
        assert!(split("\"a\"b").is_err());
        assert_eq!(join(&["a", "b;c", "d\"e"]), "\"a\";\"b;c\";\"d\"\"e\"");
        assert_eq!(split(&join(&["x\"", ""])).unwrap(), ["x\"", ""]);
    }
}
