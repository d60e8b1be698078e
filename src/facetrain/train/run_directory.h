#pragma once
// RUN/ of docs/design.md §4.2: an exclusive lock (one train per run directory), config.yaml,
// manifest.json, metrics.jsonl (append, truncated back to a checkpoint on resume), previews/, and
// what people watch a run with: tensorboard/ (event files: every metric, every preview sheet) and
// report.html (rewritten at every preview).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

namespace facetrain {

namespace tensorboard {
class EventFileWriter;
}
namespace report {
class PictureCache;
}

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
  std::filesystem::path tensorboard() const { return path_ / "tensorboard"; }
  std::filesystem::path report() const { return path_ / "report.html"; }

  void write_config(const std::string& yaml) const;
  void write_manifest(const nlohmann::json& manifest) const;
  // Keeps only metrics lines, TensorBoard events and preview sheets of steps <= `step` (a resumed
  // run re-logs what came after). Call before the first append_metrics or add_preview.
  void truncate_metrics_after(int64_t step);
  // One line of metrics.jsonl, and its numbers as TensorBoard scalars.
  void append_metrics(const nlohmann::json& line);
  // The preview sheet written at `step`: into TensorBoard as an image (once per step), and
  // report.html rewritten. A page that cannot be written is a warning: training goes on.
  void add_preview(int64_t step, const std::filesystem::path& png);

 private:
  std::filesystem::path path_;
  int lock_fd_ = -1;
  std::FILE* metrics_ = nullptr;
  int64_t first_step_ = 1;              // of this session: the events file's SessionLog START
  int64_t last_preview_step_ = -1;
  std::unique_ptr<tensorboard::EventFileWriter> events_;  // opened on first use, after truncation
  std::unique_ptr<report::PictureCache> pictures_;         // the page's thumbnails, kept between rewrites
  tensorboard::EventFileWriter& events();
};

}  // namespace facetrain
