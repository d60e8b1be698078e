#pragma once
// Line charts as inline SVG for the report pages: several series over a shared x axis, nice ticks,
// a legend, and optionally a second row of x labels with the wall-clock time at each tick (training
// time at that step). Long series are reduced with downsample_keep_extremes, so a 100 000-step run
// draws a few thousand points per curve with every spike kept.
#include <string>
#include <vector>

namespace facetrain::report {

struct ChartSeries {
  std::string name;             // legend
  std::vector<double> x, y;     // x ascending; non-finite y values are gaps left out
  bool dots = false;            // sparse series (validation): a dot per point as well
};

struct LineChart {
  std::string id;               // DOM id of the <svg>
  std::string x_label;          // "step", "frame"
  std::string y_label;
  std::vector<ChartSeries> series;
  // Wall-clock seconds at x (both ascending): labelled under the x ticks when not empty.
  std::vector<double> clock_x, clock_seconds;
  // Values the y axis must show whatever the data (0 and 1 for a score bounded by them), so that
  // noise in a narrow band does not fill the chart.
  std::vector<double> y_include;
  int width = 660, height = 260;
};

// The <svg> element. Each series' <path> carries data-series, data-points (points drawn) and
// data-y-min / data-y-max (the lowest and highest values drawn, "%.6g"), so the extremes a page
// shows can be checked against the data.
std::string render_line_chart(const LineChart& chart);

// The wall-clock seconds at `x`, interpolated linearly between (xs, seconds); NaN when empty.
double interpolate_clock(const std::vector<double>& xs, const std::vector<double>& seconds, double x);

}  // namespace facetrain::report
