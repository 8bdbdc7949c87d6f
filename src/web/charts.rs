//! Charts drawn on the server as SVG (with `plotters`, its SVG backend
//! alone), inlined into a page: readable without JavaScript, and
//! accessible: `role="img"` and a `<title>` the `<svg>` is labelled by. A
//! page shows the same figures in a table beside each chart.

use chrono::NaiveDate;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

/// How big a chart is drawn (it scales down with the page: it has a
/// `viewBox`).
const WIDTH: u32 = 640;
const HEIGHT: u32 = 260;

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// A bar a day (counts of things made).
    Bars,
    /// A line through the days, a dot on each (traffic).
    Line,
}

/// A daily series as an `<svg>` element whose accessible name is `title`;
/// `id` makes its title's id (unique on the page). `values[i]` is the
/// figure of `days[i]`.
pub fn daily_svg(
    id: &str,
    title: &str,
    days: &[NaiveDate],
    values: &[i64],
    style: Style,
) -> String {
    let mut svg = String::new();
    if let Err(error) = draw(&mut svg, days, values, style) {
        // Drawing into a string cannot fail short of a bug: say so, and
        // leave the table to carry the figures.
        log::error!("chart {id} could not be drawn: {error}");
        svg = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}"></svg>"#
        );
    }
    labelled(&svg, id, title)
}

fn draw(svg: &mut String, days: &[NaiveDate], values: &[i64], style: Style) -> Result<(), String> {
    let fail = |error: DrawingAreaErrorKind<_>| error.to_string();
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(fail)?;
    let count = days.len().max(1);
    // Room above the highest bar, and whole numbers on the axis.
    let top = values.iter().copied().max().unwrap_or(0).max(4);
    let top = top + (top / 10).max(1);
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(48)
        .build_cartesian_2d((0..count).into_segmented(), 0i64..top)
        .map_err(fail)?;
    let label = |at: &SegmentValue<usize>| match at {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => days
            .get(*i)
            .map(|day| day.format("%b %-d").to_string())
            .unwrap_or_default(),
        SegmentValue::Last => String::new(),
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(225, 228, 232))
        .axis_style(RGBColor(120, 124, 130))
        .x_labels(6)
        .y_labels(5)
        .x_label_formatter(&label)
        .y_label_formatter(&|v: &i64| v.to_string())
        .label_style(("sans-serif", 12).into_font().color(&RGBColor(70, 74, 80)))
        .draw()
        .map_err(fail)?;
    let colour = RGBColor(37, 99, 235);
    match style {
        Style::Bars => {
            chart
                .draw_series(values.iter().enumerate().map(|(i, value)| {
                    let mut bar = Rectangle::new(
                        [
                            (SegmentValue::Exact(i), 0),
                            (SegmentValue::Exact(i + 1), *value),
                        ],
                        colour.filled(),
                    );
                    bar.set_margin(0, 0, 2, 2);
                    bar
                }))
                .map_err(fail)?;
        }
        Style::Line => {
            let points: Vec<(SegmentValue<usize>, i64)> = values
                .iter()
                .enumerate()
                .map(|(i, value)| (SegmentValue::CenterOf(i), *value))
                .collect();
            chart
                .draw_series(std::iter::once(PathElement::new(
                    points.clone(),
                    colour.stroke_width(2),
                )))
                .map_err(fail)?;
            chart
                .draw_series(
                    points
                        .into_iter()
                        .map(|point| Circle::new(point, 3, colour.filled())),
                )
                .map_err(fail)?;
        }
    }
    root.present().map_err(fail)?;
    Ok(())
}

/// `svg` with `role="img"`, a `<title>` first inside it, `aria-labelledby`
/// naming it, and a class for the stylesheet (which lets it shrink).
fn labelled(svg: &str, id: &str, title: &str) -> String {
    let title_id = format!("{id}-title");
    let Some(start) = svg.find("<svg") else {
        return svg.to_owned();
    };
    let Some(end) = svg[start..].find('>').map(|at| start + at) else {
        return svg.to_owned();
    };
    let opening = svg[start..end].trim_end_matches('/');
    format!(
        r#"{opening} id="{id}" class="chart" role="img" aria-labelledby="{title_id}"><title id="{title_id}">{}</title>{}"#,
        quick_xml::escape::escape(title),
        &svg[end + 1..],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(n: u32) -> Vec<NaiveDate> {
        let first = NaiveDate::from_ymd_opt(2026, 11, 5).unwrap();
        first.iter_days().take(n as usize).collect()
    }

    #[test]
    fn a_chart_is_an_svg_labelled_by_its_title() {
        for style in [Style::Bars, Style::Line] {
            let svg = daily_svg("views", "Views <per> day", &days(30), &[3; 30], style);
            assert!(svg.starts_with("<svg "), "{}", &svg[..80]);
            assert!(svg.contains(r#"role="img" aria-labelledby="views-title""#));
            assert!(svg.contains(r#"<title id="views-title">Views &lt;per&gt; day</title>"#));
            assert!(svg.contains("viewBox"));
            assert!(svg.trim_end().ends_with("</svg>"));
        }
    }

    #[test]
    fn an_empty_series_still_draws_its_axes() {
        let svg = daily_svg("none", "Nothing", &days(30), &[0; 30], Style::Bars);
        assert!(svg.contains("<text"), "axis labels are drawn");
    }
}
