//! # Tencent's ids: `skey-…` key ids and `ins-…` instance ids
//!
//! A key pair's `KeyId` is `skey-` + 8 lowercase alphanumerics, computed from the store's
//! internal integer id, so it needs no storage and survives renames:
//!
//! `KeyId = "skey-" + base36_8((id · A + B) mod 36⁸)`, with A coprime to 36⁸ (neither even
//! nor a multiple of 3), so the affine map is a bijection of `0..36⁸`, and its inverse is
//! `id = ((x − B) · A⁻¹) mod 36⁸`. The scrambling only makes neighbouring ids look unrelated,
//! as Tencent's do (`skey-mv9yzyjj`); it hides nothing. Internal ids are below 36⁸ (2.8 × 10¹²
//! rows) in any store novakeys will see; a larger one would wrap around.

/// 36⁸: how many ids 8 base-36 digits can name.
const SPACE: u128 = 2_821_109_907_456;
/// The multiplier (coprime to 36⁸) and its inverse modulo 36⁸.
const A: u128 = 1_413_325_327_291;
const A_INVERSE: u128 = 1_128_538_505_587;
/// The offset, so id 1 does not become `skey-0000000…`.
const B: u128 = 1_094_617_031_873;

const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// The `KeyId` of the key pair with internal id `id`.
pub fn key_id(id: i64) -> String {
    let x = (u128::from(id.rem_euclid(SPACE as i64) as u64) * A + B) % SPACE;
    format!("skey-{}", base36(x))
}

/// The public key comment of a generated key pair: its `KeyId` (a plain `fn`, as the domain
/// takes it).
pub fn comment(id: i64) -> String {
    key_id(id)
}

/// The internal id a well-formed `KeyId` stands for; `None` when the text is not `skey-` + 8
/// lowercase alphanumerics (Tencent's `InvalidKeyPairId.Malformed`).
pub fn parse_key_id(text: &str) -> Option<i64> {
    let digits = text.strip_prefix("skey-")?;
    let x = parse_base36(digits)?;
    let id = ((x + SPACE - B) % SPACE) * A_INVERSE % SPACE;
    i64::try_from(id).ok()
}

/// Whether `text` has the shape of a Tencent instance id (`ins-` + 8 lowercase alphanumerics).
pub fn is_instance_id(text: &str) -> bool {
    text.strip_prefix("ins-")
        .is_some_and(|d| parse_base36(d).is_some())
}

fn base36(mut x: u128) -> String {
    let mut out = [b'0'; 8];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(x % 36) as usize];
        x /= 36;
    }
    out.iter().map(|&b| b as char).collect()
}

/// Exactly 8 digits of `0-9a-z`.
fn parse_base36(text: &str) -> Option<u128> {
    if text.len() != 8 {
        return None;
    }
    text.bytes().try_fold(0u128, |acc, b| {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'z' => b - b'a' + 10,
            _ => return None,
        };
        Some(acc * 36 + u128::from(d))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_constants_make_a_bijection() {
        assert_eq!(SPACE, 36u128.pow(8));
        assert_eq!(A * A_INVERSE % SPACE, 1, "A⁻¹ is A's inverse");
        const {
            assert!(
                !A.is_multiple_of(2) && !A.is_multiple_of(3),
                "A is coprime to 36⁸"
            )
        };
    }

    #[test]
    fn key_ids_round_trip_and_look_like_tencents() {
        let shape = regex::Regex::new("^skey-[a-z0-9]{8}$").unwrap();
        let mut seen = std::collections::HashSet::new();
        for id in (0..5000).chain([i64::from(u32::MAX), SPACE as i64 - 1]) {
            let k = key_id(id);
            assert!(shape.is_match(&k), "{k}");
            assert_eq!(parse_key_id(&k), Some(id), "{k}");
            assert!(seen.insert(k), "two ids, one KeyId");
        }
        assert_ne!(
            key_id(1)[5..9],
            key_id(2)[5..9],
            "neighbours look unrelated"
        );
    }

    #[test]
    fn every_well_formed_key_id_names_some_id() {
        for text in ["skey-00000000", "skey-zzzzzzzz", "skey-mv9yzyjj"] {
            let id = parse_key_id(text).unwrap();
            assert_eq!(key_id(id), text);
        }
    }

    #[test]
    fn malformed_ids_are_refused() {
        for bad in [
            "skey-1122",
            "skey-112233445",
            "skey-ABCDEFGH",
            "skey_12345678",
            "ci_one",
            "",
            "skey-1234567é",
        ] {
            assert_eq!(parse_key_id(bad), None, "{bad}");
        }
        assert!(is_instance_id("ins-ab12cd34"));
        for bad in ["ins-1122", "ins-AB12CD34", "i-ab12cd34", "ins-ab12cd345"] {
            assert!(!is_instance_id(bad), "{bad}");
        }
    }
}
