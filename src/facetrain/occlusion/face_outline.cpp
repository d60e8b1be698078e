#include "facetrain/occlusion/face_outline.h"

#include "facetrain/base/error.h"

#include <algorithm>
#include <cmath>

namespace facetrain {

namespace {

struct Centroid {
  double x = 0, y = 0;
  bool empty = true;
};

Centroid centroid_of(const std::vector<float>& mask, int size) {
  double sx = 0, sy = 0, n = 0;
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x)
      if (mask[static_cast<size_t>(y) * size + x] > 0.5f) sx += x, sy += y, n += 1;
  if (n == 0) return {};
  return {sx / n, sy / n, false};
}

// Per direction: the distance from `c` of the farthest pixel of `mask` over 0.5 along the ray
// (marched in quarter pixels to the crop's edge); 0 where there is none.
std::vector<double> extents(const std::vector<float>& mask, int size, const Centroid& c, int directions) {
  std::vector<double> out(static_cast<size_t>(directions), 0.0);
  for (int k = 0; k < directions; ++k) {
    const double angle = 2 * M_PI * k / directions, dx = std::cos(angle), dy = std::sin(angle);
    for (double rho = 0;; rho += 0.25) {
      const int x = static_cast<int>(std::lround(c.x + rho * dx)), y = static_cast<int>(std::lround(c.y + rho * dy));
      if (x < 0 || y < 0 || x >= size || y >= size) break;
      if (mask[static_cast<size_t>(y) * size + x] > 0.5f) out[static_cast<size_t>(k)] = rho;
    }
  }
  return out;
}

double upper_quartile(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const double at = 0.75 * (v.size() - 1);  // linear interpolation between order statistics
  const size_t lo = static_cast<size_t>(std::floor(at)), hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (at - lo) * (v[hi] - v[lo]);
}

}  // namespace

OutlineCorrection outline_correction(const std::vector<std::vector<float>>& hulls,
                                     const std::vector<std::vector<float>>& visible_labels, int size, int directions) {
  if (hulls.size() != visible_labels.size())
    throw InternalError("outline_correction: one visible-face label per hull");
  if (directions < 5) throw InternalError("outline_correction: at least five directions");
  const size_t plane = static_cast<size_t>(size) * size;
  std::vector<std::vector<double>> ratios(static_cast<size_t>(directions));
  size_t faces = 0;
  for (size_t i = 0; i < hulls.size(); ++i) {
    if (hulls[i].size() != plane || visible_labels[i].size() != plane)
      throw InternalError("outline_correction: a hull or label of another size");
    const Centroid c = centroid_of(hulls[i], size);
    if (c.empty) continue;
    ++faces;
    const std::vector<double> hull = extents(hulls[i], size, c, directions);
    const std::vector<double> drawn = extents(visible_labels[i], size, c, directions);
    for (size_t k = 0; k < hull.size(); ++k)
      if (drawn[k] > 0 && hull[k] > 0) ratios[k].push_back(drawn[k] / hull[k]);
  }
  OutlineCorrection out;
  std::vector<float> raw(static_cast<size_t>(directions), 1.f);
  for (size_t k = 0; k < raw.size(); ++k)
    if (faces > 0 && 2 * ratios[k].size() >= faces) {
      raw[k] = static_cast<float>(upper_quartile(ratios[k]));
      ++out.directions_seen;
    }
  out.scale.resize(raw.size());
  for (int k = 0; k < directions; ++k) {
    std::vector<float> window;
    for (int d = -2; d <= 2; ++d) window.push_back(raw[static_cast<size_t>((k + d + directions) % directions)]);
    std::nth_element(window.begin(), window.begin() + 2, window.end());
    out.scale[static_cast<size_t>(k)] = std::clamp(window[2], 0.7f, 1.4f);
  }
  return out;
}

std::vector<float> corrected_face_region(const std::vector<float>& hull, const OutlineCorrection& correction, int size) {
  const size_t plane = static_cast<size_t>(size) * size;
  if (hull.size() != plane) throw InternalError("corrected_face_region: a hull of another size");
  std::vector<float> out(plane, 0.f);
  const Centroid c = centroid_of(hull, size);
  const int directions = static_cast<int>(correction.scale.size());
  if (c.empty || directions == 0) return c.empty ? out : hull;
  const std::vector<double> reach = extents(hull, size, c, directions);
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      const double dx = x - c.x, dy = y - c.y;
      double f = std::atan2(dy, dx) / (2 * M_PI) * directions;
      if (f < 0) f += directions;
      const int k0 = static_cast<int>(std::floor(f)) % directions, k1 = (k0 + 1) % directions;
      const double w = f - std::floor(f);
      const double limit = (1 - w) * reach[static_cast<size_t>(k0)] * correction.scale[static_cast<size_t>(k0)] +
                           w * reach[static_cast<size_t>(k1)] * correction.scale[static_cast<size_t>(k1)];
      out[static_cast<size_t>(y) * size + x] = std::hypot(dx, dy) <= limit ? 1.f : 0.f;
    }
  return out;
}

}  // namespace facetrain
