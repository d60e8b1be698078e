#include "facetrain/quality/temporal_stability.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace facetrain {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool usable(const FloatImage& image) {
  return image.width > 0 && image.height > 0 && (image.channels == 3 || image.channels == 4) &&
         image.pixels.size() == static_cast<size_t>(image.width) * image.height * image.channels;
}

bool same_size(const FloatImage& a, const FloatImage& b) {
  return usable(a) && usable(b) && a.width == b.width && a.height == b.height;
}

// Mean over R, G, B of |a - b| at pixel i.
inline double rgb_abs_diff(const FloatImage& a, const FloatImage& b, size_t i) {
  const float* pa = a.pixels.data() + i * a.channels;
  const float* pb = b.pixels.data() + i * b.channels;
  return (std::fabs(static_cast<double>(pa[0]) - pb[0]) + std::fabs(static_cast<double>(pa[1]) - pb[1]) +
          std::fabs(static_cast<double>(pa[2]) - pb[2])) / 3.0;
}

// Mean over R, G, B of the gradient magnitude at (x, y): central differences, one-sided at the edge.
double gradient_magnitude(const FloatImage& image, int x, int y) {
  const int w = image.width, h = image.height, ch = image.channels;
  const int x0 = std::max(x - 1, 0), x1 = std::min(x + 1, w - 1);
  const int y0 = std::max(y - 1, 0), y1 = std::min(y + 1, h - 1);
  const double sx = x1 > x0 ? 1.0 / (x1 - x0) : 0.0;
  const double sy = y1 > y0 ? 1.0 / (y1 - y0) : 0.0;
  const float* p = image.pixels.data();
  const size_t row = static_cast<size_t>(y) * w;
  double sum = 0;
  for (int c = 0; c < 3; ++c) {
    const double dx = sx * (static_cast<double>(p[(row + x1) * ch + c]) - p[(row + x0) * ch + c]);
    const double dy = sy * (static_cast<double>(p[(static_cast<size_t>(y1) * w + x) * ch + c]) -
                            p[(static_cast<size_t>(y0) * w + x) * ch + c]);
    sum += std::sqrt(dx * dx + dy * dy);
  }
  return sum / 3.0;
}

}  // namespace

double flicker_ratio(const FloatImage& plate_prev, const FloatImage& plate_cur, const FloatImage& out_prev,
                     const FloatImage& out_cur, const std::vector<float>& alpha_prev,
                     const std::vector<float>& alpha_cur, double epsilon) {
  if (!same_size(plate_prev, plate_cur) || !same_size(plate_prev, out_prev) || !same_size(plate_prev, out_cur))
    return kNaN;
  const size_t n = static_cast<size_t>(plate_prev.width) * plate_prev.height;
  if (alpha_prev.size() != n || alpha_cur.size() != n) return kNaN;
  double out_change = 0, plate_change = 0, weight_sum = 0;
  for (size_t i = 0; i < n; ++i) {
    const double w = std::max(alpha_prev[i], alpha_cur[i]);
    if (!(w > 0)) continue;
    out_change += w * rgb_abs_diff(out_cur, out_prev, i);
    plate_change += w * rgb_abs_diff(plate_cur, plate_prev, i);
    weight_sum += w;
  }
  if (!(weight_sum > 0)) return kNaN;
  return (out_change / weight_sum + epsilon) / (plate_change / weight_sum + epsilon);
}

double seam_ratio(const FloatImage& plate, const FloatImage& out, const std::vector<float>& alpha,
                  double epsilon) {
  if (!same_size(plate, out)) return kNaN;
  const int w = plate.width, h = plate.height;
  const size_t n = static_cast<size_t>(w) * h;
  if (alpha.size() != n) return kNaN;
  // Pass 1: the pixels where the matte crosses 0.5 (either side).
  std::vector<uint8_t> boundary(n, 0);
  bool any = false;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const size_t i = static_cast<size_t>(y) * w + x;
      const bool inside = alpha[i] >= 0.5f;
      const bool crosses = (x > 0 && (alpha[i - 1] >= 0.5f) != inside) ||
                           (x + 1 < w && (alpha[i + 1] >= 0.5f) != inside) ||
                           (y > 0 && (alpha[i - w] >= 0.5f) != inside) ||
                           (y + 1 < h && (alpha[i + w] >= 0.5f) != inside);
      if (crosses) boundary[i] = 1, any = true;
    }
  }
  if (!any) return kNaN;
  // Pass 2: the band (boundary dilated by one pixel, 3x3) and both gradient magnitudes in it.
  double out_edge = 0, plate_edge = 0;
  size_t count = 0;
  for (int y = 0; y < h; ++y) {
    const int y0 = std::max(y - 1, 0), y1 = std::min(y + 1, h - 1);
    for (int x = 0; x < w; ++x) {
      const int x0 = std::max(x - 1, 0), x1 = std::min(x + 1, w - 1);
      bool in_band = false;
      for (int yy = y0; yy <= y1 && !in_band; ++yy)
        for (int xx = x0; xx <= x1; ++xx)
          if (boundary[static_cast<size_t>(yy) * w + xx]) {
            in_band = true;
            break;
          }
      if (!in_band) continue;
      out_edge += gradient_magnitude(out, x, y);
      plate_edge += gradient_magnitude(plate, x, y);
      ++count;
    }
  }
  return (out_edge / count + epsilon) / (plate_edge / count + epsilon);
}

}  // namespace facetrain
