//! Display units shared by every stage that writes numbers for people (KB evidence, reports),
//! so one slope reads the same in the KB evidence, the headline and the table.

/// Perfmon and Task Manager count a kilobyte as 2^10 and a megabyte as 2^20 bytes; the same
/// divisors keep our figures comparable with what the engineer sees on the machine.
pub const BYTES_PER_KB: f64 = 1024.0;
pub const BYTES_PER_MB: f64 = 1_048_576.0;

/// Display factor and unit for a byte amount of magnitude `abs`: MB as the engineer's usual
/// scale, KB and bytes for small pools where MB would need five decimals, GB only from 10 GB
/// (64-bit Virtual Bytes run to terabytes; below that, MB is what engineers compare).
pub fn byte_unit(abs: f64) -> (f64, &'static str) {
    if abs >= 10.0 * 1024.0 * BYTES_PER_MB && abs.is_finite() {
        (1.0 / (1024.0 * BYTES_PER_MB), "GB")
    } else if abs >= BYTES_PER_MB || abs == 0.0 || !abs.is_finite() {
        (1.0 / BYTES_PER_MB, "MB")
    } else if abs >= BYTES_PER_KB {
        (1.0 / BYTES_PER_KB, "KB")
    } else {
        (1.0, "bytes")
    }
}
