//! Follow-up Tasks end to end: payment failures and cancellations create one Salesforce Task each,
//! upserted by the Stripe event id, with the configured owner, however often the event is
//! processed. A real SQLite queue and store on a temporary file, the simulated Salesforce org,
//! and fixture events (Stripe API version 2022-11-15) pushed straight into the queue, as in
//! `worker.rs`.

mod support;

use serde_json::json;
use stripe_sfdc_sync::sqlite::{SqliteQueue, SqliteStore};
use stripe_sfdc_sync::store::{Claim, Ledger, Outcome};
use stripe_sfdc_sync::worker::{Worker, WorkerConfig};
use support::{Harness, customer_created, fixture, text};

const TASK: &str = "Task";
const AUDIT: &str = "Stripe_Webhook_Event__c";
const PAYMENT: &str = "Payment_Transaction__c";
const PAYMENT_INTENT_ID: &str = "pi_3NDBW7LkdIwHu7ix1XxCLi3u";
/// A well-formed User Id that is no user of the org: a Task assigned to it would be refused,
/// so a Task written with another owner proves which owner setting was used.
const NO_SUCH_USER: &str = "005000000000099AAA";

/// What these tests add to the shared harness.
impl Harness {
    /// The org's integration user, the only User of the simulated org.
    fn integration_user(&self) -> String {
        let users = self.sim.records("User");
        text(&users[0], "Id").expect("a user id").to_owned()
    }

    /// A worker assigning finance and service Tasks to the given owners.
    fn task_worker(
        &self,
        finance: Option<String>,
        service: Option<String>,
    ) -> Worker<SqliteQueue, SqliteStore> {
        self.worker(WorkerConfig {
            task_owner_finance: finance,
            task_owner_service: service,
            ..self.config("w1")
        })
    }

    /// The customer, price and subscription the failures and cancellations refer to.
    async fn parents(&self, worker: &Worker<SqliteQueue, SqliteStore>) {
        self.push(&customer_created()).await;
        self.push(&fixture("price.created")).await;
        self.push(&fixture("customer.subscription.created")).await;
        self.drain(worker).await;
        assert_eq!(self.sim.records("Stripe_Subscription__c").len(), 1);
    }

    /// Forgets every event the ledger recorded as done, as if the worker had crashed after
    /// writing to Salesforce and before completing them.
    fn wipe_ledger(&self) {
        let connection = rusqlite::Connection::open(&self.path).expect("the database opens");
        let wiped = connection
            .execute("DELETE FROM ledger", [])
            .expect("the ledger is wiped");
        assert!(wiped > 0, "the ledger had entries");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_failure_creates_one_task_however_often_it_is_processed() {
    let h = Harness::start().await;
    let finance = h.integration_user();
    // The service owner does not exist: a cancellation Task would be refused, so a written
    // payment failure Task shows the finance owner was used.
    let worker = h.task_worker(Some(finance.clone()), Some(NO_SUCH_USER.to_owned()));
    h.parents(&worker).await;
    h.push(&fixture("invoice.payment_failed")).await;
    h.drain(&worker).await;
    let event = fixture("payment_intent.payment_failed");
    let event_id = event["id"].as_str().expect("an id");

    // Delivered, then delivered again: the second delivery is a duplicate of a completed event.
    h.push(&event).await;
    h.drain(&worker).await;
    let first = h.record(TASK, "Stripe_Event_ID__c", event_id);
    h.push(&event).await;
    h.drain(&worker).await;
    let claim = h
        .store
        .claim(event_id, "other", h.clock.now())
        .await
        .expect("claim");
    assert_eq!(claim, Claim::Done(Outcome::Processed));

    // A crash after writing and before completing: the ledger forgot the event, which is
    // processed and written again, and the upsert by event id finds the same Task.
    h.wipe_ledger();
    h.push(&event).await;
    h.drain(&worker).await;
    assert_eq!(h.depth().await, 0);

    let tasks: Vec<_> = h
        .sim
        .records(TASK)
        .into_iter()
        .filter(|t| text(t, "Stripe_Event_ID__c") == Some(event_id))
        .collect();
    assert_eq!(tasks.len(), 1, "{tasks:#?}");
    let task = &tasks[0];
    assert_eq!(text(task, "Id"), text(&first, "Id"));
    // Written again after the wipe (an update of the same record), not skipped.
    assert_ne!(text(task, "SystemModstamp"), text(&first, "SystemModstamp"));
    assert_eq!(text(task, "OwnerId"), Some(finance.as_str()));
    assert_eq!(
        text(task, "Subject"),
        Some("Payment failed: 17.32 USD, card_declined (insufficient_funds)")
    );
    assert_eq!(text(task, "Status"), Some("Not Started"));
    assert_eq!(text(task, "Priority"), Some("High"));
    assert_eq!(text(task, "ActivityDate"), Some("2023-06-08"));
    let description = text(task, "Description").expect("a description");
    for expected in [
        "A payment of 17.32 USD failed: Your card has insufficient funds.",
        "decline code: insufficient_funds",
        "Stripe payment: pi_3NDBW7LkdIwHu7ix1XxCLi3u",
        "Stripe invoice: in_1NDBW6LkdIwHu7ixNhMyDMxF",
        "Stripe customer: cus_NffrFeUfNV2Hib",
        "Stripe event: evt_3NDBW7LkdIwHu7ix1Rz1bA9M",
        "https://dashboard.stripe.com/test/payments/pi_3NDBW7LkdIwHu7ix1XxCLi3u",
    ] {
        assert!(
            description.contains(expected),
            "{expected} in {description}"
        );
    }
    for personal in ["jennyrosen", "Jenny", "visa", "4242"] {
        assert!(
            !description.contains(personal),
            "{personal} in {description}"
        );
    }
    // The event's other records were written once too.
    h.record(AUDIT, "Stripe_Event_ID__c", event_id);
    h.record(PAYMENT, "Stripe_Payment_Intent_ID__c", PAYMENT_INTENT_ID);
    // The invoice's own failure event has its own Task; nothing else created one.
    let invoice_event = fixture("invoice.payment_failed");
    let invoice_task = h.record(
        TASK,
        "Stripe_Event_ID__c",
        invoice_event["id"].as_str().expect("an id"),
    );
    assert_eq!(text(&invoice_task, "OwnerId"), Some(finance.as_str()));
    assert_eq!(h.sim.records(TASK).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancellation_task_goes_to_the_service_owner_and_without_one_to_the_integration_user() {
    let h = Harness::start().await;
    let user = h.integration_user();
    // The finance owner does not exist: only the service owner can be used.
    let worker = h.task_worker(Some(NO_SUCH_USER.to_owned()), Some(user.clone()));
    h.parents(&worker).await;
    let canceled = fixture("customer.subscription.deleted");
    h.push(&canceled).await;
    h.drain(&worker).await;
    let task = h.record(
        TASK,
        "Stripe_Event_ID__c",
        canceled["id"].as_str().expect("an id"),
    );
    assert_eq!(text(&task, "OwnerId"), Some(user.as_str()));
    assert_eq!(
        text(&task, "Subject"),
        Some("Subscription canceled: 10.00 USD per month (cancellation_requested)")
    );
    assert!(text(&task, "Description").is_some_and(|d| {
        d.contains("https://dashboard.stripe.com/test/subscriptions/sub_1MtHbELkdIwHu7ixBlzS5ZNM")
    }));

    // No owner configured: the Task is created without one and Salesforce assigns it to the
    // user the integration writes as.
    let unowned = h.task_worker(None, None);
    let mut again = fixture("customer.subscription.deleted");
    again["id"] = json!("evt_1MwVdCLkdIwHu7ixCanceled2");
    again["created"] = json!(canceled["created"].as_i64().expect("created") + 1);
    h.push(&again).await;
    h.drain(&unowned).await;
    let task = h.record(TASK, "Stripe_Event_ID__c", "evt_1MwVdCLkdIwHu7ixCanceled2");
    assert_eq!(text(&task, "OwnerId"), Some(user.as_str()));
    // Events of other types create no Task.
    assert_eq!(h.sim.records(TASK).len(), 2);
}
