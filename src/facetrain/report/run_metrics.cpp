#include "facetrain/report/run_metrics.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <limits>

namespace facetrain::report {

const std::vector<double>& RunMetrics::column(const std::string& key) const {
  static const std::vector<double> none;
  auto it = columns.find(key);
  return it == columns.end() ? none : it->second;
}

RunMetrics read_run_metrics(const std::filesystem::path& metrics_jsonl) {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  RunMetrics m;
  std::ifstream in(metrics_jsonl, std::ios::binary);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!row.is_object() || !row.contains("step") || !row["step"].is_number() ||
        (!m.step.empty() && row["step"].get<double>() <= m.step.back())) {
      ++m.unreadable_lines;
      continue;
    }
    const size_t r = m.step.size();
    m.step.push_back(row["step"].get<double>());
    m.elapsed_s.push_back(row.contains("elapsed_s") && row["elapsed_s"].is_number() ? row["elapsed_s"].get<double>() : nan);
    for (const auto& [key, value] : row.items()) {
      if (key == "step" || !value.is_number()) continue;
      auto& column = m.columns[key];
      column.resize(r, nan);
      column.push_back(value.get<double>());
    }
    for (auto& [key, column] : m.columns) column.resize(r + 1, nan);
  }
  return m;
}

}  // namespace facetrain::report
