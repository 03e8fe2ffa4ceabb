//! # The Tencent Cloud CVM front: key pairs (API version 2017-03-12)
//!
//! CreateKeyPair, ImportKeyPair, DescribeKeyPairs, ModifyKeyPairAttribute, DeleteKeyPairs,
//! AssociateInstancesKeyPairs and DisassociateInstancesKeyPairs over the one key pair store,
//! signed with a SecretId/SecretKey (TC3-HMAC-SHA256 or the legacy HmacSHA256/HmacSHA1),
//! wire-exact as `../shared/spec/seed-clouds.md` §2 describes: errors inside an HTTP 200.

use crate::domain::Services;
use crate::http::{Described, Front, Injected};
use actix_web::{web, HttpRequest, HttpResponse};
use std::sync::Arc;

/// What the Tencent front is set up with.
#[derive(Debug, Clone, Default)]
pub struct TencentSettings {}

pub struct TencentFront {
    #[allow(dead_code)]
    settings: TencentSettings,
    services: Services,
}

impl TencentFront {
    pub fn new(settings: TencentSettings, services: Services) -> TencentFront {
        TencentFront { settings, services }
    }

    fn error(&self, code: &str, message: &str) -> HttpResponse {
        let body = serde_json::json!({"Response": {
            "Error": {"Code": code, "Message": message},
            "RequestId": self.services.determinism.uuid4().hyphenated().to_string(),
        }});
        HttpResponse::Ok()
            .insert_header(("Content-Type", "application/json"))
            .body(body.to_string())
    }
}

async fn dispatch(front: web::Data<TencentFront>) -> HttpResponse {
    front.error("InvalidAction", "The action does not exist.")
}

impl Front for TencentFront {
    fn name(&self) -> &'static str {
        "tencent"
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
        _fault: &Injected,
        _facts: &Described,
    ) -> HttpResponse {
        self.error("InternalError", "Internal error.")
    }
}

/// What `novakeys credentials --cloud tencent` prints: the SDK's own environment variables.
pub fn client_setup(setup: &super::ClientSetup) -> anyhow::Result<String> {
    Ok(format!(
        "export TENCENTCLOUD_SECRET_ID={}\nexport TENCENTCLOUD_SECRET_KEY={}\nexport TENCENTCLOUD_REGION=ap-guangzhou\nexport TENCENTCLOUD_ENDPOINT={}\n",
        setup.access, setup.secret, setup.endpoint
    ))
}
