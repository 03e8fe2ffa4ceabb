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

use super::{ssh_fingerprint, x509_fingerprint, Fingerprint, KeyError, KeyKind};

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
    /// ssh: `ssh-rsa <base64> <comment>` (no trailing newline);
    /// x509: the PEM certificate (with trailing newline).
    pub public_key: String,
    /// ssh: PKCS#1 or PKCS#8 PEM (trailing newline);
    /// x509: one line of standard base64 of a PKCS#12 bundle (key +
    /// certificate) protected by the empty password.
    pub private_key: String,
    /// `Fingerprint::Md5` of the ssh public key (no scheme differs on a generated key), or the
    /// certificate's SHA-1.
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

/// How a generated RSA private key is written out (PEM, unencrypted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrivateKeyEncoding {
    /// `-----BEGIN RSA PRIVATE KEY-----` (Nova, Tencent, TWCC).
    Pkcs1,
    /// `-----BEGIN PRIVATE KEY-----`.
    Pkcs8,
}

/// What a generated ssh key pair carries: the public key's comment and the private key's form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshKeyOptions {
    pub comment: String,
    pub encoding: PrivateKeyEncoding,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRequest {
    /// RSA-2048 with an OpenSSH public key.
    Ssh(SshKeyOptions),
    /// A self-signed client certificate for `user_id` (subject `CN=<user_id>`, UPN
    /// `<user_id>@localhost`) and a PKCS#12 bundle as the private key, as Nova makes them.
    X509 { user_id: String },
}

impl KeyRequest {
    pub fn kind(&self) -> KeyKind {
        match self {
            KeyRequest::Ssh(_) => KeyKind::Ssh,
            KeyRequest::X509 { .. } => KeyKind::X509,
        }
    }
}

/// A bare RSA-2048 private key (the pool keeps these; [`ssh_key_from`] writes one out).
/// Wiped on drop.
pub struct RsaKey(RsaPrivateKey);

/// A new RSA-2048 key, all randomness from `rng`.
pub fn rsa_key(rng: &mut (impl CryptoRng + RngCore)) -> Result<RsaKey, KeyError> {
    rsa_2048(rng).map(RsaKey)
}

/// Generates what `request` asks for. All randomness comes from `rng`, so a seeded rng gives
/// the same ssh key pair every time; for x509 everything but the validity period (which
/// starts now, see [`generate_at`]) comes from `rng` too.
pub fn generate(
    request: &KeyRequest,
    rng: &mut (impl CryptoRng + RngCore),
) -> Result<GeneratedKey, KeyError> {
    generate_at(request, rng, SystemTime::now())
}

/// [`generate`] with an explicit clock for the x509 validity period
/// (`now` .. `now` + 3650 days, whole seconds); with a seeded rng and a fixed
/// `now` the output is byte-for-byte reproducible. `now` is unused for ssh.
pub fn generate_at(
    request: &KeyRequest,
    rng: &mut (impl CryptoRng + RngCore),
    now: SystemTime,
) -> Result<GeneratedKey, KeyError> {
    match request {
        KeyRequest::Ssh(options) => ssh_key_from(rsa_key(rng)?, options),
        KeyRequest::X509 { user_id } => generate_x509(user_id, rng, now),
    }
}

fn gen_err(what: &str) -> impl Fn(&dyn std::fmt::Display) -> KeyError + '_ {
    move |e| KeyError::Generation(format!("{what}: {e}"))
}

fn rsa_2048(rng: &mut (impl CryptoRng + RngCore)) -> Result<RsaPrivateKey, KeyError> {
    RsaPrivateKey::new_with_exp(rng, 2048, &BigUint::from(65537u32))
        .map_err(|e| gen_err("rsa key generation")(&e))
}

/// Writes `key` out as an ssh key pair with `options`.
pub fn ssh_key_from(key: RsaKey, options: &SshKeyOptions) -> Result<GeneratedKey, KeyError> {
    let key = key.0;
    let pem = match options.encoding {
        PrivateKeyEncoding::Pkcs1 => key
            .to_pkcs1_pem(LineEnding::LF)
            .map_err(|e| gen_err("pkcs1 encoding")(&e))?,
        PrivateKeyEncoding::Pkcs8 => key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| gen_err("pkcs8 encoding")(&e))?,
    };
    let ssh_public = ssh_key::public::RsaPublicKey::try_from(key.to_public_key())
        .map_err(|e| gen_err("ssh public key")(&e))?;
    let public_key = ssh_key::PublicKey::new(ssh_public.into(), options.comment.as_str())
        .to_openssh()
        .map_err(|e| gen_err("ssh public key encoding")(&e))?;
    let fingerprint = ssh_fingerprint(&public_key, Fingerprint::Md5)?;
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
fn generate_x509(
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
    let mut pfx = super::pfx::write_pfx(key_der.as_bytes(), &cert_der, "", rng)
        .map_err(KeyError::Generation)?;
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
        .add_extension(&NonCriticalEku(ExtendedKeyUsage(vec![CLIENT_AUTH_OID])))
        .map_err(ext_err)?;
    builder.add_extension(&san).map_err(ext_err)?;
    builder.add_extension(&skid).map_err(ext_err)?;

    let cert = builder
        .build::<rsa::pkcs1v15::Signature>()
        .map_err(|err| gen_err("certificate signing")(&err))?;
    cert.to_pem(der::pem::LineEnding::LF)
        .map_err(e("certificate encoding"))
}

/// extendedKeyUsage as openssl writes it from `extendedKeyUsage = clientAuth`:
/// not critical (x509-cert would mark it critical).
struct NonCriticalEku(ExtendedKeyUsage);

impl der::oid::AssociatedOid for NonCriticalEku {
    const OID: der::oid::ObjectIdentifier = <ExtendedKeyUsage as der::oid::AssociatedOid>::OID;
}

impl der::Encode for NonCriticalEku {
    fn encoded_len(&self) -> der::Result<der::Length> {
        self.0.encoded_len()
    }

    fn encode(&self, encoder: &mut impl der::Writer) -> der::Result<()> {
        self.0.encode(encoder)
    }
}

impl x509_cert::ext::AsExtension for NonCriticalEku {
    fn critical(&self, _: &Name, _: &[x509_cert::ext::Extension]) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    use std::process::Command;

    /// Fixed clock for deterministic certificates: 2026-11-23T07:16:26Z.
    fn fixed_now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_418_186)
    }

    /// The cross-checks need the real tools; a machine without them fails loudly.
    fn have(tool: &str) -> bool {
        let ok = Command::new(tool).arg("version").output().is_ok();
        assert!(
            ok,
            "{tool} is needed by this test: apt-get install openssh-client openssl"
        );
        ok
    }

    /// A private temp file (mode 600) holding `bytes`.
    fn secret_file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.path().join(name);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode_600()
            .open(&path)
            .unwrap();
        f.write_all(bytes).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path
    }

    trait Mode600 {
        fn mode_600(&mut self) -> &mut Self;
    }
    impl Mode600 for std::fs::OpenOptions {
        fn mode_600(&mut self) -> &mut Self {
            use std::os::unix::fs::OpenOptionsExt;
            self.mode(0o600)
        }
    }

    fn run(cmd: &mut Command) -> String {
        let out = cmd.output().expect("spawn");
        assert!(
            out.status.success(),
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Nova's generated ssh key pairs.
    fn nova() -> KeyRequest {
        KeyRequest::Ssh(SshKeyOptions {
            comment: "Generated-by-Nova".into(),
            encoding: PrivateKeyEncoding::Pkcs1,
        })
    }

    #[test]
    fn comment_and_encoding_are_options() {
        let request = KeyRequest::Ssh(SshKeyOptions {
            comment: "skey-abc12345".into(),
            encoding: PrivateKeyEncoding::Pkcs8,
        });
        let a = generate(&request, &mut ChaCha20Rng::seed_from_u64(9)).unwrap();
        let b = generate(&nova(), &mut ChaCha20Rng::seed_from_u64(9)).unwrap();
        assert!(a.public_key.ends_with(" skey-abc12345"), "{}", a.public_key);
        assert!(a.private_key.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(b
            .private_key
            .starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
        // Same key, written two ways.
        assert_eq!(
            a.public_key.split(' ').nth(1),
            b.public_key.split(' ').nth(1)
        );
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(request.kind(), KeyKind::Ssh);
    }

    #[test]
    fn ssh_key_format() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let g = generate(&nova(), &mut rng).unwrap();

        let pk = &g.private_key;
        assert!(
            pk.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"),
            "{}",
            &pk[..40]
        );
        assert!(pk.ends_with("\n-----END RSA PRIVATE KEY-----\n"));
        assert!(!pk.contains('\r'));
        let body: Vec<&str> = pk
            .lines()
            .skip(1)
            .take_while(|l| !l.starts_with("-----"))
            .collect();
        assert!(body[..body.len() - 1].iter().all(|l| l.len() == 64));
        assert!(body.last().unwrap().len() <= 64);

        let fields: Vec<&str> = g.public_key.split(' ').collect();
        assert_eq!(fields.len(), 3, "{}", g.public_key);
        assert_eq!(fields[0], "ssh-rsa");
        assert_eq!(fields[2], "Generated-by-Nova");
        assert!(!g.public_key.ends_with('\n'));
        assert_eq!(
            g.fingerprint,
            ssh_fingerprint(&g.public_key, Fingerprint::NovaMd5).unwrap()
        );
        assert_eq!(g.fingerprint.len(), 47);

        // Debug never shows the private key.
        let dbg = format!("{g:?}");
        assert!(dbg.contains("<redacted>"));
        assert!(!dbg.contains("PRIVATE KEY"));
        assert!(!dbg.contains(&body[1][..20]));
    }

    #[test]
    fn ssh_key_checked_by_ssh_keygen() {
        let mut rng = ChaCha20Rng::from_entropy();
        let g = generate(&nova(), &mut rng).unwrap();
        if !have("ssh-keygen") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let key = secret_file(&dir, "id_rsa", g.private_key.as_bytes());
        let derived = run(Command::new("ssh-keygen").arg("-y").arg("-f").arg(&key));
        let mut derived = derived.split_whitespace();
        let mut ours = g.public_key.split(' ');
        assert_eq!(derived.next(), ours.next());
        assert_eq!(derived.next(), ours.next());

        let pubfile = dir.path().join("id_rsa.pub");
        std::fs::write(&pubfile, &g.public_key).unwrap();
        let listed = run(Command::new("ssh-keygen")
            .args(["-l", "-E", "md5", "-f"])
            .arg(&pubfile));
        // "2048 MD5:xx:.. Generated-by-Nova (RSA)"
        let mut parts = listed.split_whitespace();
        assert_eq!(parts.next(), Some("2048"));
        assert_eq!(
            parts.next().unwrap().strip_prefix("MD5:"),
            Some(g.fingerprint.as_str())
        );
    }

    #[test]
    fn seeded_rng_gives_identical_ssh_keys() {
        let a = generate(&nova(), &mut ChaCha20Rng::seed_from_u64(42)).unwrap();
        let b = generate(&nova(), &mut ChaCha20Rng::seed_from_u64(42)).unwrap();
        assert_eq!(a.public_key, b.public_key);
        assert_eq!(a.private_key, b.private_key);
        assert_eq!(a.fingerprint, b.fingerprint);
        let c = generate(&nova(), &mut ChaCha20Rng::seed_from_u64(43)).unwrap();
        assert_ne!(a.public_key, c.public_key);
        assert_ne!(a.fingerprint, c.fingerprint);
    }

    #[test]
    fn seeded_rng_gives_identical_certificates() {
        let a = generate_x509("alice", &mut ChaCha20Rng::seed_from_u64(7), fixed_now()).unwrap();
        let b = generate_x509("alice", &mut ChaCha20Rng::seed_from_u64(7), fixed_now()).unwrap();
        assert_eq!(a.public_key, b.public_key);
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(a.private_key, b.private_key);
        let c = generate_x509("alice", &mut ChaCha20Rng::seed_from_u64(8), fixed_now()).unwrap();
        assert_ne!(a.public_key, c.public_key);
    }

    #[test]
    fn x509_certificate_and_pkcs12() {
        let user = "alice";
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let g = generate_x509(user, &mut rng, fixed_now()).unwrap();
        let cert = &g.public_key;
        assert!(cert.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(cert.ends_with("-----END CERTIFICATE-----\n"));
        assert_eq!(g.fingerprint, x509_fingerprint(cert).unwrap());
        assert_eq!(g.fingerprint.len(), 59);
        // The bundle is one line of standard base64.
        assert!(!g.private_key.contains('\n'));
        use base64::Engine;
        let pfx = base64::engine::general_purpose::STANDARD
            .decode(&g.private_key)
            .unwrap();
        assert!(format!("{g:?}").contains("<redacted>"));
        assert!(!format!("{g:?}").contains(&g.private_key[..30]));

        if !have("openssl") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let cert_path = dir.path().join("cert.pem");
        std::fs::write(&cert_path, cert).unwrap();
        let text = run(Command::new("openssl")
            .args(["x509", "-noout", "-text", "-nameopt", "RFC2253", "-in"])
            .arg(&cert_path));
        assert!(text.contains("Version: 3 (0x2)"), "{text}");
        assert!(text.contains("Subject: CN=alice"), "{text}");
        assert!(text.contains("Issuer: CN=alice"), "{text}");
        assert!(
            text.contains("Signature Algorithm: sha256WithRSAEncryption"),
            "{text}"
        );
        assert!(text.contains("Public-Key: (2048 bit)"), "{text}");
        assert!(text.contains("Exponent: 65537"), "{text}");
        assert!(text.contains("X509v3 Extended Key Usage"), "{text}");
        assert!(text.contains("TLS Web Client Authentication"), "{text}");
        assert!(text.contains("X509v3 Subject Alternative Name"), "{text}");
        assert!(text.contains("othername: UPN::alice@localhost"), "{text}");
        assert!(text.contains("X509v3 Subject Key Identifier"), "{text}");
        assert!(
            text.contains("Not Before: Nov 23 07:16:26 2026 GMT"),
            "{text}"
        );
        assert!(
            text.contains("Not After : Nov 20 07:16:26 2036 GMT"),
            "{text}"
        );
        assert!(!text.contains("critical"), "{text}");

        let fp = run(Command::new("openssl")
            .args(["x509", "-noout", "-fingerprint", "-sha1", "-in"])
            .arg(&cert_path));
        let fp = fp.trim().rsplit('=').next().unwrap().to_ascii_lowercase();
        assert_eq!(fp, g.fingerprint);

        let p12 = secret_file(&dir, "bundle.p12", &pfx);
        let opened = run(Command::new("openssl")
            .args(["pkcs12", "-passin", "pass:", "-nodes", "-in"])
            .arg(&p12));
        // The MAC really is keyed with the (empty) password.
        let wrong = Command::new("openssl")
            .args(["pkcs12", "-passin", "pass:x", "-nodes", "-in"])
            .arg(&p12)
            .output()
            .unwrap();
        assert!(!wrong.status.success());
        assert!(
            opened.contains("-----BEGIN PRIVATE KEY-----"),
            "no key in bundle"
        );
        let start = opened
            .find("-----BEGIN CERTIFICATE-----")
            .expect("no cert in bundle");
        let end = opened.find("-----END CERTIFICATE-----").unwrap() + 25;
        assert_eq!(
            x509_fingerprint(&opened[start..end]).unwrap(),
            g.fingerprint,
            "bundle holds our certificate"
        );
        // The key in the bundle belongs to the certificate.
        let key_start = opened.find("-----BEGIN PRIVATE KEY-----").unwrap();
        let key_end = opened.find("-----END PRIVATE KEY-----").unwrap() + 25;
        let key_path = secret_file(&dir, "key.pem", &opened.as_bytes()[key_start..key_end]);
        let key_mod = run(Command::new("openssl")
            .args(["rsa", "-noout", "-modulus", "-in"])
            .arg(&key_path));
        let cert_mod = run(Command::new("openssl")
            .args(["x509", "-noout", "-modulus", "-in"])
            .arg(&cert_path));
        assert_eq!(key_mod, cert_mod);

        // Same subject and extensions as Nova's own openssl command makes
        // with this key.
        let conf = dir.path().join("openssl.cnf");
        std::fs::write(
            &conf,
            "distinguished_name  = req_distinguished_name\n[req_distinguished_name]\n\
             [v3_req_client]\nextendedKeyUsage = clientAuth\n\
             subjectAltName = otherName:1.3.6.1.4.1.311.20.2.3;UTF8:alice@localhost\n",
        )
        .unwrap();
        let reference = dir.path().join("ref.pem");
        run(Command::new("openssl")
            .args(["req", "-x509", "-nodes", "-days", "3650", "-config"])
            .arg(&conf)
            .arg("-key")
            .arg(&key_path)
            .args(["-subj", "/CN=alice", "-extensions", "v3_req_client", "-out"])
            .arg(&reference));
        let ref_text = run(Command::new("openssl")
            .args(["x509", "-noout", "-text", "-nameopt", "RFC2253", "-in"])
            .arg(&reference));
        let section = |t: &str| {
            let start = t.find("X509v3 extensions:").unwrap();
            let end = start + t[start..].find("Signature Algorithm").unwrap();
            t[start..end].to_string()
        };
        assert_eq!(section(&text), section(&ref_text));
        let subject = |t: &str| {
            t.lines()
                .filter(|l| l.contains("Subject:"))
                .collect::<Vec<_>>()
                .join("")
        };
        assert_eq!(subject(&text), subject(&ref_text));
    }

    #[test]
    fn x509_via_public_generate() {
        let request = KeyRequest::X509 {
            user_id: "0123456789abcdef".into(),
        };
        let g = generate(&request, &mut ChaCha20Rng::from_entropy()).unwrap();
        assert_eq!(
            crate::keys::fingerprint(KeyKind::X509, &g.public_key, Fingerprint::NovaMd5).unwrap(),
            g.fingerprint
        );
        let der = crate::keys::x509::certificate_der(&g.public_key).unwrap();
        let cert = x509_cert::Certificate::from_der(&der).unwrap();
        let serial = cert.tbs_certificate.serial_number.as_bytes();
        assert!(serial[0] & 0x80 == 0 && serial.len() <= 20);
        let not_before = cert.tbs_certificate.validity.not_before.to_unix_duration();
        let not_after = cert.tbs_certificate.validity.not_after.to_unix_duration();
        assert_eq!(not_after - not_before, Duration::from_secs(3650 * 86400));
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap();
        assert!(now.as_secs().abs_diff(not_before.as_secs()) < 600);
    }
}
