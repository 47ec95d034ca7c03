//! The Bulk API 2.0 lane's settings and its CSV: low-priority records (customers, prices,
//! products) and every event's audit record are written in Bulk jobs, flushed by size or age
//! (see the worker's module `lane`).

use std::time::Duration;

use super::plan::Group;

/// Most records in one Bulk job (Salesforce allows 150 million characters per upload; records
/// here are a few hundred characters each).
pub const BULK_JOB_LIMIT: usize = 10_000;

/// Calls one Bulk job costs when it succeeds without failed rows and answers on the first poll:
/// create, upload, close, poll. The rate limiter is asked for this many before a job.
pub const BULK_JOB_CALLS: u64 = 4;

/// When the buffer is flushed, and how its Bulk jobs are waited for.
#[derive(Debug, Clone)]
pub struct BulkConfig {
    /// Flush once this many events wait in the buffer.
    pub flush_records: usize,
    /// Flush once the oldest waiting event has waited this long.
    pub flush_age: Duration,
    /// First wait between two polls of a Bulk job.
    pub poll_interval: Duration,
    /// Longest wait between two polls.
    pub max_poll_interval: Duration,
}

impl Default for BulkConfig {
    /// Flush at 2,000 events or after 30 s; poll jobs after 1 s, then up to every 10 s.
    fn default() -> Self {
        BulkConfig {
            flush_records: 2_000,
            flush_age: Duration::from_secs(30),
            poll_interval: Duration::from_secs(1),
            max_poll_interval: Duration::from_secs(10),
        }
    }
}

/// The Bulk API 2.0 CSV of `groups` (records of `sobject`, one per group).
pub fn csv(sobject: &str, groups: &[Group]) -> Result<String, String> {
    let describe = sfdc_types::SCHEMA
        .object(sobject)
        .ok_or_else(|| format!("{sobject} is not in the Salesforce model"))?;
    let rows: Vec<_> = groups
        .iter()
        .map(|group| {
            let mut values = group.record.values();
            // A record found by `Id` carries it in the URL of a REST update; a Bulk update
            // needs it as a column.
            let key = group.record.key();
            if key.field == "Id" && !values.iter().any(|(name, _)| name == "Id") {
                values.insert(0, ("Id".into(), sfdc_types::Value::Text(key.value.clone())));
            }
            values
        })
        .collect();
    Ok(sfdc_types::csv::write_rows(
        &sfdc_types::SCHEMA,
        describe,
        &rows,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::test_records::customer;

    #[test]
    fn csv_has_one_row_per_group_with_the_key_column() {
        let groups = vec![
            Group {
                record: customer("cus_1", "Ada, \"the\" first"),
                events: vec![0],
            },
            Group {
                record: customer("cus_2", "Grace"),
                events: vec![1],
            },
        ];
        let text = csv("Stripe_Customer__c", &groups).expect("csv");
        let rows = sfdc_types::parse_csv(&text).expect("parses");
        assert_eq!(rows.len(), 3, "{text}");
        let key = rows[0]
            .iter()
            .position(|c| c == "Stripe_Customer_ID__c")
            .expect("key column");
        let name = rows[0]
            .iter()
            .position(|c| c == "Customer_Name__c")
            .expect("name column");
        assert_eq!(rows[1][key], "cus_1");
        assert_eq!(rows[1][name], "Ada, \"the\" first");
        assert_eq!(rows[2][key], "cus_2");
    }
}
