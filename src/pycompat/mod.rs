//! # What Python would print
//!
//! The OpenStack services are Python: their bodies are `json.dumps` output, their error texts
//! embed `repr()` of the offending value, and their validation messages are jsonschema's. The
//! Nova and Keystone fronts both render through these.

pub mod jsonschema;
pub mod pyjson;
pub mod pyrepr;
