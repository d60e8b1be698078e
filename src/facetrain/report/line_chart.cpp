#include "facetrain/report/line_chart.h"

#include "facetrain/report/downsample.h"
#include "facetrain/report/html_page.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace facetrain::report {

namespace {

constexpr const char* kPalette[] = {"#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#0a7d8c", "#57606a"};
constexpr size_t kBuckets = 600;  // per series: at most 2400 points drawn

// Tick spacing 1, 2 or 5 x 10^k giving about `target` ticks over [lo, hi].
double nice_step(double lo, double hi, int target) {
  const double raw = (hi - lo) / std::max(1, target);
  if (!(raw > 0)) return 1;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * magnitude) return m * magnitude;
  return 10 * magnitude;
}

std::string tick_label(double v, double step) {
  if (std::abs(v) < step * 1e-9) return "0";
  const double a = std::abs(v);
  if (a >= 1e4 && std::abs(std::fmod(v, 1.0)) < 1e-9) {
    if (a >= 1e6) return fmt::format("{:g}M", v / 1e6);
    return fmt::format("{:g}k", v / 1e3);
  }
  return fmt::format("{:.4g}", v);
}

}  // namespace

double interpolate_clock(const std::vector<double>& xs, const std::vector<double>& seconds, double x) {
  const size_t n = std::min(xs.size(), seconds.size());
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  if (x <= xs[0]) return seconds[0] * (xs[0] > 0 ? std::max(0.0, x) / xs[0] : 1.0);
  if (x >= xs[n - 1]) return seconds[n - 1];
  const auto it = std::lower_bound(xs.begin(), xs.begin() + static_cast<std::ptrdiff_t>(n), x);
  const size_t i = static_cast<size_t>(it - xs.begin());
  const double t = (x - xs[i - 1]) / (xs[i] - xs[i - 1]);
  return seconds[i - 1] + t * (seconds[i] - seconds[i - 1]);
}

std::string render_line_chart(const LineChart& chart) {
  const bool clock = !chart.clock_x.empty();
  const double left = 62, right = 28, top = 26, bottom = clock ? 52 : 38;
  const double w = chart.width - left - right, h = chart.height - top - bottom;

  // Points to draw, and the ranges they span.
  std::vector<std::vector<size_t>> kept;
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : chart.series) {
    kept.push_back(downsample_keep_extremes(s.x, s.y, kBuckets));
    for (size_t i : kept.back()) {
      x0 = std::min(x0, s.x[i]);
      x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]);
      y1 = std::max(y1, s.y[i]);
    }
  }
  std::string svg = fmt::format(
      "<svg id=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "role=\"img\">\n",
      html_escape(chart.id), chart.width, chart.height, chart.width, chart.height);
  if (std::isfinite(x0))
    for (double v : chart.y_include) {
      y0 = std::min(y0, v);
      y1 = std::max(y1, v);
    }
  if (!std::isfinite(x0)) {
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">no data yet</text>\n</svg>\n", chart.width / 2,
                       chart.height / 2);
    return svg;
  }
  if (x1 <= x0) x1 = x0 + 1;
  if (y1 <= y0) {
    const double pad = std::abs(y0) > 0 ? std::abs(y0) * 0.1 : 1.0;
    y0 -= pad;
    y1 += pad;
  } else {
    const double pad = (y1 - y0) * 0.05;
    y0 -= pad;
    y1 += pad;
  }
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * w; };
  auto py = [&](double y) { return top + (1 - (y - y0) / (y1 - y0)) * h; };

  // Grid, ticks and labels.
  svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fbfcfd\" stroke=\"#d8dde4\"/>\n", left,
                     top, w, h);
  const double ys = nice_step(y0, y1, 5);
  for (double v = std::ceil(y0 / ys) * ys; v <= y1 + ys * 1e-9; v += ys) {
    const double y = py(v);
    svg += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e6e9ee\"/>"
                       "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n",
                       left, y, left + w, y, left - 5, y + 4, tick_label(v, ys));
  }
  const double xs = std::max(nice_step(x0, x1, 7), chart.x_label == "step" || chart.x_label == "frame" ? 1.0 : 0.0);
  for (double v = std::ceil(x0 / xs) * xs; v <= x1 + xs * 1e-9; v += xs) {
    const double x = px(v);
    svg += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e6e9ee\"/>"
                       "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                       x, top, x, top + h, x, top + h + 14, tick_label(v, xs));
    if (clock)
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" fill=\"#5b6573\">{}</text>\n", x,
                         top + h + 28, format_duration(interpolate_clock(chart.clock_x, chart.clock_seconds, v)));
  }
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" fill=\"#5b6573\">{}{}</text>\n",
                     left + w / 2, chart.height - 4.0, html_escape(chart.x_label),
                     clock ? " (above) · training time (below)" : "");
  svg += fmt::format("<text transform=\"translate(12 {:.1f}) rotate(-90)\" text-anchor=\"middle\" fill=\"#5b6573\">{}</text>\n",
                     top + h / 2, html_escape(chart.y_label));

  // Curves, then the legend.
  for (size_t k = 0; k < chart.series.size(); ++k) {
    const ChartSeries& s = chart.series[k];
    const char* color = kPalette[k % std::size(kPalette)];
    if (kept[k].empty()) continue;
    std::string d;
    d.reserve(kept[k].size() * 16);
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (size_t j = 0; j < kept[k].size(); ++j) {
      const size_t i = kept[k][j];
      lo = std::min(lo, s.y[i]);
      hi = std::max(hi, s.y[i]);
      d += fmt::format("{}{:.1f},{:.1f}", j == 0 ? "M" : "L", px(s.x[i]), py(s.y[i]));
    }
    svg += fmt::format("<path data-series=\"{}\" data-points=\"{}\" data-y-min=\"{}\" data-y-max=\"{}\" d=\"{}\" "
                       "fill=\"none\" stroke=\"{}\" stroke-width=\"1.4\" stroke-linejoin=\"round\"/>\n",
                       html_escape(s.name), kept[k].size(), format_number(lo), format_number(hi), d, color);
    if (s.dots && kept[k].size() <= 400)
      for (size_t i : kept[k])
        svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.2\" fill=\"{}\"/>", px(s.x[i]), py(s.y[i]), color);
  }
  double lx = left + 8;
  for (size_t k = 0; k < chart.series.size(); ++k) {
    const char* color = kPalette[k % std::size(kPalette)];
    svg += fmt::format("<line x1=\"{:.1f}\" y1=\"12\" x2=\"{:.1f}\" y2=\"12\" stroke=\"{}\" stroke-width=\"3\"/>"
                       "<text x=\"{:.1f}\" y=\"16\">{}</text>\n",
                       lx, lx + 16, color, lx + 20, html_escape(chart.series[k].name));
    lx += 30 + 6.5 * static_cast<double>(chart.series[k].name.size());
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace facetrain::report
