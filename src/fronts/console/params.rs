//! Form bodies (urlencoded and multipart, by hand: two small formats, no crate) and the
//! console's input rules.

use crate::store::keypairs::Tag;

/// A form's fields in order (a name may repeat: the batch delete's checkboxes).
#[derive(Debug, Default)]
pub struct Form {
    fields: Vec<(String, String)>,
    /// Uploaded files: (field name, bytes).
    files: Vec<(String, Vec<u8>)>,
}

impl Form {
    /// Parses `body` by its `Content-Type` (urlencoded, or multipart/form-data).
    pub fn parse(content_type: Option<&str>, body: &[u8]) -> Form {
        let ct = content_type.unwrap_or("");
        let mime = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if mime == "multipart/form-data" {
            if let Some(boundary) = boundary(ct) {
                return multipart(body, &boundary);
            }
            return Form::default();
        }
        Form {
            fields: form_urlencoded::parse(body).into_owned().collect(),
            files: Vec::new(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The field's value, or "".
    pub fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// An uploaded file's bytes (None when no file was chosen).
    pub fn file(&self, name: &str) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_slice())
    }
}

fn boundary(ct: &str) -> Option<String> {
    ct.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.eq_ignore_ascii_case("boundary")
            .then(|| v.trim_matches('"').to_string())
            .filter(|b| !b.is_empty() && b.len() <= 200)
    })
}

/// RFC 7578 `multipart/form-data`: parts between `--boundary` lines, each with headers
/// (`Content-Disposition: form-data; name="..."[; filename="..."]`) and a body. Anything
/// malformed ends the parse with the parts read so far.
fn multipart(body: &[u8], boundary: &str) -> Form {
    let mut form = Form::default();
    let delimiter = format!("--{boundary}");
    let finder = memchr::memmem::Finder::new(delimiter.as_bytes());
    let starts: Vec<usize> = finder.find_iter(body).collect();
    for w in starts.windows(2) {
        let part = &body[w[0] + delimiter.len()..w[1]];
        let Some(part) = part.strip_prefix(b"\r\n") else {
            break;
        };
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let Some(split) = memchr::memmem::find(part, b"\r\n\r\n") else {
            break;
        };
        let head = String::from_utf8_lossy(&part[..split]);
        let content = &part[split + 4..];
        let mut name = None;
        let mut is_file = false;
        for line in head.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            if !k.trim().eq_ignore_ascii_case("content-disposition") {
                continue;
            }
            for p in v.split(';').skip(1) {
                if let Some((pk, pv)) = p.trim().split_once('=') {
                    let pv = pv.trim().trim_matches('"').to_string();
                    match pk.trim().to_ascii_lowercase().as_str() {
                        "name" => name = Some(pv),
                        "filename" => is_file = true,
                        _ => {}
                    }
                }
            }
        }
        let Some(name) = name else { continue };
        if is_file {
            form.files.push((name, content.to_vec()));
        } else {
            form.fields
                .push((name, String::from_utf8_lossy(content).into_owned()));
        }
        if form.fields.len() + form.files.len() > 64 {
            break;
        }
    }
    form
}

/// The console's key pair names: Nova's newest rule (2.92: letters, digits, `_`, `-`, space,
/// `@`, `.`; 1 to 255 characters), so whatever the console makes every front can show, and
/// not only spaces.
pub fn valid_name(name: &str) -> bool {
    let n = name.chars().count();
    (1..=255).contains(&n)
        && !name.trim().is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ' ' | '@' | '.'))
}

/// The HTML `pattern` for the same rule (checked in the browser before submit).
pub const NAME_PATTERN: &str = r"[\w@. \-]{1,255}";

/// `key=value` lines: unique non-empty keys of at most 127 characters, values of at most 255,
/// at most 20 tags (the cloud fronts' limits).
pub fn parse_tags(text: &str) -> Option<Vec<Tag>> {
    let mut tags: Vec<Tag> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (k, v) = line.split_once('=').unwrap_or((line, ""));
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty()
            || k.chars().count() > 127
            || v.chars().count() > 255
            || tags.iter().any(|t| t.key == k)
        {
            return None;
        }
        tags.push(Tag {
            key: k.into(),
            value: v.into(),
        });
    }
    (tags.len() <= 20).then_some(tags)
}

/// The largest public key file or text the import takes (Horizon's "load from file" limit).
pub const MAX_PUBLIC_KEY: usize = 16 * 1024;

/// An SSH public key as pasted: Horizon strips the newlines a terminal or editor wrapped it
/// with.
pub fn clean_ssh_key(text: &str) -> String {
    text.replace(['\r', '\n'], "").trim().to_string()
}

/// A path a form may return to: ours, never another site's (`//host`).
pub fn local_path(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/keypairs"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_fields_and_files() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nk 1\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"id.pub\"\r\nContent-Type: application/octet-stream\r\n\r\nssh-ed25519 AAAA x\n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"empty\"; filename=\"\"\r\n\r\n\r\n--XyZ--\r\n";
        let f = Form::parse(Some("multipart/form-data; boundary=XyZ"), body);
        assert_eq!(f.get("name"), Some("k 1"));
        assert_eq!(f.file("file"), Some(&b"ssh-ed25519 AAAA x\n"[..]));
        assert_eq!(f.file("empty"), None, "no file chosen");
        let f = Form::parse(Some("multipart/form-data"), body);
        assert_eq!(f.get("name"), None, "no boundary, no fields");
    }

    #[test]
    fn urlencoded_repeats() {
        let f = Form::parse(
            Some("application/x-www-form-urlencoded"),
            b"name=a+b&name=c%26d&x=",
        );
        assert_eq!(f.all("name"), ["a b", "c&d"]);
        assert_eq!(f.text("x"), "");
        assert_eq!(f.text("missing"), "");
    }

    #[test]
    fn names_tags_and_paths() {
        assert!(valid_name("my key-1_@x.y"));
        assert!(valid_name("金鑰"));
        for bad in ["", "   ", "a/b", "<script>", &"x".repeat(256)] {
            assert!(!valid_name(bad), "{bad}");
        }
        let tags = parse_tags("env=dev\n\n team = a=b \n").unwrap();
        assert_eq!(tags[1].key, "team");
        assert_eq!(tags[1].value, "a=b");
        assert!(parse_tags("a=1\na=2").is_none());
        assert!(parse_tags("=x").is_none());
        assert!(parse_tags(&"k=v\n".repeat(2)).is_none());
        assert_eq!(local_path("/keypairs?q=a"), "/keypairs?q=a");
        assert_eq!(local_path("//evil.example/"), "/keypairs");
        assert_eq!(local_path("https://evil.example/"), "/keypairs");
        assert_eq!(clean_ssh_key("ssh-rsa AAA\nBBB x\r\n"), "ssh-rsa AAABBB x");
    }
}
