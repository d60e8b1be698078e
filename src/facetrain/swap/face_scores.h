#pragma once
// Identity and expression of each swapped face (issue 12), from the crops swap already has: the
// plate's face and the swapped face (the network's face, colour-matched, over the plate's crop
// inside the matte), both in the network's encoding at the model's resolution, which is also how
// train measured the identities' references (facetrain/quality/identity_scores.h). No LibTorch.
//   identity    the swapped face's descriptor against the actor's and the double's references;
//   expression  landmarks refitted on the swapped face against those refitted on the plate's face
//               in the same box (RMS / inter-ocular distance): the swap must keep the double's
//               performance (eyes, mouth, pose).
#include "facetrain/quality/face_scorer.h"
#include "facetrain/quality/identity_scores.h"
#include "facetrain/swap/face_composite.h"

#include <limits>
#include <optional>

namespace facetrain {

struct SwappedFaceScores {
  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  double identity_to_actor = kNone;
  double identity_to_double = kNone;
  // The plate's own face (the double, unswapped) against the double's reference: the baseline the
  // swap's identity is read against, and a check that the reference fits this plate (< 0.6).
  double plate_identity_to_double = kNone;
  double landmark_error = kNone;  // RMS / inter-ocular distance
};

// A crop in the network's encoding as 8-bit RGB (clamped to 0..1, rounded).
Rgb8Image rgb8_from_crop(const CropImage& crop);

// The swapped face as the scores see it: `face` over `plate` inside `matte` (crop space, 0..1).
CropImage face_over_plate(const CropImage& face, const CropImage& plate, const std::vector<float>& matte);

class FaceScoring {
 public:
  // `scorer` may be null (no scores); without a usable `reference` identity is left out.
  FaceScoring(FaceScorer* scorer, std::optional<IdentityReference> reference);
  bool enabled() const { return scorer_ != nullptr; }
  bool scores_identity() const { return scorer_ && scorer_->has_identity() && reference_ && reference_->usable(); }
  // `box`: the face set's box of the face, mapped into crop pixels.
  SwappedFaceScores score(const CropImage& plate_crop, const CropImage& swapped_crop, const FaceBox& box) const;

 private:
  FaceScorer* scorer_;
  std::optional<IdentityReference> reference_;
};

}  // namespace facetrain
