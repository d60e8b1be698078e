#pragma once
// Library code never prints: it logs through a sink that the CLI (or a test) installs.
#include <fmt/format.h>

#include <functional>
#include <string>
#include <string_view>

namespace facetrain {

enum class LogLevel { debug = 0, info = 1, warning = 2, error = 3 };

using LogSink = std::function<void(LogLevel, std::string_view message)>;

void set_log_sink(LogSink sink);        // thread-safe; an empty sink drops messages
void set_log_level(LogLevel level);     // messages below it are not formatted
bool log_enabled(LogLevel level);
void log_message(LogLevel level, std::string_view message);
// Prepended to every message (distributed training: "[rank N] " on ranks other than 0).
void set_log_prefix(std::string prefix);

template <typename... Args>
void log_debug(fmt::format_string<Args...> f, Args&&... args) {
  if (log_enabled(LogLevel::debug)) log_message(LogLevel::debug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void log_info(fmt::format_string<Args...> f, Args&&... args) {
  if (log_enabled(LogLevel::info)) log_message(LogLevel::info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void log_warning(fmt::format_string<Args...> f, Args&&... args) {
  if (log_enabled(LogLevel::warning)) log_message(LogLevel::warning, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void log_error(fmt::format_string<Args...> f, Args&&... args) {
  if (log_enabled(LogLevel::error)) log_message(LogLevel::error, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace facetrain
