//! X.509 certificate fingerprints, like `cryptography` 43's
//! `load_pem_x509_certificate` followed by `cert.fingerprint(SHA1())`.

use der::Decode;
use sha1::{Digest, Sha1};
use x509_cert::Certificate;

use super::{colon_hex, KeyError, X509Problem};

/// SHA-1 fingerprint (lowercase hex, `:`-joined, 59 chars) of the first
/// `CERTIFICATE` (or `X509 CERTIFICATE`) section of a PEM text.
///
/// Every PEM section must be well framed (cryptography parses them all with the
/// `pem` crate first); the chosen section must hold exactly one DER
/// certificate of version v1 or v3.
pub fn x509_fingerprint(pem_text: &str) -> Result<String, KeyError> {
    let der = certificate_der(pem_text).map_err(KeyError::InvalidX509)?;
    Ok(colon_hex(&Sha1::digest(&der)))
}

/// The DER bytes of the certificate in `pem_text`, checked to parse.
pub(crate) fn certificate_der(pem_text: &str) -> Result<Vec<u8>, X509Problem> {
    let sections = pem::parse_many(pem_text.as_bytes()).map_err(pem_problem)?;
    if sections.is_empty() {
        return Err(X509Problem::MalformedFraming);
    }
    let section = sections
        .into_iter()
        .find(|p| p.tag() == "CERTIFICATE" || p.tag() == "X509 CERTIFICATE")
        .ok_or(X509Problem::NotACertificate)?;
    let der = section.into_contents();
    let version_at = version_offset(&der);
    let cert = match Certificate::from_der(&der) {
        Ok(cert) => cert,
        Err(e) => {
            // cryptography reads the version as any u8 and rejects values other
            // than 0 and 2 only after the whole structure parsed; x509-cert
            // fails on unknown versions while parsing. Retry as v3 to tell.
            if let Some(i) = version_at {
                let v = der[i];
                if v != 0 && v != 2 && v < 0x80 {
                    let mut patched = der.clone();
                    patched[i] = 2;
                    if Certificate::from_der(&patched).is_ok() {
                        return Err(X509Problem::InvalidVersion(v));
                    }
                }
            }
            return Err(X509Problem::BadDer(e.to_string()));
        }
    };
    // DER forbids encoding the DEFAULT v1 explicitly (rust-asn1 rejects it).
    if version_at.is_some_and(|i| der[i] == 0) {
        return Err(X509Problem::BadDer(
            "explicitly encoded default version".into(),
        ));
    }
    // cryptography accepts only v1 (0) and v3 (2); x509-cert also takes v2.
    let version = cert.tbs_certificate.version as u8;
    if version != 0 && version != 2 {
        return Err(X509Problem::InvalidVersion(version));
    }
    Ok(der)
}

/// Index of the version number's byte when the certificate starts with
/// `SEQUENCE { SEQUENCE { [0] { INTEGER <one byte> } ...`.
fn version_offset(der: &[u8]) -> Option<usize> {
    fn skip_header(der: &[u8], at: usize, tag: u8) -> Option<usize> {
        if *der.get(at)? != tag {
            return None;
        }
        let first = *der.get(at + 1)?;
        if first < 0x80 {
            Some(at + 2)
        } else {
            let n = usize::from(first & 0x7f);
            (1..=4).contains(&n).then_some(at + 2 + n)
        }
    }
    let tbs = skip_header(der, 0, 0x30)?;
    let inner = skip_header(der, tbs, 0x30)?;
    (der.get(inner..inner + 4)? == [0xa0, 0x03, 0x02, 0x01] && inner + 4 < der.len())
        .then_some(inner + 4)
}

fn pem_problem(e: pem::PemError) -> X509Problem {
    use pem::PemError as P;
    match e {
        P::MismatchedTags(b, e) => X509Problem::MismatchedTags(b, e),
        P::MalformedFraming => X509Problem::MalformedFraming,
        P::MissingBeginTag => X509Problem::MissingBeginTag,
        P::MissingEndTag => X509Problem::MissingEndTag,
        P::MissingData => X509Problem::MissingData,
        P::InvalidData(d) => X509Problem::InvalidData(format!("{d:?}")),
        P::InvalidHeader(h) => X509Problem::InvalidHeader(h),
        P::NotUtf8(u) => X509Problem::NotUtf8(format!("{u:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyKind;

    fn data(name: &str) -> String {
        let path = format!("{}/tests/data/keys/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn expected(name: &str) -> String {
        crate::keys::ssh::tests::expected_fingerprints()
            .remove(name)
            .unwrap_or_else(|| panic!("no expected fingerprint for {name}"))
    }

    #[test]
    fn captured_certificates_match_nova_and_openssl() {
        for name in ["x509-rsa.pem", "x509-ec.pem"] {
            let fp = x509_fingerprint(&data(name)).unwrap();
            assert_eq!(fp, expected(name), "{name}");
            assert_eq!(fp.len(), 59);
            assert_eq!(
                crate::keys::fingerprint(KeyKind::X509, &data(name), crate::keys::Fingerprint::Md5)
                    .unwrap(),
                fp
            );
        }
    }

    #[test]
    fn ssh_key_as_x509_is_malformed_framing() {
        let key = data("rsa2048.pub");
        match x509_fingerprint(&key) {
            Err(KeyError::InvalidX509(X509Problem::MalformedFraming)) => {}
            other => panic!("{other:?}"),
        }
        match x509_fingerprint("") {
            Err(KeyError::InvalidX509(X509Problem::MalformedFraming)) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn other_pem_failures_have_their_own_variants() {
        let pubkey = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";
        assert!(matches!(
            x509_fingerprint(pubkey),
            Err(KeyError::InvalidX509(X509Problem::NotACertificate))
        ));
        let mismatched = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END FOO-----\n";
        assert!(matches!(
            x509_fingerprint(mismatched),
            Err(KeyError::InvalidX509(X509Problem::MismatchedTags(b, e))) if b == "CERTIFICATE" && e == "FOO"
        ));
        let bad_b64 = "-----BEGIN CERTIFICATE-----\nA!AA\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            x509_fingerprint(bad_b64),
            Err(KeyError::InvalidX509(X509Problem::InvalidData(_)))
        ));
        let not_der = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            x509_fingerprint(not_der),
            Err(KeyError::InvalidX509(X509Problem::BadDer(_)))
        ));
        // A certificate with trailing garbage inside the DER is rejected too.
        let cert = data("x509-ec.pem");
        let sec = pem::parse(cert.as_bytes()).unwrap();
        let mut der = sec.contents().to_vec();
        der.push(0);
        let padded = pem::encode(&pem::Pem::new("CERTIFICATE", der));
        assert!(matches!(
            x509_fingerprint(&padded),
            Err(KeyError::InvalidX509(X509Problem::BadDer(_)))
        ));
    }

    /// How cryptography 43 words each problem (without its fixed prefixes),
    /// as recorded by x509_oracle.py.
    fn tag(p: &X509Problem) -> String {
        match p {
            X509Problem::MalformedFraming => "PEM:MalformedFraming".into(),
            X509Problem::MissingBeginTag => "PEM:MissingBeginTag".into(),
            X509Problem::MissingEndTag => "PEM:MissingEndTag".into(),
            X509Problem::MismatchedTags(b, e) => format!("PEM:MismatchedTags({b:?}, {e:?})"),
            X509Problem::MissingData => "PEM:MissingData".into(),
            X509Problem::InvalidData(d) => format!("PEM:InvalidData({d})"),
            X509Problem::InvalidHeader(h) => format!("PEM:InvalidHeader({h:?})"),
            X509Problem::NotUtf8(u) => format!("PEM:NotUtf8({u})"),
            X509Problem::NotACertificate => "NotACertificate".into(),
            X509Problem::BadDer(_) => "BadDer".into(),
            X509Problem::InvalidVersion(v) => format!("InvalidVersion({v})"),
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let cert = data("x509-rsa.pem");
        let der = pem::parse(cert.as_bytes()).unwrap().into_contents();
        for _ in 0..2000 {
            let mut m = der.clone();
            for _ in 0..rng.gen_range(1..4) {
                let i = rng.gen_range(0..m.len());
                match rng.gen_range(0..3) {
                    0 => m[i] = rng.gen(),
                    1 => m.truncate(i),
                    _ => m.insert(i, rng.gen()),
                }
                if m.is_empty() {
                    break;
                }
            }
            let _ = x509_fingerprint(&pem::encode(&pem::Pem::new("CERTIFICATE", m)));
            let mut text = cert.clone().into_bytes();
            let i = rng.gen_range(0..text.len());
            text[i] = rng.gen_range(0x20..0x7f);
            let _ = x509_fingerprint(&String::from_utf8(text).unwrap());
        }
    }

    #[test]
    fn oracle_vectors() {
        let vectors: Vec<(String, String, String)> =
            serde_json::from_str(&data("x509-vectors.json")).unwrap();
        assert!(vectors.len() > 20);
        let mut wrong = Vec::new();
        for (label, text, want) in &vectors {
            let got = match x509_fingerprint(text) {
                Ok(fp) => fp,
                Err(KeyError::InvalidX509(p)) => tag(&p),
                Err(other) => format!("{other:?}"),
            };
            if &got != want {
                wrong.push(format!("{label}: want {want}, got {got}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn certificate_after_other_sections_and_legacy_label() {
        let cert = data("x509-rsa.pem");
        let fp = expected("x509-rsa.pem");
        let pubkey = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";
        assert_eq!(x509_fingerprint(&format!("{pubkey}{cert}")).unwrap(), fp);
        let legacy = cert.replace(" CERTIFICATE-----", " X509 CERTIFICATE-----");
        assert_eq!(x509_fingerprint(&legacy).unwrap(), fp);
        assert_eq!(
            x509_fingerprint(&format!("junk before\n{cert}junk after")).unwrap(),
            fp
        );
    }
}
