#include "facetrain/base/log.h"

#include <atomic>
#include <mutex>

namespace facetrain {
namespace {
std::mutex sink_mutex;
LogSink installed_sink;
std::string message_prefix;
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
  if (!installed_sink) return;
  if (message_prefix.empty()) {
    installed_sink(level, message);
  } else {
    installed_sink(level, message_prefix + std::string(message));
  }
}

void set_log_prefix(std::string prefix) {
  std::lock_guard<std::mutex> lock(sink_mutex);
  message_prefix = std::move(prefix);
}

}  // namespace facetrain
