#pragma once
// How much of an image's energy sits at the periods a pixel-shuffle (sub-pixel convolution) decoder
// leaves its checkerboard at (issue 27). On interleaved RGB float images (width * height * 3, rows top
// to bottom), with an optional per-pixel weight mask (width * height values in 0..1; empty: every
// pixel, under a Hann window), like image_similarity.h. No LibTorch: plain loops in double.
//
// A 2x pixel shuffle whose r^2 sub-filters differ repeats a pattern every 2 pixels; a stack of
// `levels` shuffles repeats one every 2^levels pixels. Such a pattern puts its energy on the DFT bins
// whose frequencies are multiples of 1/2^levels cycle per pixel on each axis (for levels 2: 0, 1/4,
// 1/2 and 3/4 of the sampling rate, the DC bin left out), where a natural image's spectrum is smooth.
// The measure is the mean power of the 3x3 bins around those peaks over the mean power of the ring
// of bins 2 to 4 bins away from them (bins of another peak's 3x3 left out), summed over the 3
// channels; each channel is mask-weighted after its weighted mean is taken away, so the mask's own
// spectrum (the DC leaking through the window) stays near the DC bin. The 3x3 peak keeps the energy
// the mask window smears into the next bins.
//
// A natural image measures about 1; a grid of 2-pixel period well above it. The mask's window and
// the face's own content shape both output and target alike, so callers report the output's measure
// over its target's (checkerboard_ratio): 1 where the output has no more periodic energy than the
// real face.
#include <vector>

namespace facetrain {

// The two powers the measure divides, so that callers can sum them over many faces before dividing
// (one face's bins are noisy: each is an exponential-like draw around the spectrum's level).
struct PeriodicEnergy {
  double peak = 0;      // summed power of the bins at the shuffle periods (3x3 around each)
  double surround = 0;  // summed power of the rings around them
  int peak_bins = 0;
  int surround_bins = 0;
  // mean peak power / mean surround power; NaN when a sum is empty or the surround has no power
  double ratio() const;
  PeriodicEnergy& operator+=(const PeriodicEnergy& other);
};

// The periodic energy of one image; levels in [1, 3] (a stack of that many 2x shuffles). Returns an
// empty PeriodicEnergy (ratio NaN) when the sizes do not fit or a side is shorter than 2^levels * 4.
PeriodicEnergy periodic_energy(const std::vector<float>& rgb, int width, int height,
                               const std::vector<float>& mask = {}, int levels = 2);

// periodic_energy(output).ratio() / periodic_energy(target).ratio(), both under the same mask.
double checkerboard_ratio(const std::vector<float>& output, const std::vector<float>& target, int width, int height,
                          const std::vector<float>& mask = {}, int levels = 2);

}  // namespace facetrain
