#include "facetrain/swap/swap_quality.h"

#include <algorithm>
#include <cmath>

namespace facetrain {

double mask_agreement(const std::vector<float>& a, const std::vector<float>& b) {
  const size_t n = std::min(a.size(), b.size());
  size_t both = 0, either = 0;
  for (size_t i = 0; i < n; ++i) {
    const bool in_a = a[i] > 0.5f, in_b = b[i] > 0.5f;
    both += in_a && in_b;
    either += in_a || in_b;
  }
  return either == 0 ? 1.0 : static_cast<double>(both) / static_cast<double>(either);
}

double color_shift(const std::vector<float>& before, const std::vector<float>& after, const std::vector<float>& matte) {
  const size_t pixels = std::min({before.size() / 3, after.size() / 3, matte.size()});
  double weighted = 0, weight = 0;
  for (size_t p = 0; p < pixels; ++p) {
    if (!(matte[p] > 0)) continue;
    double change = 0;
    for (size_t c = 0; c < 3; ++c) change += std::abs(static_cast<double>(after[p * 3 + c]) - before[p * 3 + c]);
    weighted += matte[p] * change / 3;
    weight += matte[p];
  }
  return weight > 0 ? weighted / weight : 0.0;
}

void add_face_quality(SwapFrameQuality& frame, double detection_score, double mask_agreement, double color_shift,
                      double face_px) {
  auto lowest = [](double current, double value) { return std::isnan(current) ? value : std::min(current, value); };
  auto highest = [](double current, double value) { return std::isnan(current) ? value : std::max(current, value); };
  ++frame.faces;
  frame.detection_score = lowest(frame.detection_score, detection_score);
  frame.mask_agreement = lowest(frame.mask_agreement, mask_agreement);
  frame.color_shift = highest(frame.color_shift, color_shift);
  frame.face_px = lowest(frame.face_px, face_px);
}

}  // namespace facetrain
