//! dualtrack: {"engine": "offline"}

/// dualtrack: {"function": "ledger::ledger::Ledger::new"}
#[test]
fn ledgers_compare() {
    assert_eq!(crate::ledger::Ledger::new(), crate::ledger::Ledger::new());
}

/// dualtrack: {"function": "ledger::format_cents"}
#[test]
fn format_cents_zero() {
    assert_eq!(format_cents(0), "0.00");
}
