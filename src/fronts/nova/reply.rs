//! A successful compute answer: status and a body rendered like Python's `json.dumps` (faults
//! are `Fault`).

use crate::pycompat::pyjson;
use actix_web::http::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::Value;

pub struct Reply {
    status: StatusCode,
    body: Option<actix_web::web::Bytes>,
}

impl Reply {
    pub fn json(status: StatusCode, value: &Value) -> Reply {
        Reply {
            status,
            body: Some(pyjson::to_vec(value).into()),
        }
    }
    /// Any serializable body, rendered like `json` (Python's `json.dumps`).
    pub fn serialize<T: serde::Serialize>(status: StatusCode, body: &T) -> Reply {
        Reply {
            status,
            body: Some(pyjson::to_vec(body).into()),
        }
    }
    /// A body rendered earlier (see `keypairs::list_cache`).
    pub fn rendered(status: StatusCode, body: actix_web::web::Bytes) -> Reply {
        Reply {
            status,
            body: Some(body),
        }
    }
    pub fn body(&self) -> Option<&actix_web::web::Bytes> {
        self.body.as_ref()
    }
    /// An empty body that still says `application/json` (Nova's 202/204).
    pub fn empty(status: StatusCode) -> Reply {
        Reply { status, body: None }
    }
    pub(super) fn response(self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status);
        static APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");
        static ZERO: HeaderValue = HeaderValue::from_static("0");
        r.insert_header((CONTENT_TYPE, APPLICATION_JSON.clone()));
        match self.body {
            Some(body) => r.body(body),
            None => r.insert_header((CONTENT_LENGTH, ZERO.clone())).finish(),
        }
    }
}
