//! Talking to a simulator over HTTP, as a client would.

use reqwest::header::HeaderMap;
use serde_json::{Map, Value, json};
use sfdc_sim::{SimConfig, Simulator};

/// An HTTP client for the tests. reqwest is built without a bundled crypto provider, so ring is
/// installed first (the tests speak plain HTTP on 127.0.0.1, but the client needs a provider).
pub fn http() -> reqwest::Client {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    reqwest::Client::new()
}

/// A running simulator with a client logged in through client credentials.
pub struct Org {
    pub sim: Simulator,
    pub http: reqwest::Client,
    pub token: String,
    /// `{url}/services/data/v62.0`.
    pub base: String,
}

/// An HTTP answer: status, headers, body as text and as JSON (`Null` if not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Answer {
    /// `errorCode` and `message` of the first error of a REST error list.
    pub fn error(&self) -> (String, String) {
        let first = &self.json[0];
        (
            first["errorCode"].as_str().unwrap_or_default().to_owned(),
            first["message"].as_str().unwrap_or_default().to_owned(),
        )
    }

    /// `fields` of the first error.
    pub fn error_fields(&self) -> Vec<String> {
        self.json[0]["fields"]
            .as_array()
            .map(|fields| {
                fields
                    .iter()
                    .filter_map(|f| f.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("response body");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        text,
        json,
    }
}

/// `application/x-www-form-urlencoded` text of `pairs`.
pub fn form(pairs: &[(&str, &str)]) -> String {
    let encode = |text: &str| {
        text.bytes()
            .map(|byte| match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (byte as char).to_string()
                }
                other => format!("%{other:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// POSTs a token request.
pub async fn token_request(http: &reqwest::Client, url: &str, pairs: &[(&str, &str)]) -> Answer {
    let response = http
        .post(format!("{url}/services/oauth2/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form(pairs))
        .send()
        .await
        .expect("token request");
    answer(response).await
}

/// A record as a JSON map.
pub fn record(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

impl Org {
    pub async fn start() -> Org {
        Org::start_with(SimConfig::default()).await
    }

    pub async fn start_with(config: SimConfig) -> Org {
        let sim = Simulator::start(config).await.expect("simulator starts");
        Org::login(sim).await
    }

    pub async fn login(sim: Simulator) -> Org {
        let http = http();
        let url = sim.url();
        let answer = token_request(
            &http,
            &url,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "test-client"),
                ("client_secret", "test-secret"),
            ],
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        let token = answer.json["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned();
        Org {
            base: format!("{url}/services/data/v62.0"),
            sim,
            http,
            token,
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("/services/") {
            format!("{}{path}", self.sim.url())
        } else {
            format!("{}{path}", self.base)
        }
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Answer {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        answer(request.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(reqwest::Method::POST, path, Some(&body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.send(reqwest::Method::PATCH, path, Some(&body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    /// PUTs CSV text.
    pub async fn put_csv(&self, path: &str, csv: &str) -> Answer {
        let response = self
            .http
            .put(self.url(path))
            .bearer_auth(&self.token)
            .header("Content-Type", "text/csv")
            .body(csv.to_owned())
            .send()
            .await
            .expect("request sent");
        answer(response).await
    }

    /// Runs a SOQL query (first page).
    pub async fn query(&self, soql: &str) -> Answer {
        let response = self
            .http
            .get(self.url("/query"))
            .query(&[("q", soql)])
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request sent");
        answer(response).await
    }

    /// Seeds a record without an API call.
    pub fn seed(&self, object: &str, value: Value) -> String {
        self.sim
            .insert_record(object, record(value))
            .expect("seed record")
    }

    /// A customer with this Stripe id.
    pub fn customer(&self, stripe_id: &str) -> String {
        self.seed(
            "Stripe_Customer__c",
            json!({"Stripe_Customer_ID__c": stripe_id}),
        )
    }
}
