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
    let cert = Certificate::from_der(&der).map_err(|e| X509Problem::BadDer(e.to_string()))?;
    // cryptography accepts only v1 (0) and v3 (2); x509-cert also takes v2.
    let version = cert.tbs_certificate.version as u8;
    if version != 0 && version != 2 {
        return Err(X509Problem::InvalidVersion(version));
    }
    Ok(der)
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
                crate::keys::fingerprint(KeyKind::X509, &data(name)).unwrap(),
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
