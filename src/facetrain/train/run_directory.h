#pragma once
// RUN/ of DESIGN.md §4: an exclusive lock (one train per run directory), config.yaml,
// manifest.json, metrics.jsonl (append, truncated back to a checkpoint on resume), previews/.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

namespace facetrain {

class RunDirectory {
 public:
  // Creates RUN (0700) and takes its lock; throws OutputError (73) if another process holds it.
  explicit RunDirectory(std::filesystem::path path);
  ~RunDirectory();
  RunDirectory(const RunDirectory&) = delete;
  RunDirectory& operator=(const RunDirectory&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path checkpoints() const { return path_ / "checkpoints"; }
  std::filesystem::path previews() const { return path_ / "previews"; }
  std::filesystem::path cache() const { return path_ / "cache"; }

  void write_config(const std::string& yaml) const;
  void write_manifest(const nlohmann::json& manifest) const;
  // Keeps only metrics lines with step <= `step` (a resumed run re-logs what came after).
  void truncate_metrics_after(int64_t step) const;
  void append_metrics(const nlohmann::json& line);

 private:
  std::filesystem::path path_;
  int lock_fd_ = -1;
  std::FILE* metrics_ = nullptr;
};

}  // namespace facetrain
