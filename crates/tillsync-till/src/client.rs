//! The web service client of a till: ping, "which packages are available",
//! outbox push, customers, and the key calls (enrolment, rotation).

use std::time::Duration;

use tillsync_core::TillConfig;
use tillsync_wire::api::{
    ApiError, AvailableRequest, AvailableResponse, OutboxBatch, OutboxResponse, Ping,
};

use tillsync_wire::keys::{EnrolRequest, EnrolResponse, KeyHistoryResponse, KeyRotation};

use crate::error::TillError;

/// A blocking client for one till.
pub struct Client {
    http: reqwest::blocking::Client,
    base: url::Url,
    /// `Bearer TILL:TOKEN`; `None` while the till is not enrolled.
    authorization: Option<String>,
    till: String,
}

impl Client {
    /// A client with the web-service timeout of the configuration.
    pub fn new(cfg: &TillConfig) -> Result<Self, TillError> {
        Self::with_timeout(cfg, cfg.sync.ws_timeout())
    }

    /// A client with another timeout (the ping uses `ping_timeout_ms`).
    pub fn with_timeout(cfg: &TillConfig, timeout: Duration) -> Result<Self, TillError> {
        let mut builder = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout);
        if let Some(pem) = &cfg.server.ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| {
                TillError::Unreachable {
                    url: cfg.server.webservice_url.to_string(),
                    reason: format!("the server certificate in till.toml is unreadable: {e}"),
                }
            })? {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().map_err(|e| TillError::Unreachable {
            url: cfg.server.webservice_url.to_string(),
            reason: e.to_string(),
        })?;
        Ok(Client {
            http,
            base: cfg.server.webservice_url.clone(),
            authorization: cfg
                .auth
                .token
                .as_ref()
                .map(|t| format!("Bearer {}:{}", cfg.till.id, t.expose())),
            till: cfg.till.id.clone(),
        })
    }

    /// The `Authorization` header, or [`TillError::NotEnrolled`].
    fn authorization(&self) -> Result<&str, TillError> {
        self.authorization
            .as_deref()
            .ok_or_else(|| TillError::NotEnrolled(self.till.clone()))
    }

    fn url(&self, path: &str) -> url::Url {
        self.base.join(path).expect("API paths are relative")
    }

    fn send<T: serde::de::DeserializeOwned>(
        &self,
        req: reqwest::blocking::RequestBuilder,
        url: &url::Url,
    ) -> Result<T, TillError> {
        self.send_as(
            req.header(reqwest::header::AUTHORIZATION, self.authorization()?),
            url,
        )
    }

    /// Send `req` as it is (credentials added or not by the caller); a 4xx
    /// is [`TillError::Refused`], or [`TillError::KeyRefused`] for a key
    /// call's refusal (`enrolment-*`, `key-in-use`).
    fn send_as<T: serde::de::DeserializeOwned>(
        &self,
        req: reqwest::blocking::RequestBuilder,
        url: &url::Url,
    ) -> Result<T, TillError> {
        let resp = req.send().map_err(|e| TillError::Unreachable {
            url: url.to_string(),
            reason: describe(&e),
        })?;
        let status = resp.status();
        if status.is_success() {
            return resp.json().map_err(|e| TillError::Unreachable {
                url: url.to_string(),
                reason: format!("unreadable answer: {e}"),
            });
        }
        let text = resp.text().unwrap_or_default();
        let api = serde_json::from_str::<ApiError>(&text).ok();
        let code = api.as_ref().map(|e| e.error.clone()).unwrap_or_default();
        let message = api
            .map(|e| e.message)
            .unwrap_or_else(|| text.chars().take(200).collect());
        if status.is_server_error() {
            Err(TillError::Unreachable {
                url: url.to_string(),
                reason: format!("HTTP {status}: {message}"),
            })
        } else if code.starts_with("enrolment-") || code == "key-in-use" {
            Err(TillError::KeyRefused { code, message })
        } else {
            Err(TillError::Refused(format!("HTTP {status}: {message}")))
        }
    }

    /// `GET /api/v1/ping` (with the till's credentials when it has them).
    pub fn ping(&self) -> Result<Ping, TillError> {
        let url = self.url("api/v1/ping");
        let mut req = self.http.get(url.clone());
        if let Some(a) = &self.authorization {
            req = req.header(reqwest::header::AUTHORIZATION, a);
        }
        self.send_as(req, &url)
    }

    /// `POST /api/v1/till/enrol` (no credentials: the secret stands for them).
    pub fn enrol(&self, req: &EnrolRequest) -> Result<EnrolResponse, TillError> {
        let url = self.url("api/v1/till/enrol");
        self.send_as(self.http.post(url.clone()).json(req), &url)
    }

    /// `POST /api/v1/till/key`.
    pub fn rotate_key(&self, req: &KeyRotation) -> Result<KeyHistoryResponse, TillError> {
        let url = self.url("api/v1/till/key");
        self.send(self.http.post(url.clone()).json(req), &url)
    }

    /// `GET /api/v1/tickets/missing`: this till's ticket numbers the server
    /// has not received.
    pub fn missing_tickets(&self) -> Result<tillsync_wire::api::MissingTickets, TillError> {
        let url = self.url("api/v1/tickets/missing");
        self.send(self.http.get(url.clone()), &url)
    }

    /// `POST /api/v1/packages/available`.
    pub fn available(&self, req: &AvailableRequest) -> Result<AvailableResponse, TillError> {
        let url = self.url("api/v1/packages/available");
        self.send(self.http.post(url.clone()).json(req), &url)
    }

    /// `POST /api/v1/outbox`: send a batch of outbox items; one result per
    /// item. A refusal because of the batch's content (`bad-request`,
    /// `too-large`, `foreign-ticket`) is [`TillError::BatchRefused`]; other
    /// 4xx (credentials) are [`TillError::Refused`]; no answer or a 5xx is
    /// [`TillError::Unreachable`].
    pub fn push(&self, batch: &OutboxBatch) -> Result<OutboxResponse, TillError> {
        let url = self.url("api/v1/outbox");
        let unreachable = |reason: String| TillError::Unreachable {
            url: url.to_string(),
            reason,
        };
        let resp = self
            .http
            .post(url.clone())
            .json(batch)
            .header(reqwest::header::AUTHORIZATION, self.authorization()?)
            .send()
            .map_err(|e| unreachable(describe(&e)))?;
        let status = resp.status();
        if status.is_success() {
            return resp
                .json()
                .map_err(|e| unreachable(format!("unreadable answer: {e}")));
        }
        let text = resp.text().unwrap_or_default();
        // 422: stored, but some tickets went to quarantine; the answer still
        // carries every item's result.
        if status == reqwest::StatusCode::UNPROCESSABLE_ENTITY
            && let Ok(r) = serde_json::from_str::<OutboxResponse>(&text)
        {
            return Ok(r);
        }
        let api = serde_json::from_str::<ApiError>(&text).ok();
        if status.is_server_error() {
            let message = api
                .map(|e| e.message)
                .unwrap_or_else(|| text.chars().take(200).collect());
            return Err(unreachable(format!("HTTP {status}: {message}")));
        }
        match api {
            Some(e)
                if matches!(
                    e.error.as_str(),
                    "bad-request" | "too-large" | "foreign-ticket"
                ) =>
            {
                Err(TillError::BatchRefused {
                    status: status.as_u16(),
                    code: e.error,
                    message: e.message,
                })
            }
            Some(e) => Err(TillError::Refused(format!("HTTP {status}: {}", e.message))),
            None => Err(TillError::Refused(format!(
                "HTTP {status}: {}",
                text.chars().take(200).collect::<String>()
            ))),
        }
    }

    /// `POST /api/v1/customers`: create a customer from the template customer.
    pub fn create_customer(
        &self,
        req: &tillsync_wire::api::CustomerCreate,
    ) -> Result<tillsync_wire::api::CustomerRecord, TillError> {
        let url = self.url("api/v1/customers");
        self.send(self.http.post(url.clone()).json(req), &url)
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "no answer within the web-service timeout".into()
    } else if e.is_connect() {
        "connection refused or host unreachable".into()
    } else {
        e.to_string()
    }
}
