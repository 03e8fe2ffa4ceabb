//! # The request schemas of the seven key pair actions
//!
//! Field names and types as the CVM 2017-03-12 models declare them (tccli's `api.json`). A
//! field the action does not have is `UnknownParameter` (the SDKs never check; the server
//! does); a value of the wrong type is `InvalidParameter`. JSON bodies must carry the declared
//! JSON types; form and query values are all text, coerced here (`"0"` → 0, `True`/`false` →
//! a boolean). `null` is as if the field were not sent.

use super::errors::TcError;
use serde_json::{Map, Value};

/// A declared type.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    Str,
    Int,
    Bool,
    List(&'static Ty),
    Object(&'static [(&'static str, Ty)]),
}

pub type Schema = &'static [(&'static str, Ty)];

const TAG: Ty = Ty::Object(&[("Key", Ty::Str), ("Value", Ty::Str)]);
const TAG_SPECIFICATION: Ty = Ty::Object(&[("ResourceType", Ty::Str), ("Tags", Ty::List(&TAG))]);
const FILTER: Ty = Ty::Object(&[("Name", Ty::Str), ("Values", Ty::List(&Ty::Str))]);
const STRINGS: Ty = Ty::List(&Ty::Str);

pub const CREATE: Schema = &[
    ("KeyName", Ty::Str),
    ("ProjectId", Ty::Int),
    ("TagSpecification", Ty::List(&TAG_SPECIFICATION)),
];
pub const IMPORT: Schema = &[
    ("KeyName", Ty::Str),
    ("ProjectId", Ty::Int),
    ("PublicKey", Ty::Str),
    ("TagSpecification", Ty::List(&TAG_SPECIFICATION)),
];
pub const DESCRIBE: Schema = &[
    ("KeyIds", STRINGS),
    ("Filters", Ty::List(&FILTER)),
    ("Offset", Ty::Int),
    ("Limit", Ty::Int),
];
pub const MODIFY: Schema = &[
    ("KeyId", Ty::Str),
    ("KeyName", Ty::Str),
    ("Description", Ty::Str),
];
pub const DELETE: Schema = &[("KeyIds", STRINGS)];
pub const BIND: Schema = &[
    ("InstanceIds", STRINGS),
    ("KeyIds", STRINGS),
    ("ForceStop", Ty::Bool),
];

/// Checked parameters of one request.
#[derive(Debug, Clone, Default)]
pub struct Params(Map<String, Value>);

impl Params {
    /// Checks `raw` against `schema`; `typed`: JSON values (else text to coerce).
    pub fn check(schema: Schema, raw: Map<String, Value>, typed: bool) -> Result<Params, TcError> {
        let mut out = Map::new();
        for (name, value) in raw {
            let Some((_, ty)) = schema.iter().find(|(n, _)| *n == name) else {
                return Err(TcError::unknown_parameter(&super::request::clip(&name)));
            };
            if value.is_null() {
                continue;
            }
            let value = coerce(value, *ty, &name, typed)?;
            out.insert(name, value);
        }
        Ok(Params(out))
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        self.0.get(name).and_then(Value::as_i64)
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        self.0.get(name).and_then(Value::as_bool)
    }

    /// A list of strings (checked as such).
    pub fn strs(&self, name: &str) -> Option<Vec<&str>> {
        let items = self.0.get(name)?.as_array()?;
        Some(items.iter().filter_map(Value::as_str).collect())
    }

    /// A list of objects (checked as such).
    pub fn objects(&self, name: &str) -> Option<Vec<&Map<String, Value>>> {
        let items = self.0.get(name)?.as_array()?;
        Some(items.iter().filter_map(Value::as_object).collect())
    }
}

fn coerce(value: Value, ty: Ty, path: &str, typed: bool) -> Result<Value, TcError> {
    let wrong = |what: &str| TcError::wrong_type(&super::request::clip(path), what);
    match (ty, value) {
        (Ty::Str, Value::String(s)) => Ok(Value::String(s)),
        (Ty::Str, _) => Err(wrong("String")),
        (Ty::Int, Value::Number(n)) if typed && n.is_i64() => Ok(Value::Number(n)),
        (Ty::Int, Value::String(s)) if !typed => s
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| wrong("Integer")),
        (Ty::Int, _) => Err(wrong("Integer")),
        (Ty::Bool, Value::Bool(b)) if typed => Ok(Value::Bool(b)),
        (Ty::Bool, Value::String(s)) if !typed => match s.to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(wrong("Boolean")),
        },
        (Ty::Bool, _) => Err(wrong("Boolean")),
        (Ty::List(item), Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| coerce(v, *item, &format!("{path}.{i}"), typed))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        (Ty::List(_), _) => Err(wrong("Array")),
        (Ty::Object(fields), Value::Object(members)) => {
            let mut out = Map::new();
            for (name, v) in members {
                let inner = format!("{path}.{name}");
                let Some((_, t)) = fields.iter().find(|(n, _)| *n == name) else {
                    return Err(TcError::unknown_parameter(&super::request::clip(&inner)));
                };
                if !v.is_null() {
                    out.insert(name, coerce(v, *t, &inner, typed)?);
                }
            }
            Ok(Value::Object(out))
        }
        (Ty::Object(_), _) => Err(wrong("Object")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(schema: Schema, v: Value, typed: bool) -> Result<Params, TcError> {
        let Value::Object(map) = v else { panic!() };
        Params::check(schema, map, typed)
    }

    #[test]
    fn json_values_must_have_the_declared_types() {
        let p = check(CREATE, json!({"KeyName": "k", "ProjectId": 0}), true).unwrap();
        assert_eq!((p.str("KeyName"), p.int("ProjectId")), (Some("k"), Some(0)));
        for bad in [
            json!({"ProjectId": "0"}),
            json!({"ProjectId": 1.5}),
            json!({"ProjectId": 1e30}),
            json!({"KeyName": ["k"]}),
            json!({"KeyName": {"a": 1}}),
            json!({"TagSpecification": {"ResourceType": "keypair"}}),
            json!({"TagSpecification": [{"Tags": [{"Key": 1}]}]}),
        ] {
            let e = check(CREATE, bad.clone(), true).unwrap_err();
            assert_eq!(e.code, "InvalidParameter", "{bad}");
        }
        let e = check(BIND, json!({"ForceStop": "true"}), true).unwrap_err();
        assert!(e.message.contains("`ForceStop`"), "{}", e.message);
    }

    #[test]
    fn text_values_are_coerced() {
        let raw = json!({"InstanceIds": ["ins-1"], "ForceStop": "True"});
        let p = check(BIND, raw, false).unwrap();
        assert_eq!(p.bool("ForceStop"), Some(true));
        let p = check(DESCRIBE, json!({"Offset": "-1", "Limit": "20"}), false).unwrap();
        assert_eq!((p.int("Offset"), p.int("Limit")), (Some(-1), Some(20)));
        let e = check(DESCRIBE, json!({"Limit": "ten"}), false).unwrap_err();
        assert_eq!(e.code, "InvalidParameter");
        let e = check(BIND, json!({"ForceStop": "yes"}), false).unwrap_err();
        assert_eq!(e.code, "InvalidParameter");
    }

    #[test]
    fn unknown_fields_are_named_at_any_depth() {
        let e = check(DESCRIBE, json!({"Bogus": 1}), true).unwrap_err();
        assert_eq!(e.code, "UnknownParameter");
        assert!(e.message.contains("`Bogus`"));
        let raw = json!({"Filters": [{"Name": "key-name", "Values": ["a"], "Extra": 1}]});
        let e = check(DESCRIBE, raw, true).unwrap_err();
        assert!(e.message.contains("`Filters.0.Extra`"), "{}", e.message);
        let p = check(MODIFY, json!({"KeyId": "skey-1", "KeyName": null}), true).unwrap();
        assert_eq!(p.str("KeyName"), None, "null is as if absent");
    }
}
