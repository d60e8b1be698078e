#include "facetrain/swap/face_scores.h"

#include "facetrain/media/srgb.h"

#include <algorithm>

namespace facetrain {

Rgb8Image rgb8_from_crop(const CropImage& crop) {
  Rgb8Image out;
  out.width = out.height = crop.size;
  out.pixels.resize(crop.rgb.size());
  float_to_rgb8(crop.rgb.data(), 3, crop.rgb.size() / 3, /*scene_linear=*/false, out.pixels.data());
  return out;
}

CropImage face_over_plate(const CropImage& face, const CropImage& plate, const std::vector<float>& matte) {
  CropImage out = plate;
  const size_t pixels = static_cast<size_t>(plate.size) * plate.size;
  if (face.size != plate.size || matte.size() != pixels || face.rgb.size() != pixels * 3) return out;
  for (size_t p = 0; p < pixels; ++p) {
    const float m = std::clamp(matte[p], 0.f, 1.f);
    for (int c = 0; c < 3; ++c) out.rgb[p * 3 + c] = plate.rgb[p * 3 + c] * (1 - m) + face.rgb[p * 3 + c] * m;
  }
  return out;
}

FaceScoring::FaceScoring(FaceScorer* scorer, std::optional<IdentityReference> reference)
    : scorer_(scorer), reference_(std::move(reference)) {}

SwappedFaceScores FaceScoring::score(const CropImage& plate_crop, const CropImage& swapped_crop,
                                     const FaceBox& box) const {
  SwappedFaceScores out;
  if (!scorer_) return out;
  const Rgb8Image plate = rgb8_from_crop(plate_crop);
  const Rgb8Image swapped = rgb8_from_crop(swapped_crop);
  // Both refitted the same way in the same box, so the predictor's own error cancels.
  const Landmarks68 on_plate = scorer_->refit_landmarks(plate, box);
  const Landmarks68 on_swapped = scorer_->refit_landmarks(swapped, box);
  // The expression score compares the mouth, eyes and jaw: a 5-point model fits none of them.
  if (scorer_->landmark_points() == 68) out.landmark_error = landmark_error_iod(on_plate, on_swapped);
  if (scores_identity()) {
    // One batch: the swapped face and the plate's own.
    const std::vector<FaceDescriptor> descriptors = scorer_->descriptors({{&swapped, on_swapped}, {&plate, on_plate}});
    const IdentityScore identity = score_identity(descriptors.at(0), *reference_);
    out.identity_to_actor = identity.to_actor;
    out.identity_to_double = identity.to_double;
    out.plate_identity_to_double = score_identity(descriptors.at(1), *reference_).to_double;
  }
  return out;
}

}  // namespace facetrain
