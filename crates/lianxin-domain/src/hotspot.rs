//! Hotspots (热点) and surges (激增): which matters grow where, by tests stated here.
//!
//! A **hotspot** is a (category, place) cell of a period: its `count` of orders, its
//! `baseline` = the mean count of the same cell over the previous [`BASELINE_PERIODS`] periods
//! of equal length, and its `growth` = (count − baseline) / baseline (`None` when the
//! baseline is 0: growth from nothing has no ratio).
//!
//! A hotspot is **emerging** when its count is at least [`HotspotTest::min_count`] and the
//! count would be improbable if the cell kept its baseline rate: under a Poisson law of mean
//! λ = max(baseline, [`HotspotTest::floor`]), the upper tail P(X ≥ count) is below
//! [`HotspotTest::alpha`] (defaults: at least 5 orders, λ at least 0.5, α = 0.01). Poisson
//! because contacts arrive independently at a rate; the floor keeps a cell that had nothing
//! before from alarming on its first two orders.
//!
//! A **surge** is a category whose orders of the last hours break the band expected for
//! those hours: the band is the mean μ of the same hours on the previous days given, plus
//! [`SurgeTest::k`] times the larger of their standard deviation, √μ (the Poisson spread)
//! and 1; a surge needs at least [`SurgeTest::min_count`] orders too (defaults: k = 3, at
//! least 10 orders).

use serde::Serialize;

/// How many earlier periods of equal length make the baseline.
pub const BASELINE_PERIODS: usize = 4;

/// The emerging-hotspot test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HotspotTest {
    pub min_count: i64,
    pub floor: f64,
    pub alpha: f64,
}

impl Default for HotspotTest {
    fn default() -> Self {
        HotspotTest { min_count: 5, floor: 0.5, alpha: 0.01 }
    }
}

/// One (category, place) cell of a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hotspot {
    pub category: String,
    pub place: String,
    pub count: i64,
    /// The mean count of the previous periods.
    pub baseline: f64,
    /// (count − baseline) / baseline; `None` when the baseline is 0.
    pub growth: Option<f64>,
    /// P(X ≥ count) for X ~ Poisson(max(baseline, floor)).
    pub p_value: f64,
    pub emerging: bool,
}

/// The counts of one cell: this period's and the previous periods' (most recent first; fewer
/// than [`BASELINE_PERIODS`] when the history is shorter, missing ones counting as 0).
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub category: String,
    pub place: String,
    pub count: i64,
    pub previous: Vec<i64>,
}

/// Rates every cell and ranks them: emerging first, then by count, then by growth; cells
/// with no order this period are left out.
pub fn hotspots(cells: &[Cell], test: HotspotTest) -> Vec<Hotspot> {
    let mut out: Vec<Hotspot> = cells.iter().filter(|c| c.count > 0).map(|c| rate(c, test)).collect();
    out.sort_by(|a, b| {
        b.emerging
            .cmp(&a.emerging)
            .then(b.count.cmp(&a.count))
            .then(b.growth.unwrap_or(f64::INFINITY).total_cmp(&a.growth.unwrap_or(f64::INFINITY)))
            .then_with(|| (&a.category, &a.place).cmp(&(&b.category, &b.place)))
    });
    out
}

/// One cell against its baseline.
pub fn rate(c: &Cell, test: HotspotTest) -> Hotspot {
    let baseline = baseline(&c.previous);
    let growth = (baseline > 0.0).then(|| (c.count as f64 - baseline) / baseline);
    let p_value = poisson_upper_tail(baseline.max(test.floor), c.count);
    Hotspot {
        category: c.category.clone(),
        place: c.place.clone(),
        count: c.count,
        baseline,
        growth,
        p_value,
        emerging: c.count >= test.min_count && p_value < test.alpha,
    }
}

/// The mean of the previous periods' counts over [`BASELINE_PERIODS`].
pub fn baseline(previous: &[i64]) -> f64 {
    let sum: i64 = previous.iter().take(BASELINE_PERIODS).sum();
    sum as f64 / BASELINE_PERIODS as f64
}

/// The surge test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SurgeTest {
    pub k: f64,
    pub min_count: i64,
}

impl Default for SurgeTest {
    fn default() -> Self {
        SurgeTest { k: 3.0, min_count: 10 }
    }
}

/// A category's last hours against the band of the same hours on earlier days.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Surge {
    pub count: i64,
    pub mean: f64,
    /// The top of the expected band: mean + k · max(sd, √mean, 1).
    pub upper: f64,
    pub surging: bool,
}

/// `recent`: the orders of the last hours; `history`: the same hours' counts on earlier days.
pub fn surge(recent: i64, history: &[i64], test: SurgeTest) -> Surge {
    let n = history.len().max(1) as f64;
    let mean = history.iter().sum::<i64>() as f64 / n;
    let var = history.iter().map(|&h| (h as f64 - mean).powi(2)).sum::<f64>() / n;
    let spread = var.sqrt().max(mean.sqrt()).max(1.0);
    let upper = mean + test.k * spread;
    Surge { count: recent, mean, upper, surging: recent >= test.min_count && recent as f64 > upper }
}

/// P(X ≥ k) for X ~ Poisson(λ), summed from k upwards in log space (exact for small λ,
/// no overflow for large ones).
pub fn poisson_upper_tail(lambda: f64, k: i64) -> f64 {
    if k <= 0 {
        return 1.0;
    }
    if lambda <= 0.0 {
        return 0.0;
    }
    let ln_l = lambda.ln();
    let term = |i: i64| (-lambda + i as f64 * ln_l - ln_gamma(i as f64 + 1.0)).exp();
    // Below the mean the tail is most of the mass: 1 − the (shorter) lower sum is exact enough.
    if (k as f64) <= lambda {
        let lower: f64 = (0..k).map(term).sum();
        return (1.0 - lower).clamp(0.0, 1.0);
    }
    let mut sum = 0.0;
    let mut i = k;
    loop {
        let t = term(i);
        sum += t;
        i += 1;
        if t < sum * 1e-17 || t == 0.0 {
            break;
        }
    }
    sum.min(1.0)
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine coefficients; about 15 significant digits).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_matches_factorials() {
        let mut f = 1.0_f64;
        for n in 1..30 {
            f *= n as f64;
            assert!((ln_gamma(n as f64 + 1.0) - f.ln()).abs() < 1e-10, "{n}");
        }
    }
}
