//! # `/healthcheck`, as oslo.middleware's healthcheck plugin answers it (not detailed)
//!
//! GET: 200 `OK` (`text/plain; charset=UTF-8`), or the JSON/HTML renderings when `Accept`
//! prefers them (offers in oslo's order: text/plain, text/html, application/json); HEAD: 204.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse};

const OFFERS: [&str; 3] = ["text/plain", "text/html", "application/json"];

const HTML: &str = "<HTML>\n<HEAD><TITLE>Healthcheck Status</TITLE></HEAD>\n<BODY>\n\n<H2>Result of 1 checks:</H2>\n<TABLE bgcolor=\"#ffffff\" border=\"1\">\n<TBODY>\n<TR>\n\n<TH>\nReason\n</TH>\n</TR>\n<TR>\n    <TD>OK</TD>\n</TR>\n</TBODY>\n</TABLE>\n<HR></HR>\n\n</BODY>\n</HTML>";

/// webob's `acceptable_offers(...)[0]`: highest q, then the server's order.
pub fn negotiate(accept: Option<&str>) -> &'static str {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return OFFERS[0];
    };
    let mut best: Option<(f32, usize)> = None;
    for (i, offer) in OFFERS.iter().enumerate() {
        let (otype, osub) = offer.split_once('/').unwrap_or((offer, ""));
        let mut q_offer: Option<(f32, u8)> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let mut q = 1.0f32;
            for p in parts {
                if let Some(v) = p.trim().strip_prefix("q=") {
                    q = v.trim().parse().unwrap_or(0.0);
                }
            }
            let (t, s) = media.split_once('/').unwrap_or((media.as_str(), ""));
            let specificity = match (t, s) {
                ("*", "*") => 1,
                (t, "*") if t == otype => 2,
                (t, s) if t == otype && s == osub => 3,
                _ => continue,
            };
            if q_offer.is_none_or(|(_, sp)| specificity > sp) {
                q_offer = Some((q, specificity));
            }
        }
        if let Some((q, _)) = q_offer {
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, i));
            }
        }
    }
    best.map_or(OFFERS[0], |(_, i)| OFFERS[i])
}

pub async fn healthcheck(req: HttpRequest) -> HttpResponse {
    if req.method() == Method::HEAD {
        return HttpResponse::NoContent()
            .insert_header(("Content-Type", "text/plain; charset=UTF-8"))
            .finish();
    }
    let accept = req.headers().get("accept").and_then(|v| v.to_str().ok());
    match negotiate(accept) {
        "application/json" => HttpResponse::Ok()
            .insert_header(("Content-Type", "application/json"))
            .body("{\n    \"detailed\": false,\n    \"reasons\": [\n        \"OK\"\n    ]\n}"),
        "text/html" => HttpResponse::Ok()
            .insert_header(("Content-Type", "text/html; charset=UTF-8"))
            .body(HTML),
        _ => HttpResponse::Ok()
            .insert_header(("Content-Type", "text/plain; charset=UTF-8"))
            .body("OK"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_negotiation() {
        assert_eq!(negotiate(None), "text/plain");
        assert_eq!(negotiate(Some("*/*")), "text/plain");
        assert_eq!(negotiate(Some("application/json")), "application/json");
        assert_eq!(
            negotiate(Some("text/plain;q=0.5, application/json")),
            "application/json"
        );
        assert_eq!(negotiate(Some("text/html")), "text/html");
        assert_eq!(negotiate(Some("image/png")), "text/plain");
    }
}
