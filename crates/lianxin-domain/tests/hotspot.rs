//! Hotspots and surges against hand-computed figures (issue 12).

use lianxin_domain::hotspot::{self, Cell, HotspotTest, SurgeTest, poisson_upper_tail, surge};

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

#[test]
fn the_poisson_tail_matches_the_sums_done_by_hand() {
    // P(X ≥ 5 | λ = 2) = 1 − e^−2 (1 + 2 + 2 + 4/3 + 2/3) = 1 − 7 e^−2.
    let want = 1.0 - 7.0 * (-2.0f64).exp();
    assert!(close(poisson_upper_tail(2.0, 5), want, 1e-12), "{}", poisson_upper_tail(2.0, 5));
    assert!(close(want, 0.052_653_017_343_7, 1e-10));
    // P(X ≥ 5 | λ = 1) = 1 − (1 + 1 + 1/2 + 1/6 + 1/24) e^−1 = 1 − (65/24) e^−1.
    let want = 1.0 - 65.0 / 24.0 * (-1.0f64).exp();
    assert!(close(poisson_upper_tail(1.0, 5), want, 1e-10));
    // P(X ≥ 1 | λ) = 1 − e^−λ; P(X ≥ 0) = 1.
    assert!(close(poisson_upper_tail(3.0, 1), 1.0 - (-3.0f64).exp(), 1e-12));
    assert_eq!(poisson_upper_tail(3.0, 0), 1.0);
    // Large means do not overflow (λ = 1000, 1,100 orders: about 0.000963).
    let big = poisson_upper_tail(1000.0, 1100);
    assert!(close(big, 0.000_962_63, 1e-3), "{big}");
    // The tail falls as the count rises.
    let mut last = 1.0;
    for k in 0..60 {
        let p = poisson_upper_tail(12.5, k);
        assert!(p <= last + 1e-15, "{k}");
        last = p;
    }
}

fn cell(category: &str, place: &str, count: i64, previous: &[i64]) -> Cell {
    Cell { category: category.into(), place: place.into(), count, previous: previous.to_vec() }
}

#[test]
fn growth_is_against_the_mean_of_the_previous_four_periods_and_the_test_needs_a_count() {
    let t = HotspotTest::default();
    // 12 this week after 2, 3, 4, 3: baseline 3, growth (12 − 3) / 3 = 3.
    let h = hotspot::rate(&cell("urban.order.social-noise", "440106001", 12, &[2, 3, 4, 3]), t);
    assert_eq!(h.baseline, 3.0);
    assert_eq!(h.growth, Some(3.0));
    assert!(h.p_value < 1e-4 && h.emerging, "{h:?}");
    // A steady cell is no alarm: 6 after 5, 6, 7, 6.
    let h = hotspot::rate(&cell("c", "p", 6, &[5, 6, 7, 6]), t);
    assert_eq!(h.growth, Some(0.0));
    assert!(!h.emerging && h.p_value > 0.5, "{h:?}");
    // From nothing: no growth ratio; 4 orders are below the minimum, 5 are enough
    // (P(X ≥ 5 | λ = 0.5) ≈ 0.00017 < 0.01).
    let h = hotspot::rate(&cell("c", "p", 4, &[0, 0, 0, 0]), t);
    assert_eq!(h.growth, None);
    assert!(!h.emerging);
    let h = hotspot::rate(&cell("c", "p", 5, &[]), t);
    assert!(h.emerging && close(h.p_value, 0.000_172_115_63, 1e-6), "{h:?}");
    // A shorter history counts the missing periods as 0: 4 + 0 + 0 + 0 → baseline 1.
    assert_eq!(hotspot::baseline(&[4]), 1.0);
    assert_eq!(hotspot::baseline(&[4, 4, 4, 4, 100]), 4.0, "only four periods count");
}

#[test]
fn hotspots_rank_the_emerging_first_then_by_count() {
    let cells = vec![
        cell("a", "1", 30, &[30, 29, 31, 30]),
        cell("b", "1", 8, &[0, 1, 0, 1]),
        cell("c", "2", 0, &[5, 5, 5, 5]),
        cell("d", "2", 12, &[2, 3, 4, 3]),
    ];
    let ranked = hotspot::hotspots(&cells, HotspotTest::default());
    let order: Vec<&str> = ranked.iter().map(|h| h.category.as_str()).collect();
    assert_eq!(order, ["d", "b", "a"], "emerging by count, then the rest; a cell with none is left out");
}

#[test]
fn a_surge_breaks_the_band_of_the_same_hours_on_earlier_days() {
    let t = SurgeTest::default();
    // Mean 10, sd √2, √10 ≈ 3.162 is the larger spread: upper = 10 + 3 × 3.162 ≈ 19.49.
    let s = surge(20, &[10, 12, 8, 10], t);
    assert_eq!(s.mean, 10.0);
    assert!(close(s.upper, 10.0 + 3.0 * 10f64.sqrt(), 1e-12));
    assert!(s.surging);
    assert!(!surge(19, &[10, 12, 8, 10], t).surging);
    // A quiet category needs the minimum count: upper = 0 + 3 × 1 = 3, but 9 is not a surge.
    assert!(!surge(9, &[0, 0, 0, 0], t).surging);
    assert!(surge(10, &[0, 0, 0, 0], t).surging);
    // A category that swings widely has a wide band: mean 15, sd 15, upper 60.
    let s = surge(50, &[0, 30, 0, 30], t);
    assert_eq!(s.upper, 60.0);
    assert!(!s.surging);
    // The flood day: 40 in the last hours after a week of 1–3.
    assert!(surge(40, &[2, 3, 1, 2, 2, 3, 1], t).surging);
}

proptest::proptest! {
    /// Both ways of summing agree where they meet (k near λ), and the tail is a probability
    /// that falls with k.
    #[test]
    fn the_tail_is_a_falling_probability_summed_either_way(lambda in 0.05f64..3000.0, k in 0i64..4000) {
        let p = poisson_upper_tail(lambda, k);
        proptest::prop_assert!((0.0..=1.0).contains(&p));
        proptest::prop_assert!(poisson_upper_tail(lambda, k + 1) <= p + 1e-12);
        // P(X ≥ k) = P(X ≥ k + 1) + P(X = k).
        let pk = (-lambda + k as f64 * lambda.ln() - ln_factorial(k)).exp();
        let next = poisson_upper_tail(lambda, k + 1);
        proptest::prop_assert!((p - (next + pk)).abs() < 1e-9, "{} vs {} + {}", p, next, pk);
    }
}

fn ln_factorial(k: i64) -> f64 {
    (1..=k).map(|i| (i as f64).ln()).sum()
}
