//! Auto-pagination of list endpoints as a `Stream` of items.
//!
//! Pages forward with `starting_after` = id of the last item of the previous page.
//! When the parameters carry `ending_before`, pages backward instead, with
//! `ending_before` = id of the first item of the previous page (as stripe-node
//! does); items are yielded in the order of each page. The stream ends after the
//! first error.

use std::collections::VecDeque;

use futures_util::Stream;
use serde::de::DeserializeOwned;

use super::list::{Identified, List};
use super::{Client, Error, Method, RequestOptions};

struct Pager<T> {
    client: Client,
    path: String,
    /// The caller's parameters (with `expand`), cursor excluded.
    params: Vec<(String, String)>,
    opts: RequestOptions,
    backward: bool,
    /// Cursor for the next page; `None` on the first page.
    cursor: Option<String>,
    buffered: VecDeque<T>,
    finished: bool,
}

impl<T: DeserializeOwned + Identified> Pager<T> {
    fn cursor_key(&self) -> &'static str {
        if self.backward {
            "ending_before"
        } else {
            "starting_after"
        }
    }

    async fn fetch(&mut self) -> Result<(), Error> {
        let pairs = match &self.cursor {
            None => self.params.clone(),
            Some(cursor) => {
                let key = self.cursor_key();
                let mut pairs: Vec<(String, String)> = self
                    .params
                    .iter()
                    .filter(|(name, _)| name != key)
                    .cloned()
                    .collect();
                pairs.push((key.to_owned(), cursor.clone()));
                pairs
            }
        };
        let page: List<T> = self
            .client
            .execute(Method::Get, &self.path, &pairs, &self.opts)
            .await?;
        let edge = if self.backward {
            page.data.first()
        } else {
            page.data.last()
        };
        self.cursor = edge.map(|item| item.id().to_owned());
        self.finished = !page.has_more || self.cursor.as_deref().is_none_or(str::is_empty);
        self.buffered.extend(page.data);
        Ok(())
    }
}

pub(super) fn stream<T>(
    client: Client,
    path: String,
    params: Result<Vec<(String, String)>, Error>,
    opts: RequestOptions,
) -> impl Stream<Item = Result<T, Error>> + Send + 'static
where
    T: DeserializeOwned + Identified + Send + 'static,
{
    let start = params.map(|params| Pager {
        backward: params.iter().any(|(key, _)| key == "ending_before"),
        client,
        path,
        params,
        opts,
        cursor: None,
        buffered: VecDeque::new(),
        finished: false,
    });
    futures_util::stream::unfold(Some(start), |state| async move {
        let mut pager = match state? {
            Ok(pager) => pager,
            Err(error) => return Some((Err(error), None)),
        };
        loop {
            if let Some(item) = pager.buffered.pop_front() {
                return Some((Ok(item), Some(Ok(pager))));
            }
            if pager.finished {
                return None;
            }
            if let Err(error) = pager.fetch().await {
                return Some((Err(error), None));
            }
        }
    })
}
