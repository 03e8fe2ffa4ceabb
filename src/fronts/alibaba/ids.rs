//! # Alibaba-style ids, derived, never stored
//!
//! - `KeyPairId` (`ssh-bp…`, as the docs' `ssh-bp67acfmxazb4p****`): `ssh-bp` + 13 base-36
//!   digits of a fixed 64-bit permutation of the key pair's internal id. The permutation is
//!   a 4-round Feistel network on the two 32-bit halves (each round is undone by running the
//!   rounds backwards), so ids look unrelated to each other, stay the same across every
//!   change of the key pair, and [`keypair_row`] maps one back without any lookup.
//! - The default resource group of a project (`rg-acfm…`, the shape of Alibaba's ids): made
//!   from the project id, so every key pair of the project shows the same group.

use sha2::{Digest, Sha256};

const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
/// 36^13 > 2^64: thirteen digits hold any u64.
const DIGITS: usize = 13;
const KEYPAIR_PREFIX: &str = "ssh-bp";

/// The Feistel round function (any function works; this one mixes well).
fn round(half: u32, key: u32) -> u32 {
    let mut x = half ^ key;
    x = x.wrapping_mul(0x9E37_79B1);
    x ^= x >> 15;
    x = x.wrapping_mul(0x85EB_CA77);
    x ^ (x >> 13)
}

const KEYS: [u32; 4] = [0xA5A5_1F2B, 0x3C6E_F372, 0xBB67_AE85, 0x5BE0_CD19];

fn permute(v: u64) -> u64 {
    let (mut l, mut r) = ((v >> 32) as u32, v as u32);
    for k in KEYS {
        (l, r) = (r, l ^ round(r, k));
    }
    (u64::from(l) << 32) | u64::from(r)
}

fn unpermute(v: u64) -> u64 {
    let (mut l, mut r) = ((v >> 32) as u32, v as u32);
    for k in KEYS.iter().rev() {
        (l, r) = (r ^ round(l, *k), l);
    }
    (u64::from(l) << 32) | u64::from(r)
}

/// The `KeyPairId` of the key pair with internal id `row`.
pub fn keypair_id(row: i64) -> String {
    let mut v = permute(row as u64);
    let mut digits = [b'0'; DIGITS];
    for d in digits.iter_mut().rev() {
        *d = ALPHABET[(v % 36) as usize];
        v /= 36;
    }
    let mut s = String::with_capacity(KEYPAIR_PREFIX.len() + DIGITS);
    s.push_str(KEYPAIR_PREFIX);
    s.extend(digits.iter().map(|b| *b as char));
    s
}

/// The internal id a `KeyPairId` stands for (None: not one of ours).
pub fn keypair_row(id: &str) -> Option<i64> {
    let digits = id.strip_prefix(KEYPAIR_PREFIX)?;
    if digits.len() != DIGITS {
        return None;
    }
    let mut v: u64 = 0;
    for b in digits.bytes() {
        let d = ALPHABET.iter().position(|a| *a == b)? as u64;
        v = v.checked_mul(36)?.checked_add(d)?;
    }
    Some(unpermute(v) as i64)
}

/// The id of `project_id`'s default resource group: `rg-acfm` + 13 lower-case alphanumerics.
pub fn default_resource_group(project_id: &str) -> String {
    let digest = Sha256::digest(project_id.as_bytes());
    let tail: String = digest
        .iter()
        .take(13)
        .map(|b| ALPHABET[usize::from(*b) % 36] as char)
        .collect();
    format!("rg-acfm{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keypair_ids_round_trip_and_look_alibaba() {
        let re = regex::Regex::new("^ssh-bp[0-9a-z]{13}$").unwrap();
        let mut seen = std::collections::HashSet::new();
        for row in (1..2000).chain([0, i64::MAX, -1, 1 << 40]) {
            let id = keypair_id(row);
            assert!(re.is_match(&id), "{id}");
            assert_eq!(keypair_row(&id), Some(row), "{id}");
            assert!(seen.insert(id));
        }
        assert_ne!(
            keypair_id(1)[6..9],
            keypair_id(2)[6..9],
            "neighbours look unrelated"
        );
        assert_eq!(keypair_id(42), keypair_id(42), "stable");
        for bad in [
            "ssh-bp",
            "ssh-bp00000000000000",
            "ssh-bpZZZZZZZZZZZZZ",
            "skey-12345678",
            "ssh-bpzzzzzzzzzzzzz",
        ] {
            assert_eq!(keypair_row(bad), None, "{bad}");
        }
    }

    #[test]
    fn resource_groups_are_per_project() {
        let a = default_resource_group("p1");
        assert!(regex::Regex::new("^rg-acfm[0-9a-z]{13}$")
            .unwrap()
            .is_match(&a));
        assert_eq!(a, default_resource_group("p1"));
        assert_ne!(a, default_resource_group("p2"));
    }
}
