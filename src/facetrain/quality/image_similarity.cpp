#include "facetrain/quality/image_similarity.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>

namespace facetrain {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kChannels = 3;
constexpr double kK1 = 0.01;
constexpr double kK2 = 0.03;
constexpr double kSigma = 1.5;
constexpr int kRadius = 5;  // int(3.5 * 1.5 + 0.5), scipy.ndimage's radius for truncate=3.5
constexpr int kTaps = 2 * kRadius + 1;
constexpr int kScales = 5;
constexpr std::array<double, kScales> kMsSsimWeights{0.0448, 0.2856, 0.3001, 0.2363, 0.1333};

// scipy.ndimage._gaussian_kernel1d(sigma=1.5, order=0, radius=5): exp(-x^2 / (2 sigma^2)), normalised.
std::array<double, kTaps> gaussian_taps() {
  std::array<double, kTaps> g{};
  double sum = 0;
  for (int i = 0; i < kTaps; ++i) {
    const double x = i - kRadius;
    g[i] = std::exp(-0.5 / (kSigma * kSigma) * x * x);
    sum += g[i];
  }
  for (double& v : g) v /= sum;
  return g;
}

bool fits(const std::vector<float>& a, const std::vector<float>& b, int width, int height,
          const std::vector<float>& mask, double data_range) {
  if (width <= 0 || height <= 0 || !(data_range > 0)) return false;
  const size_t n = static_cast<size_t>(width) * height;
  return a.size() == n * kChannels && b.size() == n * kChannels && (mask.empty() || mask.size() == n);
}

// One channel of one scale: planes of `width * height` doubles, and a mask plane (or none).
struct Plane {
  int width = 0;
  int height = 0;
  std::vector<double> v;
};

Plane channel_plane(const std::vector<float>& rgb, int width, int height, int channel) {
  Plane p{width, height, std::vector<double>(static_cast<size_t>(width) * height)};
  for (size_t i = 0; i < p.v.size(); ++i) p.v[i] = rgb[i * kChannels + channel];
  return p;
}

// The 2x2 mean; an odd last row or column is dropped.
Plane downsample(const Plane& p) {
  Plane d{p.width / 2, p.height / 2, {}};
  d.v.resize(static_cast<size_t>(d.width) * d.height);
  for (int y = 0; y < d.height; ++y) {
    const double* r0 = p.v.data() + static_cast<size_t>(2 * y) * p.width;
    const double* r1 = r0 + p.width;
    double* out = d.v.data() + static_cast<size_t>(y) * d.width;
    for (int x = 0; x < d.width; ++x) out[x] = 0.25 * (r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1]);
  }
  return d;
}

struct ScaleMeans {
  double ssim = kNaN;  // weighted mean of luminance * contrast * structure
  double cs = kNaN;    // weighted mean of contrast * structure
};

// Gaussian-filtered means, variances and covariance of one channel pair (separable: rows, then
// columns), only where the window lies inside the image (the pixels skimage's crop keeps), then
// the (mask-weighted) means of the SSIM and cs maps there.
class SsimWorkspace {
 public:
  ScaleMeans means(const Plane& a, const Plane& b, const Plane* mask, double c1, double c2) {
    const int w = a.width, h = a.height;
    if (w < kTaps || h < kTaps) return {};
    const int ow = w - 2 * kRadius, oh = h - 2 * kRadius;
    const size_t hn = static_cast<size_t>(h) * ow;
    for (auto& buffer : horizontal_) buffer.resize(hn);
    products_.resize(static_cast<size_t>(w) * 3);
    double* aa = products_.data();
    double* bb = aa + w;
    double* ab = bb + w;
    for (int y = 0; y < h; ++y) {
      const double* ra = a.v.data() + static_cast<size_t>(y) * w;
      const double* rb = b.v.data() + static_cast<size_t>(y) * w;
      for (int x = 0; x < w; ++x) {
        aa[x] = ra[x] * ra[x];
        bb[x] = rb[x] * rb[x];
        ab[x] = ra[x] * rb[x];
      }
      // Tap by tap over the whole row (the inner loop vectorises).
      const size_t o = static_cast<size_t>(y) * ow;
      double* __restrict h0 = horizontal_[0].data() + o;
      double* __restrict h1 = horizontal_[1].data() + o;
      double* __restrict h2 = horizontal_[2].data() + o;
      double* __restrict h3 = horizontal_[3].data() + o;
      double* __restrict h4 = horizontal_[4].data() + o;
      std::fill(h0, h0 + ow, 0.0);
      std::fill(h1, h1 + ow, 0.0);
      std::fill(h2, h2 + ow, 0.0);
      std::fill(h3, h3 + ow, 0.0);
      std::fill(h4, h4 + ow, 0.0);
      for (int k = 0; k < kTaps; ++k) {
        const double g = taps_[k];
        const double* __restrict sa = ra + k;
        const double* __restrict sb = rb + k;
        const double* __restrict saa = aa + k;
        const double* __restrict sbb = bb + k;
        const double* __restrict sab = ab + k;
        for (int x = 0; x < ow; ++x) {
          h0[x] += g * sa[x];
          h1[x] += g * sb[x];
          h2[x] += g * saa[x];
          h3[x] += g * sbb[x];
          h4[x] += g * sab[x];
        }
      }
    }
    column_.assign(static_cast<size_t>(ow) * 5, 0.0);
    double sum_ssim = 0, sum_cs = 0, sum_weight = 0;
    for (int y = 0; y < oh; ++y) {
      std::fill(column_.begin(), column_.end(), 0.0);
      double* u = column_.data();
      for (int k = 0; k < kTaps; ++k) {
        const double g = taps_[k];
        const size_t row = static_cast<size_t>(y + k) * ow;
        for (int c = 0; c < 5; ++c) {
          const double* src = horizontal_[c].data() + row;
          double* dst = u + static_cast<size_t>(c) * ow;
          for (int x = 0; x < ow; ++x) dst[x] += g * src[x];
        }
      }
      const double* ux = u;
      const double* uy = u + ow;
      const double* uxx = u + 2 * static_cast<size_t>(ow);
      const double* uyy = u + 3 * static_cast<size_t>(ow);
      const double* uxy = u + 4 * static_cast<size_t>(ow);
      const double* m = mask ? mask->v.data() + static_cast<size_t>(y + kRadius) * w + kRadius : nullptr;
      for (int x = 0; x < ow; ++x) {
        const double weight = m ? m[x] : 1.0;
        if (m && weight <= 0) continue;
        const double vx = uxx[x] - ux[x] * ux[x];
        const double vy = uyy[x] - uy[x] * uy[x];
        const double vxy = uxy[x] - ux[x] * uy[x];
        const double luminance = (2 * ux[x] * uy[x] + c1) / (ux[x] * ux[x] + uy[x] * uy[x] + c1);
        const double cs = (2 * vxy + c2) / (vx + vy + c2);
        sum_ssim += weight * luminance * cs;
        sum_cs += weight * cs;
        sum_weight += weight;
      }
    }
    if (!(sum_weight > 0)) return {};
    return {sum_ssim / sum_weight, sum_cs / sum_weight};
  }

 private:
  std::array<double, kTaps> taps_ = gaussian_taps();
  std::array<std::vector<double>, 5> horizontal_;
  std::vector<double> products_;
  std::vector<double> column_;
};

struct SsimResult {
  double ssim = kNaN;
  double ms_ssim = kNaN;
};

// ssim and, when asked and defined, ms_ssim, per channel then averaged.
SsimResult ssim_scores(const std::vector<float>& a, const std::vector<float>& b, int width, int height,
                       const std::vector<float>& mask, double data_range, bool want_ms) {
  SsimResult result;
  if (!fits(a, b, width, height, mask, data_range)) return result;
  const double c1 = (kK1 * data_range) * (kK1 * data_range);
  const double c2 = (kK2 * data_range) * (kK2 * data_range);
  const bool multi_scale = want_ms && std::min(width, height) >= kMsSsimMinSide;
  Plane mask0;
  if (!mask.empty()) mask0 = Plane{width, height, std::vector<double>(mask.begin(), mask.end())};
  std::vector<Plane> masks;  // the mask at each scale
  if (!mask.empty()) {
    masks.push_back(std::move(mask0));
    for (int s = 1; multi_scale && s < kScales; ++s) masks.push_back(downsample(masks.back()));
  }
  SsimWorkspace workspace;
  double ssim_sum = 0, ms_sum = 0;
  for (int c = 0; c < kChannels; ++c) {
    Plane pa = channel_plane(a, width, height, c);
    Plane pb = channel_plane(b, width, height, c);
    double ms = 1.0;
    for (int s = 0; s < (multi_scale ? kScales : 1); ++s) {
      if (s > 0) {
        pa = downsample(pa);
        pb = downsample(pb);
      }
      const ScaleMeans m = workspace.means(pa, pb, masks.empty() ? nullptr : &masks[s], c1, c2);
      if (s == 0) ssim_sum += m.ssim;
      const double term = s == kScales - 1 ? m.ssim : m.cs;
      ms *= std::pow(std::max(term, 0.0), kMsSsimWeights[s]);  // NaN stays NaN
      if (std::isnan(term)) ms = kNaN;
    }
    ms_sum += ms;
  }
  result.ssim = ssim_sum / kChannels;
  if (multi_scale) result.ms_ssim = ms_sum / kChannels;
  return result;
}

}  // namespace

double psnr_db(const std::vector<float>& a, const std::vector<float>& b, int width, int height,
               const std::vector<float>& mask, double data_range) {
  if (!fits(a, b, width, height, mask, data_range)) return kNaN;
  const size_t n = static_cast<size_t>(width) * height;
  double sum = 0, weight_sum = 0;
  for (size_t i = 0; i < n; ++i) {
    const double w = mask.empty() ? 1.0 : mask[i];
    if (!(w > 0)) continue;
    double d2 = 0;
    for (int c = 0; c < kChannels; ++c) {
      const double d = static_cast<double>(a[i * kChannels + c]) - b[i * kChannels + c];
      d2 += d * d;
    }
    sum += w * d2;
    weight_sum += w;
  }
  if (!(weight_sum > 0)) return kNaN;
  const double mse = sum / (weight_sum * kChannels);
  if (mse == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(data_range * data_range / mse);
}

double ssim(const std::vector<float>& a, const std::vector<float>& b, int width, int height,
            const std::vector<float>& mask, double data_range) {
  return ssim_scores(a, b, width, height, mask, data_range, false).ssim;
}

double ms_ssim(const std::vector<float>& a, const std::vector<float>& b, int width, int height,
               const std::vector<float>& mask, double data_range) {
  return ssim_scores(a, b, width, height, mask, data_range, true).ms_ssim;
}

ReconstructionScores reconstruction_scores(const std::vector<float>& a, const std::vector<float>& b, int width,
                                           int height, const std::vector<float>& mask, double data_range) {
  const SsimResult s = ssim_scores(a, b, width, height, mask, data_range, true);
  return {s.ssim, s.ms_ssim, psnr_db(a, b, width, height, mask, data_range)};
}

}  // namespace facetrain
