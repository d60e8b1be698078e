#include "facetrain/media/av_support.h"

#include "facetrain/base/log.h"

#include <cstdarg>
#include <mutex>
#include <string_view>

extern "C" {
#include <libavutil/error.h>
#include <libavutil/log.h>
}

namespace facetrain {

namespace {

void forward_av_log(void* avcl, int level, const char* format, va_list args) {
  if (level > AV_LOG_WARNING || !log_enabled(LogLevel::debug)) return;
  char line[1024];
  int print_prefix = 1;
  av_log_format_line2(avcl, level, format, args, line, sizeof(line), &print_prefix);
  std::string_view text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (!text.empty()) log_debug("ffmpeg: {}", text);
}

}  // namespace

std::string av_error_text(int code) {
  char buffer[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, buffer, sizeof(buffer));
  return buffer;
}

void install_av_log_forwarding() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_callback(forward_av_log); });
}

}  // namespace facetrain
