//! Placeholder until the keys module lands from its branch (API agreed with it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    Ssh,
    X509,
}
#[derive(Debug)]
pub enum X509Problem {
    MalformedFraming,
}
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("invalid ssh key")]
    InvalidSsh,
    #[error("invalid x509")]
    InvalidX509(X509Problem),
    #[error("generation: {0}")]
    Generation(String),
}
pub struct GeneratedKey {
    pub public_key: String,
    pub private_key: String,
    pub fingerprint: String,
}
pub fn fingerprint(_kind: KeyKind, _public_key: &str) -> Result<String, KeyError> {
    Err(KeyError::InvalidSsh)
}
pub fn generate(
    _kind: KeyKind,
    _user_id: &str,
    _rng: &mut (impl rand::CryptoRng + rand::RngCore),
) -> Result<GeneratedKey, KeyError> {
    Err(KeyError::Generation("pending".into()))
}
