//! The path syntax of the mapping file: `email`, `items.data[0].price.id`,
//! `total_discount_amounts[*].amount`, `^.id` (the parent object inside a `for_each`) and
//! `<.up_to` (the previous element inside a `for_each`).

use std::fmt;

/// Where a path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// The mapped object (or the current element of a `for_each`).
    Object,
    /// `^.`: the object that holds the array of a `for_each`.
    Parent,
    /// `<.`: the previous element of a `for_each` (absent for the first one).
    Previous,
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A property of an object.
    Key(String),
    /// `[n]`: the element at this position of an array.
    Index(usize),
    /// `[*]`: every element of an array; the values found are summed.
    Each,
}

/// A parsed path, with the text it was written as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathExpr {
    /// The path as written in the mapping file.
    pub text: String,
    /// Where it starts.
    pub root: Root,
    /// The steps from the root.
    pub steps: Vec<Step>,
}

impl PathExpr {
    /// Parses a path; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<PathExpr, String> {
        let (root, rest) = if let Some(rest) = text.strip_prefix("^.") {
            (Root::Parent, rest)
        } else if let Some(rest) = text.strip_prefix("<.") {
            (Root::Previous, rest)
        } else {
            (Root::Object, text)
        };
        if rest.is_empty() {
            return Err(format!("path `{text}` is empty"));
        }
        let mut steps = Vec::new();
        for segment in rest.split('.') {
            let (name, mut brackets) = match segment.find('[') {
                Some(at) => segment.split_at(at),
                None => (segment, ""),
            };
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(format!(
                    "path `{text}` has an invalid part `{segment}`: names are letters, digits, `_` and `-`"
                ));
            }
            steps.push(Step::Key(name.to_string()));
            while !brackets.is_empty() {
                let Some(end) = brackets.find(']') else {
                    return Err(format!("path `{text}` has an unclosed `[`"));
                };
                let inner = &brackets[1..end];
                if inner == "*" {
                    steps.push(Step::Each);
                } else {
                    let index = inner.parse::<usize>().map_err(|_| {
                        format!(
                            "path `{text}` has `[{inner}]`: use a position such as `[0]` or `[*]`"
                        )
                    })?;
                    steps.push(Step::Index(index));
                }
                brackets = &brackets[end + 1..];
                if !brackets.is_empty() && !brackets.starts_with('[') {
                    return Err(format!("path `{text}` has text after `]` in `{segment}`"));
                }
            }
        }
        if steps.iter().filter(|s| **s == Step::Each).count() > 1 {
            return Err(format!("path `{text}` has more than one `[*]`"));
        }
        Ok(PathExpr {
            text: text.to_string(),
            root,
            steps,
        })
    }

    /// Whether the path sums over an array (`[*]`).
    pub fn sums(&self) -> bool {
        self.steps.contains(&Step::Each)
    }
}

impl fmt::Display for PathExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let path = PathExpr::parse("items.data[0].price.id").unwrap();
        assert_eq!(path.root, Root::Object);
        assert_eq!(
            path.steps,
            [
                Step::Key("items".into()),
                Step::Key("data".into()),
                Step::Index(0),
                Step::Key("price".into()),
                Step::Key("id".into()),
            ]
        );
        let sum = PathExpr::parse("total_discount_amounts[*].amount").unwrap();
        assert!(sum.sums());
        assert_eq!(PathExpr::parse("^.id").unwrap().root, Root::Parent);
        assert_eq!(PathExpr::parse("<.up_to").unwrap().root, Root::Previous);
    }

    #[test]
    fn refuses_malformed_paths() {
        for bad in ["", "a..b", "a[x]", "a[0", "a[0]b", "a[*].b[*]", "^.", "a b"] {
            assert!(PathExpr::parse(bad).is_err(), "{bad}");
        }
    }
}
