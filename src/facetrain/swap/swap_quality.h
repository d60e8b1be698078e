#pragma once
// Per-frame quality scores of a render (SwapFrameQuality in the swap manifest), from what the swap
// already has in hand for each face: the network's mask, the landmark hull, the face before and
// after colour matching. No LibTorch.
#include "facetrain/manifest/swap_manifest.h"
#include "facetrain/quality/identity_scores.h"
#include "facetrain/swap/face_scores.h"

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

// The face set's landmark fit confidence of one face of the frame (absent in older face sets: NaN,
// ignored), keeping the lowest.
void add_fit_confidence(SwapFrameQuality& frame, double fit_confidence);

// Counts one face's identity and expression scores into its frame's (the worst face's: farthest from
// the actor, nearest the double, largest landmark error).
void add_face_scores(SwapFrameQuality& frame, const SwappedFaceScores& scores);

// The chunk's summary: identity over faces (mean distances, shares closer to the actor and within
// 0.6 of it; the plate's own faces' mean distance to the double), landmark error (mean, worst),
// flicker (mean, worst over consecutive frame pairs), seam (mean over frames). `faces_scored`: the
// faces the scorer saw (with a 5-point landmark model none has a landmark error).
SwapQualitySummary summarize_swap_quality(int faces_scored, const std::vector<IdentityScore>& identity,
                                          const std::vector<double>& plate_identity_to_double,
                                          const std::vector<double>& landmark_errors,
                                          const std::vector<double>& flicker_ratios,
                                          const std::vector<double>& seam_ratios, double scoring_seconds);

}  // namespace facetrain
