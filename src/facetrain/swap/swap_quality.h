#pragma once
// Per-frame quality scores of a render (SwapFrameQuality in the swap manifest), from what the swap
// already has in hand for each face: the network's mask, the landmark hull, the face before and
// after colour matching. No LibTorch.
#include "facetrain/manifest/swap_manifest.h"

#include <vector>

namespace facetrain {

// Intersection over union of two masks (same size, 0..1) thresholded at 0.5; 1 when both are empty.
double mask_agreement(const std::vector<float>& a, const std::vector<float>& b);

// Mean absolute per-channel change from `before` to `after` (RGB, same size), weighted by `matte`
// (one value per pixel); 0 where the matte is empty.
double color_shift(const std::vector<float>& before, const std::vector<float>& after, const std::vector<float>& matte);

// Counts one face of the frame, keeping the worst value of each score (lowest detection score,
// mask agreement and face size, highest colour shift).
void add_face_quality(SwapFrameQuality& frame, double detection_score, double mask_agreement, double color_shift,
                      double face_px);

}  // namespace facetrain
