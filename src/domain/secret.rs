//! Random secrets and their digests, made in one place: session and API
//! tokens, CSRF tokens, stored file names, request ids.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new unguessable token: 256 bits from the operating system's generator,
/// as URL-safe base64 (43 characters, fit for a cookie or a header).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `bytes` random bytes as lower-case hex (`2 * bytes` characters), from
/// the thread's cryptographically secure generator: names that must not be
/// guessed, without a system call each.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buffer);
    hex::encode(buffer)
}

/// The SHA-256 of `text` as lower-case hex: how tokens are stored, so a
/// copy of the database holds no usable one.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_url_safe() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn hex_is_lower_case_and_as_long_as_asked() {
        let name = random_hex(16);
        assert_eq!(name.len(), 32);
        assert!(name.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')));
        assert_ne!(name, random_hex(16));
    }

    #[test]
    fn digests_are_sha256_in_hex() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
