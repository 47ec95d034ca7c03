//! Salesforce record ids: a 3-character key prefix naming the object, 12 case-sensitive
//! characters, and the 3-character suffix that makes the id safe to compare without case.

/// Characters of the case-safe suffix, indexed by a 5-bit mask.
const SUFFIX_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// Digits of the record counter inside an id, in ASCII order so ids sort by creation.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Key prefix of the organization (`00D`).
pub const ORGANIZATION_PREFIX: &str = "00D";
/// Key prefix of users (`005`).
pub const USER_PREFIX: &str = "005";
/// Key prefix of Bulk API 2.0 ingest jobs (`750`).
pub const JOB_PREFIX: &str = "750";
/// Key prefix of query cursors (`01g`).
pub const QUERY_LOCATOR_PREFIX: &str = "01g";

/// The key prefix of a standard object Salesforce numbers itself, if it is one we know.
pub fn standard_prefix(object: &str) -> Option<&'static str> {
    let prefix = match object.to_ascii_lowercase().as_str() {
        "account" => "001",
        "contact" => "003",
        "user" => USER_PREFIX,
        "lead" => "00Q",
        "opportunity" => "006",
        "case" => "500",
        _ => return None,
    };
    Some(prefix)
}

/// The key prefix of the `index`-th custom object (`a00`, `a01`, …, `a0Z`, `a0a`, …) or
/// custom metadata type (`m00`, …), following how Salesforce hands them out.
pub fn custom_prefix(first: char, index: usize) -> String {
    let second = BASE62[(index / 62) % 62] as char;
    let third = BASE62[index % 62] as char;
    format!("{first}{second}{third}")
}

/// The 18-character id of record number `counter` with this key prefix.
pub fn make(prefix: &str, counter: u64) -> String {
    let mut digits = [b'0'; 9];
    let mut rest = counter;
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(rest % 62) as usize];
        rest /= 62;
    }
    let body = std::str::from_utf8(&digits).expect("base62 digits are ASCII");
    let id15 = format!("{prefix:.3}5g0{body}");
    let suffix = suffix(&id15);
    id15 + &suffix
}

/// The case-safe suffix of a 15-character id: one character per 5-character chunk, whose
/// bits tell which characters of the chunk are upper-case letters.
pub fn suffix(id15: &str) -> String {
    id15.as_bytes()
        .chunks(5)
        .map(|chunk| {
            let mask = chunk
                .iter()
                .enumerate()
                .filter(|(_, byte)| byte.is_ascii_uppercase())
                .fold(0usize, |mask, (bit, _)| mask | (1 << bit));
            SUFFIX_ALPHABET[mask] as char
        })
        .collect()
}

/// The canonical 18-character form of an id given in its 15- or 18-character form, or
/// `None` if the text is not an id. An 18-character id may come with its case lost
/// (upper- or lower-cased): the suffix restores it, as Salesforce does.
pub fn normalize(text: &str) -> Option<String> {
    if !text.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
        return None;
    }
    match text.len() {
        15 => Some(format!("{text}{}", suffix(text))),
        18 => {
            let (body, given) = text.split_at(15);
            let mut restored = String::with_capacity(18);
            for (chunk, mark) in body.as_bytes().chunks(5).zip(given.bytes()) {
                let mask = SUFFIX_ALPHABET
                    .iter()
                    .position(|c| *c == mark.to_ascii_uppercase())?;
                for (bit, byte) in chunk.iter().enumerate() {
                    let upper = mask & (1 << bit) != 0;
                    if upper && !byte.is_ascii_alphabetic() {
                        return None;
                    }
                    restored.push(if upper {
                        byte.to_ascii_uppercase() as char
                    } else {
                        byte.to_ascii_lowercase() as char
                    });
                }
            }
            let suffix = suffix(&restored);
            Some(restored + &suffix)
        }
        _ => None,
    }
}

/// Whether `text` has the shape of a Salesforce id (15 or 18 letters and digits).
pub fn looks_like_id(text: &str) -> bool {
    matches!(text.len(), 15 | 18) && text.bytes().all(|byte| byte.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_suffixes() {
        // Chunk masks: `001A0` has bit 3 (I), `00000` none (A), `K5Xc3` bits 0 and 2 (F).
        assert_eq!(suffix("001A000000K5Xc3"), "IAF");
        assert_eq!(normalize("001A000000K5Xc3").unwrap(), "001A000000K5Xc3IAF");
        assert_eq!(suffix("ABCDEABCDEABCDE"), "555");
        assert_eq!(suffix("003000000000000"), "AAA");
    }

    #[test]
    fn made_ids_are_canonical_and_ordered() {
        let first = make("a01", 1);
        let later = make("a01", 70);
        assert_eq!(first.len(), 18);
        assert!(first.starts_with("a01"));
        assert!(first < later, "{first} < {later}");
        assert_eq!(normalize(&first).unwrap(), first);
        assert_eq!(normalize(&first[..15]).unwrap(), first);
    }

    #[test]
    fn lost_case_is_restored() {
        let id = make("a0B", 123_456);
        assert_eq!(normalize(&id.to_ascii_lowercase()).unwrap(), id);
        assert_eq!(normalize(&id.to_ascii_uppercase()).unwrap(), id);
        assert!(normalize("a0B5g0000000001").is_some());
        assert!(normalize("not-an-id").is_none());
        assert!(normalize("a0B5g00000000").is_none());
    }

    #[test]
    fn custom_prefixes() {
        assert_eq!(custom_prefix('a', 0), "a00");
        assert_eq!(custom_prefix('a', 11), "a0B");
        assert_eq!(custom_prefix('m', 62), "m10");
    }
}
