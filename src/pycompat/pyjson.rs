//! # Python-compatible JSON rendering
//!
//! Nova and Keystone answer with Python's `json.dumps` defaults: `", "` and `": "` separators and
//! `ensure_ascii=True` (every non-ASCII character escaped as `\uXXXX`, astral ones as surrogate
//! pairs). Clients that compare bodies byte for byte (and our golden tests) see exactly that.

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter};
use std::io;

/// A `serde_json` formatter that writes what Python's `json.dumps(obj)` writes.
#[derive(Default)]
pub struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        if fragment.is_ascii() {
            return w.write_all(fragment.as_bytes());
        }
        let mut units = [0u16; 2];
        for ch in fragment.chars() {
            if ch.is_ascii() {
                w.write_all(&[ch as u8])?;
            } else {
                for unit in ch.encode_utf16(&mut units) {
                    write!(w, "\\u{:04x}", unit)?;
                }
            }
        }
        Ok(())
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        // Python escapes control characters as \uXXXX except the five short forms; same as serde.
        let s: &[u8] = match escape {
            CharEscape::Quote => b"\\\"",
            CharEscape::ReverseSolidus => b"\\\\",
            CharEscape::Solidus => b"\\/",
            CharEscape::Backspace => b"\\b",
            CharEscape::FormFeed => b"\\f",
            CharEscape::LineFeed => b"\\n",
            CharEscape::CarriageReturn => b"\\r",
            CharEscape::Tab => b"\\t",
            CharEscape::AsciiControl(byte) => return write!(w, "\\u{:04x}", byte),
        };
        w.write_all(s)
    }
}

/// Serialises `value` the way Python's `json.dumps(value)` would.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    // Our views are plain structs and maps of strings; serialising them cannot fail.
    value
        .serialize(&mut ser)
        .expect("JSON views always serialise");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_python_separators_and_ascii_escaping() {
        let v =
            json!({"a": [1, 2], "name": "ключ", "x": null, "emoji": "\u{1F600}", "t": "a\tb\u{1}"});
        assert_eq!(
            String::from_utf8(to_vec(&v)).unwrap(),
            r#"{"a": [1, 2], "name": "\u043a\u043b\u044e\u0447", "x": null, "emoji": "\ud83d\ude00", "t": "a\tb\u0001"}"#
        );
    }

    #[test]
    fn keeps_insertion_order() {
        let v = json!({"z": 1, "a": 2});
        assert_eq!(to_vec(&v), br#"{"z": 1, "a": 2}"#);
    }
}
