//! The cryptography of IAM virtual MFA devices, free of the domain, the store and the
//! transports (it knows the store only as the [`SealedSeedRecord`] it fills).
//!
//! - [`seed`]: the device secret ([`Seed`]), 20 random bytes wiped on drop, shown as base32.
//! - [`keys`]: seeds at rest: AES-256-GCM under the operator's key file ([`Keyring`]), bound to
//!   device and user ([`SeedBinding`]), with key rotation.
//!
//! Secrets (seeds, their base32, keys) never reach `Debug`, errors or logs.
//!
//! [`SealedSeedRecord`]: crate::store::SealedSeedRecord

pub mod keys;
pub mod seed;

pub use keys::{Keyring, OpenError, SeedBinding};
pub use seed::Seed;
