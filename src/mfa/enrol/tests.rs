use qrcodegen_image::{image, qrcodegen};

use super::*;

fn rfc_seed() -> Seed {
    Seed::from_bytes(b"12345678901234567890")
}

#[test]
fn the_uri_names_issuer_device_account_and_seed() {
    let seed = rfc_seed();
    let uri = otpauth_uri("loginprofiled", "alice-phone", "123456789012", &seed);

    let url = url::Url::parse(uri.expose_secret()).unwrap();
    assert_eq!(url.scheme(), "otpauth");
    assert_eq!(url.host_str(), Some("totp"));
    assert_eq!(url.path(), "/loginprofiled:alice-phone@123456789012");
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(
        query,
        [
            ("secret".into(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ".into()),
            ("issuer".into(), "loginprofiled".into()),
        ]
    );
}

#[test]
fn the_uri_percent_encodes_issuer_and_name() {
    let seed = rfc_seed();
    let uri = otpauth_uri("Example Corp", "a+b=c,d", "123456789012", &seed);
    let uri = uri.expose_secret();

    assert!(
        uri.starts_with("otpauth://totp/Example%20Corp:a%2Bb%3Dc%2Cd@123456789012?"),
        "{uri}"
    );
    assert!(uri.ends_with("&issuer=Example%20Corp"), "{uri}");
    let url = url::Url::parse(uri).unwrap();
    let issuer = url.query_pairs().find(|(k, _)| k == "issuer").unwrap().1;
    assert_eq!(issuer, "Example Corp");
}

#[test]
fn totp_rs_reads_the_uri_back_as_the_same_device() {
    let seed = Seed::generate();
    let uri = otpauth_uri("Example Corp", "alice phone", "123456789012", &seed);

    let totp = totp_rs::Totp::from_url(uri.expose_secret()).unwrap();
    assert_eq!(totp.secret().as_bytes(), seed.bytes());
    assert_eq!(totp.issuer(), Some("Example Corp"));
    assert_eq!(totp.account_name(), "alice phone@123456789012");
    assert_eq!((totp.digits(), totp.step()), (6, 30));
    assert_eq!(totp.algorithm(), totp_rs::Algorithm::SHA1);
}

#[test]
fn the_qr_png_is_a_png_of_the_qr_code_of_the_uri() {
    let uri = otpauth_uri("loginprofiled", "alice-phone", "123456789012", &rfc_seed());

    let png = qr_png(&uri).unwrap();

    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    // No QR decoder in Rust here: instead, the pixels are compared with the modules of the
    // QR code of the URI (8 pixels a module, a quiet zone of 4 modules).
    let qr =
        qrcodegen::QrCode::encode_text(uri.expose_secret(), qrcodegen::QrCodeEcc::Medium).unwrap();
    let picture = image::load_from_memory(&png).unwrap().into_luma8();
    let side = u32::try_from(qr.size()).unwrap();
    assert_eq!(picture.dimensions(), ((side + 8) * 8, (side + 8) * 8));
    for y in 0..qr.size() {
        for x in 0..qr.size() {
            let [luma] = picture.get_pixel(x as u32 * 8 + 36, y as u32 * 8 + 36).0;
            assert_eq!(luma == 0, qr.get_module(x, y), "module ({x}, {y})");
        }
    }
}

#[test]
fn a_uri_too_long_for_a_qr_code_is_an_error_without_the_uri() {
    let long = SecretString::from(format!("otpauth://totp/{}", "x".repeat(8000)));
    let error = qr_png(&long).unwrap_err();
    assert!(!format!("{error:#}").contains("xxxx"));
}

#[test]
fn issuers_are_non_empty_short_and_free_of_colons() {
    assert_eq!(validate_issuer("loginprofiled"), Ok(()));
    assert_eq!(validate_issuer("Example Corp (staging)"), Ok(()));
    assert_eq!(validate_issuer(&"é".repeat(64)), Ok(()));
    for bad in ["", "a:b", "tab\there", &"x".repeat(65), &"é".repeat(65)] {
        assert!(validate_issuer(bad).is_err(), "{bad:?} was accepted");
    }
}
