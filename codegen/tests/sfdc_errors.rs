//! Malformed or inconsistent metadata fails with the file, the line and what is wrong.

use std::fs;
use std::path::{Path, PathBuf};

use codegen::sfdc::{LoadError, load};

/// A throwaway force-app folder with one valid custom object, `Thing__c`.
struct ForceApp {
    dir: tempfile::TempDir,
}

impl ForceApp {
    fn new() -> ForceApp {
        let app = ForceApp {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        app.write(
            "objects/Thing__c/Thing__c.object-meta.xml",
            &object("Thing"),
        );
        app.write(
            "objects/Thing__c/fields/Code__c.field-meta.xml",
            &field("Code__c", "<type>Text</type>\n    <length>20</length>"),
        );
        app
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("force-app")
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.root().join("main/default").join(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, text).expect("write");
    }

    /// The load errors, with the temp folder stripped from paths.
    fn errors(&self) -> Vec<String> {
        match load(&self.root()) {
            Ok(_) => Vec::new(),
            Err(LoadError::Invalid(errors)) => errors
                .iter()
                .map(|e| {
                    e.to_string()
                        .replace(&format!("{}/", self.root().display()), "")
                })
                .collect(),
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
}

fn object(label: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <label>{label}</label>
    <pluralLabel>{label}s</pluralLabel>
    <nameField>
        <label>{label} Name</label>
        <type>Text</type>
    </nameField>
    <deploymentStatus>Deployed</deploymentStatus>
    <sharingModel>ReadWrite</sharingModel>
</CustomObject>
"#
    )
}

fn field(name: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">
    <fullName>{name}</fullName>
    <label>{name}</label>
    {body}
</CustomField>
"#
    )
}

const FIELD: &str = "main/default/objects/Thing__c/fields";

#[test]
fn the_baseline_fixture_is_valid() {
    let app = ForceApp::new();
    assert_eq!(app.errors(), Vec::<String>::new());
    let model = load(&app.root()).expect("loads");
    let thing = model.object("Thing__c").expect("Thing__c");
    assert!(thing.field("Code__c").is_some());
    assert!(thing.field("OwnerId").is_some(), "system fields are added");
    assert!(model.object("User").is_some(), "OwnerId pulls in User");
}

#[test]
fn malformed_xml() {
    let app = ForceApp::new();
    app.write(
        "objects/Thing__c/fields/Bad__c.field-meta.xml",
        "<?xml version=\"1.0\"?>\n<CustomField>\n  <fullName>Bad__c</fullName>\n  <type>Text</tpye>\n</CustomField>\n",
    );
    let errors = app.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with(&format!("{FIELD}/Bad__c.field-meta.xml:4: malformed XML:")),
        "{errors:?}"
    );
}

#[test]
fn unknown_field_type() {
    let app = ForceApp::new();
    app.write(
        "objects/Thing__c/fields/Size__c.field-meta.xml",
        &field("Size__c", "<type>Txt</type>"),
    );
    assert_eq!(
        app.errors(),
        [format!(
            "{FIELD}/Size__c.field-meta.xml:5: unknown field type `Txt` for `Thing__c.Size__c` (expected one of: Text, TextArea, LongTextArea, Html, Email, Phone, Url, EncryptedText, Number, Currency, Percent, Checkbox, Date, DateTime, Time, Picklist, MultiselectPicklist, Lookup, MasterDetail, AutoNumber)"
        )]
    );
}

#[test]
fn field_type_the_generator_does_not_support() {
    let app = ForceApp::new();
    app.write(
        "objects/Thing__c/fields/Where__c.field-meta.xml",
        &field("Where__c", "<type>Location</type>"),
    );
    assert_eq!(
        app.errors(),
        [format!(
            "{FIELD}/Where__c.field-meta.xml:5: field type `Location` of `Thing__c.Where__c` is not supported by the generator"
        )]
    );
}

#[test]
fn picklist_without_values() {
    let app = ForceApp::new();
    app.write(
        "objects/Thing__c/fields/Mood__c.field-meta.xml",
        &field(
            "Mood__c",
            "<type>Picklist</type>\n    <valueSet>\n        <restricted>true</restricted>\n        <valueSetDefinition>\n            <sorted>false</sorted>\n        </valueSetDefinition>\n    </valueSet>",
        ),
    );
    assert_eq!(
        app.errors(),
        [format!(
            "{FIELD}/Mood__c.field-meta.xml:6: `Thing__c.Mood__c`: picklist without values (add <value> entries to <valueSetDefinition> or name a global value set)"
        )]
    );
}

#[test]
fn duplicate_picklist_value() {
    let app = ForceApp::new();
    app.write(
        "objects/Thing__c/fields/Mood__c.field-meta.xml",
        &field(
            "Mood__c",
            "<type>Picklist</type>\n    <valueSet>\n        <valueSetDefinition>\n            <value><fullName>calm</fullName><default>false</default><label>calm</label></value>\n            <value><fullName>Calm</fullName><default>false</default><label>Calm</label></value>\n        </valueSetDefinition>\n    </valueSet>",
        ),
    );
    assert_eq!(
        app.errors(),
        [format!(
            "{FIELD}/Mood__c.field-meta.xml:6: `Thing__c.Mood__c`: duplicate picklist value `Calm`"
        )]
    );
}

#[test]
fn lookup_to_an_unknown_object() {
    let app = ForceApp::new();
    app.write(
        "objects/Thing__c/fields/Owner_Team__c.field-meta.xml",
        &field(
            "Owner_Team__c",
            "<type>Lookup</type>\n    <referenceTo>Team__c</referenceTo>\n    <relationshipName>Things</relationshipName>",
        ),
    );
    assert_eq!(
        app.errors(),
        [format!(
            "{FIELD}/Owner_Team__c.field-meta.xml:2: `Thing__c.Owner_Team__c` is a Lookup to `Team__c`, which is neither in force-app nor a known standard object (Account, Contact, Task, User)"
        )]
    );
}

#[test]
fn duplicate_api_names_differing_in_case() {
    let app = ForceApp::new();
    app.write(
        "objects/Thing__c/fields/CODE__c.field-meta.xml",
        &field("CODE__c", "<type>Text</type>\n    <length>20</length>"),
    );
    assert_eq!(
        app.errors(),
        [format!(
            "{FIELD}/Code__c.field-meta.xml:2: duplicate field API name `Code__c` (also declared as `CODE__c`; API names are case-insensitive)"
        )]
    );
}

#[test]
fn duplicate_of_a_system_field() {
    let app = ForceApp::new();
    app.write(
        "objects/Thing__c/fields/Name__c.field-meta.xml",
        &field("Name__c", "<type>Text</type>\n    <length>20</length>"),
    );
    // `Name__c` is a different API name from the standard `Name`: allowed.
    assert_eq!(app.errors(), Vec::<String>::new());
}

#[test]
fn missing_or_out_of_range_sizes() {
    let app = ForceApp::new();
    app.write(
        "objects/Thing__c/fields/Note__c.field-meta.xml",
        &field("Note__c", "<type>Text</type>"),
    );
    app.write(
        "objects/Thing__c/fields/Long__c.field-meta.xml",
        &field("Long__c", "<type>Text</type>\n    <length>300</length>"),
    );
    app.write(
        "objects/Thing__c/fields/Money__c.field-meta.xml",
        &field(
            "Money__c",
            "<type>Currency</type>\n    <precision>20</precision>\n    <scale>2</scale>",
        ),
    );
    assert_eq!(
        app.errors(),
        [
            format!(
                "{FIELD}/Long__c.field-meta.xml:6: `Thing__c.Long__c`: length 300 is out of range (1 to 255)"
            ),
            format!(
                "{FIELD}/Money__c.field-meta.xml:6: `Thing__c.Money__c`: precision 20 and scale 2 are out of range (precision 1 to 18, scale at most the precision)"
            ),
            format!("{FIELD}/Note__c.field-meta.xml:2: `Thing__c.Note__c`: <length> is missing"),
        ]
    );
}

#[test]
fn full_name_must_match_the_file() {
    let app = ForceApp::new();
    app.write(
        "objects/Thing__c/fields/Alpha__c.field-meta.xml",
        &field("Beta__c", "<type>Date</type>"),
    );
    assert_eq!(
        app.errors(),
        [format!(
            "{FIELD}/Alpha__c.field-meta.xml:3: <fullName> `Beta__c` does not match the file name `Alpha__c`"
        )]
    );
}

#[test]
fn unknown_global_value_set() {
    let app = ForceApp::new();
    app.write(
        "objects/Thing__c/fields/Kind__c.field-meta.xml",
        &field(
            "Kind__c",
            "<type>Picklist</type>\n    <valueSet>\n        <restricted>true</restricted>\n        <valueSetName>Kinds</valueSetName>\n    </valueSet>",
        ),
    );
    assert_eq!(
        app.errors(),
        [format!(
            "{FIELD}/Kind__c.field-meta.xml:2: `Thing__c.Kind__c` uses global value set `Kinds`, which is not in force-app"
        )]
    );
}

#[test]
fn checkbox_needs_a_default_and_booleans_are_strict() {
    let app = ForceApp::new();
    app.write(
        "objects/Thing__c/fields/Flag__c.field-meta.xml",
        &field("Flag__c", "<type>Checkbox</type>"),
    );
    app.write(
        "objects/Thing__c/fields/Key__c.field-meta.xml",
        &field(
            "Key__c",
            "<type>Text</type>\n    <length>20</length>\n    <externalId>yes</externalId>",
        ),
    );
    assert_eq!(
        app.errors(),
        [
            format!(
                "{FIELD}/Flag__c.field-meta.xml:2: `Thing__c.Flag__c`: checkbox fields need a <defaultValue> of true or false"
            ),
            format!(
                "{FIELD}/Key__c.field-meta.xml:7: <externalId> must be true or false, found `yes`"
            ),
        ]
    );
}

#[test]
fn external_id_on_a_type_that_cannot_be_one() {
    let app = ForceApp::new();
    app.write(
        "objects/Thing__c/fields/When__c.field-meta.xml",
        &field(
            "When__c",
            "<type>Date</type>\n    <externalId>true</externalId>",
        ),
    );
    assert_eq!(
        app.errors(),
        [format!(
            "{FIELD}/When__c.field-meta.xml:6: `Thing__c.When__c`: a Date field cannot be an external id (only Text, Number, Email and AutoNumber can)"
        )]
    );
}

#[test]
fn wrong_root_element_and_unknown_standard_object() {
    let app = ForceApp::new();
    app.write(
        "objects/Thing__c/fields/Odd__c.field-meta.xml",
        "<?xml version=\"1.0\"?>\n<CustomObject><label>x</label></CustomObject>\n",
    );
    app.write(
        "objects/Opportunity/fields/Stripe_Id__c.field-meta.xml",
        &field("Stripe_Id__c", "<type>Text</type>\n    <length>20</length>"),
    );
    assert_eq!(
        app.errors(),
        [
            "main/default/objects/Opportunity/fields/Stripe_Id__c.field-meta.xml:1: `Opportunity` is not a custom object (no __c or __mdt suffix) nor a standard object the generator knows (Account, Contact, Task, User)".to_string(),
            format!("{FIELD}/Odd__c.field-meta.xml:1: expected a <CustomField> document, found <CustomObject>"),
        ]
    );
}

#[test]
fn activity_fields_are_task_fields_granted_as_activity_fields() {
    let app = ForceApp::new();
    app.write(
        "objects/Activity/fields/Ref__c.field-meta.xml",
        &field(
            "Ref__c",
            "<type>Text</type>\n    <length>20</length>\n    <externalId>true</externalId>",
        ),
    );
    let permission_set = |fields: &str| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">
    <label>Ops</label>{fields}
    <userPermissions>
        <enabled>true</enabled>
        <name>EditTask</name>
    </userPermissions>
</PermissionSet>
"#
        )
    };
    let grant = |field: &str| {
        format!(
            "\n    <fieldPermissions>\n        <editable>true</editable>\n        <field>{field}</field>\n        <readable>true</readable>\n    </fieldPermissions>"
        )
    };
    app.write(
        "permissionsets/Ops.permissionset-meta.xml",
        &permission_set(&format!(
            "{}{}",
            grant("Activity.Ref__c"),
            grant("Activity.Ghost__c")
        )),
    );
    assert_eq!(
        app.errors(),
        [
            "main/default/permissionsets/Ops.permissionset-meta.xml:2: permission set `Ops` grants access to field `Activity.Ghost__c`, which does not exist"
        ]
    );

    app.write(
        "permissionsets/Ops.permissionset-meta.xml",
        &permission_set(&grant("Activity.Ref__c")),
    );
    let model = load(&app.root()).expect("the metadata loads");
    assert!(model.object("Activity").is_none());
    let task = model.object("Task").expect("Task is in the model");
    assert!(task.field("Ref__c").is_some_and(|f| f.external_id));
    assert!(task.field("Subject").is_some());
    let set = model.permission_set("Ops").expect("the permission set");
    // Tasks have no object permissions: `EditTask` lets the holder create and edit them.
    assert!(set.can_create("Task"));
    assert!(set.can_edit(&model, "Task", "Ref__c"));
    assert!(!set.can_create("Thing__c"));
}

#[test]
fn permission_sets_must_name_existing_grantable_fields() {
    let app = ForceApp::new();
    app.write(
        "objects/Thing__c/fields/Must__c.field-meta.xml",
        &field(
            "Must__c",
            "<type>Text</type>\n    <length>20</length>\n    <required>true</required>",
        ),
    );
    app.write(
        "permissionsets/Ops.permissionset-meta.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?>
<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">
    <label>Ops</label>
    <fieldPermissions>
        <editable>true</editable>
        <field>Thing__c.Ghost__c</field>
        <readable>true</readable>
    </fieldPermissions>
    <fieldPermissions>
        <editable>true</editable>
        <field>Thing__c.Must__c</field>
        <readable>true</readable>
    </fieldPermissions>
    <objectPermissions>
        <allowCreate>true</allowCreate>
        <allowDelete>false</allowDelete>
        <allowEdit>true</allowEdit>
        <allowRead>true</allowRead>
        <modifyAllRecords>false</modifyAllRecords>
        <object>Widget__c</object>
        <viewAllRecords>false</viewAllRecords>
    </objectPermissions>
</PermissionSet>
"#,
    );
    let at = "main/default/permissionsets/Ops.permissionset-meta.xml:2";
    assert_eq!(
        app.errors(),
        [
            format!(
                "{at}: permission set `Ops` grants access to object `Widget__c`, which is not in force-app nor a known standard object"
            ),
            format!(
                "{at}: permission set `Ops` grants access to field `Thing__c.Ghost__c`, which does not exist"
            ),
            format!(
                "{at}: permission set `Ops` lists `Thing__c.Must__c`, but required and master-detail fields cannot be listed in permission sets"
            ),
        ]
    );
}

#[test]
fn custom_metadata_records_are_checked_against_their_type() {
    let app = ForceApp::new();
    app.write(
        "objects/Plan__mdt/Plan__mdt.object-meta.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <label>Plan</label>
    <pluralLabel>Plans</pluralLabel>
    <visibility>Public</visibility>
</CustomObject>
"#,
    );
    app.write(
        "objects/Plan__mdt/fields/Active__c.field-meta.xml",
        &field(
            "Active__c",
            "<type>Checkbox</type>\n    <defaultValue>false</defaultValue>",
        ),
    );
    app.write(
        "customMetadata/Plan.Gold.md-meta.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?>
<CustomMetadata xmlns="http://soap.sforce.com/2006/04/metadata" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
    <label>Gold</label>
    <protected>false</protected>
    <values>
        <field>Active__c</field>
        <value xsi:type="xsd:boolean">maybe</value>
    </values>
    <values>
        <field>Tier__c</field>
        <value xsi:type="xsd:string">gold</value>
    </values>
</CustomMetadata>
"#,
    );
    let at = "main/default/customMetadata/Plan.Gold.md-meta.xml";
    assert_eq!(
        app.errors(),
        [
            format!(
                "{at}:7: custom metadata record `Plan.Gold`: `Active__c` must be true or false, found `maybe`"
            ),
            format!(
                "{at}:9: custom metadata record `Plan.Gold` sets `Tier__c`, which `Plan__mdt` does not have"
            ),
        ]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let app = ForceApp::new();
    app.write(
        "objects/Thing__c/fields/A__c.field-meta.xml",
        &field("A__c", "<type>Txt</type>"),
    );
    app.write(
        "objects/Thing__c/fields/B__c.field-meta.xml",
        &field("B__c", "<type>Text</type>"),
    );
    let error = load(&app.root()).expect_err("invalid");
    let text = error.to_string();
    assert!(
        text.starts_with("2 problem(s) in the Salesforce metadata:"),
        "{text}"
    );
    assert!(text.contains("A__c.field-meta.xml:5"), "{text}");
    assert!(text.contains("B__c.field-meta.xml:2"), "{text}");
}

#[test]
fn a_missing_folder_is_an_io_error_naming_it() {
    let error = load(Path::new("/nonexistent/force-app")).expect_err("missing");
    assert!(
        error
            .to_string()
            .starts_with("cannot read /nonexistent/force-app:"),
        "{error}"
    );
}
