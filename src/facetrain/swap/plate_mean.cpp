#include "facetrain/swap/plate_mean.h"

#include <algorithm>
#include <cmath>

namespace facetrain {

namespace {

constexpr double kMaxGain = 4.0;
constexpr double kMaxOffset = 0.25;
constexpr double kSmallestMean = 1e-6;

}  // namespace

PlateMean measure_plate_mean(const CropImage& crop, const std::vector<float>& weight) {
  PlateMean out;
  const size_t pixels = static_cast<size_t>(crop.size) * crop.size;
  if (crop.rgb.size() != pixels * 3 || weight.size() != pixels) return out;
  std::array<double, 3> sum{};
  for (size_t p = 0; p < pixels; ++p) {
    const float w = weight[p];
    if (!(w > 0) || !std::isfinite(w)) continue;
    const float* rgb = &crop.rgb[p * 3];
    if (!std::isfinite(rgb[0]) || !std::isfinite(rgb[1]) || !std::isfinite(rgb[2])) continue;
    for (int c = 0; c < 3; ++c) sum[c] += static_cast<double>(w) * rgb[c];
    out.weight_sum += w;
  }
  if (out.weight_sum > 0)
    for (int c = 0; c < 3; ++c) out.mean[c] = sum[c] / out.weight_sum;
  return out;
}

PlateMean average_plate_mean(const std::vector<PlateMean>& frames) {
  PlateMean out;
  int usable = 0;
  for (const PlateMean& f : frames) {
    if (!f.usable()) continue;
    for (int c = 0; c < 3; ++c) out.mean[c] += f.mean[c];
    out.weight_sum += f.weight_sum;
    ++usable;
  }
  if (usable == 0) return PlateMean{};
  for (int c = 0; c < 3; ++c) out.mean[c] /= usable;
  out.weight_sum /= usable;
  return out;
}

std::array<double, 3> match_plate_mean(CropImage& face, const std::vector<float>& weight, const PlateMean& target,
                                       MeanMatch how) {
  std::array<double, 3> applied = how == MeanMatch::gain ? std::array<double, 3>{1, 1, 1} : std::array<double, 3>{0, 0, 0};
  const PlateMean own = measure_plate_mean(face, weight);
  if (!own.usable() || !target.usable()) return applied;
  for (int c = 0; c < 3; ++c) {
    if (how == MeanMatch::gain) {
      if (own.mean[c] > kSmallestMean && target.mean[c] > kSmallestMean)
        applied[c] = std::clamp(target.mean[c] / own.mean[c], 1 / kMaxGain, kMaxGain);
    } else {
      applied[c] = std::clamp(target.mean[c] - own.mean[c], -kMaxOffset, kMaxOffset);
    }
  }
  const size_t pixels = face.rgb.size() / 3;
  for (size_t p = 0; p < pixels; ++p)
    for (int c = 0; c < 3; ++c) {
      float& v = face.rgb[p * 3 + c];
      v = static_cast<float>(how == MeanMatch::gain ? v * applied[c] : v + applied[c]);
    }
  return applied;
}

}  // namespace facetrain
