//! The customers page (`GET /customers`) and its forms: create (through
//! the server), edit and abandon (offline), each through the path of
//! `till customer create|edit|abandon` ([`crate::up::customers`]).

use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use crate::cashier::pages::customers::{CustomersPage, FieldView};
use crate::cashier::reply::{Fields, columns, encode, field, html, see_other, token_or_new};
use crate::cashier::session::Flash;
use crate::cashier::state::{Cashier, blocking};
use crate::cashier::{pages, refusal};
use crate::error::TillError;
use crate::up::customers;
use crate::up::sell::Register;

#[derive(Deserialize, Default)]
pub(crate) struct CustomerQuery {
    #[serde(default)]
    code: String,
}

/// The key column, the columns and the name column of the till's `CLI`.
struct CliShape {
    key: String,
    columns: Vec<String>,
}

fn cli_shape(reg: &Register) -> Result<Option<CliShape>, TillError> {
    Ok(reg.db().customer_layout()?.map(|l| CliShape {
        key: l.key.first().cloned().unwrap_or_default(),
        columns: l.columns.into_iter().map(|c| c.name).collect(),
    }))
}

/// The current values of customer `code` as text (`None`: no such customer).
fn customer_row(
    reg: &Register,
    shape: &CliShape,
    code: &str,
) -> Result<Option<Vec<(String, String)>>, TillError> {
    use rusqlite::OptionalExtension;
    use rusqlite::types::ValueRef;
    use tillsync_db::sql::q;
    let cols: Vec<&String> = shape.columns.iter().filter(|c| **c != shape.key).collect();
    if cols.is_empty() {
        return Ok(None);
    }
    let sql = format!(
        "SELECT {} FROM \"CLI\" WHERE {} = ?1",
        cols.iter().map(|c| q(c)).collect::<Vec<_>>().join(", "),
        q(&shape.key)
    );
    let conn = reg.db().conn();
    let row = conn
        .query_row(&sql, [code], |r| {
            let mut out = Vec::with_capacity(cols.len());
            for (i, c) in cols.iter().enumerate() {
                let v = match r.get_ref(i)? {
                    ValueRef::Null => String::new(),
                    ValueRef::Integer(n) => n.to_string(),
                    ValueRef::Real(x) => x.to_string(),
                    ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    ValueRef::Blob(b) => hex::encode(b),
                };
                out.push(((*c).clone(), v));
            }
            Ok(out)
        })
        .optional()
        .map_err(tillsync_db::StoreError::from)?;
    Ok(row)
}

/// What the customers page shows besides the forms' defaults.
#[derive(Default)]
struct CustomersForm {
    create_name: String,
    create_values: Vec<(String, String)>,
    edit_code: String,
    /// Values as posted for an edit (else the current ones are shown).
    edit_values: Option<Vec<(String, String)>>,
}

fn render_customers(
    st: &Cashier,
    token: &str,
    form: &CustomersForm,
    status: StatusCode,
    msg: Option<Flash>,
    new_token: bool,
) -> Response {
    let reg = st.reg();
    let h = st.header_of(&reg, token);
    let mut page = CustomersPage {
        no_table: None,
        create_fields: Vec::new(),
        create_name: &form.create_name,
        create_values: form.create_values.clone(),
        edit_code: &form.edit_code,
        edit_fields: Vec::new(),
        edit_missing: false,
    };
    let mut msg = msg;
    match cli_shape(&reg) {
        Ok(None) => {
            page.no_table = Some(
                st.l(
                    "La caisse n'a pas encore de clients (la table CLI n'a jamais été chargée) : lancez d'abord `tillsync till sync`.",
                    "The till has no customers yet (table CLI was never loaded): run `tillsync till sync` first.",
                )
                .to_string(),
            )
        }
        Ok(Some(shape)) => {
            page.create_fields = shape
                .columns
                .iter()
                .filter(|c| **c != shape.key && !c.eq_ignore_ascii_case("name"))
                .cloned()
                .collect();
            let current = if form.edit_code.trim().is_empty() {
                None
            } else {
                match customer_row(&reg, &shape, form.edit_code.trim()) {
                    Ok(r) => r,
                    Err(e) => {
                        msg.get_or_insert(Flash {
                            ok: false,
                            text: refusal::refusal(st.lang, &e),
                        });
                        None
                    }
                }
            };
            page.edit_missing = !form.edit_code.trim().is_empty() && current.is_none();
            page.edit_fields = shape
                .columns
                .iter()
                .filter(|c| **c != shape.key)
                .map(|c| {
                    let pick = |vals: &Vec<(String, String)>| {
                        vals.iter()
                            .find(|(k, _)| k == c)
                            .map(|(_, v)| v.clone())
                    };
                    let value = form
                        .edit_values
                        .as_ref()
                        .and_then(pick)
                        .or_else(|| current.as_ref().and_then(pick))
                        .unwrap_or_default();
                    FieldView {
                        name: c.clone(),
                        value,
                    }
                })
                .collect();
        }
        Err(e) => page.no_table = Some(refusal::refusal(st.lang, &e)),
    }
    html(
        status,
        pages::customers::page(st.lang, &h, token, &page, msg.as_ref()),
        new_token.then_some(token),
    )
}

pub(crate) async fn customers_page(
    State(st): State<Arc<Cashier>>,
    headers: HeaderMap,
    Query(p): Query<CustomerQuery>,
) -> Response {
    let (token, new) = token_or_new(&headers);
    blocking(st, move |st| {
        let msg = st.take_flash(&token);
        let form = CustomersForm {
            edit_code: p.code,
            ..CustomersForm::default()
        };
        render_customers(st, &token, &form, StatusCode::OK, msg, new)
    })
    .await
}

pub(crate) async fn customer_create(
    State(st): State<Arc<Cashier>>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    blocking(st, move |st| {
        let token = match st.posted(&headers, &form) {
            Ok(t) => t,
            Err(r) => return *r,
        };
        let name = field(&form, "name").unwrap_or("").to_string();
        let values = columns(&form);
        let given: Vec<(String, String)> = values
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .cloned()
            .collect();
        // The register is not held: a creation waits for the server.
        match customers::create(&st.dir, &name, &given) {
            Ok(record) => {
                let code = record
                    .get("code")
                    .map(|c| {
                        c.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| c.to_string())
                    })
                    .unwrap_or_default();
                st.link.set(true);
                st.set_flash(
                    &token,
                    true,
                    format!(
                        "{} {code} {}",
                        st.l("Client", "Customer"),
                        st.l("créé par le serveur.", "created by the server.")
                    ),
                );
                see_other(&format!("/customers?code={}", encode(&code)))
            }
            Err(e) => {
                let status = if matches!(e, TillError::NeedsServer(_)) {
                    st.link.set(false);
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                let text = format!(
                    "{} {}",
                    st.l("Création refusée :", "Creation refused:"),
                    refusal::refusal(st.lang, &e)
                );
                let kept = CustomersForm {
                    create_name: name,
                    create_values: values,
                    ..CustomersForm::default()
                };
                render_customers(
                    st,
                    &token,
                    &kept,
                    status,
                    Some(Flash { ok: false, text }),
                    false,
                )
            }
        }
    })
    .await
}

pub(crate) async fn customer_edit(
    State(st): State<Arc<Cashier>>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    blocking(st, move |st| {
        let token = match st.posted(&headers, &form) {
            Ok(t) => t,
            Err(r) => return *r,
        };
        let code = field(&form, "code").unwrap_or("").trim().to_string();
        let values = columns(&form);
        // Only the non-empty fields that differ from the till's row.
        let changed: Result<Vec<(String, String)>, String> = {
            let reg = st.reg();
            match cli_shape(&reg) {
                Ok(Some(shape)) => match customer_row(&reg, &shape, &code) {
                    Ok(Some(current)) => Ok(values
                        .iter()
                        .filter(|(k, v)| {
                            !v.trim().is_empty()
                                && current.iter().find(|(c, _)| c == k).map(|(_, cv)| cv) != Some(v)
                        })
                        .cloned()
                        .collect()),
                    // Let the library say what is wrong (unknown customer or column).
                    Ok(None) => Ok(values
                        .iter()
                        .filter(|(_, v)| !v.trim().is_empty())
                        .cloned()
                        .collect()),
                    Err(e) => Err(refusal::refusal(st.lang, &e)),
                },
                Ok(None) => Ok(Vec::new()),
                Err(e) => Err(refusal::refusal(st.lang, &e)),
            }
        };
        let result = match changed {
            Ok(c) if c.is_empty() && !code.is_empty() => Err(st
                .l(
                    "Aucun champ modifié : rien n'a été enregistré.",
                    "No field changed: nothing was recorded.",
                )
                .to_string()),
            Ok(c) => customers::edit(&st.dir, &code, &c).map_err(|e| {
                format!(
                    "{} {}",
                    st.l("Modification refusée :", "Change refused:"),
                    refusal::refusal(st.lang, &e)
                )
            }),
            Err(e) => Err(e),
        };
        match result {
            Ok(edit) => {
                st.set_flash(
                    &token,
                    true,
                    format!(
                        "{} {code} {} ({}) ; {}",
                        st.l("Client", "Customer"),
                        st.l("modifié sur la caisse", "changed at this till"),
                        edit.fields.keys().cloned().collect::<Vec<_>>().join(", "),
                        st.l(
                            "la modification partira vers le serveur.",
                            "the change is queued for the server."
                        )
                    ),
                );
                see_other(&format!("/customers?code={}", encode(&code)))
            }
            Err(text) => {
                let kept = CustomersForm {
                    edit_code: code,
                    edit_values: Some(values),
                    ..CustomersForm::default()
                };
                render_customers(
                    st,
                    &token,
                    &kept,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(Flash { ok: false, text }),
                    false,
                )
            }
        }
    })
    .await
}

pub(crate) async fn customer_abandon(
    State(st): State<Arc<Cashier>>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    blocking(st, move |st| {
        let token = match st.posted(&headers, &form) {
            Ok(t) => t,
            Err(r) => return *r,
        };
        let code = field(&form, "code").unwrap_or("").trim().to_string();
        match customers::abandon(&st.dir, &code) {
            Ok(()) => {
                st.set_flash(
                    &token,
                    true,
                    format!(
                        "{} {code} {}",
                        st.l("Création du client", "Creation of customer"),
                        st.l(
                            "abandonnée : il est retiré de la caisse et sa suppression partira vers le serveur.",
                            "abandoned: it is removed from the till and its deletion is queued for the server."
                        )
                    ),
                );
                see_other("/customers")
            }
            Err(e) => {
                let text = format!(
                    "{} {}",
                    st.l("Abandon refusé :", "Abandon refused:"),
                    refusal::refusal(st.lang, &e)
                );
                let kept = CustomersForm {
                    edit_code: code,
                    ..CustomersForm::default()
                };
                render_customers(
                    st,
                    &token,
                    &kept,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(Flash { ok: false, text }),
                    false,
                )
            }
        }
    })
    .await
}
