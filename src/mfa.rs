//! The cryptography of IAM virtual MFA devices, free of the domain, the store and the
//! transports (it knows the store only as the [`SealedSeedRecord`] it fills).
//!
//! - [`seed`]: the device secret ([`Seed`]), 20 random bytes wiped on drop, shown as base32.
//! - [`keys`]: seeds at rest: AES-256-GCM under the operator's key file ([`Keyring`]), bound to
//!   device and user ([`SeedBinding`]), with key rotation.
//! - [`totp`]: RFC 6238 codes ([`Code`]) and which time step a code belongs to, compared in
//!   constant time; the window, drift and replay rules are the caller's.
//! - [`enrol`]: the otpauth URI and its QR code PNG, which Create returns once.
//!
//! Secrets (seeds, their base32, keys, codes) never reach `Debug`, errors or logs.
//!
//! [`SealedSeedRecord`]: crate::store::SealedSeedRecord

pub mod enrol;
pub mod keys;
pub mod seed;
pub mod totp;

pub use enrol::{otpauth_uri, qr_png, validate_issuer};
pub use keys::{Keyring, OpenError, SeedBinding};
pub use seed::Seed;
pub use totp::{Code, STEP_SECONDS, code_at, consecutive_steps, matching_step, step_at};
