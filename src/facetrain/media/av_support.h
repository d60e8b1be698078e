#pragma once
// What the libav* users (video_source.cpp reading, movie_writer.cpp writing) share: FFmpeg's error
// text, and its log messages routed into our log (debug level) instead of stderr. No FFmpeg types
// in this header.
#include <string>

namespace facetrain {

// av_strerror's text for an AVERROR code.
std::string av_error_text(int code);

// Routes FFmpeg's log (warnings and worse; only when our debug log is on) into log_debug, once per
// process: library code never writes to stderr behind the reporter's back.
void install_av_log_forwarding();

}  // namespace facetrain
