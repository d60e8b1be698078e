#pragma once
// Reconstruction scores of an image against its reference (issue 12): PSNR, SSIM and multi-scale
// SSIM, on interleaved RGB float images (width * height * 3, rows top to bottom), values nominally in
// [0, data_range]. No LibTorch, no OpenImageIO: plain loops, computed in double.
//
// Every function takes an optional per-pixel weight mask (width * height values in 0..1; empty: every
// pixel has weight 1), so that a score can be taken over the face alone or with a damaged region
// left out. Each returns NaN when the inputs do not fit (sizes that differ from width * height * 3 or
// from each other, a mask of another size) or when nothing is left to average (every weight 0).
//
// SSIM is scikit-image's structural_similarity(a, b, channel_axis=-1, data_range=R,
// gaussian_weights=True, sigma=1.5, use_sample_covariance=False): an 11-tap Gaussian window (sigma
// 1.5, truncated at 3.5 sigma: radius int(3.5 * 1.5 + 0.5) = 5), K1 0.01, K2 0.03, population
// (co)variances, the SSIM map of each channel with 5 pixels cropped from each border (so scipy's
// 'reflect' padding never reaches a pixel that is averaged), the mean of that map per channel and the
// mean over the 3 channels. tests/e2e/quality_agreement.sh checks the agreement on real frames.
#include <vector>

namespace facetrain {

// The smallest side for which ms_ssim is defined: 5 scales, the coarsest 1/16 of the image, must
// still be larger than the 11-pixel window with some room (256 / 16 = 16 pixels).
inline constexpr int kMsSsimMinSide = 256;

// 10 log10(data_range^2 / MSE), the MSE over every pixel and channel weighted by `mask`;
// +infinity when the images are identical (where the mask is non-zero).
double psnr_db(const std::vector<float>& a, const std::vector<float>& b, int width, int height,
               const std::vector<float>& mask = {}, double data_range = 1.0);

// Mean SSIM as described above; with a mask, the mask-weighted mean of the (cropped) SSIM map.
// NaN when a side is smaller than the 11-pixel window.
double ssim(const std::vector<float>& a, const std::vector<float>& b, int width, int height,
            const std::vector<float>& mask = {}, double data_range = 1.0);

// Multi-scale SSIM (Wang, Simoncelli & Bovik 2003), structured as the authors' MATLAB code: 5
// scales, weights (0.0448, 0.2856, 0.3001, 0.2363, 0.1333), a 2x2 average between scales (an odd
// last row or column is dropped, where the MATLAB code pads it symmetrically; the mask is averaged
// alike). At each of the 4 finer scales the
// mean contrast*structure term cs = (2 sxy + C2) / (sx^2 + sy^2 + C2), at the coarsest the mean
// SSIM (luminance * cs); each mean is taken as ssim()'s (same window, crop and mask weighting), per
// channel: MS-SSIM = prod_j max(cs_j, 0)^w_j * max(ssim_5, 0)^w_5 (a negative term, which a
// fractional power cannot take, counts as 0, as in pytorch_msssim), then the mean over channels.
// Defined only when the smaller side is >= kMsSsimMinSide (256) pixels: below that it returns NaN,
// and callers report single-scale ssim() instead.
double ms_ssim(const std::vector<float>& a, const std::vector<float>& b, int width, int height,
               const std::vector<float>& mask = {}, double data_range = 1.0);

struct ReconstructionScores {
  double ssim = 0;
  double ms_ssim = 0;  // NaN below kMsSsimMinSide
  double psnr_db = 0;
};

// The three scores of one pair, sharing the finest scale's work between ssim and ms_ssim.
ReconstructionScores reconstruction_scores(const std::vector<float>& a, const std::vector<float>& b, int width,
                                           int height, const std::vector<float>& mask = {},
                                           double data_range = 1.0);

}  // namespace facetrain
