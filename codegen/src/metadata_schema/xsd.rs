//! Reads the XML Schema embedded in a Metadata API WSDL into a lookup model.
//!
//! Supported: named top-level `complexType`s (with `sequence`, `choice`, `all`,
//! `any`, `attribute`, `complexContent` extension or restriction, `simpleContent`)
//! and `simpleType`s (restriction with enumerations; other facets are read but not
//! enforced; `list` and `union` are treated as plain strings), plus anonymous types
//! declared inline in an element. Anything else in a type definition is reported
//! as an unsupported construct rather than silently ignored.

use std::collections::{HashMap, HashSet};

use roxmltree::{Document, Node};

use super::SchemaError;

/// Namespace of XML Schema itself (`xsd:`).
pub(crate) const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema";

/// Name of the base type every metadata type extends.
const METADATA_BASE: &str = "Metadata";

/// An XML Schema built-in type, as far as the checker distinguishes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    /// `xsd:anyType`: any content at all.
    AnyType,
    /// `xsd:boolean`: `true` or `false`.
    Boolean,
    /// `xsd:int`: a 32-bit signed integer.
    Int,
    /// `xsd:long`: a 64-bit signed integer.
    Long,
    /// `xsd:short`: a 16-bit signed integer.
    Short,
    /// `xsd:byte`: an 8-bit signed integer.
    Byte,
    /// `xsd:integer`: an integer of any size.
    Integer,
    /// `xsd:decimal`: a decimal number without exponent.
    Decimal,
    /// `xsd:double`: a 64-bit floating-point number.
    Double,
    /// `xsd:float`: a 32-bit floating-point number.
    Float,
    /// Any other built-in type (`string`, `date`, `base64Binary`, ...): text is not checked.
    Text(&'static str),
}

/// XML Schema built-in types whose text the checker accepts as is.
const TEXT_BUILTINS: &[&str] = &[
    "string",
    "normalizedString",
    "token",
    "language",
    "Name",
    "NCName",
    "NMTOKEN",
    "NMTOKENS",
    "ID",
    "IDREF",
    "IDREFS",
    "ENTITY",
    "ENTITIES",
    "QName",
    "NOTATION",
    "anyURI",
    "anySimpleType",
    "base64Binary",
    "hexBinary",
    "date",
    "dateTime",
    "time",
    "duration",
    "gYear",
    "gYearMonth",
    "gMonth",
    "gMonthDay",
    "gDay",
    "nonPositiveInteger",
    "negativeInteger",
    "nonNegativeInteger",
    "positiveInteger",
    "unsignedLong",
    "unsignedInt",
    "unsignedShort",
    "unsignedByte",
];

impl Builtin {
    /// The built-in type with this local name, if XML Schema has one.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "anyType" => Builtin::AnyType,
            "boolean" => Builtin::Boolean,
            "int" => Builtin::Int,
            "long" => Builtin::Long,
            "short" => Builtin::Short,
            "byte" => Builtin::Byte,
            "integer" => Builtin::Integer,
            "decimal" => Builtin::Decimal,
            "double" => Builtin::Double,
            "float" => Builtin::Float,
            _ => Builtin::Text(TEXT_BUILTINS.iter().copied().find(|n| *n == name)?),
        })
    }

    /// The type's local name, as written after `xsd:`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Builtin::AnyType => "anyType",
            Builtin::Boolean => "boolean",
            Builtin::Int => "int",
            Builtin::Long => "long",
            Builtin::Short => "short",
            Builtin::Byte => "byte",
            Builtin::Integer => "integer",
            Builtin::Decimal => "decimal",
            Builtin::Double => "double",
            Builtin::Float => "float",
            Builtin::Text(name) => name,
        }
    }
}

/// The type of an element: a built-in or a type the schema defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TypeRef {
    /// An XML Schema built-in type.
    Builtin(Builtin),
    /// A complexType or simpleType of the schema, by name.
    Named(String),
}

/// An element declared in a complexType's content.
#[derive(Debug, Clone)]
pub(crate) struct ElementDecl {
    /// The element's local name.
    pub(crate) name: String,
    /// The element's type.
    pub(crate) ty: TypeRef,
    /// Whether it may occur more than once (`maxOccurs` other than 1).
    pub(crate) repeatable: bool,
    /// Whether `xsi:nil="true"` is allowed on it.
    pub(crate) nillable: bool,
}

/// A complexType: its own elements and attributes, plus the type it extends.
#[derive(Debug, Clone, Default)]
pub(crate) struct ComplexType {
    /// The type it extends (`complexContent/extension` or `simpleContent`'s complex base).
    pub(crate) base: Option<String>,
    /// Elements declared by this type itself (not its bases).
    pub(crate) elements: Vec<ElementDecl>,
    /// Attributes declared by this type itself.
    pub(crate) attributes: Vec<String>,
    /// Whether `xsd:any` lets any element appear.
    pub(crate) any_element: bool,
    /// Whether `xsd:anyAttribute` lets any attribute appear.
    pub(crate) any_attribute: bool,
    /// Whether text may appear between child elements (`mixed="true"`).
    pub(crate) mixed: bool,
    /// For `simpleContent`: the type of the element's text.
    pub(crate) text: Option<TypeRef>,
}

/// A simpleType: a restriction of a base type, possibly to an enumeration.
#[derive(Debug, Clone)]
pub(crate) struct SimpleType {
    /// The restricted type.
    pub(crate) base: TypeRef,
    /// The allowed values, in schema order; empty when not an enumeration.
    pub(crate) enumeration: Vec<String>,
}

/// The type definitions of a Metadata API schema.
#[derive(Debug, Clone, Default)]
pub(crate) struct Schema {
    complex: HashMap<String, ComplexType>,
    simple: HashMap<String, SimpleType>,
    namespaces: Vec<String>,
    version: Option<String>,
}

/// What a type name refers to.
pub(crate) enum Resolved<'s> {
    /// A built-in type.
    Builtin(Builtin),
    /// A complexType, with its name.
    Complex(&'s str, &'s ComplexType),
    /// A simpleType, with its name.
    Simple(&'s str, &'s SimpleType),
}

impl Schema {
    /// Reads the schema(s) embedded in a WSDL (or a bare XSD document).
    pub(crate) fn parse(text: &str, origin: &str) -> Result<Self, SchemaError> {
        let doc = Document::parse(text).map_err(|source| SchemaError::Xml {
            origin: origin.to_owned(),
            source,
        })?;
        let schemas: Vec<Node> = doc.descendants().filter(|n| is_xsd(*n, "schema")).collect();
        if schemas.is_empty() {
            return Err(SchemaError::NoSchema {
                origin: origin.to_owned(),
            });
        }
        let targets: HashSet<&str> = schemas
            .iter()
            .filter_map(|s| s.attribute("targetNamespace"))
            .collect();
        let mut reader = Reader {
            doc: &doc,
            origin,
            targets,
            schema: Schema::default(),
            positions: HashMap::new(),
            references: Vec::new(),
        };
        for schema in &schemas {
            for child in schema.children().filter(Node::is_element) {
                if child.tag_name().namespace() != Some(XSD_NS) {
                    continue;
                }
                match child.tag_name().name() {
                    "complexType" => {
                        let name = reader.required_attribute(child, "name")?;
                        reader.complex_type(child, name.to_owned())?;
                    }
                    "simpleType" => {
                        let name = reader.required_attribute(child, "name")?;
                        reader.simple_type(child, name.to_owned())?;
                    }
                    // Top-level elements describe SOAP messages, not metadata files;
                    // imports, annotations and the like declare no metadata types.
                    _ => {}
                }
            }
        }
        reader.resolve_references()?;
        let mut namespaces: Vec<String> = reader.targets.iter().map(|t| (*t).to_owned()).collect();
        namespaces.sort();
        let mut schema = reader.schema;
        schema.namespaces = namespaces;
        schema.version = version_in_comments(&doc).or_else(|| version_in_name(origin));
        Ok(schema)
    }

    /// The API version the schema describes, if known.
    pub(crate) fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// Whether the schema defines types in namespace `uri`.
    pub(crate) fn defines_namespace(&self, uri: &str) -> bool {
        self.namespaces.iter().any(|n| n == uri)
    }

    /// The complexType with this name.
    pub(crate) fn complex(&self, name: &str) -> Option<&ComplexType> {
        self.complex.get(name)
    }

    /// What a type reference denotes (references are checked when the schema is read).
    pub(crate) fn resolve(&self, ty: &TypeRef) -> Resolved<'_> {
        match ty {
            TypeRef::Builtin(b) => Resolved::Builtin(*b),
            TypeRef::Named(name) => {
                if let Some((name, ct)) = self.complex.get_key_value(name) {
                    Resolved::Complex(name, ct)
                } else if let Some((name, st)) = self.simple.get_key_value(name) {
                    Resolved::Simple(name, st)
                } else {
                    // Unreachable for a schema built by `parse`, which rejects
                    // dangling references; treat it as unconstrained content.
                    Resolved::Builtin(Builtin::AnyType)
                }
            }
        }
    }

    /// The named complexType followed by every type it extends, nearest first.
    pub(crate) fn lineage<'s>(
        &'s self,
        name: &'s str,
    ) -> impl Iterator<Item = (&'s str, &'s ComplexType)> + 's {
        let mut next = self.complex.get_key_value(name);
        // `parse` rejects extension cycles; the bound guards hand-built schemas.
        let mut budget = self.complex.len();
        std::iter::from_fn(move || {
            let (name, ct) = next?;
            budget = budget.checked_sub(1)?;
            next = ct
                .base
                .as_deref()
                .and_then(|b| self.complex.get_key_value(b));
            Some((name.as_str(), ct))
        })
    }

    /// Whether complexType `name` is `ancestor` or extends it, directly or not.
    pub(crate) fn derives_from(&self, name: &str, ancestor: &str) -> bool {
        self.lineage(name).any(|(n, _)| n == ancestor)
    }

    /// Whether `name` is a metadata type, i.e. a complexType extending `Metadata`.
    pub(crate) fn is_metadata_type(&self, name: &str) -> bool {
        name != METADATA_BASE && self.derives_from(name, METADATA_BASE)
    }

    /// The declaration of child `element` in complexType `name` or its bases.
    pub(crate) fn element<'s>(&'s self, name: &'s str, element: &str) -> Option<&'s ElementDecl> {
        self.lineage(name)
            .find_map(|(_, ct)| ct.elements.iter().find(|e| e.name == element))
    }
}

/// State while reading schema elements.
struct Reader<'d, 'i> {
    doc: &'d Document<'i>,
    origin: &'d str,
    targets: HashSet<&'d str>,
    schema: Schema,
    /// Where each type is defined, for error messages.
    positions: HashMap<String, usize>,
    /// Named type references to check once every type is known:
    /// (referenced name, must be a complexType, byte offset of the reference).
    references: Vec<(String, bool, usize)>,
}

impl<'d, 'i> Reader<'d, 'i> {
    fn error(&self, at: Node, message: impl Into<String>) -> SchemaError {
        self.error_at(at.range().start, message)
    }

    fn error_at(&self, offset: usize, message: impl Into<String>) -> SchemaError {
        let pos = self.doc.text_pos_at(offset);
        SchemaError::InvalidSchema {
            origin: self.origin.to_owned(),
            line: pos.row,
            column: pos.col,
            message: message.into(),
        }
    }

    fn required_attribute<'n>(
        &self,
        node: Node<'n, 'i>,
        name: &str,
    ) -> Result<&'n str, SchemaError> {
        node.attribute(name).ok_or_else(|| {
            self.error(
                node,
                format!("<xsd:{}> has no `{name}` attribute", node.tag_name().name()),
            )
        })
    }

    fn unsupported(&self, node: Node, within: &str) -> SchemaError {
        let what = node.tag_name().name();
        let prefix = if node.tag_name().namespace() == Some(XSD_NS) {
            "xsd:"
        } else {
            ""
        };
        self.error(node, format!("unsupported <{prefix}{what}> in {within}"))
    }

    fn define(&mut self, node: Node, name: &str) -> Result<(), SchemaError> {
        if self.schema.complex.contains_key(name) || self.schema.simple.contains_key(name) {
            return Err(self.error(node, format!("type `{name}` is defined more than once")));
        }
        self.positions.insert(name.to_owned(), node.range().start);
        Ok(())
    }

    /// Resolves a QName-valued attribute (`type`, `base`) to a type reference.
    fn type_ref(
        &mut self,
        node: Node,
        attribute: &str,
        complex_only: bool,
    ) -> Result<TypeRef, SchemaError> {
        let qname = self.required_attribute(node, attribute)?;
        let (prefix, local) = match qname.split_once(':') {
            Some((prefix, local)) => (Some(prefix), local),
            None => (None, qname),
        };
        let Some(uri) = node.lookup_namespace_uri(prefix) else {
            return Err(self.error(
                node,
                format!("{attribute}=\"{qname}\" uses an undeclared namespace prefix"),
            ));
        };
        if uri == XSD_NS {
            let builtin = Builtin::from_name(local).ok_or_else(|| {
                self.error(
                    node,
                    format!("`{qname}` is not an XML Schema built-in type"),
                )
            })?;
            if complex_only && builtin != Builtin::AnyType {
                return Err(self.error(node, format!("`{qname}` is not a complex type")));
            }
            Ok(TypeRef::Builtin(builtin))
        } else if self.targets.contains(uri) {
            self.references
                .push((local.to_owned(), complex_only, node.range().start));
            Ok(TypeRef::Named(local.to_owned()))
        } else {
            Err(self.error(
                node,
                format!("`{qname}` is in namespace `{uri}`, which no schema here defines"),
            ))
        }
    }

    fn complex_type(&mut self, node: Node, name: String) -> Result<(), SchemaError> {
        self.define(node, &name)?;
        let mut ct = ComplexType {
            mixed: node.attribute("mixed") == Some("true"),
            ..ComplexType::default()
        };
        for child in xsd_children(node) {
            match child.tag_name().name() {
                "annotation" => {}
                "complexContent" => {
                    if child.attribute("mixed") == Some("true") {
                        ct.mixed = true;
                    }
                    let derivation = self.derivation(child)?;
                    if derivation.tag_name().name() == "extension" {
                        match self.type_ref(derivation, "base", true)? {
                            TypeRef::Named(base) => ct.base = Some(base),
                            // Extending anyType adds nothing to inherit.
                            TypeRef::Builtin(_) => {}
                        }
                    }
                    // A restriction restates the whole content model, so nothing is inherited.
                    self.content(derivation, &name, &mut ct)?;
                }
                "simpleContent" => {
                    let derivation = self.derivation(child)?;
                    let base = self.type_ref(derivation, "base", false)?;
                    // Whether a named base is simple (the text's type) or complex (with
                    // simple content of its own) is only known once every type is read;
                    // record both readings and let the checker use whichever resolves.
                    if let TypeRef::Named(base) = &base {
                        ct.base = Some(base.clone());
                    }
                    ct.text = Some(base);
                    self.attributes(derivation, &name, &mut ct)?;
                }
                _ => self.particle_or_attribute(child, &name, false, &mut ct)?,
            }
        }
        self.schema.complex.insert(name, ct);
        Ok(())
    }

    /// The single `extension` or `restriction` inside complexContent/simpleContent.
    fn derivation<'n>(&self, node: Node<'n, 'i>) -> Result<Node<'n, 'i>, SchemaError> {
        xsd_children(node)
            .find(|c| matches!(c.tag_name().name(), "extension" | "restriction"))
            .ok_or_else(|| {
                self.error(
                    node,
                    format!(
                        "<xsd:{}> has no extension or restriction",
                        node.tag_name().name()
                    ),
                )
            })
    }

    /// Reads the particles and attributes inside an extension or restriction.
    fn content(
        &mut self,
        node: Node,
        owner: &str,
        ct: &mut ComplexType,
    ) -> Result<(), SchemaError> {
        for child in xsd_children(node) {
            self.particle_or_attribute(child, owner, false, ct)?;
        }
        Ok(())
    }

    /// Reads only attribute declarations (simpleContent derivations).
    fn attributes(
        &mut self,
        node: Node,
        owner: &str,
        ct: &mut ComplexType,
    ) -> Result<(), SchemaError> {
        for child in xsd_children(node) {
            match child.tag_name().name() {
                "annotation" | "enumeration" | "pattern" | "length" | "minLength" | "maxLength"
                | "minInclusive" | "maxInclusive" | "minExclusive" | "maxExclusive"
                | "totalDigits" | "fractionDigits" | "whiteSpace" => {}
                "attribute" | "anyAttribute" => {
                    self.particle_or_attribute(child, owner, false, ct)?
                }
                _ => return Err(self.unsupported(child, owner)),
            }
        }
        Ok(())
    }

    /// Reads one model group, element, wildcard or attribute declaration.
    fn particle_or_attribute(
        &mut self,
        node: Node,
        owner: &str,
        in_repeated_group: bool,
        ct: &mut ComplexType,
    ) -> Result<(), SchemaError> {
        match node.tag_name().name() {
            "annotation" => {}
            "sequence" | "choice" | "all" => {
                let repeated = in_repeated_group || self.repeatable(node)?;
                for child in xsd_children(node) {
                    self.particle_or_attribute(child, owner, repeated, ct)?;
                }
            }
            "element" => {
                if node.attribute("ref").is_some() {
                    return Err(self.error(
                        node,
                        format!("element references (`ref`) in {owner} are not supported"),
                    ));
                }
                let name = self.required_attribute(node, "name")?.to_owned();
                let ty = self.element_type(node, owner, &name)?;
                ct.elements.push(ElementDecl {
                    repeatable: in_repeated_group || self.repeatable(node)?,
                    nillable: node.attribute("nillable") == Some("true"),
                    name,
                    ty,
                });
            }
            "any" => ct.any_element = true,
            "attribute" => {
                if let Some(name) = node.attribute("name").or_else(|| node.attribute("ref")) {
                    // A referenced attribute is named by its QName's local part.
                    let local = name.rsplit(':').next().unwrap_or(name);
                    ct.attributes.push(local.to_owned());
                } else {
                    return Err(self.error(node, "<xsd:attribute> has neither `name` nor `ref`"));
                }
            }
            "anyAttribute" => ct.any_attribute = true,
            _ => return Err(self.unsupported(node, owner)),
        }
        Ok(())
    }

    /// An element's type: its `type` attribute, an inline type, or anyType.
    fn element_type(
        &mut self,
        node: Node,
        owner: &str,
        name: &str,
    ) -> Result<TypeRef, SchemaError> {
        if node.attribute("type").is_some() {
            return self.type_ref(node, "type", false);
        }
        let inline = xsd_children(node)
            .find(|c| matches!(c.tag_name().name(), "complexType" | "simpleType"));
        match inline {
            None => Ok(TypeRef::Builtin(Builtin::AnyType)),
            Some(inline) => {
                let synthetic = format!("{owner}.{name}");
                if inline.tag_name().name() == "complexType" {
                    self.complex_type(inline, synthetic.clone())?;
                } else {
                    self.simple_type(inline, synthetic.clone())?;
                }
                Ok(TypeRef::Named(synthetic))
            }
        }
    }

    /// Whether `maxOccurs` allows more than one occurrence.
    fn repeatable(&self, node: Node) -> Result<bool, SchemaError> {
        match node.attribute("maxOccurs") {
            None | Some("1") => Ok(false),
            Some("unbounded") => Ok(true),
            Some(n) => match n.parse::<u64>() {
                Ok(n) => Ok(n > 1),
                Err(_) => Err(self.error(
                    node,
                    format!("maxOccurs=\"{n}\" is not a number or `unbounded`"),
                )),
            },
        }
    }

    fn simple_type(&mut self, node: Node, name: String) -> Result<(), SchemaError> {
        self.define(node, &name)?;
        let mut st = None;
        for child in xsd_children(node) {
            match child.tag_name().name() {
                "annotation" => {}
                "restriction" => {
                    let base = self.type_ref(child, "base", false)?;
                    let enumeration = xsd_children(child)
                        .filter(|c| c.tag_name().name() == "enumeration")
                        .map(|c| self.required_attribute(c, "value").map(str::to_owned))
                        .collect::<Result<Vec<_>, _>>()?;
                    st = Some(SimpleType { base, enumeration });
                }
                "list" | "union" => {
                    st = Some(SimpleType {
                        base: TypeRef::Builtin(Builtin::Text("string")),
                        enumeration: Vec::new(),
                    });
                }
                _ => return Err(self.unsupported(child, &name)),
            }
        }
        let st = st.ok_or_else(|| {
            self.error(
                node,
                format!("simpleType `{name}` has no restriction, list or union"),
            )
        })?;
        self.schema.simple.insert(name, st);
        Ok(())
    }

    /// Checks that every named reference resolves and that extensions do not loop.
    fn resolve_references(&self) -> Result<(), SchemaError> {
        for (name, complex_only, offset) in &self.references {
            let found = self.schema.complex.contains_key(name)
                || (!complex_only && self.schema.simple.contains_key(name));
            if !found {
                let kind = if *complex_only { "complexType" } else { "type" };
                return Err(self.error_at(*offset, format!("refers to undefined {kind} `{name}`")));
            }
        }
        for (name, ct) in &self.schema.complex {
            let mut seen = HashSet::from([name.as_str()]);
            let mut base = ct.base.as_deref();
            while let Some(b) = base {
                if !seen.insert(b) {
                    let offset = self.positions.get(name).copied().unwrap_or(0);
                    return Err(self.error_at(
                        offset,
                        format!("complexType `{name}` extends itself through `{b}`"),
                    ));
                }
                base = self.schema.complex.get(b).and_then(|c| c.base.as_deref());
            }
        }
        Ok(())
    }
}

/// Whether `node` is the XML Schema element `name`.
fn is_xsd(node: Node, name: &str) -> bool {
    node.is_element()
        && node.tag_name().namespace() == Some(XSD_NS)
        && node.tag_name().name() == name
}

/// Child elements in the XML Schema namespace (documentation content is skipped).
fn xsd_children<'a, 'i>(node: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children()
        .filter(|c| c.is_element() && c.tag_name().namespace() == Some(XSD_NS))
}

/// The version in a comment such as "Salesforce.com Metadata API version 47.0".
fn version_in_comments(doc: &Document) -> Option<String> {
    doc.descendants()
        .filter(|n| n.is_comment())
        .filter_map(|n| n.text())
        .find_map(|text| {
            let rest = &text[text.find("API version")? + "API version".len()..];
            version_token(rest.trim_start())
        })
}

/// The version in a file name such as `47.xml` or `metadata-52.0.wsdl`.
fn version_in_name(origin: &str) -> Option<String> {
    let name = origin.rsplit(['/', '\\']).next().unwrap_or(origin);
    let start = name.find(|c: char| c.is_ascii_digit())?;
    version_token(&name[start..])
}

/// Reads `47` or `47.0` at the start of `text` as `47.0`.
fn version_token(text: &str) -> Option<String> {
    let major_len = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    if major_len == 0 {
        return None;
    }
    let (major, rest) = text.split_at(major_len);
    let minor_len = rest
        .strip_prefix('.')
        .map(|r| r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len()))
        .unwrap_or(0);
    let minor = if minor_len == 0 {
        "0"
    } else {
        &rest[1..=minor_len]
    };
    Some(format!("{major}.{minor}"))
}
