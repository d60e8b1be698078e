#pragma once
// How sharp a face came out (issue 27): the energy of the image's Laplacian inside the face, of the
// output over the target's. On interleaved RGB float images (width * height * 3, rows top to
// bottom) with a per-pixel weight mask (width * height values in 0..1; empty: every pixel), like
// checkerboard.h. No LibTorch: plain loops in double.
//
// The Laplacian is the 4-neighbour one (4 * centre - the four neighbours) on each channel, at the
// pixels that have all four neighbours; its square is weighted by the mask at that pixel and summed
// over the channels. A blurred reconstruction loses its high frequencies and measures below 1 against
// its target; one with noise, grain or ringing the target lacks measures above it. Callers sum the
// energies over many faces before dividing (sharpness_ratio: output over target).
#include <vector>

namespace facetrain {

// The mask-weighted Laplacian energy of one image; 0 when the sizes do not fit or a side is under 3.
double laplacian_energy(const std::vector<float>& rgb, int width, int height, const std::vector<float>& mask = {});

// laplacian_energy(output) / laplacian_energy(target) under the same mask; NaN when the target has none.
double sharpness_ratio(const std::vector<float>& output, const std::vector<float>& target, int width, int height,
                       const std::vector<float>& mask = {});

}  // namespace facetrain
