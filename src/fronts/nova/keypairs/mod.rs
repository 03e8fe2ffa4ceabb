//! Key pairs: `/os-keypairs` (nova/api/openstack/compute/keypairs.py).
pub mod handlers;
pub mod rendered;
pub mod schema;
pub mod view;
