//! # Alibaba's rules for key pair names and tags (seed-clouds.md §1.3)
//!
//! Names are checked where Alibaba checks them, on CreateKeyPair and ImportKeyPair only: the
//! other calls take any name (a key pair made through Nova may hold a space). Lengths count
//! characters, not bytes.

use super::errors::AliError;
use super::request::Params;
use crate::store::keypairs::Tag;
use unicode_general_category::{get_general_category, GeneralCategory as G};

/// At most this many tags on a key pair (and in a filter).
pub const MAX_TAGS: usize = 20;
const MAX_TAG_LEN: usize = 128;

/// A Chinese character (the zh docs allow them where the en docs say "letter").
fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{2FA1F}')
}

fn is_unicode_letter(c: char) -> bool {
    matches!(
        get_general_category(c),
        G::UppercaseLetter
            | G::LowercaseLetter
            | G::TitlecaseLetter
            | G::ModifierLetter
            | G::OtherLetter
    )
}

fn malformed_name() -> AliError {
    AliError::new(
        400,
        "InvalidKeyPairName.Malformed",
        "Specified Key Pair name is not valid.",
    )
}

fn common(name: &str) -> Result<(), AliError> {
    let n = name.chars().count();
    if !(2..=128).contains(&n) || name.starts_with("http://") || name.starts_with("https://") {
        return Err(malformed_name());
    }
    Ok(())
}

/// CreateKeyPair: 2–128 characters, a letter (or Chinese character) first, then letters,
/// digits, `:`, `_`, `-`.
pub fn create_name(name: &str) -> Result<(), AliError> {
    common(name)?;
    let mut chars = name.chars();
    let first = chars.next().ok_or_else(malformed_name)?;
    let ok = (first.is_ascii_alphabetic() || is_han(first))
        && chars.all(|c| c.is_ascii_alphanumeric() || is_han(c) || matches!(c, ':' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(malformed_name())
    }
}

/// ImportKeyPair: the same, but any Unicode letter counts as a letter, and `.` is allowed.
pub fn import_name(name: &str) -> Result<(), AliError> {
    common(name)?;
    let mut chars = name.chars();
    let first = chars.next().ok_or_else(malformed_name)?;
    let ok = is_unicode_letter(first)
        && chars.all(|c| {
            is_unicode_letter(c)
                || get_general_category(c) == G::DecimalNumber
                || matches!(c, ':' | '_' | '-' | '.')
        });
    if ok {
        Ok(())
    } else {
        Err(malformed_name())
    }
}

fn has_url(s: &str) -> bool {
    s.contains("http://") || s.contains("https://")
}

fn key_ok(k: &str) -> bool {
    !k.is_empty()
        && k.chars().count() <= MAX_TAG_LEN
        && !k.starts_with("aliyun")
        && !k.starts_with("acs:")
        && !has_url(k)
}

fn value_ok(v: &str) -> bool {
    v.chars().count() <= MAX_TAG_LEN && !v.starts_with("acs:") && !has_url(v)
}

/// The `Tag.N` of a request, each checked: (key, value if given), in N's order.
fn read(params: &Params) -> Result<Vec<(String, Option<String>)>, AliError> {
    let tags = params.tags()?;
    if tags.len() > MAX_TAGS || tags.iter().any(|(n, _, _)| *n > MAX_TAGS as u64) {
        return Err(AliError::new(
            403,
            "QuotaExceed.Tags",
            format!(
                "The number of tags exceeds the limit: at most {MAX_TAGS} (Tag.1 to Tag.{MAX_TAGS})."
            ),
        ));
    }
    let mut out: Vec<(String, Option<String>)> = Vec::with_capacity(tags.len());
    for (n, key, value) in tags {
        let key = key.unwrap_or_default();
        if !key_ok(key) {
            return Err(AliError::new(
                400,
                "InvalidTagKey.Malformed",
                format!("The specified Tag.{n}.Key is not valid."),
            ));
        }
        if value.is_some_and(|v| !value_ok(v)) {
            return Err(AliError::new(
                400,
                "InvalidTagValue.Malformed",
                format!("The specified Tag.{n}.Value is not valid."),
            ));
        }
        if out.iter().any(|(k, _)| k == key) {
            return Err(AliError::new(
                400,
                "Duplicate.TagKey",
                "The Tag.N.Key contain duplicate key.",
            ));
        }
        out.push((key.to_string(), value.map(str::to_string)));
    }
    Ok(out)
}

/// The tags a new key pair gets (a missing value is the empty string).
pub fn new_tags(params: &Params) -> Result<Vec<Tag>, AliError> {
    Ok(read(params)?
        .into_iter()
        .map(|(key, value)| Tag {
            key,
            value: value.unwrap_or_default(),
        })
        .collect())
}

/// A DescribeKeyPairs tag filter: every entry must match (a key without a value matches any
/// value of that key).
pub fn tag_filter(params: &Params) -> Result<Vec<(String, Option<String>)>, AliError> {
    read(params)
}

/// Whether a key pair's `tags` pass `filter`.
pub fn tags_match(filter: &[(String, Option<String>)], tags: &[Tag]) -> bool {
    filter.iter().all(|(k, v)| {
        tags.iter()
            .any(|t| &t.key == k && v.as_ref().is_none_or(|v| &t.value == v))
    })
}

/// `KeyPairName` in DescribeKeyPairs: `*` matches any run of characters; without one, the
/// name itself.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == name;
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if name.len() < first.len() + last.len() || !name.starts_with(first) || !name.ends_with(last) {
        return false;
    }
    // The middle pieces in order, each as early as it fits, between the fixed ends.
    let mut rest = &name[first.len()..name.len() - last.len()];
    for piece in &parts[1..parts.len() - 1] {
        match rest.find(piece) {
            Some(i) => rest = &rest[i + piece.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_names() {
        for ok in ["Ab", "k:1_-x", &format!("A{}", "b".repeat(127)), "密钥ab"] {
            assert!(create_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "a",
            &"A".repeat(129),
            "1abc",
            "_abc",
            "-abc",
            "ab.c",
            "ab c",
            "ab/c",
            "http://abc",
            "https://abc",
            "",
            "aé",
        ] {
            let e = create_name(bad).unwrap_err();
            assert_eq!(
                (e.status, e.code),
                (400, "InvalidKeyPairName.Malformed"),
                "{bad}"
            );
        }
    }

    #[test]
    fn import_names() {
        for ok in [
            "imp.dot",
            "密钥.key-1",
            "Key:with_all.chars-1",
            "éte",
            "Ωmega٣",
        ] {
            assert!(import_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "i",
            "1imp",
            ".imp",
            "imp key",
            "imp/key",
            "http://imp.example",
        ] {
            assert!(import_name(bad).is_err(), "{bad}");
        }
        // 128 characters of three bytes each are fine: characters are counted.
        assert!(import_name(&"密".repeat(128)).is_ok());
        assert!(import_name(&"密".repeat(129)).is_err());
    }

    fn params(q: &str) -> Params {
        Params::parse(q, b"", false).unwrap()
    }

    #[test]
    fn tag_rules() {
        let t = new_tags(&params("Tag.1.Key=env&Tag.1.Value=dev&Tag.2.Key=e")).unwrap();
        assert_eq!(t[1].value, "", "a missing value is empty");
        let twenty: String = (1..=20).map(|i| format!("Tag.{i}.Key=k{i}&")).collect();
        assert_eq!(new_tags(&params(&twenty)).unwrap().len(), 20);
        let code = |q: &str| new_tags(&params(q)).unwrap_err().code;
        assert_eq!(code(&format!("{twenty}Tag.21.Key=x")), "QuotaExceed.Tags");
        assert_eq!(code("Tag.21.Key=x"), "QuotaExceed.Tags");
        assert_eq!(code("Tag.1.Key=a&Tag.2.Key=a"), "Duplicate.TagKey");
        for key in [
            "",
            "aliyunx",
            "acs:x",
            "x%20http://y",
            "https://y",
            &"k".repeat(129),
        ] {
            assert_eq!(
                code(&format!("Tag.1.Key={key}")),
                "InvalidTagKey.Malformed",
                "{key}"
            );
        }
        assert_eq!(code("Tag.1.Value=v"), "InvalidTagKey.Malformed");
        for value in ["acs:v", "v%20http://y", &"v".repeat(129)] {
            assert_eq!(
                code(&format!("Tag.1.Key=k&Tag.1.Value={value}")),
                "InvalidTagValue.Malformed"
            );
        }
        assert!(new_tags(&params(&format!(
            "Tag.1.Key={}&Tag.1.Value={}",
            "K".repeat(128),
            "V".repeat(128)
        )))
        .is_ok());
    }

    #[test]
    fn tag_filters_and_together() {
        let tags = vec![
            Tag {
                key: "env".into(),
                value: "dev".into(),
            },
            Tag {
                key: "team".into(),
                value: "x".into(),
            },
        ];
        let f = |q: &str| tag_filter(&params(q)).unwrap();
        assert!(tags_match(&f("Tag.1.Key=env&Tag.1.Value=dev"), &tags));
        assert!(tags_match(
            &f("Tag.1.Key=env&Tag.1.Value=dev&Tag.2.Key=team"),
            &tags
        ));
        assert!(!tags_match(
            &f("Tag.1.Key=env&Tag.1.Value=dev&Tag.2.Key=team&Tag.2.Value=y"),
            &tags
        ));
        assert!(!tags_match(&f("Tag.1.Key=env&Tag.1.Value="), &tags));
        assert!(tags_match(&[], &tags));
    }

    #[test]
    fn wildcards() {
        let m = wildcard_match;
        assert!(m("wc-alpha*", "wc-alpha-one"));
        assert!(m("*one", "wc-beta-one"));
        assert!(m("*alpha*", "other-alpha"));
        assert!(m("*", "anything"));
        assert!(m("a*b*c", "aXbYc"));
        assert!(m("a*b*c", "abc"));
        assert!(!m("a*b*c", "acb"));
        assert!(!m("ab*ba", "aba"), "the ends may not overlap");
        assert!(m("wc-alpha-one", "wc-alpha-one"));
        assert!(!m("wc-alpha", "wc-alpha-one"), "no star: the exact name");
        assert!(m("*密*", "a密b"));
    }
}
