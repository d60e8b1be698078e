#pragma once
// Figures docs/ quotes are measured, not typed: hidden Catch2 cases tagged [.figures] measure
// them on real data and record them here; scripts/bench.sh (section "figures") prepares the data,
// runs the cases and keeps what they recorded in its results file under bench/results/. Run by
// hand, they need the two variables bench.sh sets:
//   FACETRAIN_FIGURES_DIR   a folder with the inputs (face sets extracted from the sample clips)
//   FACETRAIN_FIGURES_OUT   a JSON-lines file each case appends its figures to
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace facetrain::testing {

inline std::filesystem::path figures_dir() {
  const char* dir = std::getenv("FACETRAIN_FIGURES_DIR");
  INFO("[.figures] cases run through scripts/bench.sh --sections figures (FACETRAIN_FIGURES_DIR is not set)");
  REQUIRE(dir != nullptr);
  REQUIRE(std::filesystem::is_directory(dir));
  return dir;
}

// Appends {"name": NAME, "values": VALUES} as one line to $FACETRAIN_FIGURES_OUT.
inline void record_figures(const std::string& name, const nlohmann::json& values) {
  const char* out = std::getenv("FACETRAIN_FIGURES_OUT");
  INFO("[.figures] cases run through scripts/bench.sh --sections figures (FACETRAIN_FIGURES_OUT is not set)");
  REQUIRE(out != nullptr);
  std::ofstream file(out, std::ios::app);
  file << nlohmann::json{{"name", name}, {"values", values}}.dump() << '\n';
  file.flush();
  REQUIRE(file.good());
}

}  // namespace facetrain::testing
