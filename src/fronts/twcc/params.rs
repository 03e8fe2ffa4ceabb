//! # What a create request says
//!
//! DRF's request parsing (its default parsers: JSON and form bodies; anything else is a 415)
//! and the key pair serializer's fields: `name` (required) and `public_key` (optional), both
//! strings; other members are ignored, as a DRF serializer ignores them. TWCC documents no
//! name rules, so the VCS API is taken to pass Nova's on (it is Nova underneath): Nova's
//! pattern from 2.92 (`^[_\- a-zA-Z0-9@.]+$`), 1–255 characters, no leading or trailing space
//! (Nova's `name` format). So no name can hold a `/` (which would also break the key pair's
//! URL and the CLI's `<name>.pem`).

use super::errors::TwccError;
use serde_json::Value;

/// A create request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateBody {
    pub name: String,
    /// An import; absent: generate.
    pub public_key: Option<String>,
}

/// Nova's longest key pair name.
pub const MAX_NAME: usize = 255;

/// Parses and validates a create body sent with `content_type`.
pub fn parse_create(content_type: Option<&str>, body: &[u8]) -> Result<CreateBody, TwccError> {
    let fields = parse_fields(content_type, body)?;
    let name = match fields.name {
        Field::Missing => return Err(invalid("name", "This field is required.")),
        Field::Null => return Err(invalid("name", "This field may not be null.")),
        Field::NotString => return Err(invalid("name", "Not a valid string.")),
        Field::Text(n) => n,
    };
    check_name(&name)?;
    let public_key = match fields.public_key {
        Field::Missing => None,
        Field::Null => return Err(invalid("public_key", "This field may not be null.")),
        Field::NotString => return Err(invalid("public_key", "Not a valid string.")),
        Field::Text(k) if k.trim().is_empty() => {
            return Err(invalid("public_key", "This field may not be blank."))
        }
        Field::Text(k) => Some(k),
    };
    Ok(CreateBody { name, public_key })
}

/// The serializer's refusal of one field, as `field: reason`.
fn invalid(field: &str, why: &str) -> TwccError {
    TwccError::Invalid(format!("{field}: {why}"))
}

/// Nova's key pair name rules (see the module comment).
pub fn check_name(name: &str) -> Result<(), TwccError> {
    if name.is_empty() {
        return Err(invalid("name", "This field may not be blank."));
    }
    if name.chars().count() > MAX_NAME {
        return Err(invalid(
            "name",
            "Ensure this field has no more than 255 characters.",
        ));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ' ' | '@' | '.');
    if !name.chars().all(allowed) {
        return Err(invalid(
            "name",
            "Keypair name may only contain letters, digits, spaces and the characters _ - @ .",
        ));
    }
    if name.starts_with(' ') || name.ends_with(' ') {
        return Err(invalid(
            "name",
            "Keypair name may not start or end with a space.",
        ));
    }
    Ok(())
}

enum Field {
    Missing,
    Null,
    NotString,
    Text(String),
}

struct Fields {
    name: Field,
    public_key: Field,
}

/// The media type of a `Content-Type` value, lower case, without parameters.
fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// DRF's `request.data` for the two fields: JSON (an object), or a form; an empty body is no
/// data at all.
fn parse_fields(content_type: Option<&str>, body: &[u8]) -> Result<Fields, TwccError> {
    let none = || Fields {
        name: Field::Missing,
        public_key: Field::Missing,
    };
    if body.is_empty() {
        return Ok(none());
    }
    let media = media_type(content_type.unwrap_or_default());
    match media.as_str() {
        "application/json" => {
            let value = parse_json(body).map_err(TwccError::Parse)?;
            let Value::Object(map) = value else {
                return Err(TwccError::Invalid(format!(
                    "Invalid data. Expected a dictionary, but got {}.",
                    python_type(&value)
                )));
            };
            let field = |k: &str| match map.get(k) {
                None => Field::Missing,
                Some(Value::Null) => Field::Null,
                Some(Value::String(s)) => Field::Text(s.clone()),
                Some(_) => Field::NotString,
            };
            Ok(Fields {
                name: field("name"),
                public_key: field("public_key"),
            })
        }
        "application/x-www-form-urlencoded" => {
            // A QueryDict: the last value of a repeated key.
            let mut fields = none();
            for (k, v) in form_urlencoded::parse(body) {
                match k.as_ref() {
                    "name" => fields.name = Field::Text(v.into_owned()),
                    "public_key" => fields.public_key = Field::Text(v.into_owned()),
                    _ => {}
                }
            }
            Ok(fields)
        }
        _ => Err(TwccError::UnsupportedMediaType(
            content_type.unwrap_or_default().trim().to_string(),
        )),
    }
}

/// Python's name of a JSON value's type, as DRF's "Expected a dictionary" message gives it.
fn python_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Parses `body` as JSON; a failure is described as Python's `json` module words it
/// (`Expecting value: line 1 column 1 (char 0)`), which DRF puts after `JSON parse error - `.
/// The wording is chosen from serde_json's error and its position; for the usual mistakes
/// (an empty or truncated body, a missing delimiter, trailing data, a bad string) it is
/// Python's text, for rarer ones an approximation of it.
pub fn parse_json(body: &[u8]) -> Result<Value, String> {
    let text = match std::str::from_utf8(body) {
        Ok(t) => t,
        Err(e) => return Err(utf8_error(body, &e)),
    };
    serde_json::from_str::<Value>(text).map_err(|e| python_json_error(text, &e))
}

/// Python's `UnicodeDecodeError` text for bytes that are not UTF-8.
fn utf8_error(body: &[u8], e: &std::str::Utf8Error) -> String {
    let at = e.valid_up_to();
    let byte = body[at];
    let why = match e.error_len() {
        None => "unexpected end of data",
        Some(_) if (0x80..=0xC1).contains(&byte) || byte >= 0xF5 => "invalid start byte",
        Some(_) => "invalid continuation byte",
    };
    format!("'utf-8' codec can't decode byte 0x{byte:02x} in position {at}: {why}")
}

fn python_json_error(text: &str, e: &serde_json::Error) -> String {
    let message = e.to_string();
    let what = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(w, _)| w);
    let chars: Vec<char> = text.chars().collect();
    // serde's (line, column) is the character it stopped at, 1-based; Python's `char` is
    // the 0-based offset of the offending character (the end, for a truncated document).
    let stop = if e.is_eof() {
        chars.len()
    } else {
        offset_of(&chars, e.line(), e.column()).saturating_sub(1)
    };
    let last = chars[..stop.min(chars.len())]
        .iter()
        .rev()
        .find(|c| !c.is_whitespace())
        .copied();
    let in_object = innermost(&chars[..stop.min(chars.len())]) == Some('{');
    let property = "Expecting property name enclosed in double quotes";
    let (expecting, pos) = if what.starts_with("EOF while parsing a string") {
        ("Unterminated string starting at", last_quote(&chars, stop))
    } else if what.starts_with("trailing characters") {
        ("Extra data", stop)
    } else if what.starts_with("trailing comma") {
        (
            if in_object {
                property
            } else {
                "Expecting value"
            },
            stop,
        )
    } else if what.starts_with("expected `:`") {
        ("Expecting ':' delimiter", stop)
    } else if what.starts_with("expected `,`") {
        ("Expecting ',' delimiter", stop)
    } else if what.starts_with("key must be a string") {
        (property, stop)
    } else if what.starts_with("EOF while parsing an object")
        || what.starts_with("EOF while parsing a list")
    {
        // After an opening bracket or a comma Python wants a name (a value), else a comma.
        match last {
            Some('{') => (property, stop),
            Some('[') => ("Expecting value", stop),
            Some(',') if in_object => (property, stop),
            Some(',') => ("Expecting value", stop),
            _ => ("Expecting ',' delimiter", stop),
        }
    } else if what.starts_with("EOF while parsing a value") && last == Some(',') && in_object {
        (property, stop)
    } else if what.starts_with("control character") {
        ("Invalid control character at", stop)
    } else if what.starts_with("invalid escape") {
        // At the backslash.
        ("Invalid \\escape", stop.saturating_sub(1))
    } else if what.contains("escape") || what.starts_with("invalid unicode") {
        ("Invalid \\uXXXX escape", stop)
    } else {
        // A value Python cannot start reading: it points at the value's first character
        // (serde stops inside a misspelt `true`/`false`/`null` or number).
        let mut at = stop.min(chars.len());
        while at > 0
            && (chars[at - 1].is_ascii_alphanumeric() || matches!(chars[at - 1], '-' | '+' | '.'))
        {
            at -= 1;
        }
        ("Expecting value", at)
    };
    let (line, column) = line_column(&chars, pos);
    format!("{expecting}: line {line} column {column} (char {pos})")
}

/// The innermost container (`{` or `[`) still open at the end of `chars`, strings skipped.
fn innermost(chars: &[char]) -> Option<char> {
    let mut open = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for &c in chars {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => open.push(c),
            '}' | ']' => {
                open.pop();
            }
            _ => {}
        }
    }
    open.last().copied()
}

/// The 1-based character offset of (line, column), both 1-based.
fn offset_of(chars: &[char], line: usize, column: usize) -> usize {
    let mut at = 0;
    let mut l = 1;
    while l < line && at < chars.len() {
        if chars[at] == '\n' {
            l += 1;
        }
        at += 1;
    }
    (at + column).min(chars.len())
}

/// The opening quote of the string running to `end`.
fn last_quote(chars: &[char], end: usize) -> usize {
    let mut i = end.min(chars.len());
    while i > 0 {
        i -= 1;
        if chars[i] == '"' && (i == 0 || chars[i - 1] != '\\') {
            return i;
        }
    }
    0
}

/// Python's `lineno` and `colno` of a 0-based character offset.
fn line_column(chars: &[char], pos: usize) -> (usize, usize) {
    let before = &chars[..pos.min(chars.len())];
    let line = before.iter().filter(|c| **c == '\n').count() + 1;
    let column = match before.iter().rposition(|c| *c == '\n') {
        Some(nl) => pos - nl,
        None => pos + 1,
    };
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: Option<&str> = Some("application/json");

    fn refused(ct: Option<&str>, body: &str) -> String {
        parse_create(ct, body.as_bytes()).unwrap_err().detail()
    }

    #[test]
    fn names_follow_novas_rules() {
        for ok in [
            "k",
            "key1",
            "a b",
            "my_key-2",
            "me@host.example",
            &"x".repeat(255),
        ] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a/b",
            "a%2Fb",
            " lead",
            "trail ",
            "tab\tkey",
            "ключ",
            "semi;colon",
            &"x".repeat(256),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_create_body_is_name_and_an_optional_public_key() {
        assert_eq!(
            parse_create(JSON, br#"{"name": "k1"}"#).unwrap(),
            CreateBody {
                name: "k1".into(),
                public_key: None
            }
        );
        assert_eq!(
            parse_create(
                Some("application/json; charset=utf-8"),
                br#"{"name": "k", "public_key": "ssh-rsa AAAA", "extra": 1}"#
            )
            .unwrap()
            .public_key
            .as_deref(),
            Some("ssh-rsa AAAA"),
            "other members are ignored"
        );
        assert_eq!(
            parse_create(
                Some("application/x-www-form-urlencoded"),
                b"name=a&name=form%20key"
            )
            .unwrap()
            .name,
            "form key",
            "a form's last value wins, as in a QueryDict"
        );
    }

    #[test]
    fn refusals_say_which_field_and_why() {
        assert_eq!(refused(JSON, "{}"), "name: This field is required.");
        assert_eq!(refused(JSON, ""), "name: This field is required.");
        assert_eq!(
            refused(JSON, r#"{"name": null}"#),
            "name: This field may not be null."
        );
        assert_eq!(refused(JSON, r#"{"name": 5}"#), "name: Not a valid string.");
        assert_eq!(
            refused(JSON, r#"{"name": ""}"#),
            "name: This field may not be blank."
        );
        assert_eq!(
            refused(JSON, r#"{"name": "k", "public_key": ""}"#),
            "public_key: This field may not be blank."
        );
        assert_eq!(
            refused(JSON, "[]"),
            "Invalid data. Expected a dictionary, but got list."
        );
        assert_eq!(
            refused(JSON, "\"k\""),
            "Invalid data. Expected a dictionary, but got str."
        );
        assert_eq!(
            refused(Some("text/plain"), "name=k"),
            "Unsupported media type \"text/plain\" in request."
        );
        assert_eq!(
            refused(None, "{\"name\": \"k\"}"),
            "Unsupported media type \"\" in request."
        );
    }

    #[test]
    fn json_errors_read_like_pythons() {
        let e = |t: &str| refused(JSON, t);
        assert_eq!(
            e("name=raw-form"),
            "JSON parse error - Expecting value: line 1 column 1 (char 0)"
        );
        assert_eq!(
            e(r#"{"name": "#),
            "JSON parse error - Expecting value: line 1 column 10 (char 9)"
        );
        assert_eq!(
            e("{"),
            "JSON parse error - Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
        );
        assert_eq!(
            e(r#"{"a" 1}"#),
            "JSON parse error - Expecting ':' delimiter: line 1 column 6 (char 5)"
        );
        assert_eq!(
            e(r#"{"a": 1 "b": 2}"#),
            "JSON parse error - Expecting ',' delimiter: line 1 column 9 (char 8)"
        );
        assert_eq!(
            e(r#"{"a": 1} x"#),
            "JSON parse error - Extra data: line 1 column 10 (char 9)"
        );
        assert_eq!(
            e(r#"{"name": "abc"#),
            "JSON parse error - Unterminated string starting at: line 1 column 10 (char 9)"
        );
        assert_eq!(
            e("{\n  \"a\": x}"),
            "JSON parse error - Expecting value: line 2 column 8 (char 9)"
        );
        assert!(refused(JSON, "\u{0}\u{0}").starts_with("JSON parse error - "));
        for (text, python) in [
            ("nul", "Expecting value: line 1 column 1 (char 0)"),
            (r#"{"a": tx}"#, "Expecting value: line 1 column 7 (char 6)"),
            ("[1", "Expecting ',' delimiter: line 1 column 3 (char 2)"),
            ("[1,", "Expecting value: line 1 column 4 (char 3)"),
            (
                r#"{"a":1,"#,
                "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)",
            ),
            (
                r#"{"a":1"#,
                "Expecting ',' delimiter: line 1 column 7 (char 6)",
            ),
            (
                r#"{"a":1,}"#,
                "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)",
            ),
            ("[1,]", "Expecting value: line 1 column 4 (char 3)"),
            (
                r#"{'a':1}"#,
                "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
            ),
            (
                r#"{"a":"\q"}"#,
                "Invalid \\escape: line 1 column 7 (char 6)",
            ),
            (
                "{\"a\":\"\u{1}\"}",
                "Invalid control character at: line 1 column 7 (char 6)",
            ),
            (r#"{"a":-}"#, "Expecting value: line 1 column 6 (char 5)"),
            ("  ", "Expecting value: line 1 column 3 (char 2)"),
            (
                r#"{"a": "x{"#,
                "Unterminated string starting at: line 1 column 7 (char 6)",
            ),
        ] {
            assert_eq!(e(text), format!("JSON parse error - {python}"), "{text}");
        }
        assert_eq!(
            parse_create(JSON, b"{\"name\": \"\xff\"}").unwrap_err().detail(),
            "JSON parse error - 'utf-8' codec can't decode byte 0xff in position 10: invalid start byte"
        );
    }
}
