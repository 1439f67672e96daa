//! What a secret looks like in a log line, in every form a careless `Debug` or encoder would
//! print it: as text, as a decimal byte array (`[36, 97, 114, ...]`, sled's `Set([k],[v])`),
//! as hex, and as base64 at any alignment inside a larger blob.

use base64::Engine as _;

/// The forms of a secret that is text (a password, a token, a PHC string).
pub fn text_forms(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_owned()];
    forms.extend(byte_forms(secret.as_bytes()));
    forms
}

/// The forms of a secret made of bytes (also used for the bytes of a text secret).
pub fn byte_forms(bytes: &[u8]) -> Vec<String> {
    let decimal: Vec<String> = bytes.iter().map(u8::to_string).collect();
    let mut forms = vec![
        decimal.join(", "),
        decimal.join(","),
        hex::encode(bytes),
        hex::encode_upper(bytes),
    ];
    // The base64 of a blob that contains `bytes` contains the base64 of `bytes[k..]` for the k
    // that aligns it to 3 bytes, all but the last few characters (which depend on what follows).
    for engine in [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE,
    ] {
        for k in 0..3 {
            let encoded = engine.encode(&bytes[k..]);
            forms.push(encoded[..encoded.len().saturating_sub(4)].to_owned());
        }
    }
    forms
}

/// The PHC strings (`$argon2id$...`) anywhere in `bytes`, e.g. the raw files of a sled store.
pub fn phc_strings(bytes: &[u8]) -> Vec<String> {
    const PREFIX: &[u8] = b"$argon2id$";
    let is_phc = |b: &u8| b.is_ascii_alphanumeric() || b"$=,+/.-".contains(b);
    let mut found = Vec::new();
    let mut rest = bytes;
    while let Some(at) = rest.windows(PREFIX.len()).position(|w| w == PREFIX) {
        let len = rest[at..].iter().take_while(|b| is_phc(b)).count();
        found.push(String::from_utf8_lossy(&rest[at..at + len]).into_owned());
        rest = &rest[at + len..];
    }
    found.sort();
    found.dedup();
    found
}

/// The secret parts of a PHC string: the salt and the hash, as text and as raw bytes.
pub fn phc_parts(phc: &str) -> Vec<String> {
    let mut forms = text_forms(phc);
    let parts: Vec<&str> = phc.rsplitn(3, '$').collect();
    if let [hash, salt, _] = parts.as_slice() {
        forms.push((*salt).to_owned());
        forms.push((*hash).to_owned());
        let raw = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(hash)
            .expect("the hash of a PHC string is base64");
        forms.extend(byte_forms(&raw));
    }
    forms
}
