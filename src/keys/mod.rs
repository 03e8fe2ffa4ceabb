//! Key pair material: validation and fingerprints of imported public keys,
//! and generation of new key pairs, with the exact behaviour of Nova's
//! `nova/crypto.py` (on top of Python `cryptography` 43).
//!
//! This module knows nothing about HTTP or Nova's wire texts: failures are
//! returned as structured [`KeyError`]s and the API layer renders them.
//! Private keys are never logged or stored here; [`GeneratedKey`] wipes its
//! private key on drop and hides it from `Debug`.

mod generate;
mod pfx;
mod pool;
mod ssh;
mod x509;

pub use generate::{
    generate, generate_at, rsa_key, ssh_key_from, GeneratedKey, KeyRequest, PrivateKeyEncoding,
    RsaKey, SshKeyOptions,
};
pub use pool::KeyPool;
pub use ssh::{ssh_fingerprint, ssh_key_type};
pub use x509::x509_fingerprint;

/// How an ssh public key becomes a fingerprint (each front picks its cloud's rule; both are
/// MD5 as lowercase `:`-joined hex, and agree on every key line with single-space separators).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fingerprint {
    /// MD5 of the key blob (`ssh-keygen -l -E md5`).
    Md5,
    /// Nova's `generate_fingerprint`: MD5 of base64-decoding the text's second *single-space*
    /// separated field, which differs after a tab or a double space.
    NovaMd5,
}

/// The two key pair types Nova knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    Ssh,
    X509,
}

/// Why a key could not be fingerprinted or generated.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The text is not an SSH public key that Nova accepts (Nova turns every
    /// failure of its ssh fingerprinting into one and the same error).
    #[error("invalid ssh public key")]
    InvalidSsh,
    /// The text is not a loadable PEM X.509 certificate.
    #[error("invalid x509 certificate: {0:?}")]
    InvalidX509(X509Problem),
    /// Generating a key pair failed (should not happen; the string is for logs
    /// and never contains key material).
    #[error("key generation failed: {0}")]
    Generation(String),
}

/// Why [`x509_fingerprint`] rejected its input. The PEM-level variants mirror
/// the `pem` crate's `PemError` (which `cryptography` 43 shows with `{:?}` after
/// "Unable to load PEM file. ..."); the rest are certificate-level problems.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum X509Problem {
    /// No PEM section at all (e.g. an ssh key given as x509). cryptography:
    /// `MalformedFraming`.
    MalformedFraming,
    /// A PEM section whose BEGIN label is empty. cryptography: `MissingBeginTag`.
    MissingBeginTag,
    /// A PEM section whose END label is empty. cryptography: `MissingEndTag`.
    MissingEndTag,
    /// BEGIN and END labels differ. cryptography: `MismatchedTags("A", "B")`.
    MismatchedTags(String, String),
    /// A PEM section without data. cryptography: `MissingData`.
    MissingData,
    /// The PEM body is not valid base64; holds the decoder's `{:?}` text
    /// (cryptography: `InvalidData(<that text>)`).
    InvalidData(String),
    /// A malformed RFC 1421 header line in the PEM section; holds the line.
    /// cryptography: `InvalidHeader("<line>")`.
    InvalidHeader(String),
    /// A PEM label or body that is not UTF-8. cryptography: `NotUtf8(..)`.
    NotUtf8(String),
    /// Valid PEM, but no `CERTIFICATE` / `X509 CERTIFICATE` section
    /// (cryptography: "Valid PEM but no BEGIN CERTIFICATE/END CERTIFICATE
    /// delimiters. Are you sure this is a certificate?").
    NotACertificate,
    /// The certificate's DER does not parse; holds the parser's description.
    BadDer(String),
    /// The certificate's version field is neither v1 (0) nor v3 (2); holds the
    /// raw value. NB: cryptography raises `InvalidVersion` here, which is not a
    /// `ValueError`, so real Nova does not turn it into a 400.
    InvalidVersion(u8),
}

/// Fingerprint of an imported public key of the given kind: MD5 of the ssh key under
/// `scheme`, or SHA-1 of the certificate DER, as lowercase `:`-joined hex.
pub fn fingerprint(
    kind: KeyKind,
    public_key: &str,
    scheme: Fingerprint,
) -> Result<String, KeyError> {
    match kind {
        KeyKind::Ssh => ssh_fingerprint(public_key, scheme),
        KeyKind::X509 => x509_fingerprint(public_key),
    }
}

/// Lowercase hex bytes joined by `:` (Nova's fingerprint format).
fn colon_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0x0f)] as char);
    }
    out
}
