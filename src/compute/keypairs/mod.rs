//! Key pairs: `/os-keypairs` (nova/api/openstack/compute/keypairs.py).
pub mod handlers;
pub mod list_cache;
pub mod schema;
pub mod view;
