//! dualtrack: {"engine": "offline"}

/// dualtrack: {"function": "multi_core::clamp_percent"}
#[test]
fn clamp_percent_bounds() {
    assert_eq!(clamp_percent(-5), 0);
    assert_eq!(clamp_percent(500), 100);
    assert_eq!(clamp_percent(42), 42);
}

/// dualtrack: {"function": "multi_cli::main"}
#[test]
fn main_runs() {
    main();
}
