//! # TC3-HMAC-SHA256 and the legacy HmacSHA256/HmacSHA1 signatures
//!
//! Pure functions over what the request carried; [`super::auth`] decides which to call and in
//! which order the failures are reported. Re-derived against every stock client (the compat
//! suite's report, seed-clouds.md §2.2):
//!
//! - TC3 canonical request: `METHOD\n/\n<query>\n<name:value\n per signed header>\n<signed
//!   header names>\n<hex sha256(payload)>`; the query is the raw one from the request line (GET)
//!   or empty (POST); the payload is the body (POST), nothing (GET), or, with
//!   `X-TC-Content-SHA256: UNSIGNED-PAYLOAD`, the text `UNSIGNED-PAYLOAD` itself (its hash is
//!   what the SDK signs). Header values are trimmed and lowercased, as Tencent's doc says.
//!   Key: `HMAC(HMAC(HMAC("TC3" + secret, date), service), "tc3_request")`, date and service
//!   taken from the credential scope as sent (the Node SDK's service is `127`).
//! - Legacy: the form-decoded parameters but `Signature`, names with `_` read as `.`, sorted by
//!   name, `k=v` joined by `&`; string to sign `METHOD + Host + "/?" + that`; the signature is
//!   base64 of HMAC-SHA256 or HMAC-SHA1 with the secret.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The parsed `Authorization: TC3-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tc3Authorization {
    pub secret_id: String,
    pub date: String,
    pub service: String,
    /// Lowercase header names, in the order given.
    pub signed_headers: Vec<String>,
    /// The 32 bytes the hex stood for.
    pub signature: Vec<u8>,
}

/// `None` when the header is not a well-formed TC3 authorization.
pub fn parse_authorization(value: &str) -> Option<Tc3Authorization> {
    let rest = value.trim().strip_prefix("TC3-HMAC-SHA256")?;
    let rest = rest.strip_prefix(' ')?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => signature = Some(v),
            _ => return None,
        }
    }
    let mut scope = credential?.split('/');
    let (secret_id, date, service, terminator) =
        (scope.next()?, scope.next()?, scope.next()?, scope.next()?);
    if scope.next().is_some() || terminator != "tc3_request" || secret_id.is_empty() {
        return None;
    }
    let signature = hex_decode(signature?)?;
    if signature.len() != 32 {
        return None;
    }
    let signed_headers: Vec<String> = signed?.split(';').map(str::to_ascii_lowercase).collect();
    Some(Tc3Authorization {
        secret_id: secret_id.to_string(),
        date: date.to_string(),
        service: service.to_string(),
        signed_headers,
        signature,
    })
}

/// Hex of either case.
fn hex_decode(text: &str) -> Option<Vec<u8>> {
    base16ct::mixed::decode_vec(text).ok()
}

fn hex(bytes: &[u8]) -> String {
    base16ct::lower::encode_string(bytes)
}

/// The SHA-256 hex the TC3 canonical request ends with.
pub fn payload_hash(payload: &[u8]) -> String {
    hex(&Sha256::digest(payload))
}

/// What a TC3 signature covers.
pub struct Tc3Input<'a> {
    pub method: &'a str,
    /// The raw query (GET) or "" (POST).
    pub query: &'a str,
    /// (lowercase name, value as received) of each signed header, in signed order.
    pub headers: &'a [(String, String)],
    pub payload_hash: &'a str,
    pub timestamp: &'a str,
}

/// The TC3 canonical request of `input`.
pub fn canonical_request(input: &Tc3Input<'_>) -> String {
    let mut canonical_headers = String::new();
    for (name, value) in input.headers {
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(&value.trim().to_ascii_lowercase());
        canonical_headers.push('\n');
    }
    let names: Vec<&str> = input.headers.iter().map(|(n, _)| n.as_str()).collect();
    format!(
        "{}\n/\n{}\n{}\n{}\n{}",
        input.method,
        input.query,
        canonical_headers,
        names.join(";"),
        input.payload_hash
    )
}

/// The TC3 string to sign.
pub fn string_to_sign(input: &Tc3Input<'_>, date: &str, service: &str) -> String {
    format!(
        "TC3-HMAC-SHA256\n{}\n{date}/{service}/tc3_request\n{}",
        input.timestamp,
        payload_hash(canonical_request(input).as_bytes())
    )
}

fn hmac256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// The TC3 signing key of `secret` for the scope `date`/`service`.
fn tc3_key(secret: &str, date: &str, service: &str) -> Vec<u8> {
    let k_date = hmac256(format!("TC3{secret}").as_bytes(), date.as_bytes());
    let k_service = hmac256(&k_date, service.as_bytes());
    hmac256(&k_service, b"tc3_request")
}

/// Whether `signature` is the TC3 signature of `input` with `secret` (compared in constant
/// time).
pub fn tc3_matches(
    secret: &str,
    auth: &Tc3Authorization,
    input: &Tc3Input<'_>,
    signature: &[u8],
) -> bool {
    let key = tc3_key(secret, &auth.date, &auth.service);
    let mut mac = HmacSha256::new_from_slice(&key).expect("HMAC takes a key of any length");
    mac.update(string_to_sign(input, &auth.date, &auth.service).as_bytes());
    mac.verify_slice(signature).is_ok()
}

/// The legacy signature methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyMethod {
    HmacSha1,
    HmacSha256,
}

impl LegacyMethod {
    /// `SignatureMethod` as sent; absent means HmacSHA1 (the v1 default).
    pub fn parse(value: Option<&str>) -> Option<LegacyMethod> {
        match value {
            None | Some("HmacSHA1") => Some(LegacyMethod::HmacSha1),
            Some("HmacSHA256") => Some(LegacyMethod::HmacSha256),
            Some(_) => None,
        }
    }
}

/// The legacy string to sign of a request to `host` with these form-decoded parameters.
pub fn legacy_string_to_sign(method: &str, host: &str, params: &[(String, String)]) -> String {
    let mut fields: Vec<(String, &str)> = params
        .iter()
        .filter(|(k, _)| k != "Signature")
        .map(|(k, v)| (k.replace('_', "."), v.as_str()))
        .collect();
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    // A repeated name counts once, with its last value (as the SDK's dict would hold it).
    fields.dedup_by(|later, earlier| {
        if later.0 == earlier.0 {
            earlier.1 = later.1;
            true
        } else {
            false
        }
    });
    let joined: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{method}{host}/?{}", joined.join("&"))
}

/// Whether `signature` (base64, as sent) signs `text` with `secret` under `method`.
pub fn legacy_matches(method: LegacyMethod, secret: &str, text: &str, signature: &str) -> bool {
    let Ok(given) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    match method {
        LegacyMethod::HmacSha256 => {
            let mut mac =
                HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
            mac.update(text.as_bytes());
            mac.verify_slice(&given).is_ok()
        }
        LegacyMethod::HmacSha1 => {
            let mut mac =
                Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
            mac.update(text.as_bytes());
            mac.verify_slice(&given).is_ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Signatures made with tencentcloud-sdk-python 3.1.195's own signer (`Sign.sign_tc3`,
    // `Sign.sign`) over the inputs below.
    const SECRET: &str = "NovakeysDemoTencentSecretKey0001";

    fn headers(ct: &str, host: &str) -> Vec<(String, String)> {
        vec![
            ("content-type".into(), ct.into()),
            ("host".into(), host.into()),
        ]
    }

    #[test]
    fn parses_the_sdk_authorization_header() {
        let a = parse_authorization(
            "TC3-HMAC-SHA256 Credential=AKIDx/2026-01-02/cvm/tc3_request, SignedHeaders=content-type;host, Signature=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        )
        .unwrap();
        assert_eq!(
            (a.secret_id.as_str(), a.date.as_str(), a.service.as_str()),
            ("AKIDx", "2026-01-02", "cvm")
        );
        assert_eq!(a.signed_headers, ["content-type", "host"]);
        assert_eq!(a.signature[1], 0x11);
        for bad in [
            "TC3-HMAC-SHA256 Credential=AKIDx/2026-01-02/cvm/other, SignedHeaders=host, Signature=00",
            "TC3-HMAC-SHA256 Credential=AKIDx/2026-01-02/cvm/tc3_request, SignedHeaders=host, Signature=zz",
            "Bearer abc",
            "TC3-HMAC-SHA256 Credential=/2026-01-02/cvm/tc3_request, SignedHeaders=host, Signature=0011",
        ] {
            assert_eq!(parse_authorization(bad), None, "{bad}");
        }
    }

    fn auth(service: &str, signature: &str) -> Tc3Authorization {
        Tc3Authorization {
            secret_id: "AKIDNovakeysDemo00000000000000000001".into(),
            date: "2026-01-01".into(),
            service: service.into(),
            signed_headers: vec!["content-type".into(), "host".into()],
            signature: hex_decode(signature).unwrap(),
        }
    }

    #[test]
    fn tc3_over_a_json_post_as_the_python_sdk_signs_it() {
        let body = br#"{"KeyName": "k1", "ProjectId": 0}"#;
        let h = headers("application/json", "127.0.0.1:8782");
        let hash = payload_hash(body);
        let input = Tc3Input {
            method: "POST",
            query: "",
            headers: &h,
            payload_hash: &hash,
            timestamp: "1767225600",
        };
        assert_eq!(
            canonical_request(&input),
            format!("POST\n/\n\ncontent-type:application/json\nhost:127.0.0.1:8782\n\ncontent-type;host\n{hash}")
        );
        let a = auth(
            "cvm",
            "9780825cb89428d103772d42a2d6259e23098708f3cca8fb006395b8474c0664",
        );
        assert!(tc3_matches(SECRET, &a, &input, &a.signature));
        assert!(!tc3_matches(
            "NotTheDemoSecretKey0000000000000",
            &a,
            &input,
            &a.signature
        ));
        let other_body = payload_hash(br#"{"KeyName": "k2", "ProjectId": 0}"#);
        let tampered = Tc3Input {
            payload_hash: &other_body,
            ..input
        };
        assert!(!tc3_matches(SECRET, &a, &tampered, &a.signature));
    }

    #[test]
    fn tc3_over_a_get_with_tcclis_host_and_nodes_scope() {
        let h = headers("application/x-www-form-urlencoded", "http://127.0.0.1:8782");
        let empty = payload_hash(b"");
        let input = Tc3Input {
            method: "GET",
            query: "KeyIds.0=skey-abc&Limit=20",
            headers: &h,
            payload_hash: &empty,
            timestamp: "1767225600",
        };
        let a = auth(
            "127",
            "4b34907cffd1b11457f8bfe97ba26c8e382dca50589371ee8745f4d2dbfc11f7",
        );
        assert!(tc3_matches(SECRET, &a, &input, &a.signature));
        let h = headers("application/x-www-form-urlencoded", "127.0.0.1:8782");
        let without_scheme = Tc3Input {
            headers: &h,
            ..input
        };
        assert!(!tc3_matches(SECRET, &a, &without_scheme, &a.signature));
    }

    #[test]
    fn legacy_signatures_as_the_python_sdk_makes_them() {
        let text = "POST127.0.0.1:8782/?Action=DescribeKeyPairs&Nonce=1&Region=ap-guangzhou&SecretId=AKIDNovakeysDemo00000000000000000001&SignatureMethod=HmacSHA256&Timestamp=1767225600&Version=2017-03-12";
        let sha256 = "P9rWhJ4iSSR/NMAxBUrq0V2fWQxeBQq6NN4OBz43kUg=";
        assert!(legacy_matches(
            LegacyMethod::HmacSha256,
            SECRET,
            text,
            sha256
        ));
        assert!(!legacy_matches(
            LegacyMethod::HmacSha1,
            SECRET,
            text,
            sha256
        ));
        assert!(!legacy_matches(
            LegacyMethod::HmacSha256,
            "other",
            text,
            sha256
        ));
        let text1 = text.replace("HmacSHA256", "HmacSHA1");
        let sha1 = "LafgsG5maB4HOXnVNfY+D8bVsXo=";
        assert!(legacy_matches(LegacyMethod::HmacSha1, SECRET, &text1, sha1));
        assert!(!legacy_matches(
            LegacyMethod::HmacSha1,
            SECRET,
            &text1,
            "not base64!"
        ));
    }

    #[test]
    fn unsigned_payload_hashes_the_words() {
        assert_eq!(
            payload_hash(b"UNSIGNED-PAYLOAD"),
            "438d4109ef0d676b8c2c7ed13cdfcb418e494d53b843d4634ce3b1085f07bb96"
        );
        assert_eq!(
            payload_hash(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn legacy_string_to_sign_sorts_and_renames() {
        let params: Vec<(String, String)> = [
            ("Version", "2017-03-12"),
            ("TagSpecification.0.Tags.0.Value", "a b/c"),
            ("Signature", "zzz"),
            ("Action", "CreateKeyPair"),
            ("Filters_0_Name", "key-name"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            legacy_string_to_sign("POST", "127.0.0.1:8782", &params),
            "POST127.0.0.1:8782/?Action=CreateKeyPair&Filters.0.Name=key-name&TagSpecification.0.Tags.0.Value=a b/c&Version=2017-03-12"
        );
        assert_eq!(LegacyMethod::parse(None), Some(LegacyMethod::HmacSha1));
        assert_eq!(LegacyMethod::parse(Some("HmacMD5")), None);
    }
}
