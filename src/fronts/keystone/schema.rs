//! # The `POST /v3/auth/tokens` request schema
//!
//! keystone/auth/schema.py validated by jsonschema, with the error text jsonschema produces
//! (`ValidationError.__str__`: message, the failing subschema and the instance, both through
//! `pprint.pformat(width=72, sort_dicts=False)`), wrapped as keystone's SchemaValidationError.

use crate::pycompat::pyrepr::{py_repr, str_repr};
use serde_json::Value;
use std::sync::OnceLock;

const AUTH_SCHEMA: &str = r#"{"type": "object",
 "properties": {"identity": {"type": "object",
   "properties": {"methods": {"type": "array", "items": {"type": "string"}},
     "password": {"type": "object", "properties": {"user": {"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "password": {"type": "string"},
        "domain": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}}}}},
     "token": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}},
   "required": ["methods"]},
  "scope": {"type": ["object", "string"],
   "properties": {"project": {"type": "object", "properties": {"name": {"type": "string"},
        "id": {"type": "string"},
        "domain": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}}},
     "domain": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}},
     "OS-TRUST:trust": {"type": "object", "properties": {"id": {"type": "string"}}},
     "system": {"type": "object", "properties": {"all": {"type": "boolean", "enum": [true, false, null]}}}}}},
 "required": ["identity"]}"#;

fn auth_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| serde_json::from_str(AUTH_SCHEMA).expect("valid auth schema"))
}

/// Validates the `auth` object; the error is keystone's 400 message.
pub fn validate_auth(auth: &Value) -> Result<(), String> {
    validate(auth_schema(), auth)
}

/// keystone/identity/schema.py `password_change` (`POST /v3/users/{id}/password`).
const PASSWORD_CHANGE_SCHEMA: &str = r#"{"type": "object",
 "properties": {"original_password": {"type": "string"}, "password": {"type": "string"}},
 "required": ["original_password", "password"],
 "additionalProperties": false}"#;

pub fn password_change_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| serde_json::from_str(PASSWORD_CHANGE_SCHEMA).expect("valid schema"))
}

/// Validates `instance` against `schema` (the keywords used here: type, enum, properties,
/// items, required, additionalProperties); the error is keystone's `SchemaValidationError`
/// text (keystone.common.validation).
pub fn validate(schema: &Value, instance: &Value) -> Result<(), String> {
    let mut schema_path = Vec::new();
    let mut instance_path = Vec::new();
    match first_error(schema, instance, &mut schema_path, &mut instance_path) {
        None => Ok(()),
        Some(e) => Err(e),
    }
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        _ => true,
    }
}

fn first_error(
    schema: &Value,
    instance: &Value,
    schema_path: &mut Vec<String>,
    instance_path: &mut Vec<String>,
) -> Option<String> {
    let obj = schema.as_object()?;
    for (keyword, arg) in obj {
        match keyword.as_str() {
            "type" => {
                let types: Vec<&str> = match arg {
                    Value::String(s) => vec![s.as_str()],
                    Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                    _ => vec![],
                };
                if !types.iter().any(|t| type_ok(t, instance)) {
                    let names: Vec<String> = types.iter().map(|t| str_repr(t)).collect();
                    let msg = format!("{} is not of type {}", py_repr(instance), names.join(", "));
                    return Some(render(
                        &msg,
                        "type",
                        schema,
                        instance,
                        schema_path,
                        instance_path,
                    ));
                }
            }
            "enum" => {
                let options = arg.as_array().cloned().unwrap_or_default();
                if !options.iter().any(|o| o == instance) {
                    let msg = format!("{} is not one of {}", py_repr(instance), py_repr(arg));
                    return Some(render(
                        &msg,
                        "enum",
                        schema,
                        instance,
                        schema_path,
                        instance_path,
                    ));
                }
            }
            "properties" => {
                let (Some(props), Some(inst)) = (arg.as_object(), instance.as_object()) else {
                    continue;
                };
                for (name, sub) in props {
                    if let Some(value) = inst.get(name) {
                        schema_path.push("properties".into());
                        schema_path.push(name.clone());
                        instance_path.push(name.clone());
                        let found = first_error(sub, value, schema_path, instance_path);
                        schema_path.truncate(schema_path.len() - 2);
                        instance_path.pop();
                        if found.is_some() {
                            return found;
                        }
                    }
                }
            }
            "items" => {
                let Some(items) = instance.as_array() else {
                    continue;
                };
                for (i, item) in items.iter().enumerate() {
                    schema_path.push("items".into());
                    instance_path.push(i.to_string());
                    let found = first_error(arg, item, schema_path, instance_path);
                    schema_path.pop();
                    instance_path.pop();
                    if found.is_some() {
                        return found;
                    }
                }
            }
            "additionalProperties" if *arg == Value::Bool(false) => {
                let Some(inst) = instance.as_object() else {
                    continue;
                };
                let props = obj.get("properties").and_then(Value::as_object);
                let extras: Vec<String> = inst
                    .keys()
                    .filter(|k| !props.is_some_and(|p| p.contains_key(*k)))
                    .map(|k| str_repr(k))
                    .collect();
                if !extras.is_empty() {
                    let verb = if extras.len() == 1 { "was" } else { "were" };
                    let msg = format!(
                        "Additional properties are not allowed ({} {verb} unexpected)",
                        extras.join(", ")
                    );
                    return Some(render(
                        &msg,
                        "additionalProperties",
                        schema,
                        instance,
                        schema_path,
                        instance_path,
                    ));
                }
            }
            "required" => {
                let Some(inst) = instance.as_object() else {
                    continue;
                };
                for name in arg
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if !inst.contains_key(name) {
                        let msg = format!("{} is a required property", str_repr(name));
                        return Some(render(
                            &msg,
                            "required",
                            schema,
                            instance,
                            schema_path,
                            instance_path,
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    None
}

fn index(word: &str, path: &[String]) -> String {
    let mut out = word.to_string();
    for p in path {
        if p.parse::<usize>().is_ok() {
            out.push_str(&format!("[{p}]"));
        } else {
            out.push_str(&format!("[{}]", str_repr(p)));
        }
    }
    out
}

fn render(
    message: &str,
    validator: &str,
    schema: &Value,
    instance: &Value,
    schema_path: &[String],
    instance_path: &[String],
) -> String {
    let text = format!(
        "{message}\n\nFailed validating {} in {}:\n    {}\n\nOn {}:\n    {}",
        str_repr(validator),
        index("schema", schema_path),
        indent(&pformat(schema)),
        index("instance", instance_path),
        indent(&pformat(instance)),
    );
    if instance_path.is_empty() {
        text
    } else {
        format!(
            "Invalid input for field '{}': {text}",
            instance_path.join("/")
        )
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l.to_string()
            } else {
                format!("    {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

const WIDTH: usize = 72;

/// `pprint.pformat(value, width=72, sort_dicts=False)` for JSON values (strings not split).
pub fn pformat(value: &Value) -> String {
    let mut out = String::new();
    format_value(&mut out, value, 0, 0);
    out
}

fn format_value(out: &mut String, value: &Value, indent: usize, allowance: usize) {
    let rep = py_repr(value);
    let max_width = WIDTH.saturating_sub(indent + allowance);
    if rep.chars().count() <= max_width {
        out.push_str(&rep);
        return;
    }
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('{');
            let inner = indent + 1;
            let last = map.len() - 1;
            for (i, (k, v)) in map.iter().enumerate() {
                let key = str_repr(k);
                out.push_str(&key);
                out.push_str(": ");
                let allow = if i == last { allowance + 1 } else { 1 };
                format_value(out, v, inner + key.chars().count() + 2, allow);
                if i != last {
                    out.push_str(",\n");
                    out.push_str(&" ".repeat(inner));
                }
            }
            out.push('}');
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('[');
            let inner = indent + 1;
            let last = items.len() - 1;
            for (i, v) in items.iter().enumerate() {
                let allow = if i == last { allowance + 1 } else { 1 };
                format_value(out, v, inner, allow);
                if i != last {
                    out.push_str(",\n");
                    out.push_str(&" ".repeat(inner));
                }
            }
            out.push(']');
        }
        _ => out.push_str(&rep),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn capture_message(id: &str) -> String {
        // The real Keystone captures, copied into the repository (tests/data/captures).
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/captures/keystone");
        let path = std::fs::read_dir(dir)
            .expect("tests/data/captures/keystone")
            .find_map(|e| {
                let e = e.ok()?;
                e.file_name()
                    .to_string_lossy()
                    .starts_with(id)
                    .then(|| e.path())
            })
            .unwrap_or_else(|| panic!("no capture {id}"));
        let capture: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let body: Value =
            serde_json::from_str(capture["response"]["body"].as_str().unwrap()).unwrap();
        body["error"]["message"].as_str().unwrap().to_string()
    }

    fn check(id: &str, auth: Value) {
        let expected = capture_message(id);
        let got = validate_auth(&auth).unwrap_err();
        assert_eq!(got, expected, "{id}");
    }

    #[test]
    fn messages_match_keystone() {
        check("k036", json!({}));
        check(
            "k037",
            json!({"password": {"user": {"name": "demo", "domain": {"id": "default"}, "password": "demopass"}}})
                .pipe_identity(),
        );
        check(
            "k03e",
            json!({"identity": {"methods": ["password"], "password": {"user": {"name": "demo", "domain": {"id": "default"}, "password": 12345}}}}),
        );
        check(
            "k0a2",
            json!({"identity": {"methods": ["token"], "token": {}}}),
        );
        assert!(validate_auth(
            &json!({"identity": {"methods": ["password"]}, "scope": "unscoped"})
        )
        .is_ok());
        assert!(
            validate_auth(&json!({"identity": {"methods": ["x"]}, "scope": 5}))
                .unwrap_err()
                .starts_with(
                    "Invalid input for field 'scope': 5 is not of type 'object', 'string'"
                )
        );
    }

    trait PipeIdentity {
        fn pipe_identity(self) -> Value;
    }
    impl PipeIdentity for Value {
        fn pipe_identity(self) -> Value {
            json!({ "identity": self })
        }
    }
}
