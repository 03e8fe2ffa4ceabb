//! # Seeding key pairs from an `authorized_keys` file
//!
//! Each line that holds an SSH public key Nova accepts (options before the key type are
//! dropped) becomes a key pair of the user; the name is the key's comment when that is a
//! usable, unused name, else `key-N` (N = the key's position among the file's keys).

use super::{CreateRules, DomainError, KeypairService, KeypairSpec, Material, Principal};
use crate::keys::{ssh_fingerprint, Fingerprint, KeyKind};

/// What one line became.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Imported(String),
    Exists(String),
    Invalid(usize),
    /// The user's key pair quota is used up.
    OverQuota(String),
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

/// Imports `text` as key pairs of `user_id` (created in `project_id`), each through the same
/// create as every API's (ownership, quota, names unique per owner).
pub async fn import(
    keypairs: &KeypairService,
    user_id: &str,
    project_id: &str,
    text: &str,
) -> Result<Vec<Outcome>, DomainError> {
    let owner = Principal {
        user_id: user_id.into(),
        project_id: project_id.into(),
        roles: Vec::new(),
        system_scope: false,
    };
    let target = keypairs.target(&owner, None)?;
    let mut out = Vec::new();
    let mut n = 0;
    let mut used: Vec<String> = Vec::new();
    for (lineno, line) in text.lines().enumerate() {
        let Some(key) = key_part(line) else { continue };
        // Nova's own rule: type and blob separated by single spaces
        let normalized = key.split_whitespace().collect::<Vec<_>>().join(" ");
        if ssh_fingerprint(&normalized, Fingerprint::Md5).is_err() {
            out.push(Outcome::Invalid(lineno + 1));
            continue;
        }
        n += 1;
        let comment = normalized.splitn(3, ' ').nth(2).unwrap_or("").to_string();
        let name = if usable_name(&comment) && !used.contains(&comment) {
            comment
        } else {
            format!("key-{n}")
        };
        used.push(name.clone());
        let spec = KeypairSpec {
            name: name.clone(),
            kind: KeyKind::Ssh,
            material: Material::Import(normalized),
            fingerprint: Fingerprint::Md5,
            extra: Default::default(),
            tags: Vec::new(),
            rules: CreateRules::default(),
        };
        match keypairs.create(&owner, &target, spec).await {
            Ok(_) => out.push(Outcome::Imported(name)),
            Err(DomainError::Duplicate) => out.push(Outcome::Exists(name)),
            Err(DomainError::QuotaExceeded { .. }) => out.push(Outcome::OverQuota(name)),
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
