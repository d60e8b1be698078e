#pragma once
// sRGB encoding of scene-linear values for 8-bit display proxies.
#include <cstddef>
#include <cstdint>

namespace facetrain {

// A value in [0, 1] -> its nearest 8-bit code (halves away from zero, as std::lround(v * 255)), clamped
// (NaN -> 0). The one float-to-8-bit rounding of facetrain's crops, proxies and review frames.
inline uint8_t unit_to_8bit(float v) {
  if (!(v > 0.f)) return 0;
  if (!(v < 1.f)) return 255;
  const float scaled = v * 255.f;
  const int whole = static_cast<int>(scaled);  // exact below 256, and so is scaled - whole
  return static_cast<uint8_t>(whole + (scaled - static_cast<float>(whole) >= 0.5f ? 1 : 0));
}

// The sRGB OETF (IEC 61966-2-1) on a linear value; no clamping.
float srgb_encode(float linear);

// Linear float -> sRGB-encoded 8-bit, clamped to [0, 1] first (NaN -> 0). Table-driven, exact
// to the nearest 8-bit code for inputs in [0, 1] within 1 code.
uint8_t linear_to_srgb8(float linear);

// `pixel_count` pixels of `src_channels` floats (1 = grey, 2 = grey+alpha, 3 = RGB, 4+ = RGB + extra)
// to interleaved RGB8. `scene_linear` picks the sRGB OETF; otherwise values are scaled by 255
// (unit_to_8bit).
void float_to_rgb8(const float* src, int src_channels, size_t pixel_count, bool scene_linear, uint8_t* dst_rgb);

}  // namespace facetrain
