//! Text lengths as Salesforce counts them (UTF-16 code units) and cutting text to a length.

/// Length of `text` in UTF-16 code units, the unit of Salesforce field lengths.
pub fn salesforce_length(text: &str) -> usize {
    text.encode_utf16().count()
}

/// The longest prefix of `text` of at most `max` UTF-16 code units, never splitting a character.
pub fn cut(text: &str, max: usize) -> &str {
    let mut units = 0;
    for (at, c) in text.char_indices() {
        units += c.len_utf16();
        if units > max {
            return &text[..at];
        }
    }
    text
}

/// The start of `text` for messages (at most 40 characters, with `…` when cut).
pub fn preview(text: &str) -> String {
    let mut out: String = text.chars().take(40).collect();
    if text.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_utf16_units() {
        assert_eq!(salesforce_length("abc"), 3);
        assert_eq!(salesforce_length("é"), 1);
        assert_eq!(salesforce_length("😀"), 2);
    }

    #[test]
    fn cuts_never_split_characters() {
        assert_eq!(cut("abcdef", 3), "abc");
        assert_eq!(cut("ab😀", 3), "ab");
        assert_eq!(cut("ab😀", 4), "ab😀");
        assert_eq!(cut("short", 80), "short");
        assert_eq!(preview(&"x".repeat(50)).chars().count(), 41);
    }
}
