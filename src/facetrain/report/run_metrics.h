#pragma once
// RUN/metrics.jsonl read into columns for charts and figures: one row per logged step.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace facetrain::report {

struct RunMetrics {
  std::vector<double> step;                            // ascending
  std::vector<double> elapsed_s;                       // training time at each row (NaN if not logged)
  std::map<std::string, std::vector<double>> columns;  // every numeric key; NaN where a row lacks it
  size_t unreadable_lines = 0;                         // a line cut short by a crash, say

  size_t rows() const { return step.size(); }
  // The column for `key`, or an empty vector.
  const std::vector<double>& column(const std::string& key) const;
};

// A missing file is an empty table (a run before its first logged step). Lines that are not
// JSON objects with a step, or whose step does not follow the previous one, are counted and skipped.
RunMetrics read_run_metrics(const std::filesystem::path& metrics_jsonl);

}  // namespace facetrain::report
