//! The pages: one askama template struct each (templates/ beside this file, compiled into the
//! binary, HTML-escaped by default), and the view rows they show. Values are formatted here,
//! so templates hold no logic beyond loops and conditions.

use super::i18n::Texts;
use askama::Template;

/// What every page's frame shows: language, the logged-in user's bar, the CSRF token for its
/// forms, and where the language switch returns to.
pub struct Chrome {
    pub t: &'static Texts,
    /// The language the switch offers.
    pub other: &'static Texts,
    pub user: Option<UserBar>,
    /// The session's CSRF token ("" when logged out: the language switch needs none).
    pub csrf: String,
    /// This page's path and query (the language switch comes back here).
    pub here: String,
    pub on_keypairs: bool,
    pub on_activity: bool,
    /// The stylesheet's and the script's versioned URLs.
    pub css: &'static str,
    pub js: &'static str,
}

pub struct UserBar {
    pub name: String,
    pub domain: String,
    pub projects: Vec<ProjectOption>,
    pub admin: bool,
}

pub struct ProjectOption {
    pub id: String,
    pub name: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub c: Chrome,
    pub error: Option<&'static str>,
    pub user_name: String,
    pub domain: String,
    pub login_csrf: String,
}

/// One key pair in the list.
pub struct Row {
    pub name: String,
    pub href: String,
    pub delete_href: String,
    pub kind: &'static str,
    pub fingerprint: String,
    pub created: String,
    pub bound: Vec<String>,
}

#[derive(Template)]
#[template(path = "keypairs.html")]
pub struct ListPage {
    pub c: Chrome,
    pub rows: Vec<Row>,
    pub q: String,
    pub by_name: bool,
    /// 1-based position of the first row shown, the last, and how many match.
    pub first: usize,
    pub last: usize,
    pub matched: usize,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
    pub owned: usize,
    pub quota: Option<i64>,
    pub quota_full: bool,
    pub can_write: bool,
    pub flash: Option<String>,
}

#[derive(Template)]
#[template(path = "create.html")]
pub struct CreatePage {
    pub c: Chrome,
    pub name: String,
    pub tags: String,
    pub name_error: Option<&'static str>,
    pub tags_error: Option<&'static str>,
    pub form_error: Option<&'static str>,
    pub pattern: &'static str,
}

#[derive(Template)]
#[template(path = "import.html")]
pub struct ImportPage {
    pub c: Chrome,
    pub name: String,
    pub x509: bool,
    pub public_key: String,
    pub tags: String,
    pub name_error: Option<&'static str>,
    pub key_error: Option<&'static str>,
    pub tags_error: Option<&'static str>,
    pub form_error: Option<&'static str>,
    pub pattern: &'static str,
    pub max_bytes: usize,
}

#[derive(Template)]
#[template(path = "created.html")]
pub struct CreatedPage {
    pub c: Chrome,
    pub name: String,
    pub file_name: String,
    pub href: String,
    pub ticket: String,
    pub fingerprint: String,
    pub public_key: String,
    /// Whether this page starts the download itself (the create result; not "Download again").
    pub auto: bool,
    pub auto_text: String,
}

/// One instance on a key pair's page.
pub struct InstanceView {
    pub id: String,
    pub name: String,
    pub cloud: String,
    pub state: &'static str,
    pub os: &'static str,
    /// The key pair it has now, if another one.
    pub other_key: Option<String>,
}

pub struct KeypairView {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub fingerprint: String,
    pub created: String,
    pub user_id: String,
    pub user_name: String,
    pub public_key: String,
    pub description: String,
    pub tags: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "details.html")]
pub struct DetailsPage {
    pub c: Chrome,
    pub kp: KeypairView,
    pub action: String,
    pub delete_href: String,
    pub bound: Vec<InstanceView>,
    pub bindable: Vec<InstanceView>,
    pub can_write: bool,
    pub flash: Option<&'static str>,
    pub error: Option<&'static str>,
    pub edit_name: String,
    pub edit_description: String,
    pub pattern: &'static str,
}

#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    pub c: Chrome,
    pub names: Vec<String>,
    pub back_href: String,
}

pub struct Outcome {
    pub name: String,
    pub ok: bool,
    pub text: &'static str,
}

#[derive(Template)]
#[template(path = "outcome.html")]
pub struct OutcomePage {
    pub c: Chrome,
    pub outcomes: Vec<Outcome>,
    pub deleted: usize,
}

pub struct EntryView {
    pub seq: String,
    pub time: String,
    pub front: String,
    pub user: String,
    pub action: String,
    pub query: String,
    pub status: String,
    pub failed: bool,
    pub duration: String,
    pub request: String,
    pub response: String,
}

pub struct FrontOption {
    pub name: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "activity.html")]
pub struct ActivityPage {
    pub c: Chrome,
    pub entries: Vec<EntryView>,
    pub fronts: Vec<FrontOption>,
    pub all_fronts: bool,
    pub method: String,
    pub path: String,
    pub status: String,
    pub include_console: bool,
    pub shown: usize,
    pub matched: usize,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub c: Chrome,
    pub title: &'static str,
    pub text: &'static str,
    pub back: bool,
}
