//! # What a Tencent request carries, before anything is trusted
//!
//! Three shapes reach `/` (seed-clouds.md §2.1): TC3 with the envelope in `X-TC-*` headers and
//! the parameters as a JSON body (POST), a form body or the query (GET); and the legacy v1
//! signatures (HmacSHA256/HmacSHA1), where everything, the envelope included, is one flat
//! form body (POST) or query (GET). Flat parameters name nesting with dots and list items with
//! 0-based indexes (`Filters.0.Values.1`); [`unflatten`] rebuilds the tree.

use super::errors::TcError;
use actix_web::http::Method;
use actix_web::HttpRequest;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// How the request is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// `Authorization: TC3-HMAC-SHA256 …` (the header's value).
    Tc3(String),
    /// Legacy v1: `SecretId`, `Signature`, … among the parameters.
    Legacy,
}

/// The envelope of one request, as sent.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    pub mode: Mode,
    pub action: Option<String>,
    pub version: Option<String>,
    pub region: Option<String>,
    pub timestamp: Option<String>,
    /// The form-decoded parameters of the query (GET) or a form body (POST), as sent (the
    /// envelope's own fields included in legacy mode); `None` for a JSON body.
    pub form: Option<Vec<(String, String)>>,
}

/// The envelope fields of the legacy form, never business parameters.
const COMMON: &[&str] = &[
    "Action",
    "Version",
    "Region",
    "Timestamp",
    "Nonce",
    "SecretId",
    "SignatureMethod",
    "Signature",
    "RequestClient",
    "Language",
    "Token",
];

/// Flat parameter names nest at most this deep (`TagSpecification.0.Tags.0.Key` is 5).
const MAX_DEPTH: usize = 8;

pub fn header<'r>(req: &'r HttpRequest, name: &str) -> Option<&'r str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The media type of `Content-Type`, lowercased, without parameters.
pub fn media_type(req: &HttpRequest) -> String {
    header(req, "content-type")
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn is_json(req: &HttpRequest) -> bool {
    media_type(req) == "application/json"
}

impl Call {
    /// Reads the envelope of `req` (with `body`). Only the shape is looked at here: a JSON body
    /// is parsed later, once the signature over its bytes holds.
    pub fn read(req: &HttpRequest, body: &[u8]) -> Call {
        let method = req.method().clone();
        let mode = match header(req, "authorization") {
            Some(a) => Mode::Tc3(a.to_string()),
            None => Mode::Legacy,
        };
        let form = if method == Method::GET {
            Some(decode(req.query_string().as_bytes()))
        } else if is_json(req) {
            None
        } else {
            Some(decode(body))
        };
        let field = |header_name: &str, name: &str| -> Option<String> {
            header(req, header_name).map(str::to_string).or_else(|| {
                form.as_ref()?
                    .iter()
                    .rev()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            })
        };
        Call {
            action: field("x-tc-action", "Action"),
            version: field("x-tc-version", "Version"),
            region: field("x-tc-region", "Region"),
            timestamp: field("x-tc-timestamp", "Timestamp"),
            method,
            mode,
            form,
        }
    }

    /// The last value of the flat parameter `name` (legacy envelope fields).
    pub fn form_value(&self, name: &str) -> Option<&str> {
        self.form
            .as_ref()?
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The business parameters as a tree, and whether their values are typed (JSON) or all
    /// text (form and query, coerced by the schema).
    pub fn params(&self, body: &[u8]) -> Result<(Map<String, Value>, bool), TcError> {
        match &self.form {
            Some(pairs) => {
                let business = pairs.iter().filter(|(k, _)| !COMMON.contains(&k.as_str()));
                Ok((unflatten(business)?, false))
            }
            None => {
                if body.iter().all(u8::is_ascii_whitespace) {
                    return Ok((Map::new(), true));
                }
                // serde_json refuses nesting past 128 levels, so a hostile body ends here.
                match serde_json::from_slice::<Value>(body) {
                    Ok(Value::Object(map)) => Ok((map, true)),
                    Ok(_) => Err(TcError::new(
                        "InvalidParameter",
                        "The request body must be a JSON object.",
                    )),
                    Err(_) => Err(TcError::new(
                        "InvalidParameter",
                        "The request body is not valid JSON.",
                    )),
                }
            }
        }
    }
}

fn decode(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A node of the tree being rebuilt from flat names.
enum Node {
    Leaf(String),
    Branch(BTreeMap<String, Node>),
}

/// `Filters.0.Name=a&Filters.0.Values.0=b` → `{"Filters": [{"Name": "a", "Values": ["b"]}]}`;
/// an object whose keys are all indexes becomes a list in index order. The last of repeated
/// names wins. A name that is both a value and a prefix of others, or nests deeper than
/// [`MAX_DEPTH`], is `InvalidParameter`.
pub fn unflatten<'a>(
    pairs: impl Iterator<Item = &'a (String, String)>,
) -> Result<Map<String, Value>, TcError> {
    let mut root: BTreeMap<String, Node> = BTreeMap::new();
    for (name, value) in pairs {
        let parts: Vec<&str> = name.split('.').collect();
        if parts.len() > MAX_DEPTH {
            return Err(TcError::new(
                "InvalidParameter",
                format!("The parameter `{}` nests too deeply.", clip(name)),
            ));
        }
        insert(&mut root, &parts, value, name)?;
    }
    Ok(root.into_iter().map(|(k, n)| (k, to_value(n))).collect())
}

fn insert(
    level: &mut BTreeMap<String, Node>,
    parts: &[&str],
    value: &str,
    name: &str,
) -> Result<(), TcError> {
    let Some((first, rest)) = parts.split_first() else {
        return Ok(());
    };
    let node = level.entry(first.to_string()).or_insert_with(|| {
        if rest.is_empty() {
            Node::Leaf(String::new())
        } else {
            Node::Branch(BTreeMap::new())
        }
    });
    match (node, rest.is_empty()) {
        (Node::Leaf(v), true) => {
            *v = value.to_string();
            Ok(())
        }
        (Node::Branch(children), false) => insert(children, rest, value, name),
        _ => Err(TcError::new(
            "InvalidParameter",
            format!(
                "The parameter `{}` is given more than one shape.",
                clip(name)
            ),
        )),
    }
}

fn to_value(node: Node) -> Value {
    match node {
        Node::Leaf(v) => Value::String(v),
        Node::Branch(children) => {
            let index = |k: &str| {
                k.bytes()
                    .all(|b| b.is_ascii_digit())
                    .then(|| k.parse::<u64>().ok())
                    .flatten()
            };
            if children.keys().all(|k| index(k).is_some()) {
                let mut items: Vec<(u64, Node)> = children
                    .into_iter()
                    .filter_map(|(k, n)| Some((index(&k)?, n)))
                    .collect();
                items.sort_by_key(|(i, _)| *i);
                Value::Array(items.into_iter().map(|(_, n)| to_value(n)).collect())
            } else {
                Value::Object(
                    children
                        .into_iter()
                        .map(|(k, n)| (k, to_value(n)))
                        .collect(),
                )
            }
        }
    }
}

/// A parameter name as an error message quotes it: at most 64 characters.
pub fn clip(name: &str) -> String {
    match name.char_indices().nth(64) {
        Some((at, _)) => format!("{}…", &name[..at]),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn flat_names_become_the_tree() {
        let p = pairs(&[
            ("Filters.1.Name", "tag:env"),
            ("Filters.0.Name", "key-name"),
            ("Filters.0.Values.0", "a b"),
            ("Filters.1.Values.0", "dev"),
            ("Filters.1.Values.1", "prod"),
            ("Limit", "5"),
            ("Limit", "7"),
        ]);
        let tree = unflatten(p.iter()).unwrap();
        assert_eq!(
            Value::Object(tree),
            json!({"Filters": [
                {"Name": "key-name", "Values": ["a b"]},
                {"Name": "tag:env", "Values": ["dev", "prod"]}],
                "Limit": "7"})
        );
    }

    #[test]
    fn conflicting_or_deep_names_are_refused() {
        let p = pairs(&[("KeyIds", "a"), ("KeyIds.0", "b")]);
        assert_eq!(unflatten(p.iter()).unwrap_err().code, "InvalidParameter");
        let p = pairs(&[("KeyIds.0", "b"), ("KeyIds", "a")]);
        assert_eq!(unflatten(p.iter()).unwrap_err().code, "InvalidParameter");
        let deep = vec!["a"; 10_000].join(".");
        let p = [(deep, "x".to_string())];
        let e = unflatten(p.iter()).unwrap_err();
        assert_eq!(e.code, "InvalidParameter");
        assert!(e.message.len() < 200, "the message quotes a clipped name");
    }

    #[test]
    fn mixed_keys_stay_an_object() {
        let p = pairs(&[("X.0", "a"), ("X.b", "c")]);
        assert_eq!(
            Value::Object(unflatten(p.iter()).unwrap()),
            json!({"X": {"0": "a", "b": "c"}})
        );
    }
}
