//! Checks one metadata XML document against the schema.

use std::collections::HashMap;
use std::path::Path;

use roxmltree::{Document, Node};

use super::xsd::{Builtin, Resolved, Schema, TypeRef, XSD_NS};
use super::{Finding, Severity, lexical, newer};

/// Namespace of the `xsi:type` and `xsi:nil` attributes.
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Root elements of source-format files that hold one part of a metadata type
/// rather than a whole one: the Salesforce CLI splits `CustomObjectTranslation`
/// into one `CustomFieldTranslation` file per field.
const SOURCE_FORMAT_ROOTS: &[&str] = &["CustomFieldTranslation"];

/// How many enumeration values a message lists before summarising the rest.
const MAX_LISTED_VALUES: usize = 50;

/// How many characters of an offending value a message quotes.
const MAX_QUOTED_CHARS: usize = 80;

/// Checks `text`, the content of `file`, and returns its findings in document order.
pub(crate) fn check_document(schema: &Schema, text: &str, file: &Path) -> Vec<Finding> {
    let doc = match Document::parse(text) {
        Ok(doc) => doc,
        Err(err) => {
            let pos = err.pos();
            return vec![Finding {
                file: file.to_path_buf(),
                line: pos.row,
                column: pos.col,
                severity: Severity::Error,
                message: format!("not well-formed XML: {}", parse_error_text(&err)),
            }];
        }
    };
    let mut checker = Checker {
        schema,
        doc: &doc,
        file,
        findings: Vec::new(),
    };
    checker.root(doc.root_element());
    let mut findings = checker.findings;
    findings.sort_by_key(|f| (f.line, f.column));
    findings
}

/// The state of one document's check: where findings go and how to place them.
struct Checker<'a, 'd, 'i> {
    schema: &'a Schema,
    doc: &'d Document<'i>,
    file: &'a Path,
    findings: Vec<Finding>,
}

impl Checker<'_, '_, '_> {
    fn report(&mut self, offset: usize, severity: Severity, message: String) {
        let pos = self.doc.text_pos_at(offset);
        self.findings.push(Finding {
            file: self.file.to_path_buf(),
            line: pos.row,
            column: pos.col,
            severity,
            message,
        });
    }

    fn error(&mut self, offset: usize, message: String) {
        self.report(offset, Severity::Error, message);
    }

    fn line_of(&self, offset: usize) -> u32 {
        self.doc.text_pos_at(offset).row
    }

    /// The schema version as a phrase: "the API 47.0 schema".
    fn schema_phrase(&self) -> String {
        match self.schema.version() {
            Some(version) => format!("the API {version} schema"),
            None => "the schema".to_owned(),
        }
    }

    fn root(&mut self, node: Node) {
        let name = node.tag_name().name();
        let known = self.schema.is_metadata_type(name)
            || (SOURCE_FORMAT_ROOTS.contains(&name) && self.schema.complex(name).is_some());
        if known {
            self.element(node, &TypeRef::Named(name.to_owned()), false);
        } else {
            let schema = self.schema_phrase();
            self.error(
                node.range().start,
                format!("<{name}> is not a metadata type in {schema}"),
            );
        }
    }

    /// Checks an element whose declared type is `declared`.
    fn element(&mut self, node: Node, declared: &TypeRef, nillable: bool) {
        let name = node.tag_name().name();
        let mut actual = declared.clone();
        let mut nil = false;
        for attr in node.attributes() {
            if attr.namespace() != Some(XSI_NS) {
                continue;
            }
            match attr.name() {
                "type" => match self.xsi_type(node, attr.value()) {
                    Ok(ty) if self.derives(&ty, declared) => actual = ty,
                    Ok(_) => {
                        let message = format!(
                            "xsi:type=\"{}\" on <{name}> does not derive from its declared type {}",
                            attr.value(),
                            type_name(declared)
                        );
                        self.error(attr.range().start, message);
                    }
                    Err(message) => self.error(attr.range().start, message),
                },
                "nil" => match attr.value().trim() {
                    "true" => nil = true,
                    "false" => {}
                    other => {
                        let message = format!(
                            "xsi:nil=\"{other}\" on <{name}> is not a boolean (expected true or false)"
                        );
                        self.error(attr.range().start, message);
                    }
                },
                // xsi:schemaLocation and the like say nothing about the content.
                _ => {}
            }
        }
        // Namespace declarations are not attributes in roxmltree, and attributes
        // in other namespaces are not the schema's concern.
        for attr in node.attributes().filter(|a| a.namespace().is_none()) {
            if !self.attribute_allowed(&actual, attr.name()) {
                let message = format!("attribute `{}` is not allowed on <{name}>", attr.name());
                self.error(attr.range().start, message);
            }
        }
        if nil {
            if !nillable {
                let message =
                    format!("<{name}> is not nillable, so xsi:nil=\"true\" is not allowed");
                self.error(node.range().start, message);
            } else if has_content(node) {
                let message = format!("<{name}> has xsi:nil=\"true\" but is not empty");
                self.error(node.range().start, message);
            }
            return;
        }
        let schema = self.schema;
        match schema.resolve(&actual) {
            Resolved::Builtin(Builtin::AnyType) => {}
            Resolved::Builtin(_) | Resolved::Simple(..) => self.simple_content(node, &actual),
            Resolved::Complex(type_name, _) => self.complex_content(node, type_name),
        }
    }

    /// Resolves an `xsi:type` value to a type, or says why it names none.
    fn xsi_type(&self, node: Node, value: &str) -> Result<TypeRef, String> {
        let qname = value.trim();
        let (prefix, local) = match qname.split_once(':') {
            Some((prefix, local)) => (Some(prefix), local),
            None => (None, qname),
        };
        let Some(uri) = node.lookup_namespace_uri(prefix) else {
            return Err(match prefix {
                Some(prefix) => {
                    format!(
                        "xsi:type=\"{qname}\" uses namespace prefix `{prefix}`, which is not declared"
                    )
                }
                None => format!("xsi:type=\"{qname}\" has no namespace"),
            });
        };
        if uri == XSD_NS {
            Builtin::from_name(local)
                .map(TypeRef::Builtin)
                .ok_or_else(|| format!("xsi:type=\"{qname}\" is not an XML Schema built-in type"))
        } else if !self.schema.defines_namespace(uri) {
            Err(format!(
                "xsi:type=\"{qname}\" is in namespace `{uri}`, which the schema does not define"
            ))
        } else {
            let ty = TypeRef::Named(local.to_owned());
            match self.schema.resolve(&ty) {
                Resolved::Complex(..) | Resolved::Simple(..) => Ok(ty),
                Resolved::Builtin(_) => {
                    Err(format!("xsi:type=\"{qname}\" names no type of the schema"))
                }
            }
        }
    }

    /// Whether `actual` is `declared` or derived from it (so it may replace it via xsi:type).
    fn derives(&self, actual: &TypeRef, declared: &TypeRef) -> bool {
        if *declared == TypeRef::Builtin(Builtin::AnyType) {
            return true;
        }
        let mut current = Some(actual.clone());
        let mut budget = 64;
        while let Some(ty) = current {
            if ty == *declared {
                return true;
            }
            budget -= 1;
            if budget == 0 {
                return false;
            }
            current = match self.schema.resolve(&ty) {
                Resolved::Complex(_, ct) => ct.base.clone().map(TypeRef::Named),
                Resolved::Simple(_, st) => Some(st.base.clone()),
                Resolved::Builtin(_) => None,
            };
        }
        false
    }

    fn attribute_allowed(&self, ty: &TypeRef, attribute: &str) -> bool {
        match self.schema.resolve(ty) {
            Resolved::Builtin(Builtin::AnyType) => true,
            Resolved::Builtin(_) | Resolved::Simple(..) => false,
            Resolved::Complex(name, _) => self
                .schema
                .lineage(name)
                .any(|(_, ct)| ct.any_attribute || ct.attributes.iter().any(|a| a == attribute)),
        }
    }

    /// Checks an element of simple type `ty`: text only, valid for the type.
    fn simple_content(&mut self, node: Node, ty: &TypeRef) {
        let name = node.tag_name().name();
        if let Some(child) = node.children().find(Node::is_element) {
            let message = format!(
                "<{name}> holds {} value and cannot contain elements such as <{}>",
                with_article(&type_name(ty)),
                child.tag_name().name()
            );
            self.error(child.range().start, message);
            return;
        }
        let text = text_of(node);
        if let Err(problem) = self.check_value(ty, &text) {
            let message = format!("<{name}> value `{}` {problem}", quote(&text));
            self.error(node.range().start, message);
        }
    }

    /// Checks text against a simple type, walking its restriction chain.
    fn check_value(&self, ty: &TypeRef, text: &str) -> Result<(), String> {
        let mut current = ty.clone();
        for _ in 0..64 {
            match self.schema.resolve(&current) {
                Resolved::Builtin(builtin) => return lexical::check_builtin(builtin, text),
                Resolved::Simple(name, st) => {
                    if !st.enumeration.is_empty() && !st.enumeration.iter().any(|v| v == text) {
                        return Err(format!(
                            "is not {} (expected one of: {})",
                            with_article(name),
                            list_values(&st.enumeration)
                        ));
                    }
                    current = st.base.clone();
                }
                // A complexType has no text type of its own here; `complex_content`
                // checks simple content through `text_type`.
                Resolved::Complex(..) => return Ok(()),
            }
        }
        Ok(())
    }

    /// The type of the text of complexType `name`, if it has simple content.
    fn text_type(&self, name: &str) -> Option<TypeRef> {
        self.schema.lineage(name).find_map(|(_, ct)| {
            let text = ct.text.as_ref()?;
            match self.schema.resolve(text) {
                Resolved::Complex(..) => None,
                _ => Some(text.clone()),
            }
        })
    }

    /// Checks an element of complexType `type_name`: its text and each child element.
    fn complex_content(&mut self, node: Node, type_name: &str) {
        let schema = self.schema;
        let name = node.tag_name().name();
        let lineage: Vec<&str> = schema.lineage(type_name).map(|(n, _)| n).collect();
        let any_element = schema.lineage(type_name).any(|(_, ct)| ct.any_element);
        let mixed = schema.lineage(type_name).any(|(_, ct)| ct.mixed);

        if let Some(text_type) = self.text_type(type_name) {
            let text = text_of(node);
            if let Err(problem) = self.check_value(&text_type, &text) {
                let message = format!("<{name}> value `{}` {problem}", quote(&text));
                self.error(node.range().start, message);
            }
        } else if !mixed {
            let stray = node.children().filter(Node::is_text).find_map(|t| {
                let text = t.text()?;
                let trimmed = text.trim_start();
                (!trimmed.is_empty())
                    .then(|| (t.range().start + text.len() - trimmed.len(), trimmed))
            });
            if let Some((offset, text)) = stray {
                let message = format!(
                    "<{name}> of type {type_name} takes child elements, not text such as `{}`",
                    quote(text.trim_end())
                );
                self.error(offset, message);
            }
        }

        let mut first_seen: HashMap<&str, usize> = HashMap::new();
        for child in node.children().filter(Node::is_element) {
            let child_name = child.tag_name().name();
            let offset = child.range().start;
            if let Some(decl) = schema.element(type_name, child_name) {
                if !decl.repeatable {
                    if let Some(&first) = first_seen.get(child_name) {
                        let message = format!(
                            "<{child_name}> occurs more than once in {type_name} (maxOccurs is 1; first at line {})",
                            self.line_of(first)
                        );
                        self.error(offset, message);
                    } else {
                        first_seen.insert(child_name, offset);
                    }
                }
                self.element(child, &decl.ty, decl.nillable);
            } else if any_element {
                // xsd:any admits any element, unchecked.
            } else if let Some(entry) =
                newer::lookup(lineage.iter().copied(), child_name, schema.version())
            {
                let message = format!(
                    "<{child_name}> in {} was added in API {}; {} cannot check it",
                    entry.type_name,
                    entry.since,
                    self.schema_phrase()
                );
                self.report(offset, Severity::NewerThanSchema, message);
            } else {
                let message = format!("<{child_name}> is not an element of {type_name}");
                self.error(offset, message);
            }
        }
    }
}

/// The parser's message without the position it appends (the finding carries it).
fn parse_error_text(err: &roxmltree::Error) -> String {
    let text = err.to_string();
    let suffix = format!(" at {}", err.pos());
    match text.strip_suffix(&suffix) {
        Some(stripped) => stripped.to_owned(),
        None => text,
    }
}

/// Whether an element has child elements or non-whitespace text.
fn has_content(node: Node) -> bool {
    node.children()
        .any(|c| c.is_element() || (c.is_text() && c.text().is_some_and(|t| !t.trim().is_empty())))
}

/// The concatenated text (and CDATA) children of an element.
fn text_of(node: Node) -> String {
    node.children()
        .filter(Node::is_text)
        .filter_map(|t| t.text())
        .collect()
}

/// A type's name as messages show it: `FieldType`, `boolean`, ...
fn type_name(ty: &TypeRef) -> String {
    match ty {
        TypeRef::Builtin(builtin) => builtin.name().to_owned(),
        TypeRef::Named(name) => name.clone(),
    }
}

/// "a FieldType", "an int".
fn with_article(name: &str) -> String {
    let vowel = name.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']);
    format!("{} {name}", if vowel { "an" } else { "a" })
}

/// Enumeration values, comma-separated, with long lists cut short.
fn list_values(values: &[String]) -> String {
    let shown = values[..values.len().min(MAX_LISTED_VALUES)].join(", ");
    match values.len().checked_sub(MAX_LISTED_VALUES) {
        Some(rest) if rest > 0 => format!("{shown}, and {rest} more"),
        _ => shown,
    }
}

/// A value as messages quote it: control characters escaped, long values cut.
fn quote(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == MAX_QUOTED_CHARS {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out
}
