//! # Password and secret hashes
//!
//! bcrypt reads at most 72 bytes of its input, and application credential secrets are 86
//! characters: two secrets sharing their first 72 bytes would both match a plain bcrypt hash.
//! New hashes are passlib's `bcrypt_sha256` (v2, what Keystone's `bcrypt_sha256` hashing
//! option writes): bcrypt over the base64 of HMAC-SHA256(key = the bcrypt salt, the secret), so
//! every byte counts. They read `$bcrypt-sha256$v=2,t=2b,r=<cost>$<salt>$<checksum>`; a plain
//! `$2b$`/`$2a$`/`$2y$` hash (what earlier versions stored) still verifies as it always did.

use base64::alphabet::BCRYPT;
use base64::engine::general_purpose::{GeneralPurpose, NO_PAD, STANDARD};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What a `bcrypt_sha256` hash starts with.
pub const PREFIX: &str = "$bcrypt-sha256$";

const BCRYPT_B64: GeneralPurpose = GeneralPurpose::new(&BCRYPT, NO_PAD);

/// The bcrypt input for `secret` under the salt string `salt`.
fn key(salt: &str, secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(salt.as_bytes()).expect("HMAC takes any key");
    mac.update(secret.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// The `bcrypt_sha256` hash of `secret` (cost 4..=31, salt from the caller).
pub fn hash(secret: &str, cost: u32, salt: [u8; 16]) -> Result<String, bcrypt::BcryptError> {
    let salt_str = BCRYPT_B64.encode(salt);
    let parts = bcrypt::hash_with_salt(key(&salt_str, secret), cost, salt)?;
    let full = parts.format_for_version(bcrypt::Version::TwoB);
    // `$2b$NN$` + 22 salt characters + 31 checksum characters.
    let checksum = &full[full.len() - 31..];
    Ok(format!("{PREFIX}v=2,t=2b,r={cost}${salt_str}${checksum}"))
}

/// Whether `secret` matches `hash` (either format). A malformed hash matches nothing.
pub fn verify(secret: &str, hash: &str) -> bool {
    let Some(rest) = hash.strip_prefix(PREFIX) else {
        return bcrypt::verify(secret, hash).unwrap_or(false);
    };
    let mut fields = rest.split('$');
    let (Some(params), Some(salt), Some(checksum), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return false;
    };
    let mut cost = None;
    let mut ok = true;
    for p in params.split(',') {
        match p.split_once('=') {
            Some(("v", "2")) | Some(("t", "2b")) => {}
            Some(("r", r)) => cost = r.parse::<u32>().ok(),
            _ => ok = false,
        }
    }
    let Some(cost) = cost.filter(|c| ok && (4..=31).contains(c)) else {
        return false;
    };
    if salt.len() != 22 || checksum.len() != 31 {
        return false;
    }
    bcrypt::verify(
        key(salt, secret),
        &format!("$2b${cost:02}${salt}{checksum}"),
    )
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_of_a_long_secret_counts() {
        let base = "x".repeat(72);
        let (a, b) = (format!("{base}-right"), format!("{base}-wrong"));
        let h = hash(&a, 4, [7; 16]).unwrap();
        assert!(h.starts_with("$bcrypt-sha256$v=2,t=2b,r=4$"), "{h}");
        assert!(verify(&a, &h));
        assert!(!verify(&b, &h), "shares the first 72 bytes only");
        // What plain bcrypt does with the same pair: the reason for the new format.
        let old = bcrypt::hash_with_salt(&a, 4, [7; 16]).unwrap().to_string();
        assert!(verify(&a, &old), "old hashes still verify");
        assert!(verify(&b, &old), "(and still stop at byte 72)");
    }

    #[test]
    fn passlib_vector_and_malformed_hashes() {
        // hashcat's example for mode 30600 (passlib's bcrypt_sha256 v2).
        let passlib =
            "$bcrypt-sha256$v=2,t=2b,r=12$KSOjON/ciJR86a00N5q61.$AmWZucQuHk13FGkQWhgMeiFvBfm2GCy";
        assert!(verify("hashcat", passlib));
        assert!(!verify("hashcas", passlib));
        let h = hash("password", 4, [0; 16]).unwrap();
        assert_eq!(h.len(), "$bcrypt-sha256$v=2,t=2b,r=4$".len() + 22 + 1 + 31);
        assert!(verify("password", &h));
        assert!(!verify("Password", &h));
        for bad in [
            "",
            "$bcrypt-sha256$",
            "$bcrypt-sha256$v=2,t=2b,r=99$aaaaaaaaaaaaaaaaaaaaaa$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "$bcrypt-sha256$v=1,t=2b,r=4$aaaaaaaaaaaaaaaaaaaaaa$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "$bcrypt-sha256$v=2,t=2b,r=4$short$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "$bcrypt-sha256$v=2,t=2b,r=4$aaaaaaaaaaaaaaaaaaaaaa$aaaa$extra",
        ] {
            assert!(!verify("password", bad), "{bad}");
        }
    }
}
