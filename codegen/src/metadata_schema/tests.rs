//! Tests of the schema reader and checker on a small handwritten WSDL.

use std::fs;
use std::path::Path;

use super::{MetadataSchema, SchemaError, Severity};

/// A miniature Metadata API WSDL: `Widget` extends `Metadata` and uses every kind
/// of type the checker distinguishes.
const WSDL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!--
Salesforce.com Metadata API version 47.0
-->
<definitions targetNamespace="urn:test" xmlns="http://schemas.xmlsoap.org/wsdl/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:tns="urn:test">
 <types>
  <xsd:schema elementFormDefault="qualified" targetNamespace="urn:test">
   <xsd:complexType name="Metadata">
    <xsd:sequence>
     <xsd:element name="fullName" minOccurs="0" type="xsd:string"/>
    </xsd:sequence>
   </xsd:complexType>
   <xsd:complexType name="Widget">
    <xsd:complexContent>
     <xsd:extension base="tns:Metadata">
      <xsd:sequence>
       <xsd:element name="active" type="xsd:boolean"/>
       <xsd:element name="kind" type="tns:WidgetKind"/>
       <xsd:element name="label" type="xsd:string"/>
       <xsd:element name="parts" minOccurs="0" maxOccurs="unbounded" type="tns:Part"/>
       <xsd:element name="size" minOccurs="0" type="xsd:int"/>
       <xsd:element name="weight" minOccurs="0" type="xsd:double"/>
      </xsd:sequence>
     </xsd:extension>
    </xsd:complexContent>
   </xsd:complexType>
   <xsd:complexType name="Part">
    <xsd:sequence>
     <xsd:element name="count" type="xsd:long"/>
     <xsd:element name="name" type="xsd:string"/>
    </xsd:sequence>
   </xsd:complexType>
   <xsd:simpleType name="WidgetKind">
    <xsd:restriction base="xsd:string">
     <xsd:enumeration value="Round"/>
     <xsd:enumeration value="Square"/>
    </xsd:restriction>
   </xsd:simpleType>
   <xsd:complexType name="PermissionSet">
    <xsd:complexContent>
     <xsd:extension base="tns:Metadata">
      <xsd:sequence>
       <xsd:element name="label" type="xsd:string"/>
      </xsd:sequence>
     </xsd:extension>
    </xsd:complexContent>
   </xsd:complexType>
   <xsd:complexType name="CustomMetadata">
    <xsd:complexContent>
     <xsd:extension base="tns:Metadata">
      <xsd:sequence>
       <xsd:element name="label" minOccurs="0" type="xsd:string"/>
       <xsd:element name="values" minOccurs="0" maxOccurs="unbounded" type="tns:CustomMetadataValue"/>
      </xsd:sequence>
     </xsd:extension>
    </xsd:complexContent>
   </xsd:complexType>
   <xsd:complexType name="CustomMetadataValue">
    <xsd:sequence>
     <xsd:element name="field" type="xsd:string"/>
     <xsd:element name="value" type="xsd:anyType" nillable="true"/>
    </xsd:sequence>
   </xsd:complexType>
  </xsd:schema>
 </types>
</definitions>
"#;

fn schema() -> MetadataSchema {
    MetadataSchema::from_wsdl_str(WSDL, "test.wsdl").expect("the test WSDL is valid")
}

/// The findings for `doc` as display lines, with file name `t.xml`.
fn check(schema: &MetadataSchema, doc: &str) -> Vec<String> {
    schema
        .check_document(doc, Path::new("t.xml"))
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// Wraps child elements in a `Widget` root whose first child is on line 2, column 3.
fn widget(children: &str) -> String {
    format!("<Widget xmlns=\"urn:test\">\n  {children}\n</Widget>")
}

/// Wraps `values` in a `CustomMetadata` root declaring the xsi and xsd prefixes.
fn record(values: &str) -> String {
    format!(
        "<CustomMetadata xmlns=\"urn:test\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">\n  {values}\n</CustomMetadata>"
    )
}

fn schema_error(wsdl: &str) -> String {
    match MetadataSchema::from_wsdl_str(wsdl, "bad.wsdl") {
        Ok(_) => panic!("schema unexpectedly accepted"),
        Err(err) => err.to_string(),
    }
}

#[test]
fn version_comes_from_the_wsdl_comment_else_the_file_name() {
    assert_eq!(schema().api_version(), Some("47.0"));
    let without_comment = WSDL.replace("Salesforce.com Metadata API version 47.0", "");
    let named = MetadataSchema::from_wsdl_str(&without_comment, "wsdl/metadata/52.xml").unwrap();
    assert_eq!(named.api_version(), Some("52.0"));
    let dotted = MetadataSchema::from_wsdl_str(&without_comment, "metadata-58.0.wsdl").unwrap();
    assert_eq!(dotted.api_version(), Some("58.0"));
    let unnamed = MetadataSchema::from_wsdl_str(&without_comment, "metadata.wsdl").unwrap();
    assert_eq!(unnamed.api_version(), None);
}

#[test]
fn a_valid_document_with_inherited_and_repeated_elements_has_no_findings() {
    let doc = widget(
        "<fullName>W</fullName>\
         <label>W</label><active>true</active><kind>Round</kind>\
         <size>-12</size><weight>1.5E3</weight>\
         <parts><name>a</name><count>9000000000</count></parts>\
         <parts><count>1</count><name>b</name></parts>",
    );
    assert_eq!(check(&schema(), &doc), Vec::<String>::new());
}

#[test]
fn enumeration_values_must_be_listed() {
    let doc = widget("<kind>Oval</kind>");
    assert_eq!(
        check(&schema(), &doc),
        [
            "t.xml:2:3: error: <kind> value `Oval` is not a WidgetKind (expected one of: Round, Square)"
        ]
    );
    // Enumerations are compared exactly, as XML Schema does for strings.
    assert_eq!(check(&schema(), &widget("<kind>round</kind>")).len(), 1);
}

#[test]
fn booleans_and_numbers_are_checked() {
    let doc = widget("<active>yes</active>\n  <size>1.5</size>\n  <weight>heavy</weight>");
    assert_eq!(
        check(&schema(), &doc),
        [
            "t.xml:2:3: error: <active> value `yes` is not a boolean (expected true or false)",
            "t.xml:3:3: error: <size> value `1.5` is not an int (a whole number from -2147483648 to 2147483647)",
            "t.xml:4:3: error: <weight> value `heavy` is not a double (a number such as 12, -0.5 or 1.5E3)",
        ]
    );
}

#[test]
fn nested_types_are_checked_recursively() {
    let doc = widget("<parts>\n    <count>many</count>\n    <colour>red</colour>\n  </parts>");
    assert_eq!(
        check(&schema(), &doc),
        [
            "t.xml:3:5: error: <count> value `many` is not a long (a whole number from -9223372036854775808 to 9223372036854775807)",
            "t.xml:4:5: error: <colour> is not an element of Part",
        ]
    );
}

#[test]
fn single_elements_must_not_repeat_but_order_is_free() {
    let doc = widget("<label>a</label><active>true</active><label>b</label><label>c</label>");
    assert_eq!(
        check(&schema(), &doc),
        [
            "t.xml:2:40: error: <label> occurs more than once in Widget (maxOccurs is 1; first at line 2)",
            "t.xml:2:56: error: <label> occurs more than once in Widget (maxOccurs is 1; first at line 2)",
        ]
    );
}

#[test]
fn unknown_elements_name_the_type() {
    let doc = widget("<colour>red</colour>");
    assert_eq!(
        check(&schema(), &doc),
        ["t.xml:2:3: error: <colour> is not an element of Widget"]
    );
}

#[test]
fn elements_added_after_the_schema_are_not_errors() {
    let doc = "<PermissionSet xmlns=\"urn:test\">\n  <label>P</label>\n  \
               <externalCredentialPrincipalAccesses><enabled>yes</enabled></externalCredentialPrincipalAccesses>\n\
               </PermissionSet>";
    let findings = schema().check_document(doc, Path::new("t.xml"));
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].severity, Severity::NewerThanSchema);
    assert_eq!(
        findings[0].to_string(),
        "t.xml:3:3: newer-than-schema: <externalCredentialPrincipalAccesses> in PermissionSet \
         was added in API 56.0; the API 47.0 schema cannot check it"
    );
    // A schema as new as the element should have declared it: then it is an error.
    let newer =
        MetadataSchema::from_wsdl_str(&WSDL.replace("version 47.0", "version 56.0"), "x").unwrap();
    let findings = newer.check_document(doc, Path::new("t.xml"));
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].severity, Severity::Error);
}

#[test]
fn xsi_type_decides_how_a_custom_metadata_value_is_checked() {
    let doc = record(
        "<values><field>A</field><value xsi:type=\"xsd:string\">anything</value></values>\n  \
         <values><field>B</field><value xsi:type=\"xsd:boolean\">true</value></values>\n  \
         <values><field>C</field><value xsi:type=\"xsd:boolean\">1</value></values>\n  \
         <values><field>D</field><value xsi:type=\"xsd:double\">12.5</value></values>\n  \
         <values><field>E</field><value xsi:type=\"xsd:double\">12,5</value></values>\n  \
         <values><field>F</field><value xsi:type=\"xsd:int\">7</value></values>\n  \
         <values><field>G</field><value xsi:nil=\"true\"/></values>\n  \
         <values><field>H</field><value>untyped</value></values>",
    );
    assert_eq!(
        check(&schema(), &doc),
        [
            "t.xml:4:27: error: <value> value `1` is not a boolean (expected true or false)",
            "t.xml:6:27: error: <value> value `12,5` is not a double (a number such as 12, -0.5 or 1.5E3)",
        ]
    );
}

#[test]
fn xsi_attributes_must_make_sense() {
    let doc = record(
        "<values><field>A</field><value xsi:type=\"xsd:text\">x</value></values>\n  \
         <values><field>B</field><value xsi:type=\"q:string\">x</value></values>\n  \
         <values><field>C</field><value xsi:nil=\"true\">x</value></values>\n  \
         <values><field xsi:nil=\"true\"/><value>x</value></values>\n  \
         <values><field>D</field><value xsi:type=\"Part\"><count>x</count><name>n</name></value></values>",
    );
    assert_eq!(
        check(&schema(), &doc),
        [
            "t.xml:2:34: error: xsi:type=\"xsd:text\" is not an XML Schema built-in type",
            "t.xml:3:34: error: xsi:type=\"q:string\" uses namespace prefix `q`, which is not declared",
            "t.xml:4:27: error: <value> has xsi:nil=\"true\" but is not empty",
            "t.xml:5:11: error: <field> is not nillable, so xsi:nil=\"true\" is not allowed",
            "t.xml:6:50: error: <count> value `x` is not a long (a whole number from -9223372036854775808 to 9223372036854775807)",
        ]
    );
}

#[test]
fn content_must_match_simple_or_complex_types() {
    let doc =
        widget("<parts>loose<name>n</name><count>1</count></parts>\n  <label><b>bold</b></label>");
    assert_eq!(
        check(&schema(), &doc),
        [
            "t.xml:2:10: error: <parts> of type Part takes child elements, not text such as `loose`",
            "t.xml:3:10: error: <label> holds a string value and cannot contain elements such as <b>",
        ]
    );
}

#[test]
fn undeclared_attributes_are_errors_but_namespaces_are_ignored() {
    let doc = "<Widget xmlns=\"urn:test\" xmlns:x=\"urn:other\" x:note=\"ok\">\n  <label lang=\"en\">W</label>\n</Widget>";
    assert_eq!(
        check(&schema(), doc),
        ["t.xml:2:10: error: attribute `lang` is not allowed on <label>"]
    );
}

#[test]
fn the_root_must_be_a_metadata_type_and_the_xml_well_formed() {
    assert_eq!(
        check(&schema(), "<Part xmlns=\"urn:test\"/>"),
        ["t.xml:1:1: error: <Part> is not a metadata type in the API 47.0 schema"]
    );
    assert_eq!(
        check(&schema(), "<Metadata/>"),
        ["t.xml:1:1: error: <Metadata> is not a metadata type in the API 47.0 schema"]
    );
    assert_eq!(
        check(&schema(), "<Widget>\n  <label>x</Widget>"),
        ["t.xml:2:11: error: not well-formed XML: expected 'label' tag, not 'Widget'"]
    );
}

#[test]
fn invalid_schemas_are_rejected_with_a_position() {
    assert_eq!(
        schema_error(&WSDL.replace("type=\"tns:Part\"", "type=\"tns:Piece\"")),
        "bad.wsdl:21:8: invalid schema: refers to undefined type `Piece`"
    );
    assert_eq!(
        schema_error(&WSDL.replace(
            "base=\"tns:Metadata\">\n      <xsd:sequence>\n       <xsd:element name=\"active\"",
            "base=\"tns:Widget\">\n      <xsd:sequence>\n       <xsd:element name=\"active\""
        )),
        "bad.wsdl:14:4: invalid schema: complexType `Widget` extends itself through `Widget`"
    );
    assert_eq!(
        schema_error(&WSDL.replace(
            "<xsd:sequence>\n     <xsd:element name=\"count\"",
            "<xsd:group ref=\"tns:G\"/><xsd:sequence>\n     <xsd:element name=\"count\""
        )),
        "bad.wsdl:29:5: invalid schema: unsupported <xsd:group> in Part"
    );
    assert_eq!(
        schema_error("<definitions/>"),
        "bad.wsdl contains no <xsd:schema> element, so it is not a Metadata API WSDL"
    );
    assert!(schema_error("<definitions>").starts_with("bad.wsdl is not well-formed XML: "));
    let missing = MetadataSchema::from_wsdl_file(Path::new("/nonexistent/47.xml")).unwrap_err();
    assert!(matches!(missing, SchemaError::ReadWsdl { .. }), "{missing}");
    assert!(
        missing
            .to_string()
            .starts_with("cannot read Metadata API WSDL /nonexistent/47.xml: ")
    );
}

#[test]
fn check_tree_reads_meta_files_recursively_in_order() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let write = |rel: &str, bytes: &[u8]| {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    };
    write(
        "b/W.widget-meta.xml",
        widget("<size>x</size>\n  <kind>Oval</kind>").as_bytes(),
    );
    write(
        "a/nested/V.widget-meta.xml",
        widget("<active>no</active>").as_bytes(),
    );
    write("a/readme.xml", b"<Nonsense/>");
    write(".hidden/H.widget-meta.xml", b"<Nonsense/>");
    write("node_modules/N.widget-meta.xml", b"<Nonsense/>");
    write("c/Bin.widget-meta.xml", b"<Widget>\n\xff</Widget>");

    let findings = schema().check_tree(dir).unwrap();
    let lines: Vec<String> = findings
        .iter()
        .map(|f| {
            let rel = f.file.strip_prefix(dir).unwrap().display().to_string();
            format!("{rel}:{}:{}: {}", f.line, f.column, f.message)
        })
        .collect();
    assert_eq!(
        lines,
        [
            "a/nested/V.widget-meta.xml:2:3: <active> value `no` is not a boolean (expected true or false)",
            "b/W.widget-meta.xml:2:3: <size> value `x` is not an int (a whole number from -2147483648 to 2147483647)",
            "b/W.widget-meta.xml:3:3: <kind> value `Oval` is not a WidgetKind (expected one of: Round, Square)",
            "c/Bin.widget-meta.xml:2:1: file is not valid UTF-8",
        ]
    );
    let missing = schema().check_tree(&dir.join("gone")).unwrap_err();
    assert!(
        matches!(missing, SchemaError::ListFolder { .. }),
        "{missing}"
    );
}
