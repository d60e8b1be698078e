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

void add_fit_confidence(SwapFrameQuality& frame, double fit_confidence) {
  if (!std::isfinite(fit_confidence)) return;
  frame.fit_confidence = std::isnan(frame.fit_confidence) ? fit_confidence : std::min(frame.fit_confidence, fit_confidence);
}

void add_face_scores(SwapFrameQuality& frame, const SwappedFaceScores& scores) {
  auto keep = [](double& current, double value, bool highest) {
    if (!std::isfinite(value)) return;
    current = std::isnan(current) ? value : highest ? std::max(current, value) : std::min(current, value);
  };
  keep(frame.identity_to_actor, scores.identity_to_actor, true);
  keep(frame.identity_to_double, scores.identity_to_double, false);
  keep(frame.plate_identity_to_double, scores.plate_identity_to_double, true);
  keep(frame.landmark_error, scores.landmark_error, true);
}

SwapQualitySummary summarize_swap_quality(int faces_scored, const std::vector<IdentityScore>& identity,
                                          const std::vector<double>& plate_identity_to_double,
                                          const std::vector<double>& landmark_errors,
                                          const std::vector<double>& flicker_ratios, const std::vector<double>& seam_ratios,
                                          double scoring_seconds) {
  auto mean = [](const std::vector<double>& v) {
    double sum = 0;
    for (double x : v) sum += x;
    return v.empty() ? SwapQualitySummary::kNone : sum / static_cast<double>(v.size());
  };
  auto worst = [](const std::vector<double>& v) {
    return v.empty() ? SwapQualitySummary::kNone : *std::max_element(v.begin(), v.end());
  };
  SwapQualitySummary out;
  out.faces_scored = faces_scored;
  out.identity_faces = static_cast<int>(identity.size());
  if (!identity.empty()) {
    const IdentitySummary s = summarize_identity(identity);
    out.identity_to_actor = s.mean_to_actor;
    out.identity_to_double = s.mean_to_double;
    out.closer_to_actor = s.closer_to_actor;
    out.same_as_actor = s.same_as_actor;
  }
  out.plate_identity_to_double = mean(plate_identity_to_double);
  out.landmark_error = mean(landmark_errors);
  out.landmark_error_worst = worst(landmark_errors);
  out.flicker_ratio = mean(flicker_ratios);
  out.flicker_ratio_worst = worst(flicker_ratios);
  out.seam_ratio = mean(seam_ratios);
  out.scoring_seconds = scoring_seconds;
  return out;
}

}  // namespace facetrain
