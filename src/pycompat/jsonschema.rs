//! # jsonschema validation with OpenStack's wording
//!
//! Mirrors nova/api/validation/validators.py: request bodies and query strings are checked
//! against JSON schemas (kept as data, like Nova's `schemas/*.py`), and the *first* error that
//! Python's jsonschema 4.26 `iter_errors` would yield becomes the 400 message. Only the keywords
//! Nova's key pair schemas use are interpreted; keywords are visited in the schema's own order,
//! which is what decides which error comes first.

use super::pyrepr::{py_repr, py_str};
use regex::Regex;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Where the validated instance came from; decides the message prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Body,
    Query,
}

/// Nova's rendering of a schema violation (the text of a 400 `badRequest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationFailure(pub String);

/// The message Nova gives when the `name` format checker rejects a value.
const INVALID_NAME: &str =
    "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.";

struct SchemaError {
    path: Vec<String>,
    instance: Value,
    message: String,
    /// Format failures carry their own complete text (Nova's `InvalidName`).
    standalone: bool,
}

/// Validates `instance` against `schema` and renders the first error as Nova would.
pub fn validate(schema: &Value, instance: &Value, origin: Origin) -> Result<(), ValidationFailure> {
    let mut path = Vec::new();
    match first_error(schema, instance, &mut path) {
        None => Ok(()),
        Some(err) => Err(ValidationFailure(render(err, origin))),
    }
}

fn render(err: SchemaError, origin: Origin) -> String {
    if err.standalone {
        return err.message;
    }
    // Nova reports the last *named* path element (query params: the parameter, not the index).
    let field = err
        .path
        .iter()
        .rev()
        .find(|p| p.parse::<usize>().is_err())
        .cloned();
    match (field, origin) {
        (None, _) => err.message,
        (Some(field), Origin::Body) => format!(
            "Invalid input for field/attribute {field}. Value: {}. {}",
            py_str(&err.instance),
            err.message
        ),
        (Some(field), Origin::Query) => format!(
            "Invalid input for query parameters {field}. Value: {}. {}",
            py_str(&err.instance),
            err.message
        ),
    }
}

fn error(path: &[String], instance: &Value, message: String) -> Option<SchemaError> {
    Some(SchemaError {
        path: path.to_vec(),
        instance: instance.clone(),
        message,
        standalone: false,
    })
}

fn first_error(schema: &Value, instance: &Value, path: &mut Vec<String>) -> Option<SchemaError> {
    let Value::Object(keywords) = schema else {
        return None;
    };
    for (keyword, arg) in keywords {
        let found = match keyword.as_str() {
            "type" => check_type(arg, instance, path),
            "properties" => check_properties(arg, instance, path),
            "required" => check_required(arg, instance, path),
            "additionalProperties" => check_additional(keywords, arg, instance, path),
            "enum" => check_enum(arg, instance, path),
            "allOf" => arg
                .as_array()
                .into_iter()
                .flatten()
                .find_map(|sub| first_error(sub, instance, path)),
            "items" => check_items(arg, instance, path),
            "minLength" => check_min_length(arg, instance, path),
            "maxLength" => check_max_length(arg, instance, path),
            "pattern" => check_pattern(arg, instance, path),
            "format" => check_format(arg, instance, path),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

fn is_type(name: &str, instance: &Value) -> bool {
    match name {
        "object" => instance.is_object(),
        "array" => instance.is_array(),
        "string" => instance.is_string(),
        "boolean" => instance.is_boolean(),
        "null" => instance.is_null(),
        // jsonschema: bool is not a number; a float with no fraction counts as an integer.
        "integer" => {
            instance.as_i64().is_some()
                || instance.as_u64().is_some()
                || instance.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        "number" => instance.is_number(),
        _ => false,
    }
}

fn check_type(arg: &Value, instance: &Value, path: &[String]) -> Option<SchemaError> {
    let passes = match arg {
        Value::String(t) => is_type(t, instance),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .any(|t| is_type(t, instance)),
        _ => return None,
    };
    if passes {
        return None;
    }
    let types: Vec<&str> = match arg {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return None,
    };
    if types.iter().any(|t| is_type(t, instance)) {
        return None;
    }
    let listed: Vec<String> = types
        .iter()
        .map(|t| py_repr(&Value::String(t.to_string())))
        .collect();
    error(
        path,
        instance,
        format!("{} is not of type {}", py_repr(instance), listed.join(", ")),
    )
}

fn check_properties(arg: &Value, instance: &Value, path: &mut Vec<String>) -> Option<SchemaError> {
    let (Value::Object(props), Value::Object(obj)) = (arg, instance) else {
        return None;
    };
    for (name, sub) in props {
        if let Some(value) = obj.get(name) {
            path.push(name.clone());
            let found = first_error(sub, value, path);
            path.pop();
            if found.is_some() {
                return found;
            }
        }
    }
    None
}

fn check_required(arg: &Value, instance: &Value, path: &[String]) -> Option<SchemaError> {
    let Value::Object(obj) = instance else {
        return None;
    };
    arg.as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find(|name| !obj.contains_key(*name))
        .and_then(|name| {
            error(
                path,
                instance,
                format!("{} is a required property", py_repr(&Value::from(name))),
            )
        })
}

fn check_additional(
    keywords: &Map<String, Value>,
    arg: &Value,
    instance: &Value,
    path: &[String],
) -> Option<SchemaError> {
    let (Value::Bool(false), Value::Object(obj)) = (arg, instance) else {
        return None;
    };
    let known = keywords.get("properties").and_then(Value::as_object);
    let mut extras: Vec<&String> = obj
        .keys()
        .filter(|k| known.is_none_or(|p| !p.contains_key(*k)))
        .collect();
    if extras.is_empty() {
        return None;
    }
    extras.sort();
    let verb = if extras.len() == 1 { "was" } else { "were" };
    let names: Vec<String> = extras
        .iter()
        .map(|k| py_repr(&Value::String((*k).clone())))
        .collect();
    error(
        path,
        instance,
        format!(
            "Additional properties are not allowed ({} {verb} unexpected)",
            names.join(", ")
        ),
    )
}

fn check_enum(arg: &Value, instance: &Value, path: &[String]) -> Option<SchemaError> {
    let options = arg.as_array()?;
    if options.contains(instance) {
        return None;
    }
    error(
        path,
        instance,
        format!("{} is not one of {}", py_repr(instance), py_repr(arg)),
    )
}

fn check_items(arg: &Value, instance: &Value, path: &mut Vec<String>) -> Option<SchemaError> {
    let Value::Array(items) = instance else {
        return None;
    };
    for (i, item) in items.iter().enumerate() {
        path.push(i.to_string());
        let found = first_error(arg, item, path);
        path.pop();
        if found.is_some() {
            return found;
        }
    }
    None
}

fn check_min_length(arg: &Value, instance: &Value, path: &[String]) -> Option<SchemaError> {
    let (Some(min), Value::String(s)) = (arg.as_u64(), instance) else {
        return None;
    };
    if (s.chars().count() as u64) >= min {
        return None;
    }
    let what = if min == 1 {
        "should be non-empty"
    } else {
        "is too short"
    };
    error(path, instance, format!("{} {what}", py_repr(instance)))
}

fn check_max_length(arg: &Value, instance: &Value, path: &[String]) -> Option<SchemaError> {
    let (Some(max), Value::String(s)) = (arg.as_u64(), instance) else {
        return None;
    };
    if (s.chars().count() as u64) <= max {
        return None;
    }
    let what = if max == 0 {
        "is expected to be empty"
    } else {
        "is too long"
    };
    error(path, instance, format!("{} {what}", py_repr(instance)))
}

fn check_pattern(arg: &Value, instance: &Value, path: &[String]) -> Option<SchemaError> {
    let (Value::String(pattern), Value::String(s)) = (arg, instance) else {
        return None;
    };
    if python_search(pattern, s) {
        return None;
    }
    error(
        path,
        instance,
        format!("{} does not match {}", py_repr(instance), py_repr(arg)),
    )
}

/// `re.search(pattern, s)`: Python's `$` also matches just before a final newline.
fn python_search(pattern: &str, s: &str) -> bool {
    static CACHE: OnceLock<Mutex<HashMap<String, Regex>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    let re = cache.entry(pattern.to_string()).or_insert_with(|| {
        let translated = match pattern.strip_suffix('$') {
            Some(head) => format!("{head}\\n?\\z"),
            None => pattern.to_string(),
        };
        Regex::new(&translated).expect("schema patterns are valid")
    });
    re.is_match(s)
}

fn check_format(arg: &Value, instance: &Value, path: &[String]) -> Option<SchemaError> {
    match arg.as_str() {
        Some("name") if !is_valid_name(instance) => Some(SchemaError {
            path: path.to_vec(),
            instance: instance.clone(),
            message: INVALID_NAME.to_string(),
            standalone: true,
        }),
        _ => None,
    }
}

/// Nova's `valid_name_regex`: printable characters below U+FFFF, not starting or ending with
/// a space separator. The empty string passes (minLength reports it).
fn is_valid_name(instance: &Value) -> bool {
    let Value::String(s) = instance else {
        return false;
    };
    let all_printable = s.chars().all(is_name_char);
    let edge_ok = |c: Option<char>| c.is_none_or(|c| c != ' ' && !is_space_separator(c));
    all_printable && edge_ok(s.chars().next()) && edge_ok(s.chars().last())
}

fn is_space_separator(c: char) -> bool {
    use unicode_general_category::{get_general_category, GeneralCategory as G};
    get_general_category(c) == G::SpaceSeparator
}

/// `_is_printable` from nova/api/validation/parameter_types.py, over `range(0xFFFF)`.
fn is_name_char(c: char) -> bool {
    use super::pyrepr::{is_line_or_paragraph_separator, is_other};
    (c as u32) < 0xFFFF && !is_other(c) && !is_line_or_paragraph_separator(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {"keypair": {
                "type": "object",
                "properties": {
                    "name": {"allOf": [
                        {"type": "string", "format": "name", "minLength": 1, "maxLength": 255},
                        {"type": "string", "pattern": "^[_\\- a-zA-Z0-9]+$", "minLength": 1, "maxLength": 255}
                    ]},
                    "public_key": {"type": "string"}
                },
                "required": ["name"],
                "additionalProperties": false
            }},
            "required": ["keypair"],
            "additionalProperties": false
        })
    }

    fn msg(instance: Value) -> String {
        validate(&schema(), &instance, Origin::Body).unwrap_err().0
    }

    #[test]
    fn messages_match_nova() {
        assert_eq!(msg(Value::Null), "None is not of type 'object'");
        assert_eq!(msg(json!({})), "'keypair' is a required property");
        assert_eq!(
            msg(json!({"keypair": {"name": "x"}, "extra": 1})),
            "Additional properties are not allowed ('extra' was unexpected)"
        );
        assert_eq!(
            msg(json!({"keypair": {}})),
            "Invalid input for field/attribute keypair. Value: {}. 'name' is a required property"
        );
        assert_eq!(
            msg(json!({"keypair": {"name": ""}})),
            "Invalid input for field/attribute name. Value: . '' should be non-empty"
        );
        assert_eq!(msg(json!({"keypair": {"name": " a"}})), INVALID_NAME);
        assert_eq!(msg(json!({"keypair": {"name": "a\tb"}})), INVALID_NAME);
        assert_eq!(
            msg(json!({"keypair": {"name": "a!"}})),
            "Invalid input for field/attribute name. Value: a!. 'a!' does not match '^[_\\\\- a-zA-Z0-9]+$'"
        );
        assert_eq!(
            msg(json!({"keypair": {"name": 123}})),
            "Invalid input for field/attribute name. Value: 123. 123 is not of type 'string'"
        );
        assert_eq!(
            msg(json!({"keypair": {"name": "x", "foo": 1, "bar": 2}})),
            "Invalid input for field/attribute keypair. Value: {'name': 'x', 'foo': 1, 'bar': 2}. Additional properties are not allowed ('bar', 'foo' were unexpected)"
        );
        assert!(validate(
            &schema(),
            &json!({"keypair": {"name": "ok name"}}),
            Origin::Body
        )
        .is_ok());
    }

    #[test]
    fn query_messages() {
        let q = json!({"type": "object", "properties": {"limit": {"type": "array", "items":
            {"type": ["integer", "string"], "pattern": "^[0-9]*$", "minimum": 0, "minLength": 1}}},
            "additionalProperties": false});
        let m = |v: Value| validate(&q, &v, Origin::Query).unwrap_err().0;
        assert_eq!(
            m(json!({"limit": ["-1"]})),
            "Invalid input for query parameters limit. Value: -1. '-1' does not match '^[0-9]*$'"
        );
        assert_eq!(
            m(json!({"limit": [""]})),
            "Invalid input for query parameters limit. Value: . '' should be non-empty"
        );
        assert_eq!(
            m(json!({"foo": ["1"]})),
            "Additional properties are not allowed ('foo' was unexpected)"
        );
    }

    #[test]
    fn name_edges() {
        assert!(is_valid_name(&json!("")));
        assert!(is_valid_name(&json!("ключ")));
        assert!(!is_valid_name(&json!("   ")));
        assert!(!is_valid_name(&json!("a\u{1F600}")));
        assert!(!is_valid_name(&json!("a\u{0}")));
    }
}
