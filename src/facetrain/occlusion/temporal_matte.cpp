#include "facetrain/occlusion/temporal_matte.h"

#include "facetrain/base/error.h"

#include <cmath>
#include <limits>

namespace facetrain {

std::vector<std::vector<float>> smooth_mattes_over_track(const std::vector<TrackMatte>& track, int window,
                                                          float luma_sigma) {
  std::vector<std::vector<float>> out;
  out.reserve(track.size());
  const int n = static_cast<int>(track.size());
  for (int t = 0; t < n; ++t) {
    const std::vector<float>& matte = *track[t].matte;
    const std::vector<float>& luma = *track[t].luma;
    if (luma.size() != matte.size()) throw InternalError("smooth_mattes_over_track: matte and luma sizes differ");
    std::vector<float> sum(matte), weight(matte.size(), 1.f);
    for (int k = -window; k <= window; ++k) {
      const int u = t + k;
      if (k == 0 || u < 0 || u >= n) continue;
      const std::vector<float>& other_matte = *track[u].matte;
      const std::vector<float>& other_luma = *track[u].luma;
      if (other_matte.size() != matte.size() || other_luma.size() != matte.size())
        throw InternalError("smooth_mattes_over_track: faces of different sizes in one track");
      const float distance_weight = std::pow(0.5f, static_cast<float>(std::abs(k)));
      for (size_t p = 0; p < matte.size(); ++p) {
        const float d = (luma[p] - other_luma[p]) / luma_sigma;
        const float w = distance_weight * std::exp(-d * d);
        sum[p] += w * other_matte[p];
        weight[p] += w;
      }
    }
    for (size_t p = 0; p < sum.size(); ++p) sum[p] /= weight[p];
    out.push_back(std::move(sum));
  }
  return out;
}

double matte_flicker_ratio(const std::vector<TrackMatte>& track) {
  double matte_change = 0, plate_change = 0;
  for (size_t t = 1; t < track.size(); ++t) {
    const auto& m0 = *track[t - 1].matte;
    const auto& m1 = *track[t].matte;
    const auto& l0 = *track[t - 1].luma;
    const auto& l1 = *track[t].luma;
    for (size_t p = 0; p < m1.size() && p < m0.size(); ++p) {
      if (m0[p] <= 0.5f && m1[p] <= 0.5f) continue;
      matte_change += std::abs(m1[p] - m0[p]);
      plate_change += std::abs(l1[p] - l0[p]);
    }
  }
  if (plate_change <= 0) return std::numeric_limits<double>::quiet_NaN();
  return matte_change / plate_change;
}

}  // namespace facetrain
