//! `application/x-www-form-urlencoded` bodies and query strings, and percent-decoding of
//! path segments.

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`); invalid escapes are
/// kept as they are, invalid UTF-8 replaced.
pub fn decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|pair| std::str::from_utf8(pair).ok())
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok());
                match hex {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `name=value` pairs of a form body or query string, decoded, in order.
pub fn parse(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name, true), decode(value, true))
        })
        .collect()
}

/// The first value of `name` among `pairs`.
pub fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_forms() {
        let pairs = parse("q=SELECT+Id+FROM+Contact+WHERE+Name+%3D+%27a%26b%27&x=&flag");
        assert_eq!(
            get(&pairs, "q"),
            Some("SELECT Id FROM Contact WHERE Name = 'a&b'")
        );
        assert_eq!(get(&pairs, "x"), Some(""));
        assert_eq!(get(&pairs, "flag"), Some(""));
        assert_eq!(decode("a+b%2Fc%zz%", false), "a+b/c%zz%");
        assert_eq!(decode("%C3%A9", true), "é");
    }
}
