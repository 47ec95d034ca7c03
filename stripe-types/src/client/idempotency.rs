//! Idempotency keys for requests the caller did not give one.

use std::fmt::Write as _;

/// A random key in the textual form of a version 4 UUID, as Stripe's libraries send.
pub(super) fn new_key() -> String {
    let mut bytes: [u8; 16] = fastrand::u128(..).to_be_bytes();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        // Writing to a String cannot fail.
        let _ = write!(out, "{byte:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_like_a_v4_uuid_and_differs_each_time() {
        let key = new_key();
        assert_eq!(key.len(), 36);
        let groups: Vec<&str> = key.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('4'), "{key}");
        assert!(matches!(&groups[3][..1], "8" | "9" | "a" | "b"), "{key}");
        assert_ne!(new_key(), key);
    }
}
