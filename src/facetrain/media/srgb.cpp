#include "facetrain/media/srgb.h"

#include <array>
#include <cmath>

namespace facetrain {
namespace {

constexpr int kLutSize = 65536;

const std::array<uint8_t, kLutSize>& srgb8_lut() {
  static const std::array<uint8_t, kLutSize> lut = [] {
    std::array<uint8_t, kLutSize> table{};
    for (int i = 0; i < kLutSize; ++i) {
      const float encoded = srgb_encode(static_cast<float>(i) / (kLutSize - 1));
      table[i] = static_cast<uint8_t>(std::lround(encoded * 255.0f));
    }
    return table;
  }();
  return lut;
}

inline int lut_index(float linear) {
  // The comparisons are false for NaN, which therefore maps to 0.
  if (!(linear > 0.0f)) return 0;
  if (!(linear < 1.0f)) return kLutSize - 1;
  return static_cast<int>(linear * (kLutSize - 1) + 0.5f);
}

}  // namespace

float srgb_encode(float linear) {
  if (linear <= 0.0031308f) return 12.92f * linear;
  return 1.055f * std::pow(linear, 1.0f / 2.4f) - 0.055f;
}

uint8_t linear_to_srgb8(float linear) { return srgb8_lut()[lut_index(linear)]; }

void float_to_rgb8(const float* src, int src_channels, size_t pixel_count, bool scene_linear, uint8_t* dst_rgb) {
  const auto& lut = srgb8_lut();
  const auto convert = [&](float value) {
    return scene_linear ? lut[lut_index(value)] : unit_to_8bit(value);
  };
  if (src_channels >= 3) {
    for (size_t i = 0; i < pixel_count; ++i) {
      const float* px = src + i * src_channels;
      uint8_t* out = dst_rgb + i * 3;
      out[0] = convert(px[0]);
      out[1] = convert(px[1]);
      out[2] = convert(px[2]);
    }
  } else {
    for (size_t i = 0; i < pixel_count; ++i) {
      const uint8_t grey = convert(src[i * src_channels]);
      uint8_t* out = dst_rgb + i * 3;
      out[0] = out[1] = out[2] = grey;
    }
  }
}

}  // namespace facetrain
