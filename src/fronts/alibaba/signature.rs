//! # Alibaba's two request signatures, canonicalised as the SDKs do
//!
//! - **ACS3-HMAC-SHA256** (the Tea SDKs' default): canonical request = `METHOD`, the path,
//!   the canonical query, one `name:value` line per signed header, the signed header list and
//!   the payload hash, joined by `\n`; string to sign = `ACS3-HMAC-SHA256\n` + hex SHA-256 of
//!   it; signature = hex HMAC-SHA256(secret, string to sign).
//! - **RPC HMAC-SHA1** (SignatureVersion 1.0: the legacy SDK, Tea with
//!   `signature_algorithm='v2'`): every parameter but `Signature` (empty ones too), encoded,
//!   sorted, `k=v` joined by `&`; string to sign = `METHOD&%2F&` + that, encoded again;
//!   signature = base64 HMAC-SHA1(secret + `&`, string to sign).
//!
//! Both encode with RFC 3986 (only `A-Z a-z 0-9 - _ . ~` literal, UTF-8, `%XX` upper case)
//! over the *decoded* parameters, so `+`/`%20` and `*`/`%2A` on the wire sign the same.
//! Verified against requests of all four stock clients (seed-clouds.md §1.2 and the tests
//! below, which replay requests the SDKs sent).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// What RFC 3986 leaves unencoded besides letters and digits.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub const ACS3: &str = "ACS3-HMAC-SHA256";

/// RFC 3986 percent-encoding of `s` (UTF-8).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 2);
    encode_into(&mut out, s);
    out
}

/// [`encode`] appended to `out` (by chunk, without the formatting machinery: the string to
/// sign encodes every parameter twice).
fn encode_into(out: &mut String, s: &str) {
    for chunk in utf8_percent_encode(s, RFC3986) {
        out.push_str(chunk);
    }
}

/// Parameters encoded, sorted (by encoded name, then value) and joined as `k=v&k=v`.
pub fn canonical_query<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut encoded: Vec<(String, String)> = pairs.map(|(k, v)| (encode(k), encode(v))).collect();
    encoded.sort();
    let mut out = String::with_capacity(encoded.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (i, (k, v)) in encoded.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// The RPC string to sign of a request with these parameters (`Signature` left out).
pub fn rpc_string_to_sign<'a>(
    method: &str,
    params: impl Iterator<Item = (&'a str, &'a str)>,
) -> String {
    let query = canonical_query(params.filter(|(k, _)| *k != "Signature"));
    let mut out = String::with_capacity(method.len() + 5 + query.len() * 3 / 2);
    out.push_str(method);
    out.push_str("&%2F&");
    encode_into(&mut out, &query);
    out
}

/// Whether `given` (base64) is the RPC signature of `string_to_sign` under `secret`.
pub fn rpc_verify(secret: &str, string_to_sign: &str, given: &str) -> bool {
    let Ok(given) = STANDARD.decode(given.as_bytes()) else {
        return false;
    };
    let mut mac = Hmac::<Sha1>::new_from_slice(format!("{secret}&").as_bytes())
        .expect("HMAC takes any key length");
    mac.update(string_to_sign.as_bytes());
    mac.verify_slice(&given).is_ok()
}

/// The RPC signature itself (for tests and tools; verification uses [`rpc_verify`]).
pub fn rpc_sign(secret: &str, string_to_sign: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(format!("{secret}&").as_bytes())
        .expect("HMAC takes any key length");
    mac.update(string_to_sign.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// The parts of an `Authorization: ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acs3Authorization {
    pub credential: String,
    /// Lower-cased, in the order given (the SDKs send them sorted).
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Why an Authorization header could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizationProblem {
    /// Another scheme than ACS3-HMAC-SHA256.
    Scheme,
    /// Credential, SignedHeaders or Signature missing or empty.
    Incomplete,
}

/// Reads an ACS3 Authorization header value. The credential and signed headers are returned
/// even when the signature is missing (`Err` then carries them for the string to sign).
pub fn parse_authorization(
    value: &str,
) -> Result<Acs3Authorization, (AuthorizationProblem, Option<Acs3Authorization>)> {
    let Some(rest) = value.trim().strip_prefix(ACS3) else {
        return Err((AuthorizationProblem::Scheme, None));
    };
    if !rest.starts_with(' ') {
        return Err((AuthorizationProblem::Scheme, None));
    }
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else {
            continue;
        };
        let v = v.trim();
        match k.trim() {
            "Credential" => credential = Some(v.to_string()),
            "SignedHeaders" => signed = Some(v.to_string()),
            "Signature" => signature = Some(v.to_string()),
            _ => {}
        }
    }
    let signed_headers: Option<Vec<String>> = signed.filter(|s| !s.is_empty()).map(|s| {
        s.split(';')
            .map(|h| h.trim().to_ascii_lowercase())
            .collect()
    });
    match (credential.filter(|c| !c.is_empty()), signed_headers) {
        (Some(credential), Some(signed_headers)) => {
            let auth = Acs3Authorization {
                credential,
                signed_headers,
                signature: signature.clone().unwrap_or_default(),
            };
            if signature.is_some_and(|s| !s.is_empty()) {
                Ok(auth)
            } else {
                Err((AuthorizationProblem::Incomplete, Some(auth)))
            }
        }
        _ => Err((AuthorizationProblem::Incomplete, None)),
    }
}

/// The ACS3 canonical request. `header` gives the values of a (lower-case) header name as
/// received; `payload_hash` is the `x-acs-content-sha256` the client sent (or the body's).
pub fn acs3_canonical_request<'a>(
    method: &str,
    path: &str,
    query: impl Iterator<Item = (&'a str, &'a str)>,
    signed_headers: &[String],
    header: impl Fn(&str) -> Vec<String>,
    payload_hash: &str,
) -> String {
    let mut out = String::with_capacity(512);
    out.push_str(method);
    out.push('\n');
    out.push_str(if path.is_empty() { "/" } else { path });
    out.push('\n');
    out.push_str(&canonical_query(query));
    out.push('\n');
    for name in signed_headers {
        let mut values: Vec<String> = header(name)
            .into_iter()
            .map(|v| v.trim().to_string())
            .collect();
        values.sort();
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&signed_headers.join(";"));
    out.push('\n');
    out.push_str(payload_hash);
    out
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    base16ct::lower::encode_string(bytes)
}

/// Hex of either case.
fn unhex(s: &str) -> Option<Vec<u8>> {
    base16ct::mixed::decode_vec(s).ok()
}

/// Hex SHA-256 (payload hashes and the ACS3 string to sign).
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

pub fn acs3_string_to_sign(canonical_request: &str) -> String {
    format!("{ACS3}\n{}", sha256_hex(canonical_request.as_bytes()))
}

/// Whether `given` (hex) is the ACS3 signature of `string_to_sign` under `secret`.
pub fn acs3_verify(secret: &str, string_to_sign: &str, given: &str) -> bool {
    let Some(given) = unhex(given) else {
        return false;
    };
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(string_to_sign.as_bytes());
    mac.verify_slice(&given).is_ok()
}

pub fn acs3_sign(secret: &str, string_to_sign: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(string_to_sign.as_bytes());
    hex(&mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fronts::alibaba::request::decode_pairs;

    const DEMO_SECRET: &str = "NovakeysDemoAlibabaSecret00001";

    /// A CreateKeyPair the Python Tea SDK (ACS3) sent, as logged by the compat stub.
    #[test]
    fn a_tea_acs3_request_verifies() {
        let query = "KeyPairName=gen-key&RegionId=cn-hangzhou&Tag.1.Key=env&Tag.1.Value=dev&Tag.2.Key=team&Tag.2.Value=a+b%2Ac~d%2Fe%3Df%26g";
        let headers = [
            ("accept-encoding", "identity"),
            ("host", "127.0.0.1:18901"),
            ("x-acs-version", "2014-05-26"),
            ("x-acs-action", "CreateKeyPair"),
            (
                "user-agent",
                "AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2",
            ),
            ("x-acs-date", "2026-12-02T11:23:44Z"),
            ("x-acs-signature-nonce", "d323cba13519ea8f658626213eefb857"),
            ("accept", "application/json"),
            (
                "x-acs-content-sha256",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
            ("x-acs-credentials-provider", "static_ak"),
        ];
        let auth = parse_authorization("ACS3-HMAC-SHA256 Credential=LTAI5tNovakeysDemo000001,SignedHeaders=accept;host;user-agent;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=cf04585066eb4a475e2b6ed0b292514e64c528c7a905d1022e3e9f1bdd50bb91").unwrap();
        assert_eq!(auth.credential, "LTAI5tNovakeysDemo000001");
        let pairs = decode_pairs(query).unwrap();
        let lookup = |name: &str| {
            headers
                .iter()
                .filter(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
                .collect()
        };
        let creq = acs3_canonical_request(
            "POST",
            "/",
            pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &auth.signed_headers,
            lookup,
            &sha256_hex(b""),
        );
        let sts = acs3_string_to_sign(&creq);
        assert_eq!(
            sts,
            "ACS3-HMAC-SHA256\naeb4e084aed222851288a1d996a43516fa981f8bb04774685fb5a56e472a05f8"
        );
        assert!(acs3_verify(DEMO_SECRET, &sts, &auth.signature));
        assert_eq!(acs3_sign(DEMO_SECRET, &sts), auth.signature);
        assert!(!acs3_verify("wrong", &sts, &auth.signature));
        assert!(!acs3_verify(DEMO_SECRET, &sts, "zz"));
    }

    /// A CreateKeyPair of Tea in RPC mode (`signature_algorithm='v2'`).
    #[test]
    fn a_tea_rpc_request_verifies() {
        let query = "Action=CreateKeyPair&Format=json&Version=2014-05-26&Timestamp=2026-12-02T11%3A23%3A56Z&SignatureNonce=667df588d7c7d87ea8e4368f1d6b7b62&KeyPairName=gen-key&RegionId=cn-hangzhou&Tag.1.Key=env&Tag.1.Value=dev&Tag.2.Key=team&Tag.2.Value=a+b%2Ac~d%2Fe%3Df%26g&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&AccessKeyId=LTAI5tNovakeysDemo000001&Signature=EZP%2BiSOlqUfZMbBVaf00URbNtU8%3D";
        let pairs = decode_pairs(query).unwrap();
        let sts = rpc_string_to_sign("POST", pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        assert_eq!(sts, "POST&%2F&AccessKeyId%3DLTAI5tNovakeysDemo000001%26Action%3DCreateKeyPair%26Format%3Djson%26KeyPairName%3Dgen-key%26RegionId%3Dcn-hangzhou%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D667df588d7c7d87ea8e4368f1d6b7b62%26SignatureVersion%3D1.0%26Tag.1.Key%3Denv%26Tag.1.Value%3Ddev%26Tag.2.Key%3Dteam%26Tag.2.Value%3Da%2520b%252Ac~d%252Fe%253Df%2526g%26Timestamp%3D2026-12-02T11%253A23%253A56Z%26Version%3D2014-05-26");
        assert!(!sts.contains(':'), "the legacy core splits on ':'");
        assert!(rpc_verify(
            DEMO_SECRET,
            &sts,
            "EZP+iSOlqUfZMbBVaf00URbNtU8="
        ));
        assert_eq!(rpc_sign(DEMO_SECRET, &sts), "EZP+iSOlqUfZMbBVaf00URbNtU8=");
        assert!(!rpc_verify(DEMO_SECRET, &sts, "not base64!"));
    }

    /// The legacy SDK: `%20` for spaces, an empty `SignatureType=` that is signed.
    #[test]
    fn a_legacy_request_verifies() {
        let query = "KeyPairName=gen-key&Tag.1.Value=dev&Tag.1.Key=env&Tag.2.Value=a%20b%2Ac~d%2Fe%3Df%26g&Tag.2.Key=team&Version=2014-05-26&Action=CreateKeyPair&Format=JSON&RegionId=cn-hangzhou&Timestamp=2026-12-02T11%3A24%3A09Z&SignatureMethod=HMAC-SHA1&SignatureType=&SignatureVersion=1.0&SignatureNonce=f6f39f9276a338d0adde3760d60e7254&AccessKeyId=LTAI5tNovakeysDemo000001&Signature=1991YRipReN4COY0pGtFib9clAg%3D";
        let pairs = decode_pairs(query).unwrap();
        let sts = rpc_string_to_sign("POST", pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        assert!(sts.contains("SignatureType%3D%26"), "{sts}");
        assert!(rpc_verify(
            DEMO_SECRET,
            &sts,
            "1991YRipReN4COY0pGtFib9clAg="
        ));
    }

    #[test]
    fn wire_encodings_of_the_same_values_canonicalise_alike() {
        // Tea: '+' and %2A; Node: %20 and a raw '*'; someone else: %7E for '~'.
        let forms = [
            "KeyPairName=%2Ak+x~y%2A",
            "KeyPairName=%2Ak%20x~y*",
            "KeyPairName=*k%20x%7Ey%2a",
        ];
        let canon: Vec<String> = forms
            .iter()
            .map(|q| {
                let p = decode_pairs(q).unwrap();
                canonical_query(p.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            })
            .collect();
        assert!(
            canon.iter().all(|c| c == "KeyPairName=%2Ak%20x~y%2A"),
            "{canon:?}"
        );
        assert_eq!(encode("密钥"), "%E5%AF%86%E9%92%A5");
    }

    #[test]
    fn authorization_headers_are_read_strictly() {
        let full = "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host;X-Acs-Date,Signature=ab";
        let a = parse_authorization(full).unwrap();
        assert_eq!(a.signed_headers, ["host", "x-acs-date"]);
        let (p, partial) =
            parse_authorization("ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host").unwrap_err();
        assert_eq!(p, AuthorizationProblem::Incomplete);
        assert_eq!(partial.unwrap().credential, "AK");
        assert_eq!(
            parse_authorization("ACS3-HMAC-SHA256 Signature=ab")
                .unwrap_err()
                .0,
            AuthorizationProblem::Incomplete
        );
        assert_eq!(
            parse_authorization("acs AK:sig").unwrap_err().0,
            AuthorizationProblem::Scheme
        );
        assert_eq!(
            parse_authorization("ACS3-HMAC-SHA256X Credential=AK")
                .unwrap_err()
                .0,
            AuthorizationProblem::Scheme
        );
    }
}
