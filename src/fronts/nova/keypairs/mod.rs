//! Key pairs: `/os-keypairs` (nova/api/openstack/compute/keypairs.py).
pub mod handlers;
pub mod schema;
pub mod view;
