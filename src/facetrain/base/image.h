#pragma once
// In-memory images. Pixels are interleaved, rows top to bottom, no padding.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace facetrain {

// 8-bit display-referred RGB: what detection, landmarks and browsing crops see.
struct Rgb8Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // width * height * 3
  bool empty() const { return width <= 0 || height <= 0; }
  uint8_t* row(int y) { return pixels.data() + static_cast<size_t>(y) * width * 3; }
  const uint8_t* row(int y) const { return pixels.data() + static_cast<size_t>(y) * width * 3; }
};

// 8-bit single channel (greyscale proxies, masks).
struct Gray8Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // width * height
  bool empty() const { return width <= 0 || height <= 0; }
};

// Full-precision plate pixels in the plate's own colour space and encoding (scene-linear EXR
// values above 1.0 survive); `channels` is 3 (RGB) or 4 (RGBA).
struct FloatImage {
  int width = 0;
  int height = 0;
  int channels = 3;
  std::vector<float> pixels;  // width * height * channels
  bool empty() const { return width <= 0 || height <= 0; }
};

}  // namespace facetrain
