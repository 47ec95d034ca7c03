//! Small helpers over `roxmltree` for reading metadata documents with line numbers.

use std::path::Path;

use roxmltree::{Document, Node};

use super::error::MetadataError;

/// One parsed metadata file.
pub struct MetadataDoc<'a> {
    /// The file it was read from.
    pub path: &'a Path,
    doc: Document<'a>,
}

impl<'a> MetadataDoc<'a> {
    /// Parses `text`, read from `path`; the root element must be `root`.
    pub fn parse(path: &'a Path, text: &'a str, root: &str) -> Result<Self, MetadataError> {
        let doc = Document::parse(text)
            .map_err(|e| MetadataError::new(path, e.pos().row, format!("malformed XML: {e}")))?;
        let found = doc.root_element().tag_name().name();
        if found != root {
            return Err(MetadataError::new(
                path,
                1,
                format!("expected a <{root}> document, found <{found}>"),
            ));
        }
        Ok(MetadataDoc { path, doc })
    }

    /// The root element.
    pub fn root(&self) -> Node<'_, 'a> {
        self.doc.root_element()
    }

    /// One-based line where `node` starts.
    pub fn line(&self, node: Node<'_, '_>) -> u32 {
        self.doc.text_pos_at(node.range().start).row
    }

    /// An error at `node`.
    pub fn error(&self, node: Node<'_, '_>, message: impl Into<String>) -> MetadataError {
        MetadataError::new(self.path, self.line(node), message)
    }
}

/// The child elements of `node` named `name`.
pub fn children<'b, 'a>(node: Node<'b, 'a>, name: &'b str) -> impl Iterator<Item = Node<'b, 'a>> {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

/// The first child element of `node` named `name`.
pub fn child<'b, 'a>(node: Node<'b, 'a>, name: &str) -> Option<Node<'b, 'a>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// The trimmed text of the first child element named `name`, if present and not empty.
pub fn child_text<'b>(node: Node<'b, '_>, name: &str) -> Option<&'b str> {
    child(node, name)
        .and_then(|c| c.text())
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Whether `node` carries `xsi:nil="true"`.
pub fn is_nil(node: Node<'_, '_>) -> bool {
    node.attributes()
        .any(|a| a.name() == "nil" && a.value() == "true")
}
