//! dualtrack: {"engine": "offline"}

/// dualtrack: {"function": "ledger::parse_cents", "oracle": "no_panic", "input": "\"99999999999999999\""}
#[test]
fn parse_cents_large_overflows() {
    let _ = parse_cents("99999999999999999");
}

/// dualtrack: {"function": "ledger::parse_cents", "oracle": "contract", "input": "\"12\""}
#[test]
fn parse_cents_contract_12() {
    assert_eq!(parse_cents("12"), Ok(1200));
}

/// dualtrack: {"function": "ledger::memo_preview", "oracle": "no_panic", "input": "\"é\", 1"}
#[test]
fn memo_preview_multibyte_boundary() {
    let _ = memo_preview("é", 1);
}

/// dualtrack: {"function": "ledger::format_cents", "oracle": "wrong_expectation"}
#[test]
fn format_cents_wrong_expectation() {
    assert_eq!(format_cents(5), "5.00");
}

/// dualtrack: {"function": "ledger::split_evenly", "oracle": "no_panic", "input": "0"}
#[test]
fn split_evenly_zero_parts() {
    let _ = split_evenly(100, 0);
}
