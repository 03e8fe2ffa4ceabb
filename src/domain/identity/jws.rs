//! # JWS tokens
//!
//! Mirrors keystone/token/providers/jws/core.py: a compact JWS, header
//! `{"alg":"ES256","typ":"JWT"}` (PyJWT's order), claims named as Keystone names them, signed
//! with the service's P-256 key; verification tries the current key, then the previous one.
//! Expiry is not checked here (callers decide, for `allow_expired`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde::{Deserialize, Serialize};

use crate::store::identity::SigningKey;

/// PyJWT's header, byte for byte.
const HEADER: &str = r#"{"alg":"ES256","typ":"JWT"}"#;

/// The payload of a Keystone JWS token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub openstack_methods: Vec<String>,
    pub openstack_audit_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openstack_project_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openstack_domain_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openstack_system: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openstack_app_cred_id: Option<String>,
}

/// Signs with the newest key; verifies with the newest two.
pub struct Signer {
    /// Parsed once: re-parsing the PKCS#8 key per token (as `jsonwebtoken::crypto::sign` does)
    /// derives the public key, a second scalar multiplication per token.
    signing: p256::ecdsa::SigningKey,
    decoding: Vec<DecodingKey>,
}

/// A fresh P-256 key pair as (PKCS#8 private PEM, SPKI public PEM).
pub fn generate_key() -> anyhow::Result<SigningKey> {
    generate_key_with(&mut rand::rngs::OsRng)
}

/// `generate_key` from the given rng (deterministic mode).
pub fn generate_key_with(
    rng: &mut (impl rand::CryptoRng + rand::RngCore),
) -> anyhow::Result<SigningKey> {
    let secret = p256::SecretKey::random(rng);
    let private_pem = secret
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("cannot encode signing key: {e}"))?
        .to_string();
    let public_pem = secret
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("cannot encode verification key: {e}"))?;
    Ok(SigningKey {
        private_pem,
        public_pem,
    })
}

/// 22 url-safe characters from 16 random bytes (Keystone's `random_urlsafe_str`).
pub fn random_audit_id() -> String {
    let bytes: [u8; 16] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Signer {
    /// `keys` newest first; at least one.
    pub fn new(keys: &[SigningKey]) -> anyhow::Result<Signer> {
        let current = keys
            .first()
            .ok_or_else(|| anyhow::anyhow!("no token signing key"))?;
        let signing = {
            use p256::pkcs8::DecodePrivateKey;
            p256::ecdsa::SigningKey::from_pkcs8_pem(&current.private_pem)
                .map_err(|e| anyhow::anyhow!("invalid token signing key: {e}"))?
        };
        let decoding = keys
            .iter()
            .take(2)
            .map(|k| DecodingKey::from_ec_pem(k.public_pem.as_bytes()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow::anyhow!("invalid token verification key: {e}"))?;
        Ok(Signer { signing, decoding })
    }

    pub fn sign(&self, claims: &TokenClaims) -> anyhow::Result<String> {
        let payload = serde_json::to_vec(claims)?;
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(HEADER),
            URL_SAFE_NO_PAD.encode(payload)
        );
        use p256::ecdsa::signature::Signer as _;
        let signature: p256::ecdsa::Signature = self.signing.try_sign(message.as_bytes())?;
        Ok(format!(
            "{message}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        ))
    }

    /// The claims, if `token` is an ES256 JWS signed by one of our keys. Expiry unchecked.
    pub fn verify(&self, token: &str) -> Option<TokenClaims> {
        if token.len() > 8192 {
            return None;
        }
        let mut validation = Validation::new(Algorithm::ES256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        self.decoding.iter().find_map(|key| {
            jsonwebtoken::decode::<TokenClaims>(token, key, &validation)
                .ok()
                .map(|d| d.claims)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> TokenClaims {
        TokenClaims {
            sub: "u1".into(),
            iat: 1_795_421_775,
            exp: 1_795_425_375,
            openstack_methods: vec!["password".into()],
            openstack_audit_ids: vec![random_audit_id()],
            openstack_project_id: Some("p1".into()),
            openstack_domain_id: None,
            openstack_system: None,
            openstack_app_cred_id: None,
        }
    }

    #[test]
    fn claims_are_named_and_ordered_like_keystone() {
        let c = claims();
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.starts_with(r#"{"sub":"u1","iat":1795421775,"exp":1795425375,"openstack_methods":["password"],"openstack_audit_ids":[""#));
        assert!(json.ends_with(r#""openstack_project_id":"p1"}"#), "{json}");
        assert_eq!(c.openstack_audit_ids[0].len(), 22);
    }

    #[test]
    fn signs_with_pyjwt_header_and_verifies() {
        let signer = Signer::new(&[generate_key().unwrap()]).unwrap();
        let token = signer.sign(&claims()).unwrap();
        assert!(token.starts_with("eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9."));
        assert_eq!(
            signer.verify(&token),
            Some(claims()).map(|mut c| {
                c.openstack_audit_ids = signer.verify(&token).unwrap().openstack_audit_ids;
                c
            })
        );
    }

    #[test]
    fn rotation_keeps_one_previous_key() {
        let k1 = generate_key().unwrap();
        let k2 = generate_key().unwrap();
        let k3 = generate_key().unwrap();
        let token = Signer::new(std::slice::from_ref(&k1))
            .unwrap()
            .sign(&claims())
            .unwrap();
        assert!(Signer::new(&[k2.clone(), k1.clone()])
            .unwrap()
            .verify(&token)
            .is_some());
        assert!(Signer::new(&[k3, k2]).unwrap().verify(&token).is_none());
    }

    #[test]
    fn rejects_forgeries() {
        let key = generate_key().unwrap();
        let signer = Signer::new(std::slice::from_ref(&key)).unwrap();
        let token = signer.sign(&claims()).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        // alg none
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
            parts[1]
        );
        assert!(signer.verify(&none).is_none());
        // HS256 keyed with the public key PEM
        let hs = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &claims(),
            &jsonwebtoken::EncodingKey::from_secret(key.public_pem.as_bytes()),
        )
        .unwrap();
        assert!(signer.verify(&hs).is_none());
        // tampered payload
        let mut other = claims();
        other.sub = "admin".into();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&other).unwrap()),
            parts[2]
        );
        assert!(signer.verify(&forged).is_none());
        // someone else's key
        let stranger = Signer::new(&[generate_key().unwrap()]).unwrap();
        assert!(stranger.verify(&token).is_none());
        for junk in ["", ".", "..", "a.b.c", "not-a-valid-token", "eyJ.eyJ.eyJ"] {
            assert!(signer.verify(junk).is_none(), "{junk}");
        }
    }
}
