//! SOQL over HTTP: paging through nextRecordsUrl, filters, parents, ordering, errors.

use serde_json::{Value, json};

use crate::common::Org;

fn ids_of(page: &Value) -> Vec<String> {
    page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| record["Id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn pages_through_more_than_2000_rows() {
    let org = Org::start().await;
    for n in 0..2500 {
        org.customer(&format!("cus_{n:05}"));
    }
    let first = org
        .query("SELECT Id, Stripe_Customer_ID__c FROM Stripe_Customer__c")
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.json["totalSize"], 2500);
    assert_eq!(first.json["done"], false);
    assert_eq!(first.json["records"].as_array().unwrap().len(), 2000);
    let next = first.json["nextRecordsUrl"].as_str().unwrap().to_owned();
    let locator = next.strip_prefix("/services/data/v62.0/query/").unwrap();
    let (cursor, offset) = locator.split_once('-').unwrap();
    assert!(cursor.starts_with("01g") && cursor.len() == 15, "{next}");
    assert_eq!(offset, "2000");
    let record = &first.json["records"][0];
    assert_eq!(record["attributes"]["type"], "Stripe_Customer__c");
    assert_eq!(
        record["attributes"]["url"],
        format!(
            "/services/data/v62.0/sobjects/Stripe_Customer__c/{}",
            record["Id"].as_str().unwrap()
        )
    );
    let second = org.get(&next).await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(second.json["done"], true);
    assert!(second.json.get("nextRecordsUrl").is_none());
    let mut all = ids_of(&first.json);
    all.extend(ids_of(&second.json));
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 2500);
    // A finished cursor is closed.
    let closed = org.get(&next).await;
    assert_eq!(
        (closed.status, closed.error().0.as_str()),
        (400, "INVALID_QUERY_LOCATOR")
    );
}

#[tokio::test]
async fn batch_size_header_and_config() {
    let org = Org::start_with(sfdc_sim::SimConfig {
        query_batch_size: 3,
        ..Default::default()
    })
    .await;
    for n in 0..7 {
        org.customer(&format!("cus_{n}"));
    }
    let mut page = org
        .query("SELECT Id FROM Stripe_Customer__c ORDER BY Stripe_Customer_ID__c")
        .await;
    let mut pages = 1;
    let mut seen = ids_of(&page.json);
    while let Some(next) = page.json["nextRecordsUrl"].as_str().map(str::to_owned) {
        page = org.get(&next).await;
        seen.extend(ids_of(&page.json));
        pages += 1;
    }
    assert_eq!((pages, seen.len()), (3, 7));
    let response = org
        .http
        .get(format!("{}/query", org.base))
        .query(&[("q", "SELECT Id FROM Stripe_Customer__c")])
        .header("Sforce-Query-Options", "batchSize=200")
        .bearer_auth(&org.token)
        .send()
        .await
        .unwrap();
    let answer = crate::common::answer(response).await;
    assert_eq!(answer.json["done"], true);
}

#[tokio::test]
async fn filters_parents_and_order() {
    let org = Org::start().await;
    org.seed(
        "Stripe_Customer__c",
        json!({"Stripe_Customer_ID__c": "cus_a", "Email__c": "a@x.co", "Balance__c": 5}),
    );
    org.seed(
        "Stripe_Customer__c",
        json!({"Stripe_Customer_ID__c": "cus_b", "Email__c": "b@y.co", "Balance__c": 50}),
    );
    org.seed(
        "Stripe_Customer__c",
        json!({"Stripe_Customer_ID__c": "cus_c"}),
    );
    org.seed(
        "Stripe_Invoice__c",
        json!({"Stripe_Invoice_ID__c": "in_1", "Status__c": "paid", "Amount_Due__c": 10, "Stripe_Customer__r": {"Stripe_Customer_ID__c": "cus_a"}}),
    );
    org.seed(
        "Stripe_Invoice__c",
        json!({"Stripe_Invoice_ID__c": "in_2", "Status__c": "open"}),
    );

    let cases: &[(&str, &[&str])] = &[
        (
            "SELECT Stripe_Customer_ID__c FROM Stripe_Customer__c WHERE Balance__c > 10",
            &["cus_b"],
        ),
        (
            "SELECT Stripe_Customer_ID__c FROM Stripe_Customer__c WHERE Balance__c = null",
            &["cus_c"],
        ),
        (
            "SELECT Stripe_Customer_ID__c FROM Stripe_Customer__c WHERE Email__c != null ORDER BY Balance__c DESC",
            &["cus_b", "cus_a"],
        ),
        (
            "SELECT Stripe_Customer_ID__c FROM Stripe_Customer__c WHERE Email__c != 'A@X.CO' ORDER BY Stripe_Customer_ID__c",
            &["cus_b", "cus_c"],
        ),
        (
            "SELECT Stripe_Customer_ID__c FROM Stripe_Customer__c WHERE Stripe_Customer_ID__c IN ('cus_a', 'cus_c') ORDER BY Stripe_Customer_ID__c DESC",
            &["cus_c", "cus_a"],
        ),
        (
            "SELECT Stripe_Customer_ID__c FROM Stripe_Customer__c WHERE Stripe_Customer_ID__c NOT IN ('cus_a') AND (Balance__c < 100 OR Balance__c = null) ORDER BY Stripe_Customer_ID__c",
            &["cus_b", "cus_c"],
        ),
        (
            "SELECT Stripe_Customer_ID__c FROM Stripe_Customer__c WHERE Email__c LIKE '%@y.%'",
            &["cus_b"],
        ),
        (
            "SELECT Stripe_Customer_ID__c FROM Stripe_Customer__c WHERE NOT Email__c LIKE 'a%' ORDER BY Email__c NULLS LAST",
            &["cus_b", "cus_c"],
        ),
        (
            "SELECT Stripe_Customer_ID__c FROM Stripe_Customer__c ORDER BY Balance__c ASC NULLS LAST LIMIT 2",
            &["cus_a", "cus_b"],
        ),
        (
            "SELECT Stripe_Customer_ID__c FROM Stripe_Customer__c ORDER BY Balance__c LIMIT 1 OFFSET 1",
            &["cus_a"],
        ),
        (
            "SELECT Stripe_Invoice_ID__c FROM Stripe_Invoice__c WHERE Stripe_Customer__r.Stripe_Customer_ID__c = 'cus_a'",
            &["in_1"],
        ),
    ];
    for (soql, expected) in cases {
        let answer = org.query(soql).await;
        assert_eq!(answer.status, 200, "{soql}: {}", answer.text);
        let got: Vec<&str> = answer.json["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|record| {
                record
                    .as_object()
                    .unwrap()
                    .iter()
                    .find(|(key, _)| key.ends_with("_ID__c"))
                    .and_then(|(_, value)| value.as_str())
                    .unwrap()
            })
            .collect();
        assert_eq!(&got, expected, "{soql}");
    }

    let with_parent = org
        .query("SELECT Id, Name, Stripe_Customer__r.Stripe_Customer_ID__c, Stripe_Customer__r.Email__c FROM Stripe_Invoice__c ORDER BY Stripe_Invoice_ID__c")
        .await;
    let records = with_parent.json["records"].as_array().unwrap();
    assert_eq!(
        records[0]["Stripe_Customer__r"]["Stripe_Customer_ID__c"],
        "cus_a"
    );
    assert_eq!(records[0]["Stripe_Customer__r"]["Email__c"], "a@x.co");
    assert_eq!(
        records[0]["Stripe_Customer__r"]["attributes"]["type"],
        "Stripe_Customer__c"
    );
    assert_eq!(records[0]["Name"], "INV-000001");
    assert_eq!(records[1]["Stripe_Customer__r"], Value::Null);

    let count = org
        .query("SELECT COUNT() FROM Stripe_Customer__c WHERE Balance__c != null")
        .await;
    assert_eq!(
        count.json,
        json!({"totalSize": 2, "done": true, "records": []})
    );
}

#[tokio::test]
async fn system_modstamp_polling() {
    let org = Org::start().await;
    org.customer("cus_1");
    let first = org
        .query("SELECT Id, SystemModstamp FROM Stripe_Customer__c ORDER BY SystemModstamp")
        .await;
    let mark = first.json["records"][0]["SystemModstamp"]
        .as_str()
        .unwrap()
        .to_owned();
    org.customer("cus_2");
    let newer = org
        .query(&format!(
            "SELECT Stripe_Customer_ID__c FROM Stripe_Customer__c WHERE SystemModstamp > {mark}"
        ))
        .await;
    assert_eq!(newer.status, 200, "{}", newer.text);
    assert_eq!(newer.json["totalSize"], 1);
    assert_eq!(newer.json["records"][0]["Stripe_Customer_ID__c"], "cus_2");
    let as_z = format!("{}Z", mark.split('.').next().unwrap());
    let since = org
        .query(&format!(
            "SELECT Id FROM Stripe_Customer__c WHERE SystemModstamp >= {as_z}"
        ))
        .await;
    assert_eq!(since.json["totalSize"], 2, "{}", since.text);
}

#[tokio::test]
async fn literals_cannot_escape_their_quotes() {
    let org = Org::start().await;
    org.seed(
        "Stripe_Customer__c",
        json!({"Stripe_Customer_ID__c": "cus_1", "Customer_Name__c": "O'Brien"}),
    );
    org.seed(
        "Stripe_Customer__c",
        json!({"Stripe_Customer_ID__c": "cus_2", "Customer_Name__c": "back\\slash"}),
    );
    let exact = org
        .query(r"SELECT Id FROM Stripe_Customer__c WHERE Customer_Name__c = 'O\'Brien'")
        .await;
    assert_eq!(exact.json["totalSize"], 1, "{}", exact.text);
    let injected = org
        .query(r"SELECT Id FROM Stripe_Customer__c WHERE Customer_Name__c = 'x\' OR Customer_Name__c != \'y'")
        .await;
    assert_eq!(injected.json["totalSize"], 0, "{}", injected.text);
    let backslash = org
        .query(r"SELECT Id FROM Stripe_Customer__c WHERE Customer_Name__c = 'back\\slash'")
        .await;
    assert_eq!(backslash.json["totalSize"], 1);
    let broken = org
        .query(r"SELECT Id FROM Stripe_Customer__c WHERE Customer_Name__c = 'x' OR 'a' = 'a'")
        .await;
    assert_eq!(
        (broken.status, broken.error().0.as_str()),
        (400, "MALFORMED_QUERY")
    );
}

#[tokio::test]
async fn errors_name_what_and_where() {
    let org = Org::start().await;
    let unknown_field = org
        .query("SELECT Id, Colour__c FROM Stripe_Subscription__c")
        .await;
    assert_eq!(unknown_field.status, 400);
    let (code, message) = unknown_field.error();
    assert_eq!(code, "INVALID_FIELD");
    assert!(message.contains("ERROR at Row:1:Column:12"), "{message}");
    assert!(
        message.contains("No such column 'Colour__c' on entity 'Stripe_Subscription__c'"),
        "{message}"
    );
    let unknown_object = org.query("SELECT Id FROM Nope__c").await;
    let (code, message) = unknown_object.error();
    assert_eq!(code, "INVALID_TYPE");
    assert!(
        message.contains("sObject type 'Nope__c' is not supported"),
        "{message}"
    );
    let malformed = org.query("SELECT Id FROM Stripe_Customer__c WHERE").await;
    let (code, message) = malformed.error();
    assert_eq!(code, "MALFORMED_QUERY");
    assert!(message.ends_with("unexpected token: <EOF>"), "{message}");
    let relationship = org
        .query("SELECT Nope__r.Name FROM Stripe_Invoice__c")
        .await;
    assert!(
        relationship
            .error()
            .1
            .contains("Didn't understand relationship 'Nope__r'")
    );
    let quoted_date = org
        .query("SELECT Id FROM Stripe_Customer__c WHERE SystemModstamp > '2026-01-01T00:00:00Z'")
        .await;
    let (code, message) = quoted_date.error();
    assert_eq!(code, "INVALID_QUERY_FILTER_OPERATOR");
    assert!(
        message.ends_with("value of filter criterion for field 'SystemModstamp' must be of type dateTime and should not be enclosed in quotes"),
        "{message}"
    );
    let unquoted_text = org
        .query("SELECT Id FROM Stripe_Customer__c WHERE Currency__c = 12")
        .await;
    assert_eq!(unquoted_text.error().0, "INVALID_QUERY_FILTER_OPERATOR");
    let long_text = org
        .query("SELECT Id FROM Stripe_Customer__c WHERE Error_Message__c = 'x'")
        .await;
    assert_eq!(long_text.error().0, "INVALID_FIELD");
    let missing = org.get("/query").await;
    assert_eq!(missing.error().0, "MALFORMED_QUERY");
}
