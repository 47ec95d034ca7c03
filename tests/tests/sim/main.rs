//! Tests of the Salesforce simulator over HTTP: what it accepts and rejects, with
//! Salesforce's status codes, error codes and messages.

mod bulk;
mod collections;
mod common;
mod composite;
mod faults;
mod limits;
mod oauth;
mod query;
mod rejections;
mod sobjects;
