//! The layer in front of every route: a `Host` that is not loopback is
//! refused (against DNS rebinding), and every answer carries the headers
//! that forbid caching, framing and sniffing.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::cashier::state::Cashier;

/// True when `Host` is absent or names a loopback address.
fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST) else {
        return true;
    };
    let Ok(host) = host.to_str() else {
        return false;
    };
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Refuses a `Host` that is not loopback (DNS rebinding), and sets the
/// headers every answer carries.
pub(crate) async fn guard(State(st): State<Arc<Cashier>>, req: Request, next: Next) -> Response {
    if st.loopback_only && !loopback_host(req.headers()) {
        return (
            StatusCode::MISDIRECTED_REQUEST,
            st.l(
                "la page de caisse ne répond que sur une adresse de bouclage (127.0.0.1 ou ::1)",
                "the cashier page answers on a loopback address only",
            )
            .to_string(),
        )
            .into_response();
    }
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    for (k, v) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ),
    ] {
        h.insert(k, HeaderValue::from_static(v));
    }
    resp
}
