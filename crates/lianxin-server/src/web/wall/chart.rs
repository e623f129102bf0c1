//! The wall's charts as SVG, drawn on the server: bars by hour with a line for the usual
//! day, and horizontal bars with their labels. Text is left to the browser's fonts (so
//! Chinese labels need no font of ours); every label is escaped.

use std::fmt::Write;

/// Escapes text for SVG.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// 24 bars (today's registrations by hour) with the usual day's line over them; hours after
/// `now_hour` have no bar yet.
pub fn hours(today: &[i64; 24], usual: &[f64; 24], now_hour: usize, label_today: &str, label_usual: &str) -> String {
    let (w, h, left, bottom, top) = (720.0, 260.0, 36.0, 28.0, 24.0);
    // An even whole number at least 4, so the three grid lines fall on whole orders.
    let max = today.iter().map(|v| *v as f64).chain(usual.iter().copied()).fold(4.0f64, f64::max);
    let max = (max / 2.0).ceil() * 2.0;
    let plot_h = h - bottom - top;
    let step = (w - left - 8.0) / 24.0;
    let y = |v: f64| top + plot_h - v / max * plot_h;
    let mut s = String::new();
    let _ = write!(s, r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{}">"#, esc(label_today));
    for frac in [0.0, 0.5, 1.0] {
        let yy = y(max * frac);
        let _ = write!(
            s,
            r#"<line x1="{left}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" class="grid"/><text x="{}" y="{:.1}" class="axis" text-anchor="end">{:.0}</text>"#,
            w - 8.0,
            left - 4.0,
            yy + 4.0,
            max * frac
        );
    }
    for (i, v) in today.iter().enumerate().take(now_hour + 1) {
        let x = left + i as f64 * step + 2.0;
        let yy = y(*v as f64);
        let _ = write!(
            s,
            r#"<rect x="{x:.1}" y="{yy:.1}" width="{:.1}" height="{:.1}" class="bar" data-hour="{i}" data-count="{v}"><title>{i:02}:00 {v}</title></rect>"#,
            step - 4.0,
            top + plot_h - yy
        );
    }
    let points: Vec<String> =
        usual.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", left + (i as f64 + 0.5) * step, y(*v))).collect();
    let _ = write!(s, r#"<polyline points="{}" class="usual"/>"#, points.join(" "));
    for i in (0..24).step_by(3) {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{}" class="axis" text-anchor="middle">{i:02}</text>"#,
            left + (i as f64 + 0.5) * step,
            h - 8.0
        );
    }
    let _ = write!(
        s,
        r#"<rect x="{left}" y="4" width="12" height="10" class="bar"/><text x="{}" y="13" class="legend">{}</text><line x1="{}" x2="{}" y1="9" y2="9" class="usual"/><text x="{}" y="13" class="legend">{}</text></svg>"#,
        left + 16.0,
        esc(label_today),
        left + 160.0,
        left + 180.0,
        left + 186.0,
        esc(label_usual)
    );
    s
}

/// Horizontal bars, one row per (label, value), longest first as given.
pub fn bars(rows: &[(String, i64)], class: &str) -> String {
    let (w, row_h, label_w) = (440.0, 26.0, 150.0);
    let h = (rows.len().max(1) as f64) * row_h + 4.0;
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1) as f64;
    let mut s = String::new();
    let _ = write!(s, r#"<svg class="chart {class}" viewBox="0 0 {w} {h}" role="img">"#);
    if rows.is_empty() {
        let _ = write!(s, r#"<text x="8" y="18" class="axis">–</text>"#);
    }
    for (i, (label, v)) in rows.iter().enumerate() {
        let yy = i as f64 * row_h + 4.0;
        let bw = (*v as f64 / max) * (w - label_w - 56.0);
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" class="label" text-anchor="end">{}</text><rect x="{label_w}" y="{yy:.1}" width="{bw:.1}" height="{:.1}" class="bar c{}"/><text x="{:.1}" y="{:.1}" class="value">{v}</text>"#,
            label_w - 8.0,
            yy + row_h * 0.62,
            esc(label),
            row_h - 8.0,
            i % 8,
            label_w + bw + 6.0,
            yy + row_h * 0.62
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_future_hours_have_no_bar() {
        let svg = bars(&[("<b>&".into(), 3)], "x");
        assert!(svg.contains("&lt;b&gt;&amp;") && !svg.contains("<b>"));
        let mut today = [0i64; 24];
        today[9] = 5;
        let svg = hours(&today, &[1.0; 24], 9, "今日", "同期");
        assert_eq!(svg.matches("data-hour=").count(), 10);
        assert!(svg.contains(r#"data-hour="9" data-count="5""#));
    }
}
