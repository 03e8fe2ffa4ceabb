//! # Alibaba's errors: one type, one table from `DomainError`, one rendering
//!
//! Every refusal is HTTP 4xx/5xx with `{"RequestId", "HostId", "Code", "Message",
//! "Recommend"}` and `application/json;charset=utf-8` (seed-clouds.md §1.5): what both SDKs
//! read (Tea: `Code`, `Message`, `RequestId`; the legacy core: the same, and the tail of a
//! `SignatureDoesNotMatch` message). Codes are Alibaba's exactly; messages follow the real
//! ones where public answers show them (the compat report, /work/scratch/alibaba/REPORT.md §6,
//! names the sources), and otherwise say the same thing in Alibaba's style.

use crate::domain::DomainError;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::json;

/// What every error body names as the host (real answers carry the endpoint's name).
pub const HOST_ID: &str = "ecs.aliyuncs.com";

/// An Alibaba error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

/// The prefix of `SignatureDoesNotMatch` (and `IncompleteSignature`) messages; the legacy
/// `aliyun-python-sdk-core` takes what follows its one `:` as the server's string to sign.
pub const SIGNATURE_PREFIX: &str =
    "Specified signature is not matched with our calculation. server string to sign is:";

impl AliError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> AliError {
        AliError {
            status,
            code,
            message: message.into(),
        }
    }

    /// `MissingParameter` for a required parameter (the gateway's wording).
    pub fn missing(name: &str) -> AliError {
        AliError::new(
            400,
            "MissingParameter",
            format!("The input parameter \"{name}\" that is mandatory for processing this request is not supplied."),
        )
    }

    /// `InvalidParameter` for a value that is not what the parameter takes (a client's name
    /// is echoed to at most 128 characters).
    pub fn invalid(name: &str) -> AliError {
        let shown: String = name.chars().take(128).collect();
        AliError::new(
            400,
            "InvalidParameter",
            format!("The specified parameter \"{shown}\" is not valid."),
        )
    }

    pub fn unknown_action() -> AliError {
        AliError::new(
            404,
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
        )
    }

    pub fn bad_version() -> AliError {
        AliError::new(
            400,
            "InvalidVersion",
            "Specified parameter Version is not valid.",
        )
    }

    pub fn too_large() -> AliError {
        AliError::new(
            400,
            "InvalidParameter",
            format!(
                "The request is too large: its query string and body may hold {} bytes.",
                super::request::MAX_REQUEST_BYTES
            ),
        )
    }

    pub fn signature_mismatch(string_to_sign: &str) -> AliError {
        AliError::new(
            400,
            "SignatureDoesNotMatch",
            format!("{SIGNATURE_PREFIX}{string_to_sign}"),
        )
    }

    /// A missing or malformed signature; with the string to sign when it could be made (as
    /// real ECS answers, and what the Go and .NET SDKs compare theirs with).
    pub fn incomplete_signature(string_to_sign: Option<&str>) -> AliError {
        let base = "The request signature does not conform to Aliyun standards.";
        AliError::new(
            400,
            "IncompleteSignature",
            match string_to_sign {
                Some(s) => format!("{base} server string to sign is:{s}"),
                None => base.to_string(),
            },
        )
    }

    pub fn unknown_access_key() -> AliError {
        AliError::new(
            404,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        )
    }

    pub fn timestamp_format() -> AliError {
        AliError::new(
            400,
            "InvalidTimeStamp.Format",
            "Specified time stamp or date value is not well formatted.",
        )
    }

    pub fn timestamp_expired() -> AliError {
        AliError::new(
            400,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        )
    }

    pub fn nonce_used() -> AliError {
        AliError::new(
            400,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        )
    }

    /// RAM refuses: a `reader`'s key writing (seed-clouds §1.5 via REPORT.md §6).
    pub fn forbidden() -> AliError {
        AliError::new(
            403,
            "Forbidden.RAM",
            "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
        )
    }

    pub fn region_not_found() -> AliError {
        AliError::new(
            404,
            "InvalidRegionId.NotFound",
            "The specified RegionId does not exist.",
        )
    }

    pub fn resource_group_not_found() -> AliError {
        AliError::new(
            404,
            "InvalidResourceGroup.NotFound",
            "The ResourceGroup provided does not exist in our records.",
        )
    }

    pub fn keypair_not_found() -> AliError {
        AliError::new(
            400,
            "InvalidKeyPairName.NotFound",
            "The specified KeyPairName does not exist in our records.",
        )
    }

    pub fn quota_exceeded() -> AliError {
        AliError::new(403, "QuotaExceed.KeyPair", "The key pair quota exceeds.")
    }

    pub fn internal() -> AliError {
        AliError::new(
            500,
            "InternalError",
            "The request processing has failed due to some unknown error, exception or failure.",
        )
    }

    /// The one table from the domain's refusals (`NotFound` is always the named key pair:
    /// the only thing the key pair calls look up).
    pub fn from_domain(e: DomainError) -> AliError {
        match e {
            DomainError::NotFound => AliError::keypair_not_found(),
            DomainError::Duplicate => {
                AliError::new(400, "KeyPair.AlreadyExist", "The key pair already exist.")
            }
            DomainError::QuotaExceeded { .. } => AliError::quota_exceeded(),
            DomainError::InvalidKey(_) => AliError::public_key_malformed(),
            DomainError::InvalidPage => AliError::invalid("PageNumber"),
            DomainError::InUse => AliError::new(
                400,
                "InvalidParameter.KeypairAlreadyAttachedInstance",
                "The specified keyPair already attached instance.",
            ),
            DomainError::Forbidden => AliError::forbidden(),
            // ImportKeyPair takes a key already stored under another name: never asked.
            DomainError::SameKey { id } => {
                log::error!("alibaba: a create was refused as the same key as {id}");
                AliError::internal()
            }
            DomainError::Invalid(detail) => {
                log::warn!("alibaba: refused as invalid: {detail}");
                AliError::new(
                    400,
                    "InvalidParameter",
                    "The specified parameter is not valid.",
                )
            }
            DomainError::Internal(detail) => {
                log::error!("alibaba internal error: {detail}");
                AliError::internal()
            }
            // The injected 503's answer (see `injected`).
            DomainError::Unavailable(detail) => {
                log::warn!("alibaba unavailable: {detail}");
                AliError::new(
                    503,
                    "ServiceUnavailable",
                    "The request has failed due to a temporary failure of the server.",
                )
            }
        }
    }

    pub fn public_key_malformed() -> AliError {
        AliError::new(
            400,
            "InvalidPublicKeyBody.Malformed",
            "The specified public key body is malformed.",
        )
    }

    /// The answer, with a request id of its own.
    pub fn response(&self, request_id: &str) -> HttpResponse {
        let body = json!({
            "RequestId": request_id,
            "HostId": HOST_ID,
            "Code": self.code,
            "Message": self.message,
            "Recommend": format!(
                "https://api.aliyun.com/troubleshoot?q={}&product=Ecs&requestId={request_id}",
                self.code
            ),
        });
        HttpResponse::build(
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        )
        .content_type(super::views::JSON)
        .body(body.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_message_has_one_colon_before_the_string_to_sign() {
        let e = AliError::signature_mismatch("POST&%2F&AccessKeyId%3DLTAI");
        assert_eq!(e.message.matches(':').count(), 1);
        let tail = e.message.split(':').nth(1).unwrap();
        assert_eq!(tail, "POST&%2F&AccessKeyId%3DLTAI");
        assert_eq!(SIGNATURE_PREFIX.matches(':').count(), 1);
    }

    #[test]
    fn every_domain_refusal_has_an_alibaba_code() {
        use crate::keys::KeyError;
        let cases = [
            (DomainError::NotFound, 400, "InvalidKeyPairName.NotFound"),
            (DomainError::Duplicate, 400, "KeyPair.AlreadyExist"),
            (
                DomainError::QuotaExceeded { limit: 5 },
                403,
                "QuotaExceed.KeyPair",
            ),
            (
                DomainError::InvalidKey(KeyError::InvalidSsh),
                400,
                "InvalidPublicKeyBody.Malformed",
            ),
            (
                DomainError::InUse,
                400,
                "InvalidParameter.KeypairAlreadyAttachedInstance",
            ),
            (DomainError::Forbidden, 403, "Forbidden.RAM"),
            (DomainError::Internal("x".into()), 500, "InternalError"),
        ];
        for (e, status, code) in cases {
            let a = AliError::from_domain(e);
            assert_eq!((a.status, a.code), (status, code));
        }
    }
}
