// verify PATH for a run directory: manifest.json, config.yaml, every checkpoint against the SHA-256s
// its state.json lists (and state.json against its COMPLETE marker), `latest`, metrics and previews.
#include "facetrain/verify/png_check.h"
#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"
#include "facetrain/checkpoint/checkpoint_store.h"
#include "facetrain/config/config_map.h"
#include "facetrain/verify/verify.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <set>

namespace facetrain {

namespace fs = std::filesystem;

namespace {

void check_manifest(const fs::path& directory, VerifyReport& report) {
  const fs::path path = directory / "manifest.json";
  try {
    const auto manifest = nlohmann::json::parse(read_file(path));
    ++report.files_checked;
    for (const char* key : {"format_version", "facetrain", "model", "seed", "actor_faceset", "double_faceset"})
      if (!manifest.contains(key)) report.problems.push_back(fmt::format("{}: key '{}' is missing", path.string(), key));
  } catch (const nlohmann::json::exception& e) {
    report.problems.push_back(fmt::format("{}: not valid JSON ({})", path.string(), e.what()));
  } catch (const Error& e) {
    report.problems.push_back(e.what());
  }
}

void check_config(const fs::path& directory, VerifyReport& report) {
  try {
    ConfigMap::load_file(directory / "config.yaml");  // YAML well-formed, no duplicate keys
    ++report.files_checked;
  } catch (const Error& e) {
    report.problems.push_back(e.what());
  }
}

void check_checkpoints(const fs::path& directory, VerifyReport& report) {
  const fs::path checkpoints = directory / "checkpoints";
  std::error_code ec;
  std::vector<fs::path> entries;
  for (const auto& entry : fs::directory_iterator(checkpoints, ec)) entries.push_back(entry.path());
  std::sort(entries.begin(), entries.end());
  std::set<std::string> valid;  // verified once each; `latest` is judged against this
  std::string newest_valid;
  for (const fs::path& entry : entries) {
    const std::string name = entry.filename().string();
    if (name == "latest") continue;
    if (is_atomic_temp_name(name)) {
      report.notes.push_back(fmt::format("{}: an interrupted checkpoint write (never used; train removes it)", entry.string()));
      continue;
    }
    if (name.rfind("step-", 0) != 0 || !fs::is_directory(entry, ec)) {
      report.problems.push_back(fmt::format("{}: not a checkpoint facetrain wrote", entry.string()));
      continue;
    }
    const std::string problem = CheckpointStore::verify(entry);
    if (!problem.empty()) {
      report.problems.push_back(fmt::format("checkpoint {}: {}", entry.string(), problem));
      continue;
    }
    for (const auto& file : fs::directory_iterator(entry, ec)) (void)file, ++report.files_checked;
    valid.insert(name);
    newest_valid = name;
  }
  if (valid.empty()) {
    report.problems.push_back(fmt::format("{}: no complete checkpoint", checkpoints.string()));
    return;
  }
  const fs::path latest = checkpoints / "latest";
  if (!fs::exists(latest, ec)) {
    report.problems.push_back(fmt::format("{}: missing", latest.string()));
    return;
  }
  std::string named = read_file(latest);
  while (!named.empty() && (named.back() == '\n' || named.back() == ' ')) named.pop_back();
  if (!valid.count(named))
    report.problems.push_back(fmt::format("{} names '{}', which is not a complete checkpoint", latest.string(), named));
  else if (named != newest_valid)
    report.notes.push_back(fmt::format("{} names {}, the newest complete one is {}", latest.string(), named, newest_valid));
  report.notes.push_back(fmt::format("{} complete checkpoint(s), newest {}", valid.size(), newest_valid));
}

void check_metrics(const fs::path& directory, VerifyReport& report) {
  const fs::path path = directory / "metrics.jsonl";
  std::ifstream in(path, std::ios::binary);
  if (!in) return;  // a run stopped before its first logged step has none
  ++report.files_checked;
  std::string line;
  int64_t line_number = 0, previous_step = -1;
  while (std::getline(in, line)) {
    ++line_number;
    try {
      const auto entry = nlohmann::json::parse(line);
      const int64_t step = entry.at("step").get<int64_t>();
      if (step <= previous_step)
        report.problems.push_back(fmt::format("{}:{}: step {} does not follow step {}", path.string(), line_number, step,
                                              previous_step));
      previous_step = step;
    } catch (const nlohmann::json::exception& e) {
      report.problems.push_back(fmt::format("{}:{}: not a metrics record ({})", path.string(), line_number, e.what()));
    }
  }
}

void check_previews(const fs::path& directory, VerifyReport& report) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(directory / "previews", ec)) {
    const std::string name = entry.path().filename().string();
    if (is_atomic_temp_name(name)) continue;
    try {
      check_png_decodes(entry.path());
      ++report.files_checked;
    } catch (const Error& e) {
      report.problems.push_back(e.what());
    }
  }
}

}  // namespace

VerifyReport verify_run(const fs::path& directory) {
  VerifyReport report{"run", directory, 0, {}, {}};
  check_manifest(directory, report);
  check_config(directory, report);
  check_checkpoints(directory, report);
  check_metrics(directory, report);
  check_previews(directory, report);
  return report;
}

}  // namespace facetrain
