//! dualtrack: {"engine": "offline"}

/// dualtrack: {"function": "ledger::percent_of"}
#[test]
fn percent_of_zero_whole() {
    assert_eq!(percent_of(5, 0), None);
}

/// dualtrack: {"function": "ledger::percent_of"}
#[test]
fn percent_of_then_hangs() {
    assert_eq!(percent_of(5, 0), None);
    loop {
        std::hint::spin_loop();
    }
}

/// dualtrack: {"function": "ledger::split_evenly"}
#[test]
fn split_evenly_zero_parts_panics() {
    let _ = split_evenly(10, 0);
}

/// dualtrack: {"function": "ledger::percent_of"}
#[test]
fn percent_of_then_aborts() {
    let _ = percent_of(1, 1);
    std::process::abort();
}
