//! What a person needs to add a virtual MFA device to an authenticator app: the otpauth URI
//! of Google's Key URI format, and the QR code of it as a PNG. Both hold the seed.

use std::fmt::Write as _;

use anyhow::anyhow;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use secrecy::{ExposeSecret as _, SecretString, zeroize::Zeroizing};

use super::Seed;

/// The longest issuer accepted, in characters.
pub const MAX_ISSUER_CHARS: usize = 64;

/// Everything but RFC 3986's unreserved characters is percent-encoded, so a space is `%20`
/// (never `+`, which the Key URI format's readers do not all decode) and `@`, `:` and `&`
/// cannot be mistaken for the URI's own separators.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The Key URI of a device:
/// `otpauth://totp/<issuer>:<device name>@<account id>?secret=<base32>&issuer=<issuer>`,
/// each part percent-encoded, the seed as unpadded base32. SHA-1, 6 digits and 30 seconds are
/// the format's defaults, so no parameter says so. `issuer` should be one [`validate_issuer`]
/// accepts; `device_name` is the name without its path.
pub fn otpauth_uri(issuer: &str, device_name: &str, account_id: &str, seed: &Seed) -> SecretString {
    let secret = seed.base32();
    // Written into one wiped buffer, sized for the worst case (every byte percent-encoded) so
    // that it never grows: a growing `String` leaves copies of the seed behind.
    let capacity = 64
        + secret.expose_secret().len()
        + 3 * (2 * issuer.len() + device_name.len() + account_id.len());
    let mut uri = Zeroizing::new(String::with_capacity(capacity));
    let issuer = utf8_percent_encode(issuer, COMPONENT);
    let device_name = utf8_percent_encode(device_name, COMPONENT);
    let account_id = utf8_percent_encode(account_id, COMPONENT);
    write!(
        uri,
        "otpauth://totp/{issuer}:{device_name}@{account_id}?secret={}&issuer={issuer}",
        secret.expose_secret()
    )
    .expect("writing to a String does not fail");
    SecretString::from(uri.as_str())
}

/// A PNG of the QR code of `uri` (error correction level M, 8 pixels a module, a quiet zone
/// of 4 modules). Fails only for a URI too long for a QR code, a few thousand bytes.
pub fn qr_png(uri: &SecretString) -> anyhow::Result<Vec<u8>> {
    // The library's error is not passed on: this function's caller must not have to wonder
    // whether an error message holds the URI, and so the seed.
    qrcodegen_image::draw_png(uri.expose_secret())
        .map_err(|_| anyhow!("the otpauth URI could not be drawn as a QR code (too long?)"))
}

/// Checks an issuer for `--mfa-issuer`: not empty, at most 64 characters, no `:` (the Key URI
/// format forbids it in the issuer, where it would read as the label's separator) and no
/// control characters (an authenticator app shows the issuer as the account's title).
pub fn validate_issuer(issuer: &str) -> Result<(), String> {
    if issuer.is_empty() {
        return Err("the MFA issuer must not be empty".to_owned());
    }
    let chars = issuer.chars().count();
    if chars > MAX_ISSUER_CHARS {
        return Err(format!(
            "the MFA issuer must be at most {MAX_ISSUER_CHARS} characters, not {chars}"
        ));
    }
    if issuer.contains(':') {
        return Err("the MFA issuer must not contain ':'".to_owned());
    }
    if issuer.chars().any(char::is_control) {
        return Err("the MFA issuer must not contain control characters".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
