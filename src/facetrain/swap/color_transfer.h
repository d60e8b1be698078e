#pragma once
// Colour transfer for `facetrain swap`: gives the predicted face the colour statistics of the
// plate's face, both measured under the same matte weights, in the network's [0, 1] display
// encoding (values outside [0, 1], e.g. a float plate's super-whites, keep their meaning: every
// mapping below is defined and monotonic on the whole real line; nothing is clamped here).
// No LibTorch.
//
// Modes (ColorMode, swap_job.h):
//   none  nothing changes.
//   rct   Reinhard: display RGB (as sRGB-encoded) -> linear -> CIE XYZ -> CIE Lab (D65 white);
//         per Lab channel the weighted mean and standard deviation of the target; back the same way.
//   lct   linear colour transfer in display RGB: x' = A (x - mean_face) + mean_target, with A the
//         Monge-Kantorovich solution built from symmetric matrix square roots (eigen-decompositions,
//         not Cholesky): A = Cs^-1/2 (Cs^1/2 Ct Cs^1/2)^1/2 Cs^-1/2, the unique symmetric positive
//         definite A with A Cs A = Ct (no rotation of hues, the smallest change of colours).
//   hist  per-channel histogram matching in display RGB: each channel's weighted distribution is
//         kept as its quantile function (inverse CDF) at kColorQuantiles evenly spaced ranks; a value
//         is mapped through the face's CDF to the target's inverse CDF. Quantiles (rather than
//         histogram bins) need no fixed value range, so super-whites keep their order, and averaging
//         them over frames is the 1-D Wasserstein barycentre of those frames' distributions.
//
// Temporal smoothing: measure_color() gives one crop's statistics (prepare_color_samples() once per
// crop when it is measured under several weightings); average_color() averages the
// statistics of several frames (uniformly); apply_color_transfer() maps a face from its own
// statistics to (possibly averaged) target statistics.
#include "facetrain/swap/face_composite.h"
#include "facetrain/jobs/swap_job.h"

#include <array>
#include <cstdint>
#include <vector>

namespace facetrain {

inline constexpr int kColorQuantiles = 256;

// The weighted colour statistics of one crop (or the average over frames), for one mode.
struct ColorStatistics {
  ColorMode mode = ColorMode::none;
  double weight_sum = 0;                   // < 1 pixel: unusable (no transfer)
  std::array<double, 3> mean{};            // rct: L*, a*, b*; lct, hist: display RGB
  std::array<double, 3> deviation{};       // rct: standard deviation per Lab channel
  std::array<double, 9> covariance{};      // lct: 3x3, row-major, display RGB
  std::array<std::vector<double>, 3> quantiles;  // hist: kColorQuantiles per channel, ascending

  bool usable() const { return mode != ColorMode::none && weight_sum >= 1.0; }
};

// One crop's pixels prepared for measuring under several weightings (a neighbour frame's crop is
// measured under each nearby frame's matte): in the mode's space (Lab for rct, display RGB
// otherwise) and, for hist, each channel's pixel order (ascending value, then index).
struct ColorSamples {
  ColorMode mode = ColorMode::none;
  int size = 0;
  std::vector<std::array<float, 3>> values;          // size * size
  std::array<std::vector<uint32_t>, 3> order;        // hist only
};
ColorSamples prepare_color_samples(const CropImage& crop, ColorMode mode);

// Statistics of the samples weighted by `weight` (size * size, negative counts as 0). Unusable
// when the weights sum to less than 1 pixel or the sizes disagree.
ColorStatistics measure_color(const ColorSamples& samples, const std::vector<float>& weight);
// The same for one crop (size * size RGB).
ColorStatistics measure_color(const CropImage& crop, const std::vector<float>& weight, ColorMode mode);

// Uniform average of the usable statistics among `frames` (all of one mode); unusable if none is.
ColorStatistics average_color(const std::vector<ColorStatistics>& frames);

// Maps every pixel of `face` so that, under the weights `face_statistics` was measured with, its
// statistics become `target`'s. Does nothing unless both are usable and of the same mode.
void apply_color_transfer(CropImage& face, const ColorStatistics& face_statistics, const ColorStatistics& target);

// One frame, no smoothing: measure both crops with `weight` and transfer.
void transfer_color(CropImage& face, const CropImage& target, const std::vector<float>& weight, ColorMode mode);

// Display-encoded RGB (as sRGB) <-> CIE Lab (D65), defined on the whole real line (the sRGB and Lab
// curves are extended linearly below their knees, by their own power laws above 1); exposed for tests.
std::array<double, 3> lab_from_display_rgb(const std::array<double, 3>& rgb);
std::array<double, 3> display_rgb_from_lab(const std::array<double, 3>& lab);

}  // namespace facetrain
