#pragma once
// Pictures inside a self-contained HTML page: PNG files decoded (libpng), scaled down by area
// averaging, re-encoded as JPEG (libjpeg-turbo) where a smaller copy is wanted, and written as
// base64 data: URIs (OpenSSL's encoder). No LibTorch, no media libraries.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace facetrain::report {

struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // 8-bit RGB, row-major
};

// Any PNG (grey, alpha, 16-bit, palette) as 8-bit RGB; alpha is dropped (composited on black).
// Throws InputDataError (65) naming `what` when the bytes are not a readable PNG.
RgbImage decode_png(std::string_view png, const std::string& what);
// Scales `image` down to at most `max_width` pixels wide (area average, aspect kept); images
// already narrow enough are returned as they are.
RgbImage fit_width(const RgbImage& image, int max_width);
std::string encode_jpeg(const RgbImage& image, int quality);
// "data:<mime>;base64,...".
std::string data_uri(std::string_view mime, std::string_view bytes);

}  // namespace facetrain::report
