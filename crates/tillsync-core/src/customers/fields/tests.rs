//! Tests of the customer field checks and their messages.

use serde_json::json;

use super::*;

fn col(name: &str, t: &str) -> Column {
    Column {
        name: name.into(),
        decl_type: t.into(),
        not_null: false,
    }
}

/// The demo customers table.
fn cli() -> Layout {
    Layout {
        columns: vec![
            col("code", "TEXT"),
            col("name", "TEXT"),
            col("city", "TEXT"),
            col("loyalty_points", "INTEGER"),
            col("balance", "REAL"),
            col("vip", "boolean"),
        ],
        key: vec!["code".into()],
    }
}

fn map(v: serde_json::Value) -> Map<String, Json> {
    serde_json::from_value(v).unwrap()
}

#[test]
fn a_field_names_a_column_other_than_the_code() {
    let l = cli();
    assert_eq!(column(&l, "CITY").unwrap().name, "city");
    assert!(column(&l, "colour").is_none());
    for usage in [FieldUse::Create, FieldUse::Edit] {
        assert_eq!(check_field("CLI", &l, "City", usage).unwrap().name, "city");
        assert_eq!(
            check_field("CLI", &l, "colour", usage).unwrap_err(),
            "table CLI has no column \"colour\"; columns are: code, name, city, loyalty_points, balance, vip"
        );
    }
    assert_eq!(
        check_field("CLI", &l, "CODE", FieldUse::Create).unwrap_err(),
        "the customer code (code) is allocated by the server and cannot be given"
    );
    assert_eq!(
        check_field("CLI", &l, "code", FieldUse::Edit).unwrap_err(),
        "the customer code (code) cannot be changed"
    );
}

#[test]
fn names_are_trimmed_and_not_empty() {
    assert_eq!(customer_name("  Alice "), Ok("Alice"));
    assert_eq!(
        customer_name(" \t"),
        Err("the customer's name must not be empty".to_string())
    );
}

#[test]
fn values_are_scalars_and_booleans_fit_the_column() {
    let l = cli();
    let city = column(&l, "city").unwrap();
    let vip = column(&l, "vip").unwrap();
    for v in [
        json!(null),
        json!("x"),
        json!(3),
        json!(2.5),
        json!(u64::MAX),
    ] {
        assert_eq!(field_value(city, &v).unwrap(), v);
    }
    assert_eq!(field_value(city, &json!(true)).unwrap(), json!(1));
    assert_eq!(field_value(city, &json!(false)).unwrap(), json!(0));
    assert_eq!(field_value(vip, &json!(true)).unwrap(), json!(true));
    for v in [json!([1]), json!({"a": 1})] {
        assert_eq!(field_value(city, &v).unwrap_err(), NOT_A_SCALAR);
    }
}

#[test]
fn text_is_typed_by_the_declared_type() {
    let l = cli();
    let points = column(&l, "loyalty_points").unwrap();
    let balance = column(&l, "balance").unwrap();
    let city = column(&l, "city").unwrap();
    assert_eq!(typed_value(points, " 12 ").unwrap(), json!(12));
    assert_eq!(typed_value(balance, "2.5").unwrap(), json!(2.5));
    assert_eq!(typed_value(city, " Lyon").unwrap(), json!(" Lyon"));
    for c in [points, balance, city] {
        assert_eq!(typed_value(c, "").unwrap(), Json::Null);
    }
    assert_eq!(
        typed_value(points, "many").unwrap_err(),
        "column loyalty_points holds whole numbers, not \"many\""
    );
    assert_eq!(
        typed_value(balance, "NaN").unwrap_err(),
        "column balance holds numbers, not \"NaN\""
    );
}

#[test]
fn creation_fields_are_checked_in_order_and_the_name_is_given_apart() {
    let l = cli();
    let f = create_fields(
        "CLI",
        &l,
        "name",
        &map(json!({"CITY": "Lyon", "vip": false})),
    )
    .unwrap();
    assert_eq!(
        f,
        [
            ("city".to_string(), json!("Lyon")),
            ("vip".to_string(), json!(false))
        ]
    );
    for (fields, message) in [
        (
            json!({"colour": "red"}),
            "table CLI has no column \"colour\"; columns are: code, name, city, loyalty_points, balance, vip",
        ),
        (
            json!({"code": "X"}),
            "the customer code (code) is allocated by the server and cannot be given",
        ),
        (
            json!({"Name": "Bob"}),
            "give the name once, as the name, not as the field \"Name\"",
        ),
        (
            json!({"city": [1]}),
            "field city: expected a text, a number, true/false or null",
        ),
    ] {
        assert_eq!(
            create_fields("CLI", &l, "name", &map(fields)).unwrap_err(),
            message
        );
    }
}

#[test]
fn edit_fields_are_checked_by_their_real_names() {
    let l = cli();
    let f = edit_fields("CLI", &l, &map(json!({"City": "Paris", "name": null}))).unwrap();
    assert_eq!(f, map(json!({"city": "Paris", "name": null})));
    assert_eq!(
        edit_fields("CLI", &l, &map(json!({"code": "X"}))).unwrap_err(),
        "the customer code (code) cannot be changed"
    );
    assert_eq!(
        edit_fields("CLI", &l, &map(json!({"city": {"a": 1}}))).unwrap_err(),
        "field city: expected a text, a number, true/false or null"
    );
    assert!(
        edit_fields("CLI", &l, &map(json!({"colour": 1})))
            .unwrap_err()
            .contains("no column \"colour\"")
    );
}
