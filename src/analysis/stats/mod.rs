//! Pure statistics on `&[f64]` used by the leak tests: robust location/scale, the Mann-Kendall
//! trend test with the Hamed-Rao correction, Sen's slope, multiple-testing control and the small
//! model fits behind the shape gates. Nothing here knows about perfmon.

pub mod combine;
pub mod fit;
pub mod lanes;
pub mod onset;
pub mod regress;
pub mod robust;
pub mod scan;
pub mod select;
pub mod trend;

use statrs::function::erf::{erfc, erfc_inv};

/// Standard normal CDF.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// Standard normal upper tail, accurate far into the tail (where `1 - cdf` would round to 0).
pub fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// Standard normal density.
pub fn normal_pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Standard normal quantile.
pub fn normal_quantile(p: f64) -> f64 {
    -std::f64::consts::SQRT_2 * erfc_inv(2.0 * p)
}
