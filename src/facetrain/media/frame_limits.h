#pragma once
// Refusing absurd frame sizes before anything is allocated for them (hostile or damaged headers).
#include "facetrain/base/error.h"

#include <cstdint>
#include <string>

#include <fmt/format.h>

namespace facetrain {

inline constexpr int64_t kMaxFrameSidePx = 32768;

// Throws InputDataError naming `path` when width x height is not a plausible frame.
inline void check_frame_size(const std::string& path, int64_t width_px, int64_t height_px, int64_t max_pixels) {
  if (width_px <= 0 || height_px <= 0) {
    throw InputDataError(fmt::format("{}: invalid frame size {}x{}", path, width_px, height_px));
  }
  if (width_px > kMaxFrameSidePx || height_px > kMaxFrameSidePx) {
    throw InputDataError(fmt::format("{}: frame size {}x{} exceeds the limit of {} pixels per side", path,
                                     width_px, height_px, kMaxFrameSidePx));
  }
  if (width_px * height_px > max_pixels) {
    throw InputDataError(fmt::format("{}: frame size {}x{} exceeds the limit of {} pixels per frame", path,
                                     width_px, height_px, max_pixels));
  }
}

}  // namespace facetrain
