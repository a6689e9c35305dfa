//! dualtrack: {"engine": "offline"}

/// dualtrack: {"function": "ledger::ledger::Ledger::balance", "oracle": "no_panic", "input": "push(i64::MAX) twice"}
#[test]
fn balance_after_two_max_pushes() {
    let mut ledger = Ledger::new();
    ledger.push(i64::MAX);
    ledger.push(i64::MAX);
    let _ = ledger.balance();
}
