#pragma once
// Temporal stability of visible-face mattes along a track (issue 24). A matte predicted frame by
// frame flickers where the network is unsure; averaging it over neighbouring frames would smear a
// moving hand. So each pixel is averaged only with the neighbours whose aligned plate pixel looks the
// same there: where the plate itself changes (an occluder moves), the matte follows the frame; where
// the plate holds still, the matte holds still. The same +-K window idea as swap's colour statistics.
#include <vector>

namespace facetrain {

struct TrackMatte {
  const std::vector<float>* matte = nullptr;  // size * size in [0, 1]
  const std::vector<float>* luma = nullptr;   // the aligned crop's luma, size * size in [0, 1]
};

// `track` holds consecutive faces of one track, in frame order. Returns one smoothed matte per face:
// out_t(p) = sum_k w_k(p) m_{t+k}(p) / sum_k w_k(p), |k| <= window, w_0 = 1,
// w_k(p) = exp(-((luma_t(p) - luma_{t+k}(p)) / luma_sigma)^2) * 0.5^|k|.
std::vector<std::vector<float>> smooth_mattes_over_track(const std::vector<TrackMatte>& track, int window,
                                                          float luma_sigma = 0.03f);

// Mean absolute change of the matte between consecutive faces over the mean absolute change of the
// plate's luma there, inside the face (the union of the two mattes > 0.5). 1.0: the matte moves as
// much as the plate; 0: it never moves. NaN with fewer than two faces or a plate that never changes.
double matte_flicker_ratio(const std::vector<TrackMatte>& track);

}  // namespace facetrain
