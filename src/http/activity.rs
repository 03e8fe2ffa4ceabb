//! A read-only view of the request journal for fronts that show it (the web console's
//! Activity page): the composition root hands one over, so no front imports the controls.

/// Which journal entries to read (the `GET /_novakeys/journal` filters).
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    pub method: Option<String>,
    /// Glob (`*` = anything) on the path below the API's mount.
    pub path: Option<String>,
    /// `201`, or a class such as `4xx`.
    pub status: Option<String>,
    /// A sequence number (entries after it) or an RFC 3339 time.
    pub since: Option<String>,
}

pub trait ActivitySource: Send + Sync + 'static {
    /// The matching entries, oldest first, as the journal API shows them (bodies redacted).
    fn entries(&self, filter: &ActivityFilter) -> Vec<serde_json::Value>;
}
