//! What Salesforce fills in on create that the describe in `sfdc-types` does not carry,
//! read from the metadata in force-app: the display format of auto-number `Name` fields
//! (`TXN-{000000}`) and the default value of picklists (`<default>true</default>`).

use std::collections::HashMap;
use std::path::Path;

use sfdc_types::time::OffsetDateTime;

/// Auto-number formats and picklist defaults, by lower-cased object (and field) name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Defaults {
    formats: HashMap<String, String>,
    picklists: HashMap<(String, String), String>,
}

impl Defaults {
    /// Reads every object under `force_app/main/default/objects` (or `force_app/objects`):
    /// `<nameField><displayFormat>` of the object file and the default value of each
    /// picklist field file. Unreadable files are skipped: their objects are then numbered
    /// `PREFIX-{000000}` and their picklists left empty.
    pub fn read(force_app: &Path) -> Self {
        let mut defaults = Self::default();
        for objects in [
            force_app.join("main/default/objects"),
            force_app.join("objects"),
        ] {
            let Ok(entries) = std::fs::read_dir(&objects) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let object = name.to_ascii_lowercase();
                let file = entry.path().join(format!("{name}.object-meta.xml"));
                if let Some(format) = std::fs::read_to_string(&file)
                    .ok()
                    .and_then(|xml| name_field_format(&xml))
                {
                    defaults.formats.insert(object.clone(), format);
                }
                let Ok(fields) = std::fs::read_dir(entry.path().join("fields")) else {
                    continue;
                };
                for field in fields.flatten() {
                    let file_name = field.file_name().to_string_lossy().into_owned();
                    let Some(field_name) = file_name.strip_suffix(".field-meta.xml") else {
                        continue;
                    };
                    if let Some(value) = std::fs::read_to_string(field.path())
                        .ok()
                        .and_then(|xml| picklist_default(&xml))
                    {
                        let key = (object.clone(), field_name.to_ascii_lowercase());
                        defaults.picklists.insert(key, value);
                    }
                }
            }
        }
        defaults
    }

    /// The default value of a picklist field, if its metadata names one.
    pub fn picklist(&self, object: &str, field: &str) -> Option<&str> {
        let key = (object.to_ascii_lowercase(), field.to_ascii_lowercase());
        self.picklists.get(&key).map(String::as_str)
    }

    /// The `number`-th auto number of `object`: its display format with `{0…}` filled
    /// (zero-padded to the braces' width) and `{YYYY}`, `{YY}`, `{MM}`, `{DD}` from today.
    pub fn format(&self, object: &str, number: u64) -> String {
        let format = self
            .formats
            .get(&object.to_ascii_lowercase())
            .cloned()
            .unwrap_or_else(|| format!("{}-{{000000}}", default_prefix(object)));
        fill(&format, number, OffsetDateTime::now_utc())
    }
}

/// `<displayFormat>` inside `<nameField>`, if the name field is an auto number.
fn name_field_format(xml: &str) -> Option<String> {
    let start = xml.find("<nameField>")?;
    let end = start + xml[start..].find("</nameField>")?;
    let name_field = &xml[start..end];
    if !name_field.contains("<type>AutoNumber</type>") {
        return None;
    }
    let open = name_field.find("<displayFormat>")? + "<displayFormat>".len();
    let close = open + name_field[open..].find("</displayFormat>")?;
    Some(unescape(name_field[open..close].trim()))
}

/// The `<fullName>` of the `<value>` marked `<default>true</default>` in a picklist field.
fn picklist_default(xml: &str) -> Option<String> {
    let mut rest = xml;
    while let Some(start) = rest.find("<value>") {
        let end = start + rest[start..].find("</value>")?;
        let value = &rest[start..end];
        if value.contains("<default>true</default>") {
            let open = value.find("<fullName>")? + "<fullName>".len();
            let close = open + value[open..].find("</fullName>")?;
            return Some(unescape(value[open..close].trim()));
        }
        rest = &rest[end..];
    }
    None
}

/// XML character entities in a display format.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Upper-case letters of the object name without `__c`, e.g. `SWE` for
/// `Stripe_Webhook_Event__c`.
fn default_prefix(object: &str) -> String {
    let base = object.strip_suffix("__c").unwrap_or(object);
    let letters: String = base
        .split('_')
        .filter_map(|word| word.chars().next())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if letters.is_empty() {
        "REC".to_owned()
    } else {
        letters
    }
}

/// A display format with its placeholders filled.
fn fill(format: &str, number: u64, today: OffsetDateTime) -> String {
    let mut out = String::new();
    let mut rest = format;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let token = &rest[open + 1..open + close];
        match token {
            _ if !token.is_empty() && token.bytes().all(|b| b == b'0') => {
                out.push_str(&format!("{number:0width$}", width = token.len()));
            }
            "YYYY" => out.push_str(&format!("{:04}", today.year())),
            "YY" => out.push_str(&format!("{:02}", today.year().rem_euclid(100))),
            "MM" => out.push_str(&format!("{:02}", u8::from(today.month()))),
            "DD" => out.push_str(&format!("{:02}", today.day())),
            other => {
                out.push('{');
                out.push_str(other);
                out.push('}');
            }
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_placeholders() {
        let day = sfdc_types::format::parse_datetime("2026-11-23T00:00:00Z").unwrap();
        assert_eq!(fill("TXN-{000000}", 42, day), "TXN-000042");
        assert_eq!(fill("EVT-{00000000}", 7, day), "EVT-00000007");
        assert_eq!(fill("{YYYY}{MM}{DD}-{0}", 1234, day), "20261123-1234");
        assert_eq!(fill("A-{X}-{00}", 3, day), "A-{X}-03");
    }

    #[test]
    fn reads_the_name_field() {
        let xml = "<CustomObject><nameField><displayFormat>INV-{000000}</displayFormat>\
                   <label>Invoice Number</label><type>AutoNumber</type></nameField></CustomObject>";
        assert_eq!(name_field_format(xml).unwrap(), "INV-{000000}");
        let text = "<CustomObject><nameField><label>Name</label><type>Text</type></nameField></CustomObject>";
        assert_eq!(name_field_format(text), None);
    }

    #[test]
    fn falls_back_to_initials() {
        let numbers = Defaults::default();
        assert_eq!(numbers.format("Stripe_Webhook_Event__c", 5), "SWE-000005");
    }

    #[test]
    fn reads_force_app() {
        let force_app = Path::new(env!("CARGO_MANIFEST_DIR")).join("../force-app");
        let defaults = Defaults::read(&force_app);
        assert_eq!(defaults.format("Payment_Transaction__c", 1), "TXN-000001");
        assert_eq!(
            defaults.picklist("Stripe_Subscription__c", "sync_status__c"),
            Some("Draft")
        );
        assert_eq!(
            defaults.picklist("Stripe_Subscription__c", "Currency__c"),
            None
        );
    }

    #[test]
    fn picklist_default_is_the_marked_value() {
        let xml = "<valueSet><valueSetDefinition><value><fullName>a</fullName><default>false</default></value>\
                   <value><fullName>b &amp; c</fullName><default>true</default></value></valueSetDefinition></valueSet>";
        assert_eq!(picklist_default(xml).unwrap(), "b & c");
        assert_eq!(picklist_default("<valueSetName>X</valueSetName>"), None);
    }
}
