//! Integration tests: one binary (link once), modules per feature. Each test starts the real
//! application in-process on port 0 with its own store and talks HTTP to it.

mod alibaba;
mod binary;
mod captures;
mod common;
mod compute;
mod console;
mod control;
mod credentials;
mod fronts;
mod hostile;
mod identity;
mod isolation;
mod keystone_captures;
mod keystone_roles;
mod pg;
mod props;
mod reliability;
mod request_log;
mod security_controls;
mod security_identity;
mod security_listeners;
mod store_conformance;
mod tencent;
mod twcc;
mod wal_index;
