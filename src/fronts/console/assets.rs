//! The console's static files, compiled in: the stylesheet, the script (download, copy and
//! small conveniences; every form works without it) and the icon.

use actix_web::HttpResponse;

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");
const ICON: &str = include_str!("assets/icon.svg");

pub(super) fn serve(file: &str) -> HttpResponse {
    let (body, ct) = match file {
        "console.css" => (CSS, "text/css; charset=utf-8"),
        "console.js" => (JS, "text/javascript; charset=utf-8"),
        "icon.svg" => (ICON, "image/svg+xml"),
        _ => {
            return HttpResponse::NotFound()
                .content_type("text/plain; charset=utf-8")
                .body("not found")
        }
    };
    HttpResponse::Ok()
        .content_type(ct)
        // Revalidated each time: a new binary's files show at once.
        .insert_header(("Cache-Control", "no-cache"))
        .body(body)
}
