//! # Seeding key pairs from an `authorized_keys` file
//!
//! Each line that holds an SSH public key Nova accepts (options before the key type are
//! dropped) becomes a key pair of the user; the name is the key's comment when that is a
//! usable, unused name, else `key-N` (N = the key's position among the file's keys).

use crate::keys::{ssh_fingerprint, KeyKind};
use crate::store::keypairs::{self, NewKeypair, Owner};
use crate::store::{Store, StoreError};

/// What one line became.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Imported(String),
    Exists(String),
    Invalid(usize),
}

/// The key part of an authorized_keys line (`type base64 [comment]`), or None for blank and
/// comment lines.
pub fn key_part(line: &str) -> Option<&str> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let is_type =
        |t: &str| t.starts_with("ssh-") || t.starts_with("ecdsa-") || t.starts_with("sk-");
    if line.split_whitespace().next().is_some_and(is_type) {
        return Some(line);
    }
    // options first: find the key type after them (options may quote spaces)
    let mut in_quotes = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            ' ' | '\t' if !in_quotes => {
                let rest = line[i..].trim_start();
                if rest.split_whitespace().next().is_some_and(is_type) {
                    return Some(rest);
                }
            }
            _ => {}
        }
    }
    Some(line)
}

fn usable_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name.trim() == name
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.' | '@'))
}

/// Imports `text` for `user_id` (created in `project_id`), in one transaction per key.
pub fn import(
    store: &Store,
    user_id: &str,
    project_id: &str,
    text: &str,
) -> Result<Vec<Outcome>, StoreError> {
    let mut out = Vec::new();
    let mut n = 0;
    let mut used: Vec<String> = Vec::new();
    for (lineno, line) in text.lines().enumerate() {
        let Some(key) = key_part(line) else { continue };
        // Nova's own rule: type and blob separated by single spaces
        let normalized = key.split_whitespace().collect::<Vec<_>>().join(" ");
        let Ok(fingerprint) = ssh_fingerprint(&normalized) else {
            out.push(Outcome::Invalid(lineno + 1));
            continue;
        };
        n += 1;
        let comment = normalized.splitn(3, ' ').nth(2).unwrap_or("").to_string();
        let name = if usable_name(&comment) && !used.contains(&comment) {
            comment
        } else {
            format!("key-{n}")
        };
        used.push(name.clone());
        let new = NewKeypair {
            user_id: user_id.into(),
            project_id: project_id.into(),
            name: name.clone(),
            kind: KeyKind::Ssh,
            public_key: normalized.clone(),
            fingerprint,
            created_at: chrono::Utc::now().naive_utc(),
        };
        match store.write(|c| {
            let tx = c.transaction()?;
            let kp = keypairs::create(&tx, &new, &Owner::User(user_id.into()), None)?;
            tx.commit()?;
            Ok(kp)
        }) {
            Ok(_) => out.push(Outcome::Imported(name)),
            Err(StoreError::Duplicate) => out.push(Outcome::Exists(name)),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_dropped() {
        assert_eq!(
            key_part(r#"no-pty,command="echo a b" ssh-ed25519 AAAA me@host"#),
            Some("ssh-ed25519 AAAA me@host")
        );
        assert_eq!(key_part("# comment"), None);
        assert_eq!(key_part("   "), None);
    }
}
