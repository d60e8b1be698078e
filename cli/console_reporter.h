#pragma once
// Where progress, logs and events go (docs/design.md §5): human-readable logs on stderr; progress as
// flushed "Progress: N%" lines on stdout when stdout is not a terminal (a farm's log or pipe: the
// line a farm's progress handler reads, e.g. the FaceTrain Deadline plugin's), else as a bar on stderr when that is a
// terminal; with --json, stdout carries JSON lines only (progress as "progress" events).
#include "facetrain/base/log.h"
#include "facetrain/base/progress.h"

#include <chrono>
#include <mutex>
#include <string>

namespace facetrain::cli {

class ConsoleReporter final : public ProgressSink {
 public:
  ConsoleReporter(bool json, LogLevel level);
  ~ConsoleReporter() override;

  void begin(std::string_view stage, int64_t total) override;
  void update(int64_t done) override;
  void update_fraction(int64_t done, double fraction, std::string_view limit) override;
  void end() override;
  void event(std::string_view name, const nlohmann::json& fields) override;

  void log(LogLevel level, std::string_view message);
  bool json() const { return json_; }

 private:
  void report(int64_t done, double fraction, std::string_view limit);  // fraction < 0: unknown
  void draw_bar(bool final);
  void clear_bar();

  bool json_;
  bool progress_lines_;  // "Progress: N%" on stdout: not --json, stdout not a terminal
  bool progress_bar_;    // a bar on stderr: not --json, stdout and stderr terminals
  std::mutex mutex_;
  std::string stage_;
  int64_t total_ = -1;
  int64_t done_ = 0;
  double fraction_ = -1;
  int last_percent_ = -1;
  bool bar_visible_ = false;
  std::chrono::steady_clock::time_point stage_start_, last_draw_;
};

// Installs SIGINT/SIGTERM handlers that ask `sink` to stop; returns the signal received (0 if none).
void install_stop_handlers(ProgressSink& sink);
int received_stop_signal();

}  // namespace facetrain::cli
