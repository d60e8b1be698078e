#include "console_reporter.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>

namespace facetrain::cli {
namespace {

std::atomic<ProgressSink*> stop_target{nullptr};
volatile std::sig_atomic_t stop_signal = 0;

extern "C" void on_stop_signal(int signal_number) {
  if (stop_signal != 0) {
    // A second Ctrl-C: the user means it. A repeated SIGTERM is not: schedulers send it more than
    // once (at a Slurm time limit every task gets one from slurmstepd and one forwarded by srun,
    // tested in tests/e2e/farm_slurm.sh) and send SIGKILL when they insist.
    if (signal_number == SIGINT) {
      std::signal(signal_number, SIG_DFL);
      std::raise(signal_number);
    }
    return;
  }
  stop_signal = signal_number;
  if (ProgressSink* sink = stop_target.load()) sink->request_stop();
}

const char* level_prefix(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return "debug: ";
    case LogLevel::info: return "";
    case LogLevel::warning: return "WARNING: ";
    case LogLevel::error: return "ERROR: ";
  }
  return "";
}

}  // namespace

ConsoleReporter::ConsoleReporter(bool json, LogLevel level)
    : json_(json),
      progress_lines_(!json && ::isatty(1) != 1),
      progress_bar_(!json && ::isatty(1) == 1 && ::isatty(2) == 1) {
  set_log_level(level);
  set_log_sink([this](LogLevel l, std::string_view message) { log(l, message); });
}

ConsoleReporter::~ConsoleReporter() { set_log_sink({}); }

void ConsoleReporter::log(LogLevel level, std::string_view message) {
  std::lock_guard<std::mutex> lock(mutex_);
  clear_bar();
  std::fprintf(stderr, "%s%.*s\n", level_prefix(level), static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
  if (json_ && level == LogLevel::warning) {
    std::string line = nlohmann::json{{"event", "warning"}, {"message", message}}.dump();
    std::fprintf(stdout, "%s\n", line.c_str());
    std::fflush(stdout);
  }
  if (bar_visible_ || (progress_bar_ && fraction_ >= 0)) draw_bar(false);
}

void ConsoleReporter::begin(std::string_view stage, int64_t total) {
  std::lock_guard<std::mutex> lock(mutex_);
  stage_ = std::string(stage);
  total_ = total;
  done_ = 0;
  last_percent_ = -1;
  fraction_ = total > 0 ? 0.0 : -1.0;
  stage_start_ = last_draw_ = std::chrono::steady_clock::now();
}

void ConsoleReporter::update(int64_t done) {
  std::lock_guard<std::mutex> lock(mutex_);
  report(done, total_ > 0 ? std::min(1.0, static_cast<double>(done) / static_cast<double>(total_)) : -1.0, "");
}

void ConsoleReporter::update_fraction(int64_t done, double fraction, std::string_view limit) {
  std::lock_guard<std::mutex> lock(mutex_);
  report(done, std::clamp(fraction, 0.0, 1.0), limit);
}

void ConsoleReporter::report(int64_t done, double fraction, std::string_view limit) {
  // Never backwards: worker threads (extract's crop writers) report their counts out of order.
  if (fraction >= 0 && fraction < fraction_) return;
  done_ = done;
  fraction_ = fraction;
  // 29/100 is 0.28999... in binary: a tiny margin keeps whole percentages whole.
  const int percent = fraction >= 0 ? std::min(100, static_cast<int>(fraction * 100.0 + 1e-9)) : -1;
  const auto now = std::chrono::steady_clock::now();
  if (json_) {
    if (percent != last_percent_) {
      nlohmann::json line{{"event", "progress"}, {"stage", stage_}, {"done", done}, {"total", total_}};
      if (percent >= 0) line["percent"] = percent;
      if (!limit.empty()) line["limit"] = limit;
      std::fprintf(stdout, "%s\n", line.dump().c_str());
      std::fflush(stdout);
    }
  } else if (progress_lines_) {
    if (percent >= 0 && percent != last_percent_) {
      std::fprintf(stdout, "Progress: %d%%\n", percent);
      std::fflush(stdout);
    }
  } else if (progress_bar_ && now - last_draw_ > std::chrono::milliseconds(100)) {
    draw_bar(false);
    last_draw_ = now;
  }
  last_percent_ = percent;
}

void ConsoleReporter::end() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (progress_bar_ && fraction_ >= 0) {
    draw_bar(true);
    std::fputc('\n', stderr);
  }
  bar_visible_ = false;
  total_ = -1;
  fraction_ = -1;
}

void ConsoleReporter::event(std::string_view name, const nlohmann::json& fields) {
  if (!json_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  nlohmann::json line = fields.is_object() ? fields : nlohmann::json::object();
  line["event"] = name;
  std::fprintf(stdout, "%s\n", line.dump().c_str());
  std::fflush(stdout);
}

void ConsoleReporter::draw_bar(bool final) {
  if (!progress_bar_ || fraction_ < 0) return;
  const double fraction = std::min(1.0, fraction_);
  const int width = 30;
  const int filled = static_cast<int>(fraction * width);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - stage_start_).count();
  const double rate = elapsed > 0 ? done_ / elapsed : 0.0;
  const double eta = fraction > 0 ? elapsed * (1.0 - fraction) / fraction : 0.0;
  std::string bar(filled, '#');
  bar.resize(width, '.');
  const std::string count = total_ > 0 ? fmt::format("{}/{}", done_, total_) : fmt::format("{}", done_);
  std::fprintf(stderr, "\r%s [%s] %3d%% %s %.1f/s %s", stage_.c_str(), bar.c_str(), static_cast<int>(fraction * 100),
               count.c_str(), rate,
               final ? fmt::format("{:.1f}s", elapsed).c_str() : fmt::format("ETA {:.0f}s", eta).c_str());
  std::fflush(stderr);
  bar_visible_ = true;
}

void ConsoleReporter::clear_bar() {
  if (!bar_visible_) return;
  std::fputs("\r\033[K", stderr);
  bar_visible_ = false;
}

void install_stop_handlers(ProgressSink& sink) {
  stop_target.store(&sink);
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int received_stop_signal() { return stop_signal; }

}  // namespace facetrain::cli
