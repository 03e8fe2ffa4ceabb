//! The console's static files, compiled in: the stylesheet, the script (download, copy and
//! small conveniences; every form works without it) and the icon.
//!
//! Pages link them with a content hash (`/static/console.css?v=…`) and they are cached for a
//! year: a browser fetches each once per build, so they do not crowd the request journal.

use actix_web::HttpResponse;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");
const ICON: &str = include_str!("assets/icon.svg");

fn versioned(file: &str, body: &str) -> String {
    let hash = Sha256::digest(body.as_bytes());
    let hex = base16ct::lower::encode_string(&hash[..6]);
    format!("/static/{file}?v={hex}")
}

pub static CSS_HREF: LazyLock<String> = LazyLock::new(|| versioned("console.css", CSS));
pub static JS_HREF: LazyLock<String> = LazyLock::new(|| versioned("console.js", JS));

pub(super) fn serve(file: &str, query: &str) -> HttpResponse {
    let (body, ct, href) = match file {
        "console.css" => (CSS, "text/css; charset=utf-8", CSS_HREF.as_str()),
        "console.js" => (JS, "text/javascript; charset=utf-8", JS_HREF.as_str()),
        "icon.svg" => (ICON, "image/svg+xml", "/static/icon.svg"),
        _ => {
            return HttpResponse::NotFound()
                .content_type("text/plain; charset=utf-8")
                .body("not found")
        }
    };
    // Only the current version is immutable; an old or missing version is revalidated.
    let current = href.split_once('?').map(|(_, v)| v) == Some(query) || file == "icon.svg";
    HttpResponse::Ok()
        .content_type(ct)
        .insert_header((
            "Cache-Control",
            if current {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            },
        ))
        .body(body)
}
