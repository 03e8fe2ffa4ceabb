//! # The web console: the portals' "Key Pairs" page over the one store
//!
//! Server-rendered HTML (askama templates compiled into the binary, `templates/`), a small
//! hand-written stylesheet and a script used only for the automatic download, copy buttons and
//! small conveniences (every form works without it). Log-in is Horizon's (user, password,
//! domain; then a project from the user's), over the domain's identity service; the key pair
//! pages call the same `KeypairService` as every API, so what the console shows is what the
//! APIs serve (`../shared/spec/seed-clouds.md` §5).
//!
//! Security: an opaque HttpOnly SameSite=Strict session cookie (the Keystone token stays on
//! the server, see `session.rs`), a CSRF token in every state-changing form plus an `Origin`
//! check (another port on 127.0.0.1 is the same site), every text escaped by the templates, a
//! strict Content-Security-Policy with `frame-ancestors 'none'` and no inline script, no secret
//! in a URL, and private keys held in memory only for their downloads.

mod activity;
mod assets;
mod auth;
mod i18n;
mod keypairs;
mod params;
mod session;
mod views;

use crate::domain::{DomainError, Principal, Services};
use crate::http::{ActivitySource, Described, Front, Injected};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use i18n::Texts;
use session::{Session, Sessions};
use std::sync::Arc;

/// What the console is set up with.
#[derive(Debug, Clone, Default)]
pub struct ConsoleSettings {}

pub struct ConsoleFront {
    #[allow(dead_code)]
    settings: ConsoleSettings,
    services: Services,
    activity: Arc<dyn ActivitySource>,
    sessions: Sessions,
}

impl ConsoleFront {
    pub fn new(
        settings: ConsoleSettings,
        services: Services,
        activity: Arc<dyn ActivitySource>,
    ) -> ConsoleFront {
        ConsoleFront {
            settings,
            services,
            activity,
            sessions: Sessions::default(),
        }
    }
}

/// Path segments kept in the metrics route label (key pair names become `{id}`).
const ROUTE_WORDS: &[&str] = &[
    "login", "logout", "project", "lang", "keypairs", "keypair", "new", "import", "download",
    "delete", "edit", "bind", "unbind", "activity", "static",
];

/// The Content-Security-Policy of every answer: only our own script, style and forms, no
/// framing, no plugins, no `<base>`.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

impl Front for ConsoleFront {
    fn name(&self) -> &'static str {
        "console"
    }

    fn configure(self: Arc<Self>, cfg: &mut web::ServiceConfig, _mount: &str) {
        cfg.app_data(web::Data::from(self))
            .default_service(web::to(dispatch));
    }

    fn route_words(&self) -> &'static [&'static str] {
        ROUTE_WORDS
    }

    fn describe(&self, req: &HttpRequest, path: &str, _body: &[u8], detail: bool) -> Described {
        let s = session::cookie(req, session::SESSION_COOKIE).and_then(|id| self.sessions.get(id));
        let name = if detail {
            match segments(path).as_slice() {
                [k, name, ..] if k == "keypair" => Some(name.clone()),
                _ => None,
            }
        } else {
            None
        };
        Described {
            user_id: s.as_ref().map(|s| s.user_id.clone()),
            project_id: s.as_ref().map(|s| s.project_id.clone()),
            name,
            version: None,
        }
    }

    fn render_fault(
        &self,
        req: &HttpRequest,
        _path: &str,
        fault: &Injected,
        _facts: &Described,
    ) -> HttpResponse {
        let t = language(req);
        let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let mut resp = message(
            Chrome::bare(t, req),
            status,
            t.error_title,
            t.error_text,
            true,
        );
        if matches!(fault.status, 429 | 503) {
            resp.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(fault.retry_after),
            );
        }
        resp
    }
}

/// The path's segments, percent-decoded (a key pair name may hold spaces, `@`, non-ASCII).
fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

/// What a path segment or a `filename*` escapes: everything but RFC 3986's unreserved
/// characters (so `web-key` stays readable in the address bar).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A path segment for a name.
fn encode(name: &str) -> String {
    percent_encoding::utf8_percent_encode(name, SEGMENT).to_string()
}

/// A key pair's page.
fn keypair_href(name: &str) -> String {
    format!("/keypair/{}", encode(name))
}

fn language(req: &HttpRequest) -> &'static Texts {
    i18n::pick(
        session::cookie(req, session::LANG_COOKIE),
        req.headers()
            .get("accept-language")
            .and_then(|v| v.to_str().ok()),
    )
}

/// One request as the handlers see it: its language and, when logged in, the session and the
/// principal its token verified to.
pub(crate) struct Ctx<'a> {
    front: &'a ConsoleFront,
    req: &'a HttpRequest,
    t: &'static Texts,
    auth: Option<(Arc<Session>, Arc<Principal>)>,
    /// The session's token could not be checked because the store is away: the session is
    /// kept (a database blip must not log everyone out) and the request gets the 503 page.
    away: bool,
}

impl<'a> Ctx<'a> {
    fn new(front: &'a ConsoleFront, req: &'a HttpRequest) -> Ctx<'a> {
        let mut away = false;
        let auth = session::cookie(req, session::SESSION_COOKIE)
            .and_then(|id| front.sessions.get(id))
            .and_then(
                |s| match front.services.identity.try_authenticate(&s.token) {
                    // The session ends with its token (expired, revoked, user or project disabled).
                    Ok(Some(p)) if !p.project_id.is_empty() => Some((s, p)),
                    Err(_) => {
                        away = true;
                        None
                    }
                    Ok(_) => {
                        front.sessions.remove(&s.id);
                        None
                    }
                },
            );
        Ctx {
            front,
            req,
            t: language(req),
            auth,
            away,
        }
    }

    fn chrome(&self, on_keypairs: bool, on_activity: bool) -> Chrome {
        let mut c = Chrome::bare(self.t, self.req);
        if let Some((s, p)) = &self.auth {
            c.csrf = s.csrf.clone();
            c.user = Some(views::UserBar {
                name: s.user_name.clone(),
                domain: s.domain_name.clone(),
                projects: s
                    .projects
                    .iter()
                    .map(|(id, name)| views::ProjectOption {
                        id: id.clone(),
                        name: name.clone(),
                        selected: *id == s.project_id,
                    })
                    .collect(),
                admin: p.is_admin(),
            });
        }
        c.on_keypairs = on_keypairs;
        c.on_activity = on_activity;
        c
    }

    /// The form's CSRF token matches the session's.
    fn csrf_ok(&self, form: &params::Form) -> bool {
        self.auth
            .as_ref()
            .is_some_and(|(s, _)| session::same(form.text("csrf_token"), &s.csrf))
    }

    fn query(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.req.query_string().as_bytes())
            .into_owned()
            .collect()
    }

    fn query_value(&self, name: &str) -> String {
        self.query()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .unwrap_or_default()
    }
}

use views::Chrome;

impl Chrome {
    fn bare(t: &'static Texts, req: &HttpRequest) -> Chrome {
        let here = match req.query_string() {
            "" => req.path().to_string(),
            q => format!("{}?{q}", req.path()),
        };
        Chrome {
            t,
            other: i18n::other(t),
            user: None,
            csrf: String::new(),
            here,
            on_keypairs: false,
            on_activity: false,
            css: assets::CSS_HREF.as_str(),
            js: assets::JS_HREF.as_str(),
        }
    }
}

/// A rendered page with the console's headers.
fn page(status: StatusCode, tpl: &impl Template) -> HttpResponse {
    match tpl.render() {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(e) => {
            log::error!("console: rendering a page failed: {e}");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("novakeys could not render this page.")
        }
    }
}

fn message(
    c: Chrome,
    status: StatusCode,
    title: &'static str,
    text: &'static str,
    back: bool,
) -> HttpResponse {
    page(
        status,
        &views::MessagePage {
            c,
            title,
            text,
            back,
        },
    )
}

/// 303 to `location` (after a form, the browser GETs it).
fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", location))
        .finish()
}

/// The refusal of a state-changing request that failed the origin or CSRF check.
fn refused(ctx: &Ctx) -> HttpResponse {
    message(
        ctx.chrome(false, false),
        StatusCode::FORBIDDEN,
        ctx.t.refused_title,
        ctx.t.refused_text,
        true,
    )
}

fn not_found(ctx: &Ctx) -> HttpResponse {
    message(
        ctx.chrome(false, false),
        StatusCode::NOT_FOUND,
        ctx.t.not_found_title,
        ctx.t.not_found_text,
        true,
    )
}

/// The page for a domain operation that failed: 503 while the store is away, else 500.
fn failed(ctx: &Ctx, e: &DomainError) -> HttpResponse {
    match e {
        DomainError::Unavailable(why) => {
            log::warn!("console unavailable: {why}");
            unavailable(ctx)
        }
        other => internal(ctx, other),
    }
}

/// 503 with `Retry-After`, as the API fronts answer while the database is away.
fn unavailable(ctx: &Ctx) -> HttpResponse {
    let mut resp = message(
        ctx.chrome(false, false),
        StatusCode::SERVICE_UNAVAILABLE,
        ctx.t.unavailable_title,
        ctx.t.unavailable_text,
        true,
    );
    resp.headers_mut().insert(
        actix_web::http::header::RETRY_AFTER,
        actix_web::http::header::HeaderValue::from(1u32),
    );
    resp
}

fn internal(ctx: &Ctx, what: &dyn std::fmt::Display) -> HttpResponse {
    log::error!("console: {what}");
    message(
        ctx.chrome(false, false),
        StatusCode::INTERNAL_SERVER_ERROR,
        ctx.t.error_title,
        ctx.t.error_text,
        true,
    )
}

/// The headers every console answer carries.
fn secure(mut resp: HttpResponse) -> HttpResponse {
    use actix_web::http::header::{HeaderName, HeaderValue};
    let h = resp.headers_mut();
    for (k, v) in [
        ("content-security-policy", CSP),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
    ] {
        h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
    }
    if !h.contains_key("cache-control") {
        h.insert(
            HeaderName::from_static("cache-control"),
            HeaderValue::from_static("no-store"),
        );
    }
    resp
}

async fn dispatch(
    req: HttpRequest,
    body: web::Bytes,
    front: web::Data<ConsoleFront>,
) -> HttpResponse {
    let segs = segments(req.path());
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let get = req.method() == actix_web::http::Method::GET
        || req.method() == actix_web::http::Method::HEAD;
    let post = req.method() == actix_web::http::Method::POST;
    if let (true, ["static", file]) = (get, segs.as_slice()) {
        return secure(assets::serve(file, req.query_string()));
    }
    let ctx = Ctx::new(&front, &req);
    if ctx.away {
        return secure(unavailable(&ctx));
    }
    let form = || {
        params::Form::parse(
            req.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            &body,
        )
    };
    // Every state-changing request must come from one of our own pages.
    if post && !session::same_origin(&req) {
        return secure(refused(&ctx));
    }
    let resp = match segs.as_slice() {
        [] if get => see_other(if ctx.auth.is_some() {
            "/keypairs"
        } else {
            "/login"
        }),
        ["login"] if get => auth::login_page(&ctx),
        ["login"] if post => auth::log_in(&ctx, form()).await,
        ["lang"] if post => auth::switch_language(&ctx, form()),
        _ if ctx.auth.is_none() => {
            // Logged out, or the token ended: back to the log-in page.
            let mut r = see_other(
                if session::cookie(&req, session::SESSION_COOKIE).is_some() {
                    "/login?ended=1"
                } else {
                    "/login"
                },
            );
            if session::cookie(&req, session::SESSION_COOKIE).is_some() {
                if let Ok(v) = session::clear_cookie(session::SESSION_COOKIE, "/").parse() {
                    r.headers_mut()
                        .append(actix_web::http::header::SET_COOKIE, v);
                }
            }
            r
        }
        _ if post && !ctx.csrf_ok(&form()) => refused(&ctx),
        ["logout"] if post => auth::log_out(&ctx).await,
        ["project"] if post => auth::switch_project(&ctx, form()).await,
        ["keypairs"] if get => keypairs::list(&ctx).await,
        ["keypairs", "new"] if get => keypairs::create_page(&ctx).await,
        ["keypairs", "new"] if post => keypairs::create(&ctx, form()).await,
        ["keypairs", "import"] if get => keypairs::import_page(&ctx).await,
        ["keypairs", "import"] if post => keypairs::import(&ctx, form()).await,
        ["keypairs", "download"] if post => keypairs::download(&ctx, form()),
        ["keypairs", "delete"] if post => keypairs::delete(&ctx, form()).await,
        ["keypair", name] if get => keypairs::details(&ctx, name).await,
        ["keypair", name, "delete"] if get => keypairs::confirm_one(&ctx, name),
        ["keypair", name, "edit"] if post => keypairs::edit(&ctx, name, form()).await,
        ["keypair", name, "bind"] if post => keypairs::bind(&ctx, name, form()).await,
        ["keypair", name, "unbind"] if post => keypairs::unbind(&ctx, name, form()).await,
        ["activity"] if get => activity::show(&ctx).await,
        _ => not_found(&ctx),
    };
    secure(resp)
}
