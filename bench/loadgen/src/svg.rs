//! A small SVG bar chart: panels of horizontal bars, each group of bars
//! with its own target line, every bar labelled with its value. No plotting
//! library: the chart is a few dozen rectangles.

use std::fmt::Write;

/// One bar.
pub struct Bar {
    /// The series, shown in the legend.
    pub series: &'static str,
    pub value: f64,
    pub color: &'static str,
}

/// The bars of one scenario, with the value they are held to.
pub struct Group {
    pub name: String,
    pub bars: Vec<Bar>,
    /// Drawn as a dashed line across the group, labelled.
    pub target: Option<f64>,
}

/// One chart panel.
pub struct Panel {
    pub title: String,
    pub subtitle: String,
    pub groups: Vec<Group>,
    /// How values are printed: `×` after ratios, ` KiB` after memory.
    pub unit: &'static str,
}

const WIDTH: f64 = 900.0;
const LEFT: f64 = 230.0;
const RIGHT: f64 = 90.0;
const BAR: f64 = 16.0;
const GAP: f64 = 10.0;
const FONT: &str = "font-family=\"Helvetica, Arial, sans-serif\"";

/// Renders the panels one above the other.
pub fn render(panels: &[Panel]) -> String {
    let mut body = String::new();
    let mut y = 10.0;
    for panel in panels {
        y = render_panel(&mut body, panel, y) + 24.0;
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{y}\" viewBox=\"0 0 {WIDTH} {y}\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{body}</svg>\n"
    )
}

/// The axis: a round step (1, 2 or 5 times a power of ten, or 2.5) that
/// splits `max` into at most six ticks, and the end, a multiple of it at or
/// above `max`.
fn axis(max: f64) -> (f64, f64) {
    let magnitude = 10f64.powf((max / 6.0).log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|factor| factor * magnitude)
        .find(|step| max / step <= 6.0)
        .unwrap_or(10.0 * magnitude);
    (step, (max / step).ceil() * step)
}

fn render_panel(out: &mut String, panel: &Panel, top: f64) -> f64 {
    let plot = WIDTH - LEFT - RIGHT;
    let largest = panel
        .groups
        .iter()
        .flat_map(|group| group.bars.iter().map(|bar| bar.value).chain(group.target))
        .filter(|value| value.is_finite())
        .fold(0.0, f64::max);
    let (step, end) = axis((largest * 1.08).max(f64::MIN_POSITIVE));
    let x = |value: f64| LEFT + plot * (value / end).clamp(0.0, 1.0);

    let _ = writeln!(
        out,
        "<text x=\"10\" y=\"{}\" {FONT} font-size=\"16\" font-weight=\"bold\">{}</text>",
        top + 16.0,
        escape(&panel.title)
    );
    let _ = writeln!(
        out,
        "<text x=\"10\" y=\"{}\" {FONT} font-size=\"12\" fill=\"#555\">{}</text>",
        top + 34.0,
        escape(&panel.subtitle)
    );
    let mut y = top + 50.0;

    // The legend: each series once, in order of first appearance.
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for bar in panel.groups.iter().flat_map(|group| &group.bars) {
        if !seen.iter().any(|(series, _)| *series == bar.series) {
            seen.push((bar.series, bar.color));
        }
    }
    let mut legend_x = LEFT;
    // One series needs no legend: the title says what the bars are.
    if seen.len() < 2 {
        seen.clear();
        y -= 24.0;
    }
    for (series, color) in &seen {
        let _ = writeln!(
            out,
            "<rect x=\"{legend_x}\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{color}\"/>\
             <text x=\"{}\" y=\"{}\" {FONT} font-size=\"12\">{}</text>",
            legend_x + 16.0,
            y + 10.5,
            escape(series)
        );
        legend_x += 30.0 + 7.0 * series.len() as f64;
    }
    y += 24.0;

    let plot_top = y;
    for group in &panel.groups {
        let height = group.bars.len() as f64 * BAR;
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" {FONT} font-size=\"13\" text-anchor=\"end\">{}</text>",
            LEFT - 8.0,
            y + height / 2.0 + 4.5,
            escape(&group.name)
        );
        for (i, bar) in group.bars.iter().enumerate() {
            let bar_y = y + i as f64 * BAR;
            let (width, label) = if bar.value.is_finite() {
                (x(bar.value) - LEFT, format_value(bar.value, panel.unit))
            } else {
                (0.0, "not measured".to_owned())
            };
            let _ = writeln!(
                out,
                "<rect x=\"{LEFT}\" y=\"{}\" width=\"{width:.1}\" height=\"{}\" fill=\"{}\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" {FONT} font-size=\"11\">{}</text>",
                bar_y + 1.0,
                BAR - 2.0,
                bar.color,
                LEFT + width + 4.0,
                bar_y + BAR - 4.0,
                escape(&label)
            );
        }
        if let Some(target) = group.target {
            let tx = x(target);
            let _ = writeln!(
                out,
                "<line x1=\"{tx:.1}\" y1=\"{}\" x2=\"{tx:.1}\" y2=\"{}\" stroke=\"#d62728\" \
                 stroke-width=\"2\" stroke-dasharray=\"4 3\"/>\
                 <text x=\"{tx:.1}\" y=\"{}\" {FONT} font-size=\"10\" fill=\"#d62728\" \
                 text-anchor=\"middle\">target {}</text>",
                y - 3.0,
                y + height + 1.0,
                y + height + 11.0,
                escape(&format_value(target, panel.unit))
            );
        }
        y += height + GAP + 12.0;
    }

    // The axis, a tick every `step`.
    let _ = writeln!(
        out,
        "<line x1=\"{LEFT}\" y1=\"{plot_top}\" x2=\"{LEFT}\" y2=\"{y}\" stroke=\"#333\"/>\
         <line x1=\"{LEFT}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#333\"/>",
        LEFT + plot
    );
    let ticks = (end / step).round() as u32;
    for tick in 0..=ticks {
        let value = step * f64::from(tick);
        let tx = x(value);
        let _ = writeln!(
            out,
            "<line x1=\"{tx:.1}\" y1=\"{y}\" x2=\"{tx:.1}\" y2=\"{}\" stroke=\"#333\"/>\
             <text x=\"{tx:.1}\" y=\"{}\" {FONT} font-size=\"11\" text-anchor=\"middle\">{}</text>",
            y + 4.0,
            y + 16.0,
            escape(&tick_label(value, panel.unit))
        );
    }
    y + 18.0
}

/// `1.03×`, `0.04×`, `35×`, `7.2 KiB`: enough digits to compare with a target.
pub fn format_value(value: f64, unit: &str) -> String {
    let digits = if value == 0.0 || value.abs() >= 20.0 {
        0
    } else if value.abs() >= 2.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$}{unit}")
}

/// A tick's value: as short as it can be (`10 KiB`, `0.25×`).
fn tick_label(value: f64, unit: &str) -> String {
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}{unit}")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_have_round_steps() {
        let close =
            |(a, b): (f64, f64), (c, d): (f64, f64)| (a - c).abs() < 1e-9 && (b - d).abs() < 1e-9;
        assert!(close(axis(1.12), (0.2, 1.2)));
        assert!(close(axis(0.9), (0.2, 1.0)));
        assert!(close(axis(37.0), (10.0, 40.0)));
        assert!(close(axis(131.0), (25.0, 150.0)));
    }

    #[test]
    fn values_keep_the_digits_a_target_needs() {
        assert_eq!(format_value(1.034, "×"), "1.03×");
        assert_eq!(format_value(7.25, " KiB"), "7.2 KiB");
        assert_eq!(format_value(36.6, "×"), "37×");
        assert_eq!(tick_label(10.0, " KiB"), "10 KiB");
        assert_eq!(tick_label(0.25, "×"), "0.25×");
        assert_eq!(tick_label(0.0, "×"), "0×");
    }

    #[test]
    fn a_chart_is_well_formed_enough() {
        let svg = render(&[Panel {
            title: "A <title>".into(),
            subtitle: "sub".into(),
            unit: "×",
            groups: vec![Group {
                name: "echo".into(),
                bars: vec![
                    Bar {
                        series: "s",
                        value: 1.02,
                        color: "#000",
                    },
                    Bar {
                        series: "t",
                        value: f64::NAN,
                        color: "#111",
                    },
                ],
                target: Some(1.05),
            }],
        }]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("A &lt;title&gt;"));
        assert!(svg.contains("not measured"));
        assert!(svg.contains("target 1.05×"));
    }
}
