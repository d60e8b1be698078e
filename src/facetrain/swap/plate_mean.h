#pragma once
// The last step of colour matching in `facetrain swap`, in the plate's own values: once the
// network's face has been given the plate face's statistics in the network's encoding and decoded
// back (face_composite.h), its matte-weighted mean is set to the plate face's mean, measured the
// same way. Statistics matched in a non-linear encoding (ACEScct, the sRGB curve) do not carry the
// mean of the plate's values through the decode: a face with other contrast than the plate's (a
// young model's flatter face) decodes to another mean (Jensen's inequality); on the ACEScg test
// chain 5.9 % too little blue before this step. No LibTorch.
//   gain    scene-linear plates: one factor per channel (an exposure change of the light: black
//           stays black, ratios stay), kept within [1/4, 4];
//   offset  other plates (code values: video, log DPX): one offset per channel (in a log encoding,
//           again a change of exposure), kept within +-0.25.
#include "facetrain/swap/face_composite.h"

#include <array>
#include <vector>

namespace facetrain {

// The weighted mean RGB of a crop, or the uniform average of several crops' means.
struct PlateMean {
  std::array<double, 3> mean{};
  double weight_sum = 0;  // < 1 pixel: unusable
  bool usable() const { return weight_sum >= 1.0; }
};

// `crop` (size * size RGB) weighted by `weight` (size * size; negative and non-finite count as 0,
// non-finite pixels are skipped). Unusable when the sizes disagree.
PlateMean measure_plate_mean(const CropImage& crop, const std::vector<float>& weight);

// Uniform average of the usable means among `frames`; unusable if none is.
PlateMean average_plate_mean(const std::vector<PlateMean>& frames);

enum class MeanMatch { gain, offset };

// Changes every pixel of `face` so that its mean under `weight` becomes `target`'s, per channel;
// nothing when either mean is unusable, and for `gain` in a channel where either mean is not
// above 1e-6. Returns the factors (gain) or offsets applied, per channel (1 or 0 where none).
std::array<double, 3> match_plate_mean(CropImage& face, const std::vector<float>& weight, const PlateMean& target,
                                       MeanMatch how);

}  // namespace facetrain
