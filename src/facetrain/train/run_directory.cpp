#include "facetrain/train/run_directory.h"

#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"
#include "facetrain/base/log.h"
#include "facetrain/checkpoint/checkpoint_store.h"
#include "facetrain/report/metric_names.h"
#include "facetrain/report/picture_cache.h"
#include "facetrain/report/run_report.h"
#include "facetrain/tensorboard/event_file_writer.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cinttypes>
#include <sstream>

namespace facetrain {

RunDirectory::RunDirectory(std::filesystem::path path) : path_(std::move(path)) {
  create_directories_private(path_);
  const auto lock_path = path_ / ".lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, default_file_mode());
  if (lock_fd_ < 0) throw OutputError(fmt::format("{}: cannot create lock file", lock_path.string()));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
    throw OutputError(fmt::format("{}: another facetrain train is using this run directory", path_.string()));
  }
  create_directories_private(checkpoints());
  create_directories_private(previews());
  create_directories_private(cache());
  create_directories_private(tensorboard());
}

RunDirectory::~RunDirectory() {
  if (metrics_) std::fclose(metrics_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

void RunDirectory::write_config(const std::string& yaml) const { write_file_atomic(path_ / "config.yaml", yaml); }

void RunDirectory::write_manifest(const nlohmann::json& manifest) const {
  write_file_atomic(path_ / "manifest.json", manifest.dump(2) + "\n");
}

void RunDirectory::truncate_metrics_after(int64_t step) {
  first_step_ = step + 1;
  tensorboard::truncate_event_files_after(tensorboard(), step);
  // Sheets of steps past the checkpoint show a model the run no longer has: the report's
  // timeline would mix them with the resumed run's.
  std::error_code list_error;
  for (const auto& entry : std::filesystem::directory_iterator(previews(), list_error)) {
    const std::string name = entry.path().filename().string();
    int64_t sheet_step = 0;
    if (std::sscanf(name.c_str(), "step-%" SCNd64, &sheet_step) == 1 && sheet_step > step &&
        name == CheckpointStore::step_name(sheet_step) + ".png") {
      std::error_code ec;
      std::filesystem::remove(entry.path(), ec);
      if (ec) throw OutputError(fmt::format("{}: cannot remove ({})", entry.path().string(), ec.message()));
    }
  }
  const auto path = path_ / "metrics.jsonl";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return;
  std::istringstream in(read_file(path));
  std::string kept, line;
  while (std::getline(in, line)) {
    try {
      const auto parsed = nlohmann::json::parse(line);
      if (parsed.value("step", int64_t{0}) <= step) kept += line + "\n";
    } catch (const nlohmann::json::exception&) {
      // a line cut short by a crash: dropped
    }
  }
  write_file_atomic(path, kept);
}

void RunDirectory::append_metrics(const nlohmann::json& line) {
  if (!metrics_) {
    const auto path = path_ / "metrics.jsonl";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, default_file_mode());
    if (fd < 0 || !(metrics_ = ::fdopen(fd, "a")))
      throw OutputError(fmt::format("{}: cannot open for writing", path.string()));
  }
  const std::string text = line.dump() + "\n";
  if (std::fputs(text.c_str(), metrics_) < 0 || std::fflush(metrics_) != 0)
    throw IoError(fmt::format("{}: write failed (disk full?)", (path_ / "metrics.jsonl").string()));
  events().add_scalars(line.value("step", int64_t{0}), report::metric_scalars(line));
}

tensorboard::EventFileWriter& RunDirectory::events() {
  if (!events_) events_ = std::make_unique<tensorboard::EventFileWriter>(tensorboard(), first_step_);
  return *events_;
}

void RunDirectory::add_preview(int64_t step, const std::filesystem::path& png) {
  if (step != last_preview_step_) {  // the closing preview may repeat the last step's
    events().add_png_image(step, "preview", read_file(png));
    last_preview_step_ = step;
  }
  if (!pictures_) pictures_ = std::make_unique<report::PictureCache>();
  try {
    report::write_run_report(path_, report(), pictures_.get());
  } catch (const std::exception& e) {  // the page is a view of the run: never a reason to stop it
    log_warning("{}: not updated: {}", report().string(), e.what());
  }
}

}  // namespace facetrain
