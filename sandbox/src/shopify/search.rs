//! Shopify's search syntax for `query:` arguments: the part skubridge sends.
//!
//! `field:value`, `field:>value` (also `>=`, `<`, `<=`), values bare or quoted with `'` or
//! `"` (backslash escapes), terms joined by spaces or `AND`, `OR`, `NOT`/`-`, parentheses.
//! Filters a connection does not know, and free-text words, are ignored, as Shopify
//! ignores unknown filters; so is a date it cannot read (returning more is safer than
//! silently returning less).

use chrono::{DateTime, NaiveDate, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Cmp {
    fn holds<T: PartialOrd>(self, actual: &T, wanted: &T) -> bool {
        match self {
            Cmp::Eq => actual == wanted,
            Cmp::Gt => actual > wanted,
            Cmp::Ge => actual >= wanted,
            Cmp::Lt => actual < wanted,
            Cmp::Le => actual <= wanted,
        }
    }
}

#[derive(Debug, PartialEq)]
pub enum Query {
    Term {
        field: String,
        cmp: Cmp,
        value: String,
    },
    /// A word without `field:`; ignored.
    Text,
    Not(Box<Query>),
    And(Vec<Query>),
    Or(Vec<Query>),
}

/// What a searched object knows about itself: `None` for a filter it does not support.
pub trait Searchable {
    fn test(&self, field: &str, cmp: Cmp, value: &str) -> Option<bool>;
}

impl Query {
    pub fn parse(text: &str) -> Query {
        let tokens = tokenize(text);
        let mut parser = Parser { tokens, pos: 0 };
        let mut parts = Vec::new();
        // Stray `)` must not end the parse early.
        while parser.pos < parser.tokens.len() {
            parts.push(parser.or());
            parser.pos += 1;
        }
        if parts.len() == 1 {
            parts.remove(0)
        } else {
            Query::And(parts)
        }
    }

    pub fn matches(&self, obj: &impl Searchable) -> bool {
        self.eval(obj).unwrap_or(true)
    }

    /// `None`: nothing in this subtree applies to the object.
    fn eval(&self, obj: &impl Searchable) -> Option<bool> {
        match self {
            Query::Term { field, cmp, value } => obj.test(field, *cmp, value),
            Query::Text => None,
            Query::Not(q) => q.eval(obj).map(|b| !b),
            Query::And(qs) => qs.iter().filter_map(|q| q.eval(obj)).reduce(|a, b| a && b),
            Query::Or(qs) => qs.iter().filter_map(|q| q.eval(obj)).reduce(|a, b| a || b),
        }
    }
}

/// `updated_at`-style filters: RFC 3339 instants or plain dates (midnight UTC).
pub fn test_time(actual: DateTime<Utc>, cmp: Cmp, value: &str) -> Option<bool> {
    let wanted = DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            let date = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()?;
            Some(date.and_hms_opt(0, 0, 0)?.and_utc())
        })?;
    Some(cmp.holds(&actual, &wanted))
}

/// `id`-style filters: a number or a GID.
pub fn test_id(actual: u64, cmp: Cmp, value: &str) -> Option<bool> {
    let digits = value.rsplit('/').next()?.split('?').next()?;
    let wanted: u64 = digits.parse().ok()?;
    Some(cmp.holds(&actual, &wanted))
}

/// Exact, case-sensitive string filters (Shopify's own matching is fuzzier: callers must
/// re-check, and the sandbox being exact does not hide that they don't).
pub fn test_str(actual: Option<&str>, cmp: Cmp, value: &str) -> Option<bool> {
    Some(actual.is_some_and(|a| cmp.holds(&a, &value)))
}

#[derive(Debug, PartialEq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    Word(Query),
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut chars = text.chars().peekable();
    let mut tokens = Vec::new();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            '-' => {
                chars.next();
                tokens.push(Token::Not);
            }
            _ => tokens.push(word(&mut chars)),
        }
    }
    tokens
}

/// Reads one word up to unquoted whitespace or parenthesis.
fn word(chars: &mut std::iter::Peekable<std::str::Chars>) -> Token {
    let mut buf = String::new();
    let mut field = None;
    let mut any_quoted = false;
    // Length of `buf` before the first quoted part: comparators only count there.
    let mut unquoted_len = None;
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() || c == '(' || c == ')' {
            break;
        }
        chars.next();
        match c {
            '\'' | '"' => {
                any_quoted = true;
                unquoted_len.get_or_insert(buf.len());
                while let Some(q) = chars.next() {
                    match q {
                        '\\' => buf.extend(chars.next()),
                        q if q == c => break,
                        q => buf.push(q),
                    }
                }
            }
            '\\' => buf.extend(chars.next()),
            ':' if field.is_none() && !any_quoted => field = Some(std::mem::take(&mut buf)),
            c => buf.push(c),
        }
    }
    let Some(field) = field else {
        return match buf.as_str() {
            "AND" if !any_quoted => Token::And,
            "OR" if !any_quoted => Token::Or,
            "NOT" if !any_quoted => Token::Not,
            _ => Token::Word(Query::Text),
        };
    };
    let prefix = &buf[..unquoted_len.unwrap_or(buf.len())];
    let (cmp, skip) = [
        (">=", Cmp::Ge),
        ("<=", Cmp::Le),
        (">", Cmp::Gt),
        ("<", Cmp::Lt),
    ]
    .into_iter()
    .find(|(op, _)| prefix.starts_with(op))
    .map_or((Cmp::Eq, 0), |(op, cmp)| (cmp, op.len()));
    Token::Word(Query::Term {
        field,
        cmp,
        value: buf[skip..].to_string(),
    })
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn or(&mut self) -> Query {
        let mut parts = vec![self.and()];
        while self.tokens.get(self.pos) == Some(&Token::Or) {
            self.pos += 1;
            parts.push(self.and());
        }
        if parts.len() == 1 {
            parts.remove(0)
        } else {
            Query::Or(parts)
        }
    }

    fn and(&mut self) -> Query {
        let mut parts = Vec::new();
        loop {
            match self.tokens.get(self.pos) {
                None | Some(Token::Close) | Some(Token::Or) => break,
                Some(Token::And) => self.pos += 1,
                Some(_) => parts.push(self.unary()),
            }
        }
        if parts.len() == 1 {
            parts.remove(0)
        } else {
            Query::And(parts)
        }
    }

    fn unary(&mut self) -> Query {
        let token = std::mem::replace(&mut self.tokens[self.pos], Token::Close);
        self.pos += 1;
        match token {
            Token::Not => match self.tokens.get(self.pos) {
                None | Some(Token::Close) | Some(Token::Or) => Query::Text,
                Some(_) => Query::Not(Box::new(self.unary())),
            },
            Token::Open => {
                let inner = self.or();
                if self.tokens.get(self.pos) == Some(&Token::Close) {
                    self.pos += 1;
                }
                inner
            }
            Token::Word(q) => q,
            // `and()` never hands these over.
            Token::Close | Token::And | Token::Or => Query::Text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Item {
        sku: &'static str,
        id: u64,
        at: DateTime<Utc>,
    }

    impl Searchable for Item {
        fn test(&self, field: &str, cmp: Cmp, value: &str) -> Option<bool> {
            match field {
                "sku" => test_str(Some(self.sku), cmp, value),
                "id" => test_id(self.id, cmp, value),
                "updated_at" => test_time(self.at, cmp, value),
                _ => None,
            }
        }
    }

    fn item() -> Item {
        Item {
            sku: "A:B 1",
            id: 42,
            at: "2026-03-01T10:00:00Z".parse().unwrap(),
        }
    }

    fn m(q: &str) -> bool {
        Query::parse(q).matches(&item())
    }

    #[test]
    fn parses_comparators_and_quotes() {
        assert_eq!(
            Query::parse("updated_at:>='2026-01-01T00:00:00Z'"),
            Query::Term {
                field: "updated_at".into(),
                cmp: Cmp::Ge,
                value: "2026-01-01T00:00:00Z".into()
            }
        );
        // A quoted value that starts with '>' is a value, not a comparator.
        assert_eq!(
            Query::parse(r#"sku:">5""#),
            Query::Term {
                field: "sku".into(),
                cmp: Cmp::Eq,
                value: ">5".into()
            }
        );
    }

    #[test]
    fn matches_dates_as_instants() {
        assert!(m("updated_at:>'2026-03-01T09:59:59Z'"));
        assert!(!m("updated_at:>'2026-03-01T10:00:00Z'"));
        assert!(m("updated_at:>=\"2026-03-01T10:00:00Z\""));
        // Same instant written with an offset.
        assert!(!m("updated_at:<'2026-03-01T12:00:00+02:00'"));
        assert!(m("updated_at:<=2026-03-01T12:00:00+02:00"));
        assert!(m("updated_at:>2026-03-01"));
    }

    #[test]
    fn combines_terms() {
        assert!(m(r#"sku:'A:B 1'"#));
        assert!(!m("sku:A"));
        assert!(m("sku:'A:B 1' AND id:>41"));
        assert!(!m("sku:'A:B 1' id:>42"));
        assert!(m("sku:X OR sku:'A:B 1'"));
        assert!(m("(sku:X OR id:42) AND updated_at:>2026-01-01"));
        assert!(!m("-id:42"));
        assert!(m("NOT sku:X"));
        assert!(m("id:gid://shopify/ProductVariant/42"));
    }

    #[test]
    fn ignores_unknown_filters_and_text() {
        assert!(m("product_status:draft"));
        assert!(m("hello world"));
        assert!(!m("product_status:draft id:1"));
        assert!(m("updated_at:>'not a date'"));
        assert!(m(")) ("));
    }
}
