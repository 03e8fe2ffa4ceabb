//! # Request parameters as the SDKs send them
//!
//! Every parameter travels in the query string (both SDKs, seed-clouds.md §1.1); an RPC POST
//! may also carry them as an `application/x-www-form-urlencoded` body. Values are
//! form-decoded (`+` is a space, `%XX` a byte) and must be UTF-8. Booleans come as Python's
//! `True`/`False` or JSON's `true`/`false`; id and name lists are a JSON array inside one
//! string. Every refusal here is Alibaba's error, never a panic: these functions see hostile
//! input first.

use super::errors::AliError;
use percent_encoding::percent_decode;

/// The most a query string and body may hold together (real gateways refuse long URLs; the
/// largest SDK request here, an ImportKeyPair of an RSA-16384 key, is under 4 KB). Below the
/// HTTP layer's own limit on a request target (64 KB), so a long query gets Alibaba's error.
pub const MAX_REQUEST_BYTES: usize = 32_768;

/// Decodes `raw` (`k=v&k=v`, form encoding) into pairs in wire order; a part without `=` is
/// a name with an empty value, empty parts are skipped. `Err` names a parameter whose name or
/// value is not UTF-8.
pub fn decode_pairs(raw: &str) -> Result<Vec<(String, String)>, AliError> {
    decode_bytes(raw.as_bytes())
}

fn decode_bytes(raw: &[u8]) -> Result<Vec<(String, String)>, AliError> {
    let mut out = Vec::new();
    for part in raw.split(|b| *b == b'&') {
        if part.is_empty() {
            continue;
        }
        let (k, v) = match part.iter().position(|b| *b == b'=') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, &b""[..]),
        };
        let name = form_decode(k);
        let value = form_decode(v);
        match (String::from_utf8(name), String::from_utf8(value)) {
            (Ok(k), Ok(v)) => out.push((k, v)),
            (Ok(k), Err(_)) => return Err(AliError::invalid(&k)),
            (Err(e), _) => return Err(AliError::invalid(&String::from_utf8_lossy(e.as_bytes()))),
        }
    }
    Ok(out)
}

/// `+` → space, then `%XX` → byte (a `%` not followed by two hex digits stays as it is, as
/// Python's `unquote_plus` leaves it). Copies only what needs it: every parameter of every
/// call goes through here.
fn form_decode(s: &[u8]) -> Vec<u8> {
    let spaced: std::borrow::Cow<'_, [u8]> = if s.contains(&b'+') {
        s.iter()
            .map(|b| if *b == b'+' { b' ' } else { *b })
            .collect::<Vec<u8>>()
            .into()
    } else {
        s.into()
    };
    if !spaced.contains(&b'%') {
        return spaced.into_owned();
    }
    percent_decode(&spaced).collect()
}

/// One `Tag.N`: N, its `Key` and its `Value` as given.
pub type TagParam<'a> = (u64, Option<&'a str>, Option<&'a str>);

/// A request's parameters: the query's pairs (what ACS3 signs as the query), then the form
/// body's (RPC signs them all).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pub query: Vec<(String, String)>,
    pub form: Vec<(String, String)>,
}

impl Params {
    /// Parses the query string and, when it is a form, the body.
    pub fn parse(query: &str, body: &[u8], is_form: bool) -> Result<Params, AliError> {
        if query.len() + body.len() > MAX_REQUEST_BYTES {
            return Err(AliError::too_large());
        }
        Ok(Params {
            query: decode_pairs(query)?,
            form: if is_form {
                decode_bytes(body)?
            } else {
                Vec::new()
            },
        })
    }

    /// Every pair, query first.
    pub fn all(&self) -> impl Iterator<Item = (&str, &str)> {
        self.query
            .iter()
            .chain(&self.form)
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The first value of `name` (a repeated parameter counts once, as a servlet reads it;
    /// the signature covers every copy).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.all().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// A value that must be there and not empty.
    pub fn required(&self, name: &str) -> Result<&str, AliError> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| AliError::missing(name))
    }

    /// `true`/`True`/`false`/`False` (any case); absent or empty: `None`.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, AliError> {
        match self.get(name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(AliError::invalid(name)),
        }
    }

    /// A decimal integer in `min..=max`; absent or empty: `None`.
    pub fn integer(&self, name: &str, min: u64, max: u64) -> Result<Option<u64>, AliError> {
        match self.get(name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .map(Some)
                .ok_or_else(|| AliError::invalid(name)),
        }
    }

    /// A required JSON array of strings (`KeyPairNames`, `InstanceIds`), duplicates dropped
    /// (first kept); anything else is `bad`.
    pub fn string_array(&self, name: &str, bad: AliError) -> Result<Vec<String>, AliError> {
        let raw = self.required(name)?;
        let items: Vec<serde_json::Value> = match serde_json::from_str(raw) {
            Ok(serde_json::Value::Array(items)) => items,
            _ => return Err(bad),
        };
        let mut out: Vec<String> = Vec::with_capacity(items.len());
        for item in items {
            let serde_json::Value::String(s) = item else {
                return Err(bad);
            };
            if !out.contains(&s) {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// The `Tag.N.Key`/`Tag.N.Value` pairs, by N: (N, key if given, value if given).
    /// `Err` for a `Tag.` parameter whose N is not a positive number.
    pub fn tags(&self) -> Result<Vec<TagParam<'_>>, AliError> {
        let mut out: Vec<TagParam<'_>> = Vec::new();
        for (k, v) in self.all() {
            let Some(rest) = k.strip_prefix("Tag.") else {
                continue;
            };
            let Some((n, field)) = rest.split_once('.') else {
                return Err(AliError::invalid(k));
            };
            // 1, 2, ... as written (`Tag.01.Key` is not `Tag.1.Key`); a number too long for
            // u64 is past any limit all the same.
            if n.is_empty() || n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) {
                return Err(AliError::invalid(k));
            }
            let n: u64 = n.parse().unwrap_or(u64::MAX);
            let i = match out.iter().position(|(m, _, _)| *m == n) {
                Some(i) => i,
                None => {
                    out.push((n, None, None));
                    out.len() - 1
                }
            };
            match field {
                "Key" if out[i].1.is_none() => out[i].1 = Some(v),
                "Value" if out[i].2.is_none() => out[i].2 = Some(v),
                // A repeated Tag.N.Key counts once, like any repeated parameter.
                "Key" | "Value" => {}
                _ => return Err(AliError::invalid(k)),
            }
        }
        out.sort_by_key(|(n, _, _)| *n);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding_keeps_empty_values_and_odd_escapes() {
        let p = decode_pairs("a=1&SignatureType=&flag&&x=%zz&s=a+b%20c&p=%2B").unwrap();
        assert_eq!(
            p,
            [
                ("a", "1"),
                ("SignatureType", ""),
                ("flag", ""),
                ("x", "%zz"),
                ("s", "a b c"),
                ("p", "+")
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
    }

    #[test]
    fn non_utf8_is_alibabas_invalid_parameter() {
        let e = decode_pairs("KeyPairName=%FF%FE").unwrap_err();
        assert_eq!((e.status, e.code), (400, "InvalidParameter"));
        assert!(e.message.contains("KeyPairName"));
        assert_eq!(decode_pairs("%C3=1").unwrap_err().code, "InvalidParameter");
    }

    #[test]
    fn booleans_integers_and_arrays() {
        let p = Params::parse(
            "A=True&B=false&C=yes&N=50&M=51&J=[\"a\",\"b\",\"a\"]&K=a&L=[1]&O={}",
            b"",
            false,
        )
        .unwrap();
        assert_eq!(p.boolean("A").unwrap(), Some(true));
        assert_eq!(p.boolean("B").unwrap(), Some(false));
        assert_eq!(p.boolean("Z").unwrap(), None);
        assert!(p.boolean("C").is_err());
        assert_eq!(p.integer("N", 1, 50).unwrap(), Some(50));
        assert!(p.integer("M", 1, 50).is_err());
        let bad = || AliError::invalid("J");
        assert_eq!(p.string_array("J", bad()).unwrap(), ["a", "b"]);
        for name in ["K", "L", "O"] {
            assert_eq!(p.string_array(name, bad()).unwrap_err(), bad());
        }
        assert_eq!(
            p.string_array("Q", bad()).unwrap_err().code,
            "MissingParameter"
        );
    }

    #[test]
    fn tags_are_read_by_index() {
        let p = Params::parse(
            "Tag.2.Value=v2&Tag.1.Key=k1&Tag.2.Key=k2&Tag.3.Value=only",
            b"",
            false,
        )
        .unwrap();
        assert_eq!(
            p.tags().unwrap(),
            [
                (1, Some("k1"), None),
                (2, Some("k2"), Some("v2")),
                (3, None, Some("only"))
            ]
        );
        for bad in [
            "Tag.0.Key=a",
            "Tag.x.Key=a",
            "Tag.1.Nope=a",
            "Tag.1=a",
            "Tag.01.Key=a",
        ] {
            assert!(
                Params::parse(bad, b"", false).unwrap().tags().is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_form_body_adds_parameters_and_size_is_bounded() {
        let p = Params::parse("Action=X", b"RegionId=cn-hangzhou", true).unwrap();
        assert_eq!(p.get("RegionId"), Some("cn-hangzhou"));
        let p = Params::parse("Action=X", b"RegionId=cn-hangzhou", false).unwrap();
        assert_eq!(p.get("RegionId"), None);
        let huge = "a".repeat(MAX_REQUEST_BYTES + 1);
        assert_eq!(
            Params::parse(&huge, b"", false).unwrap_err(),
            AliError::too_large()
        );
    }
}
