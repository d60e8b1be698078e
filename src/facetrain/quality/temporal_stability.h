#pragma once
// Temporal and seam scores of a swapped render against its plate (issue 12), per frame, on the
// plate's own values (scene-linear plates may exceed 1.0: both scores are ratios of two measures in
// the same units, so they are unit-free). Images are facetrain::FloatImage with 3 or 4 channels, of
// which RGB is used; mattes are one value per pixel (width * height, 0..1). Each is one or two
// passes over the pixels, no allocation beyond one byte per pixel (seam_ratio).
#include "facetrain/base/image.h"

#include <vector>

namespace facetrain {

// What a ratio adds to its numerator and denominator (in the plate's units: 1e-4 of a [0, 1]
// range), so that a region where the plate does not change at all (a locked-off shot, a flat
// wall) gives a finite ratio: 1.0 when the output does not change either, a large value when it
// does. A plate change of d shifts the ratio by about epsilon / d (0.2% at d = 0.05).
inline constexpr double kStabilityEpsilon = 1e-4;

// Frame-to-frame flicker of the swapped region relative to the plate's own change. Over the pixels
// where max(alpha_prev, alpha_cur) > 0, weighted by that max:
//   (weighted mean |out_cur - out_prev| + epsilon) / (weighted mean |plate_cur - plate_prev| + epsilon),
// each absolute difference the mean over R, G, B. 1.0: the swapped region changes as much as the
// plate did; > 1: extra flicker; a static plate with a static output gives exactly 1.0, with a
// changing output (plate change 0) change / epsilon.
// NaN when the images' sizes differ (width, height; channels may be 3 or 4 each), the mattes are not
// width * height, or no pixel has a matte value above 0.
double flicker_ratio(const FloatImage& plate_prev, const FloatImage& plate_cur, const FloatImage& out_prev,
                     const FloatImage& out_cur, const std::vector<float>& alpha_prev,
                     const std::vector<float>& alpha_cur, double epsilon = kStabilityEpsilon);

// Edge strength of `out` along the matte's boundary relative to the plate's there. The band: the
// pixels where the matte crosses 0.5 (alpha >= 0.5 with a 4-neighbour < 0.5, and alpha < 0.5 with a
// 4-neighbour >= 0.5), dilated by 1 pixel (3x3). In the band, the gradient magnitude
// sqrt(dx^2 + dy^2) with central differences ((I[x+1] - I[x-1]) / 2; one-sided at the image's
// edge), the mean over R, G, B:
//   (mean over the band of out's + epsilon) / (mean over the band of plate's + epsilon).
// 1.0: no seam (out == plate gives exactly 1); a colour step along the boundary gives > 1.
// NaN when the sizes do not fit (as flicker_ratio) or the matte has no boundary.
double seam_ratio(const FloatImage& plate, const FloatImage& out, const std::vector<float>& alpha,
                  double epsilon = kStabilityEpsilon);

}  // namespace facetrain
