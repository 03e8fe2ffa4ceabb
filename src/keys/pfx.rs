//! A PKCS#12 bundle like `openssl pkcs12 -export -password pass:` (OpenSSL 3
//! defaults) writes: the certificate in a PBES2-encrypted safe, the key as a
//! PBES2-shrouded PKCS#8 key bag, both tagged with the certificate's SHA-1 as
//! localKeyID, and an HMAC-SHA256 MAC. Assembled from RustCrypto's `pkcs12`,
//! `cms` and `pkcs5` types; every salt and IV comes from the caller's rng so a
//! seeded rng gives the same bytes.

use cms::content_info::{CmsVersion, ContentInfo};
use cms::encrypted_data::EncryptedData;
use cms::enveloped_data::EncryptedContentInfo;
use der::asn1::{OctetString, SetOfVec};
use der::oid::ObjectIdentifier;
use der::{Any, Decode, Encode};
use hmac::{Hmac, Mac};
use pkcs12::cert_type::CertBag;
use pkcs12::digest_info::DigestInfo;
use pkcs12::mac_data::MacData;
use pkcs12::pbe_params::EncryptedPrivateKeyInfo;
use pkcs12::pfx::{Pfx, Version};
use pkcs12::safe_bag::SafeBag;
use rand::{CryptoRng, RngCore};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::attr::{Attribute, Attributes};
use x509_cert::spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

/// OpenSSL 3's default PBKDF2 and MAC iteration count.
const ITERATIONS: u32 = 2048;

const DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ENCRYPTED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");
const PBES2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const LOCAL_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.21");
const X509_CERTIFICATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.22.1");

/// DER of a PFX holding `pkcs8_key` (PrivateKeyInfo DER) and `cert_der`,
/// protected by `password` (Nova uses the empty one).
pub(crate) fn write_pfx(
    pkcs8_key: &[u8],
    cert_der: &[u8],
    password: &str,
    rng: &mut (impl CryptoRng + RngCore),
) -> Result<Vec<u8>, String> {
    let e = |what: &'static str| move |err: der::Error| format!("pkcs12 {what}: {err}");
    let local_key_id = Sha1::digest(cert_der);
    let attributes = || -> der::Result<Attributes> {
        let mut attrs = Attributes::new();
        attrs.insert(Attribute {
            oid: LOCAL_KEY_ID,
            values: SetOfVec::try_from(vec![Any::encode_from(&OctetString::new(
                local_key_id.as_slice(),
            )?)?])?,
        })?;
        Ok(attrs)
    };

    // Certificate safe: SafeContents [certBag], encrypted as EncryptedData.
    let cert_bag = SafeBag {
        bag_id: pkcs12::PKCS_12_CERT_BAG_OID,
        bag_value: CertBag {
            cert_id: X509_CERTIFICATE,
            cert_value: OctetString::new(cert_der).map_err(e("cert"))?,
        }
        .to_der()
        .map_err(e("cert"))?,
        bag_attributes: Some(attributes().map_err(e("attributes"))?),
    };
    let cert_safe = vec![cert_bag].to_der().map_err(e("cert safe"))?;
    let (alg, encrypted) = pbes2_encrypt(&cert_safe, password, rng)?;
    let encrypted_data = EncryptedData {
        version: CmsVersion::V0,
        enc_content_info: EncryptedContentInfo {
            content_type: DATA,
            content_enc_alg: alg,
            encrypted_content: Some(OctetString::new(encrypted).map_err(e("cert safe"))?),
        },
        unprotected_attrs: None,
    };
    let cert_info = ContentInfo {
        content_type: ENCRYPTED_DATA,
        content: Any::encode_from(&encrypted_data).map_err(e("cert safe"))?,
    };

    // Key safe: SafeContents [pkcs8ShroudedKeyBag] as plain data.
    let (alg, encrypted) = pbes2_encrypt(pkcs8_key, password, rng)?;
    let key_bag = SafeBag {
        bag_id: pkcs12::PKCS_12_PKCS8_KEY_BAG_OID,
        bag_value: EncryptedPrivateKeyInfo {
            encryption_algorithm: alg,
            encrypted_data: OctetString::new(encrypted).map_err(e("key"))?,
        }
        .to_der()
        .map_err(e("key"))?,
        bag_attributes: Some(attributes().map_err(e("attributes"))?),
    };
    let key_safe = vec![key_bag].to_der().map_err(e("key safe"))?;
    let key_info = ContentInfo {
        content_type: DATA,
        content: Any::encode_from(&OctetString::new(key_safe).map_err(e("key safe"))?)
            .map_err(e("key safe"))?,
    };

    // AuthenticatedSafe, wrapped as data, and the MAC over its content octets.
    let auth_safe_der = vec![cert_info, key_info].to_der().map_err(e("auth safe"))?;
    let mut mac_salt = [0u8; 8];
    rng.fill_bytes(&mut mac_salt);
    let mac_key = Zeroizing::new(
        pkcs12::kdf::derive_key_utf8::<Sha256>(
            password,
            &mac_salt,
            pkcs12::kdf::Pkcs12KeyType::Mac,
            ITERATIONS as i32,
            32,
        )
        .map_err(e("mac key"))?,
    );
    let mut hmac = <Hmac<Sha256> as Mac>::new_from_slice(&mac_key)
        .map_err(|err| format!("pkcs12 mac: {err}"))?;
    hmac.update(&auth_safe_der);
    let mac = hmac.finalize().into_bytes();

    let pfx = Pfx {
        version: Version::V3,
        auth_safe: ContentInfo {
            content_type: DATA,
            content: Any::encode_from(&OctetString::new(auth_safe_der).map_err(e("pfx"))?)
                .map_err(e("pfx"))?,
        },
        mac_data: Some(MacData {
            mac: DigestInfo {
                algorithm: AlgorithmIdentifierOwned {
                    oid: SHA256,
                    parameters: None,
                },
                digest: OctetString::new(mac.as_slice()).map_err(e("mac"))?,
            },
            mac_salt: OctetString::new(mac_salt.as_slice()).map_err(e("mac"))?,
            iterations: ITERATIONS as i32,
        }),
    };
    pfx.to_der().map_err(e("pfx"))
}

/// PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) as openssl uses for PKCS#12.
fn pbes2_encrypt(
    plaintext: &[u8],
    password: &str,
    rng: &mut (impl CryptoRng + RngCore),
) -> Result<(AlgorithmIdentifierOwned, Vec<u8>), String> {
    let mut salt = [0u8; 8];
    let mut iv = [0u8; 16];
    rng.fill_bytes(&mut salt);
    rng.fill_bytes(&mut iv);
    let params = pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(ITERATIONS, &salt, &iv)
        .map_err(|err| format!("pkcs12 pbes2: {err}"))?;
    let encrypted = params
        .encrypt(password.as_bytes(), plaintext)
        .map_err(|err| format!("pkcs12 pbes2: {err}"))?;
    let params_der = params
        .to_der()
        .map_err(|err| format!("pkcs12 pbes2: {err}"))?;
    let alg = AlgorithmIdentifierOwned {
        oid: PBES2,
        parameters: Some(Any::from_der(&params_der).map_err(|err| format!("pkcs12 pbes2: {err}"))?),
    };
    Ok((alg, encrypted))
}
