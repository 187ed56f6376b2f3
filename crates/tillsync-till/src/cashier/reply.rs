//! How the cashier page's handlers read forms and answer: the fields of a
//! posted form, the session token of a request, an HTML answer (setting the
//! session cookie when new), a redirect (303) after a change.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::Markup;

use crate::cashier::session;

/// A form as posted: its fields in order.
pub(crate) type Fields = Vec<(String, String)>;

/// The value of the field `name`, if posted.
pub(crate) fn field<'a>(f: &'a Fields, name: &str) -> Option<&'a str> {
    f.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The `field_COLUMN` entries of a form.
pub(crate) fn columns(f: &Fields) -> Vec<(String, String)> {
    f.iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("field_")?.to_string(), v.clone())))
        .collect()
}

/// The request's session token, or a new one to set.
pub(crate) fn token_or_new(headers: &HeaderMap) -> (String, bool) {
    match session::token_of(headers) {
        Some(t) => (t, false),
        None => (session::new_token(), true),
    }
}

/// An HTML answer, setting the session cookie when `new_token` is given.
pub(crate) fn html(status: StatusCode, m: Markup, new_token: Option<&str>) -> Response {
    let mut r = (status, m).into_response();
    if let Some(t) = new_token
        && let Ok(v) = HeaderValue::from_str(&session::set_cookie(t))
    {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// A redirect (303 See Other) to `to`.
pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// `s` encoded for a query string.
pub(crate) fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
