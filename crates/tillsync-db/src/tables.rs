//! The names of the business tables tillsync itself knows: the ticket
//! tables (fiscal records, up only) and the customers table.

/// The tables that hold the tills' sales (fiscal records): they go up from
/// the tills and are never sent down (a full package would replace them).
pub fn is_ticket_table(name: &str) -> bool {
    ["TICKET", "TICKET_LINE", "TICKET_PAYMENT", "TICKET_VAT"]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(name))
}

/// The customers table.
pub const CUSTOMER_TABLE: &str = "CLI";

/// The column that holds a customer's name.
pub const NAME_COLUMN: &str = "name";
