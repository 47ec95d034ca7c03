//! SOQL queries, page by page through `nextRecordsUrl`, as a stream or collected.
//!
//! Records are read straight from the answer's JSON text into the caller's type (the read
//! shapes of `sfdc-types`, or `serde_json::Value`), so decimals stay exact.

use futures_util::Stream;
use serde::de::DeserializeOwned;

use super::api;
use super::client::{Client, finish};
use super::error::Error;

/// One page (batch) of a query's records.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryPage<T> {
    /// Rows matching the query, all pages together.
    pub total_size: u64,
    /// Whether this is the last page.
    pub done: bool,
    /// Where the next page is, while `done` is false.
    pub next_records_url: Option<String>,
    /// This page's records.
    pub records: Vec<T>,
}

impl Client {
    /// Every record of `soql`, following `nextRecordsUrl` to the last page.
    pub async fn query<T: DeserializeOwned>(&self, soql: &str) -> Result<Vec<T>, Error> {
        let mut page = self.query_page::<T>(soql).await?;
        let mut records = std::mem::take(&mut page.records);
        while let Some(next) = page.next_records_url.take().filter(|_| !page.done) {
            page = self.query_more::<T>(&next).await?;
            records.append(&mut page.records);
        }
        Ok(records)
    }

    /// The records of `soql` one by one, fetching the next page when this one is used up;
    /// stops after the first error.
    pub fn query_stream<'a, T: DeserializeOwned + 'a>(
        &'a self,
        soql: &'a str,
    ) -> impl Stream<Item = Result<T, Error>> + 'a {
        enum State<T> {
            Start,
            Page(std::vec::IntoIter<T>, Option<String>),
            End,
        }
        futures_util::stream::unfold(State::Start, move |mut state| async move {
            loop {
                state = match state {
                    State::Start => match self.query_page::<T>(soql).await {
                        Ok(page) => State::Page(
                            page.records.into_iter(),
                            next_of(page.done, page.next_records_url),
                        ),
                        Err(error) => return Some((Err(error), State::End)),
                    },
                    State::Page(mut records, next) => match records.next() {
                        Some(record) => return Some((Ok(record), State::Page(records, next))),
                        None => match next {
                            None => return None,
                            Some(url) => match self.query_more::<T>(&url).await {
                                Ok(page) => State::Page(
                                    page.records.into_iter(),
                                    next_of(page.done, page.next_records_url),
                                ),
                                Err(error) => return Some((Err(error), State::End)),
                            },
                        },
                    },
                    State::End => return None,
                }
            }
        })
    }

    /// The first page of `soql`.
    pub async fn query_page<T: DeserializeOwned>(&self, soql: &str) -> Result<QueryPage<T>, Error> {
        let operation = format!("query {}", summary(soql));
        let op = operation.as_str();
        let result = self
            .call(op, move |api: api::Client| async move {
                finish(op, api.query(soql).await).await
            })
            .await?;
        page(&operation, result)
    }

    /// The page at `next_records_url` (as a previous page gave it, e.g.
    /// `/services/data/v62.0/query/01gRO0000016PIAYA2-2000`).
    pub async fn query_more<T: DeserializeOwned>(
        &self,
        next_records_url: &str,
    ) -> Result<QueryPage<T>, Error> {
        let operation = format!("read query page {next_records_url}");
        let locator = next_records_url
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .filter(|locator| !locator.is_empty() && next_records_url.contains("/query"))
            .ok_or_else(|| Error::invalid(&operation, "not a nextRecordsUrl"))?;
        let op = operation.as_str();
        let result = self
            .call(op, move |api: api::Client| async move {
                finish(op, api.query_more(locator).await).await
            })
            .await?;
        page(&operation, result)
    }
}

/// The next page's URL, unless this page is the last.
fn next_of(done: bool, next_records_url: Option<String>) -> Option<String> {
    next_records_url.filter(|_| !done)
}

/// Reads a page's records into `T`.
fn page<T: DeserializeOwned>(
    operation: &str,
    result: api::types::QueryResult,
) -> Result<QueryPage<T>, Error> {
    let records = result
        .records
        .iter()
        .enumerate()
        .map(|(position, raw)| {
            serde_json::from_str(raw.get()).map_err(|e| Error::Decode {
                operation: operation.to_owned(),
                status: 200,
                detail: format!("record {position} of the page: {e}"),
            })
        })
        .collect::<Result<Vec<T>, Error>>()?;
    Ok(QueryPage {
        total_size: result.total_size.unwrap_or(records.len() as u64),
        done: result.done,
        next_records_url: result.next_records_url,
        records,
    })
}

/// The start of a query, for messages (its values may be long or personal).
fn summary(soql: &str) -> String {
    let soql = soql.trim();
    match soql.char_indices().nth(80) {
        Some((end, _)) => format!("{}…", &soql[..end]),
        None => soql.to_owned(),
    }
}
