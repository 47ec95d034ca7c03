//! Paths into a Stripe object, as the build checked them against the spec, and the scope they
//! are read in (the object, or inside a `for_each` the element, its parent and the previous
//! element).

use serde_json::Value;

/// Where a path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// The mapped object, or the current element inside a `for_each`.
    Object,
    /// `^.`: the object holding the array of a `for_each`.
    Parent,
    /// `<.`: the previous element of a `for_each` (absent for the first).
    Previous,
}

/// One step of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A property.
    Key(&'static str),
    /// An array element by position.
    Index(usize),
    /// Every element of an array (`[*]`), for sums.
    Each,
}

/// A path, with its text for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Path {
    /// The path as written in the mapping file.
    pub text: &'static str,
    /// Where it starts.
    pub root: Root,
    /// The steps.
    pub steps: &'static [Step],
}

/// What paths are read from.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    object: &'a Value,
    parent: Option<&'a Value>,
    previous: Option<&'a Value>,
    index: usize,
}

impl<'a> Scope<'a> {
    /// The scope of a mapped object.
    pub fn new(object: &'a Value) -> Scope<'a> {
        Scope {
            object,
            parent: None,
            previous: None,
            index: 0,
        }
    }

    /// The scope of element number `index` (1-based) of a `for_each` over an array of `parent`.
    pub fn element(
        element: &'a Value,
        parent: &'a Value,
        previous: Option<&'a Value>,
        index: usize,
    ) -> Scope<'a> {
        Scope {
            object: element,
            parent: Some(parent),
            previous,
            index,
        }
    }

    /// The 1-based position inside a `for_each` (0 outside one).
    pub fn index(&self) -> i64 {
        i64::try_from(self.index).unwrap_or(i64::MAX)
    }

    /// The value at `path`; `None` when it is absent or null. A `[*]` step finds nothing: sums
    /// read through [`Scope::each`].
    pub fn find(&self, path: &Path) -> Option<&'a Value> {
        walk(self.start(path)?, path.steps)
    }

    /// For a path with `[*]`: the values under each element of the array, or `None` when the
    /// array is absent or null; elements where the rest of the path is absent are left out.
    pub fn each(&self, path: &Path) -> Option<Result<Vec<&'a Value>, &'a Value>> {
        let at = path.steps.iter().position(|s| *s == Step::Each)?;
        let array = walk(self.start(path)?, &path.steps[..at])?;
        let Some(elements) = array.as_array() else {
            return Some(Err(array));
        };
        Some(Ok(elements
            .iter()
            .filter_map(|element| walk(element, &path.steps[at + 1..]))
            .collect()))
    }

    fn start(&self, path: &Path) -> Option<&'a Value> {
        match path.root {
            Root::Object => Some(self.object),
            Root::Parent => self.parent,
            Root::Previous => self.previous,
        }
    }
}

fn walk<'a>(mut value: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    for step in steps {
        value = match step {
            Step::Key(key) => value.get(*key)?,
            Step::Index(index) => value.get(*index)?,
            Step::Each => return None,
        };
    }
    (!value.is_null()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PRICE_ID: Path = Path {
        text: "items.data[0].price.id",
        root: Root::Object,
        steps: &[
            Step::Key("items"),
            Step::Key("data"),
            Step::Index(0),
            Step::Key("price"),
            Step::Key("id"),
        ],
    };

    #[test]
    fn finds_values_and_treats_null_as_absent() {
        let object = json!({"items": {"data": [{"price": {"id": "price_1"}}]}, "gone": null});
        let scope = Scope::new(&object);
        assert_eq!(scope.find(&PRICE_ID), Some(&json!("price_1")));
        let gone = Path {
            text: "gone",
            root: Root::Object,
            steps: &[Step::Key("gone")],
        };
        assert_eq!(scope.find(&gone), None);
        let empty = json!({"items": {"data": []}});
        assert_eq!(Scope::new(&empty).find(&PRICE_ID), None);
    }

    #[test]
    fn parent_previous_and_each() {
        let parent = json!({"id": "price_1", "tiers": [{"up_to": 5}, {"up_to": null}]});
        let tiers = parent["tiers"].as_array().unwrap();
        let scope = Scope::element(&tiers[1], &parent, Some(&tiers[0]), 2);
        let up_to = |root| Path {
            text: "up_to",
            root,
            steps: &[Step::Key("up_to")],
        };
        assert_eq!(scope.find(&up_to(Root::Previous)), Some(&json!(5)));
        assert_eq!(scope.find(&up_to(Root::Object)), None);
        assert_eq!(scope.index(), 2);
        let sum = Path {
            text: "tiers[*].up_to",
            root: Root::Object,
            steps: &[Step::Key("tiers"), Step::Each, Step::Key("up_to")],
        };
        let found = Scope::new(&parent).each(&sum).unwrap().unwrap();
        assert_eq!(found, [&json!(5)]);
    }
}
