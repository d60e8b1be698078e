#include "facetrain/base/log.h"

#include <atomic>
#include <mutex>

namespace facetrain {
namespace {
std::mutex sink_mutex;
LogSink installed_sink;
std::atomic<int> minimum_level{static_cast<int>(LogLevel::info)};
}  // namespace

void set_log_sink(LogSink sink) {
  std::lock_guard<std::mutex> lock(sink_mutex);
  installed_sink = std::move(sink);
}

void set_log_level(LogLevel level) { minimum_level = static_cast<int>(level); }

bool log_enabled(LogLevel level) { return static_cast<int>(level) >= minimum_level.load(); }

void log_message(LogLevel level, std::string_view message) {
  std::lock_guard<std::mutex> lock(sink_mutex);
  if (installed_sink) installed_sink(level, message);
}

}  // namespace facetrain
