//! Key pair generation like Nova's `generate_key_pair` (ssh) and
//! `generate_winrm_x509_cert` (x509).

use std::time::{Duration, SystemTime};

use der::asn1::{SetOfVec, Utf8StringRef};
use der::referenced::OwnedToRef;
use der::{Any, Decode, EncodePem, Tag};
use rand::{CryptoRng, RngCore};
use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};
use rsa::{BigUint, RsaPrivateKey};
use sha1::{Digest, Sha1};
use sha2::Sha256;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::ext::pkix::name::{GeneralName, OtherName};
use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectAltName, SubjectKeyIdentifier};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::{Time, Validity};
use zeroize::Zeroize;

use super::{ssh_fingerprint, x509_fingerprint, KeyError, KeyKind};

/// Comment Nova puts on generated ssh public keys.
const SSH_COMMENT: &str = "Generated-by-Nova";
/// `openssl req -days 3650`.
const X509_DAYS: u64 = 3650;
/// Microsoft's User Principal Name otherName.
const UPN_OID: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.20.2.3");
/// id-kp-clientAuth.
const CLIENT_AUTH_OID: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");
/// id-at-commonName.
const CN_OID: der::oid::ObjectIdentifier = der::oid::ObjectIdentifier::new_unwrap("2.5.4.3");

/// A freshly generated key pair.
///
/// `private_key` is wiped when the value is dropped; take it out with
/// `std::mem::take(&mut generated.private_key)` if it must outlive the struct.
/// `Debug` never shows it.
pub struct GeneratedKey {
    /// ssh: `ssh-rsa <base64> Generated-by-Nova` (no trailing newline);
    /// x509: the PEM certificate (with trailing newline).
    pub public_key: String,
    /// ssh: PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`, trailing newline);
    /// x509: one line of standard base64 of a PKCS#12 bundle (key +
    /// certificate) protected by the empty password.
    pub private_key: String,
    /// Same format as [`super::fingerprint`] gives for the public key.
    pub fingerprint: String,
}

impl std::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("public_key", &self.public_key)
            .field("private_key", &"<redacted>")
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

impl Drop for GeneratedKey {
    fn drop(&mut self) {
        self.private_key.zeroize();
    }
}

/// Generate a key pair of `kind` for `user_id` (used only by x509: subject
/// `CN=<user_id>`, UPN `<user_id>@localhost`). All randomness comes from
/// `rng`, so a seeded rng gives the same ssh key pair every time; for x509 the
/// RSA key and certificate serial come from `rng` too, while the validity
/// starts now and the PKCS#12 encryption salts are the writer's own.
pub fn generate(
    kind: KeyKind,
    user_id: &str,
    rng: &mut (impl CryptoRng + RngCore),
) -> Result<GeneratedKey, KeyError> {
    match kind {
        KeyKind::Ssh => generate_ssh(rng),
        KeyKind::X509 => generate_x509(user_id, rng, SystemTime::now()),
    }
}

fn gen_err(what: &str) -> impl Fn(&dyn std::fmt::Display) -> KeyError + '_ {
    move |e| KeyError::Generation(format!("{what}: {e}"))
}

fn rsa_2048(rng: &mut (impl CryptoRng + RngCore)) -> Result<RsaPrivateKey, KeyError> {
    RsaPrivateKey::new_with_exp(rng, 2048, &BigUint::from(65537u32))
        .map_err(|e| gen_err("rsa key generation")(&e))
}

fn generate_ssh(rng: &mut (impl CryptoRng + RngCore)) -> Result<GeneratedKey, KeyError> {
    let key = rsa_2048(rng)?;
    let pem = key
        .to_pkcs1_pem(LineEnding::LF)
        .map_err(|e| gen_err("pkcs1 encoding")(&e))?;
    let ssh_public = ssh_key::public::RsaPublicKey::try_from(key.to_public_key())
        .map_err(|e| gen_err("ssh public key")(&e))?;
    let public_key = ssh_key::PublicKey::new(ssh_public.into(), SSH_COMMENT)
        .to_openssh()
        .map_err(|e| gen_err("ssh public key encoding")(&e))?;
    let fingerprint = ssh_fingerprint(&public_key)?;
    Ok(GeneratedKey {
        public_key,
        private_key: pem.as_str().to_owned(),
        fingerprint,
    })
}

/// Like `openssl req -x509 -nodes -days 3650 -newkey rsa:2048 -subj /CN=<user>
/// -extensions v3_req_client` with Nova's config (extendedKeyUsage=clientAuth,
/// subjectAltName=otherName:UPN;UTF8:<user>@localhost), then
/// `openssl pkcs12 -export -password pass:`, base64-encoded.
pub(crate) fn generate_x509(
    user_id: &str,
    rng: &mut (impl CryptoRng + RngCore),
    now: SystemTime,
) -> Result<GeneratedKey, KeyError> {
    let key = rsa_2048(rng)?;
    let cert_pem = build_certificate(&key, user_id, rng, now)?;
    let cert_der = super::x509::certificate_der(&cert_pem)
        .map_err(|e| KeyError::Generation(format!("generated certificate does not load: {e:?}")))?;
    let fingerprint = x509_fingerprint(&cert_pem)?;

    let key_der = key
        .to_pkcs8_der()
        .map_err(|e| gen_err("pkcs8 encoding")(&e))?;
    let cert = p12_keystore::Certificate::from_der(&cert_der)
        .map_err(|e| gen_err("pkcs12 certificate")(&e))?;
    // openssl uses the SHA-1 of the certificate as the localKeyID.
    let local_key_id = Sha1::digest(&cert_der);
    let chain = p12_keystore::PrivateKeyChain::new(key_der.as_bytes(), local_key_id, [cert]);
    let mut store = p12_keystore::KeyStore::new();
    store.add_entry(user_id, p12_keystore::KeyStoreEntry::PrivateKeyChain(chain));
    let mut pfx = store
        .writer("")
        .write()
        .map_err(|e| gen_err("pkcs12 encoding")(&e))?;
    drop(store);
    use base64::Engine;
    let private_key = base64::engine::general_purpose::STANDARD.encode(&pfx);
    pfx.zeroize();

    Ok(GeneratedKey {
        public_key: cert_pem,
        private_key,
        fingerprint,
    })
}

fn build_certificate(
    key: &RsaPrivateKey,
    user_id: &str,
    rng: &mut (impl CryptoRng + RngCore),
    now: SystemTime,
) -> Result<String, KeyError> {
    let e = |what: &'static str| move |err: der::Error| gen_err(what)(&err);

    // A random positive serial of up to 159 bits, like openssl's.
    let mut serial = [0u8; 20];
    rng.fill_bytes(&mut serial);
    serial[0] &= 0x7f;
    if serial.iter().all(|&b| b == 0) {
        serial[19] = 1;
    }
    let serial = SerialNumber::new(&serial).map_err(e("serial"))?;

    // Whole seconds, as certificates carry no fractions.
    let since_epoch = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_err(|err| gen_err("clock")(&err))?;
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(since_epoch.as_secs());
    let end = start + Duration::from_secs(X509_DAYS * 24 * 3600);
    let validity = Validity {
        not_before: Time::try_from(start).map_err(e("validity"))?,
        not_after: Time::try_from(end).map_err(e("validity"))?,
    };

    // CN=<user_id> as a UTF8String (openssl's default string mask).
    let cn = AttributeTypeAndValue {
        oid: CN_OID,
        value: Any::new(Tag::Utf8String, user_id.as_bytes()).map_err(e("subject"))?,
    };
    let rdn = RelativeDistinguishedName(SetOfVec::try_from(vec![cn]).map_err(e("subject"))?);
    let subject: Name = RdnSequence(vec![rdn]);

    let spki_der = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|err| gen_err("public key encoding")(&err))?;
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der.as_bytes()).map_err(e("spki"))?;
    let skid = SubjectKeyIdentifier::try_from(spki.owned_to_ref())
        .map_err(|err| gen_err("subject key identifier")(&err))?;

    let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(key.clone());
    let mut builder = CertificateBuilder::new(
        Profile::Manual { issuer: None },
        serial,
        validity,
        subject,
        spki,
        &signer,
    )
    .map_err(|err| gen_err("certificate builder")(&err))?;

    let upn = format!("{user_id}@localhost");
    let upn_value = Utf8StringRef::new(&upn).map_err(e("upn"))?;
    let san = SubjectAltName(vec![GeneralName::OtherName(OtherName {
        type_id: UPN_OID,
        value: Any::encode_from(&upn_value).map_err(e("upn"))?,
    })]);
    let ext_err = |err: x509_cert::builder::Error| gen_err("certificate extension")(&err);
    builder
        .add_extension(&ExtendedKeyUsage(vec![CLIENT_AUTH_OID]))
        .map_err(ext_err)?;
    builder.add_extension(&san).map_err(ext_err)?;
    builder.add_extension(&skid).map_err(ext_err)?;

    let cert = builder
        .build::<rsa::pkcs1v15::Signature>()
        .map_err(|err| gen_err("certificate signing")(&err))?;
    cert.to_pem(der::pem::LineEnding::LF)
        .map_err(e("certificate encoding"))
}
