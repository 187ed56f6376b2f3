//! What every bench's report shares: a target met or not, and the verdict
//! line that ends the text output.

use serde::Serialize;

/// One target of a bench: a measured value against its limit.
#[derive(Serialize)]
pub(crate) struct Target {
    pub(crate) name: String,
    pub(crate) value: f64,
    pub(crate) limit: f64,
    pub(crate) met: bool,
}

/// The last line of every bench's text output: whether every target was
/// met, and how long the whole run took.
pub(crate) fn print_verdict(all_targets_met: bool, total_ms: f64) {
    println!(
        "{} ({:.1} s in all)",
        if all_targets_met {
            "every target met"
        } else {
            "some targets NOT met"
        },
        total_ms / 1e3
    );
}
