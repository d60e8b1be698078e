#include "facetrain/swap/color_transfer.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace facetrain {

namespace {

using Vec3 = std::array<double, 3>;
using Mat3 = std::array<double, 9>;  // row-major

// --- display RGB <-> Lab --------------------------------------------------------------------

double srgb_to_linear(double e) { return e <= 0.04045 ? e / 12.92 : std::pow((e + 0.055) / 1.055, 2.4); }
double linear_to_srgb(double v) { return v <= 0.0031308 ? 12.92 * v : 1.055 * std::pow(v, 1.0 / 2.4) - 0.055; }

constexpr double kLabDelta = 6.0 / 29.0;
double lab_f(double t) {
  return t > kLabDelta * kLabDelta * kLabDelta ? std::cbrt(t) : t / (3 * kLabDelta * kLabDelta) + 4.0 / 29.0;
}
double lab_f_inverse(double u) { return u > kLabDelta ? u * u * u : 3 * kLabDelta * kLabDelta * (u - 4.0 / 29.0); }

// Linear sRGB (D65) -> CIE XYZ.
constexpr Mat3 kXyzFromRgb{0.4124564, 0.3575761, 0.1804375,   //
                           0.2126729, 0.7151522, 0.0721750,   //
                           0.0193339, 0.1191920, 0.9503041};

Vec3 multiply(const Mat3& m, const Vec3& v) {
  return {m[0] * v[0] + m[1] * v[1] + m[2] * v[2], m[3] * v[0] + m[4] * v[1] + m[5] * v[2],
          m[6] * v[0] + m[7] * v[1] + m[8] * v[2]};
}

Mat3 multiply(const Mat3& a, const Mat3& b) {
  Mat3 out{};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 3; ++k) out[r * 3 + c] += a[r * 3 + k] * b[k * 3 + c];
  return out;
}

Mat3 inverse(const Mat3& m) {
  const double c00 = m[4] * m[8] - m[5] * m[7], c01 = m[5] * m[6] - m[3] * m[8], c02 = m[3] * m[7] - m[4] * m[6];
  const double det = m[0] * c00 + m[1] * c01 + m[2] * c02;
  return {c00 / det, (m[2] * m[7] - m[1] * m[8]) / det, (m[1] * m[5] - m[2] * m[4]) / det,
          c01 / det, (m[0] * m[8] - m[2] * m[6]) / det, (m[2] * m[3] - m[0] * m[5]) / det,
          c02 / det, (m[1] * m[6] - m[0] * m[7]) / det, (m[0] * m[4] - m[1] * m[3]) / det};
}

// The exact inverse of kXyzFromRgb (so a round trip is exact to rounding) and the white it maps
// RGB (1, 1, 1) to (D65 as the sRGB primaries define it).
const Mat3& rgb_from_xyz() {
  static const Mat3 m = inverse(kXyzFromRgb);
  return m;
}
const Vec3& white_xyz() {
  static const Vec3 w = multiply(kXyzFromRgb, Vec3{1, 1, 1});
  return w;
}

// --- symmetric 3x3 eigen-decomposition (cyclic Jacobi) ----------------------------------------

// m = V diag(values) V^T; V's columns are the eigenvectors.
void symmetric_eigen(Mat3 m, Vec3& values, Mat3& vectors) {
  vectors = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  for (int sweep = 0; sweep < 50; ++sweep) {
    const double off = m[1] * m[1] + m[2] * m[2] + m[5] * m[5];
    if (off < 1e-30) break;
    for (const auto& [p, q] : {std::pair{0, 1}, std::pair{0, 2}, std::pair{1, 2}}) {
      const double apq = m[p * 3 + q];
      if (std::abs(apq) < 1e-300) continue;
      const double theta = (m[q * 3 + q] - m[p * 3 + p]) / (2 * apq);
      const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
      const double c = 1 / std::sqrt(t * t + 1), s = t * c;
      // m = J^T m J with J the rotation in the (p, q) plane.
      for (int k = 0; k < 3; ++k) {
        const double mkp = m[k * 3 + p], mkq = m[k * 3 + q];
        m[k * 3 + p] = c * mkp - s * mkq;
        m[k * 3 + q] = s * mkp + c * mkq;
      }
      for (int k = 0; k < 3; ++k) {
        const double mpk = m[p * 3 + k], mqk = m[q * 3 + k];
        m[p * 3 + k] = c * mpk - s * mqk;
        m[q * 3 + k] = s * mpk + c * mqk;
      }
      for (int k = 0; k < 3; ++k) {
        const double vkp = vectors[k * 3 + p], vkq = vectors[k * 3 + q];
        vectors[k * 3 + p] = c * vkp - s * vkq;
        vectors[k * 3 + q] = s * vkp + c * vkq;
      }
    }
  }
  values = {m[0], m[4], m[8]};
}

// V diag(f(values)) V^T for a symmetric m.
template <class F>
Mat3 symmetric_function(const Mat3& m, F f) {
  Vec3 values;
  Mat3 v;
  symmetric_eigen(m, values, v);
  Mat3 out{};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 3; ++k) out[r * 3 + c] += v[r * 3 + k] * f(values[k]) * v[c * 3 + k];
  return out;
}

// Variance (display units squared) added to the face's covariance before it is inverted: a flat
// face channel (a std of 0.003, under one 8-bit code) would otherwise be amplified without bound.
constexpr double kLctRegularisation = 1e-5;
// A flat face channel would otherwise blow its deviations up (or flatten them): rct keeps each
// channel's gain within [1/4, 4], as the code before it did.
constexpr double kRctMinGain = 0.25, kRctMaxGain = 4.0;

// The quantile function of the weighted samples at ranks (k + 0.5) / kColorQuantiles: the samples
// in ascending order (`order`), each placed at the middle of its weight's share of the cumulative
// weight, linearly interpolated in between and held at the ends. Zero weights are skipped.
std::vector<double> weighted_quantiles(const std::vector<std::array<float, 3>>& values, int channel,
                                       const std::vector<uint32_t>& order, const std::vector<float>& weight,
                                       double weight_sum) {
  std::vector<double> out(kColorQuantiles);
  auto value = [&](size_t j) { return static_cast<double>(values[order[j]][channel]); };
  auto weight_of = [&](size_t j) { return static_cast<double>(std::max(0.f, weight[order[j]])); };
  auto next_weighted = [&](size_t j) {
    while (j < order.size() && !(weight[order[j]] > 0.f)) ++j;
    return j;
  };
  double below = 0;  // cumulative weight before sample i
  size_t i = next_weighted(0), last = i;
  double previous_rank = -1, previous_value = value(i);
  for (size_t j = i; j < order.size(); j = next_weighted(j + 1)) last = j;
  for (int k = 0; k < kColorQuantiles; ++k) {
    const double p = (k + 0.5) / kColorQuantiles;
    // Advance to the first sample whose middle rank is >= p.
    while (i < order.size()) {
      const double rank = (below + 0.5 * weight_of(i)) / weight_sum;
      if (rank >= p) break;
      previous_rank = rank;
      previous_value = value(i);
      below += weight_of(i);
      i = next_weighted(i + 1);
    }
    if (i >= order.size()) {
      out[k] = value(last);
    } else {
      const double rank = (below + 0.5 * weight_of(i)) / weight_sum;
      if (previous_rank < 0 || rank <= previous_rank) out[k] = value(i);
      else out[k] = previous_value + (value(i) - previous_value) * (p - previous_rank) / (rank - previous_rank);
    }
  }
  return out;
}

// Position of `x` on the quantile grid `q` (ascending): a fractional index in [0, n - 1], or
// outside it (extrapolated by value, one unit per index beyond the ends is not meaningful, so the
// caller handles the ends). Ties take the middle of their run.
double quantile_position(const std::vector<double>& q, double x) {
  const auto lo = std::lower_bound(q.begin(), q.end(), x);
  const auto hi = std::upper_bound(q.begin(), q.end(), x);
  if (lo != hi) return 0.5 * (static_cast<double>(lo - q.begin()) + static_cast<double>(hi - q.begin()) - 1);
  const size_t k = static_cast<size_t>(lo - q.begin());  // q[k - 1] < x < q[k]
  return static_cast<double>(k - 1) + (x - q[k - 1]) / (q[k] - q[k - 1]);
}

double quantile_at(const std::vector<double>& q, double position) {
  const size_t k = std::min(static_cast<size_t>(position), q.size() - 2);
  const double t = position - static_cast<double>(k);
  return q[k] + (q[k + 1] - q[k]) * t;
}

// hist mapping of one value: through the face's CDF to the target's inverse CDF; beyond the face's
// lowest and highest quantiles, values keep their distance to them (so super-whites stay ordered).
double match_quantile(double x, const std::vector<double>& from, const std::vector<double>& to) {
  if (x <= from.front()) return to.front() + (x - from.front());
  if (x >= from.back()) return to.back() + (x - from.back());
  return quantile_at(to, quantile_position(from, x));
}

}  // namespace

std::array<double, 3> lab_from_display_rgb(const std::array<double, 3>& rgb) {
  const Vec3 xyz = multiply(kXyzFromRgb, Vec3{srgb_to_linear(rgb[0]), srgb_to_linear(rgb[1]), srgb_to_linear(rgb[2])});
  const Vec3& w = white_xyz();
  const double fx = lab_f(xyz[0] / w[0]), fy = lab_f(xyz[1] / w[1]), fz = lab_f(xyz[2] / w[2]);
  return {116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)};
}

std::array<double, 3> display_rgb_from_lab(const std::array<double, 3>& lab) {
  const double fy = (lab[0] + 16) / 116, fx = fy + lab[1] / 500, fz = fy - lab[2] / 200;
  const Vec3& w = white_xyz();
  const Vec3 xyz{w[0] * lab_f_inverse(fx), w[1] * lab_f_inverse(fy), w[2] * lab_f_inverse(fz)};
  const Vec3 linear = multiply(rgb_from_xyz(), xyz);
  return {linear_to_srgb(linear[0]), linear_to_srgb(linear[1]), linear_to_srgb(linear[2])};
}

ColorSamples prepare_color_samples(const CropImage& crop, ColorMode mode) {
  ColorSamples out;
  out.mode = mode;
  out.size = crop.size;
  const size_t n = static_cast<size_t>(crop.size) * crop.size;
  if (mode == ColorMode::none || crop.rgb.size() != n * 3) return out;
  out.values.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const Vec3 rgb{crop.rgb[i * 3], crop.rgb[i * 3 + 1], crop.rgb[i * 3 + 2]};
    const Vec3 v = mode == ColorMode::rct ? lab_from_display_rgb(rgb) : rgb;
    for (int c = 0; c < 3; ++c) out.values[i][c] = static_cast<float>(v[c]);
  }
  if (mode == ColorMode::hist)
    for (int c = 0; c < 3; ++c) {
      std::vector<uint32_t>& order = out.order[c];
      order.resize(n);
      for (size_t i = 0; i < n; ++i) order[i] = static_cast<uint32_t>(i);
      std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
        return out.values[a][c] < out.values[b][c] || (out.values[a][c] == out.values[b][c] && a < b);
      });
    }
  return out;
}

ColorStatistics measure_color(const ColorSamples& samples, const std::vector<float>& weight) {
  ColorStatistics s;
  s.mode = samples.mode;
  const size_t n = samples.values.size();
  if (samples.mode == ColorMode::none || n == 0 || weight.size() != n) return s;
  double wsum = 0;
  for (float w : weight) wsum += std::max(0.f, w);
  s.weight_sum = wsum;
  if (wsum < 1.0) return s;

  const auto& values = samples.values;
  for (size_t i = 0; i < n; ++i)
    if (weight[i] > 0.f)
      for (int c = 0; c < 3; ++c) s.mean[c] += weight[i] * static_cast<double>(values[i][c]);
  for (double& m : s.mean) m /= wsum;

  if (samples.mode == ColorMode::rct || samples.mode == ColorMode::lct) {
    Mat3 cov{};
    for (size_t i = 0; i < n; ++i) {
      if (!(weight[i] > 0.f)) continue;
      const double w = weight[i];
      const Vec3 d{values[i][0] - s.mean[0], values[i][1] - s.mean[1], values[i][2] - s.mean[2]};
      for (int r = 0; r < 3; ++r)
        for (int c = r; c < 3; ++c) cov[r * 3 + c] += w * d[r] * d[c];
    }
    for (int r = 0; r < 3; ++r)
      for (int c = r; c < 3; ++c) cov[c * 3 + r] = cov[r * 3 + c] /= wsum;
    s.covariance = cov;
    for (int c = 0; c < 3; ++c) s.deviation[c] = std::sqrt(cov[c * 4]);
  } else if (samples.mode == ColorMode::hist) {
    for (int c = 0; c < 3; ++c) s.quantiles[c] = weighted_quantiles(values, c, samples.order[c], weight, wsum);
  }
  return s;
}

ColorStatistics measure_color(const CropImage& crop, const std::vector<float>& weight, ColorMode mode) {
  const size_t n = static_cast<size_t>(crop.size) * crop.size;
  if (mode == ColorMode::none || weight.size() != n || crop.rgb.size() != n * 3) {
    ColorStatistics s;
    s.mode = mode;
    return s;
  }
  return measure_color(prepare_color_samples(crop, mode), weight);
}

ColorStatistics average_color(const std::vector<ColorStatistics>& frames) {
  ColorStatistics out;
  int count = 0;
  for (const ColorStatistics& f : frames) {
    if (!f.usable()) continue;
    if (count == 0) {
      out = f;
    } else {
      out.weight_sum += f.weight_sum;
      for (int c = 0; c < 3; ++c) {
        out.mean[c] += f.mean[c];
        out.deviation[c] += f.deviation[c];
        for (size_t k = 0; k < out.quantiles[c].size() && k < f.quantiles[c].size(); ++k)
          out.quantiles[c][k] += f.quantiles[c][k];
      }
      for (int k = 0; k < 9; ++k) out.covariance[k] += f.covariance[k];
    }
    ++count;
  }
  if (count > 1) {
    out.weight_sum /= count;
    for (int c = 0; c < 3; ++c) {
      out.mean[c] /= count;
      out.deviation[c] /= count;
      for (double& q : out.quantiles[c]) q /= count;
    }
    for (double& v : out.covariance) v /= count;
  }
  return out;
}

void apply_color_transfer(CropImage& face, const ColorStatistics& from, const ColorStatistics& to) {
  if (!from.usable() || !to.usable() || from.mode != to.mode) return;
  const size_t n = static_cast<size_t>(face.size) * face.size;
  if (face.rgb.size() != n * 3) return;
  switch (from.mode) {
    case ColorMode::none: return;
    case ColorMode::rct: {
      Vec3 gain;
      for (int c = 0; c < 3; ++c)
        gain[c] = from.deviation[c] > 1e-6 ? std::clamp(to.deviation[c] / from.deviation[c], kRctMinGain, kRctMaxGain) : 1.0;
      for (size_t i = 0; i < n; ++i) {
        float* p = &face.rgb[i * 3];
        Vec3 lab = lab_from_display_rgb({p[0], p[1], p[2]});
        for (int c = 0; c < 3; ++c) lab[c] = (lab[c] - from.mean[c]) * gain[c] + to.mean[c];
        const Vec3 rgb = display_rgb_from_lab(lab);
        for (int c = 0; c < 3; ++c) p[c] = static_cast<float>(rgb[c]);
      }
      return;
    }
    case ColorMode::lct: {
      Mat3 cs = from.covariance;
      for (int c = 0; c < 3; ++c) cs[c * 4] += kLctRegularisation;
      const Mat3 cs_half = symmetric_function(cs, [](double v) { return std::sqrt(std::max(v, 0.0)); });
      const Mat3 cs_inv_half = symmetric_function(cs, [](double v) { return 1 / std::sqrt(std::max(v, kLctRegularisation)); });
      const Mat3 middle = symmetric_function(multiply(multiply(cs_half, to.covariance), cs_half),
                                             [](double v) { return std::sqrt(std::max(v, 0.0)); });
      const Mat3 a = multiply(multiply(cs_inv_half, middle), cs_inv_half);
      for (size_t i = 0; i < n; ++i) {
        float* p = &face.rgb[i * 3];
        const Vec3 d{p[0] - from.mean[0], p[1] - from.mean[1], p[2] - from.mean[2]};
        const Vec3 mapped = multiply(a, d);
        for (int c = 0; c < 3; ++c) p[c] = static_cast<float>(mapped[c] + to.mean[c]);
      }
      return;
    }
    case ColorMode::hist: {
      for (int c = 0; c < 3; ++c) {
        if (from.quantiles[c].size() != kColorQuantiles || to.quantiles[c].size() != kColorQuantiles) return;
      }
      for (size_t i = 0; i < n; ++i)
        for (int c = 0; c < 3; ++c) {
          float& v = face.rgb[i * 3 + c];
          v = static_cast<float>(match_quantile(v, from.quantiles[c], to.quantiles[c]));
        }
      return;
    }
  }
}

void transfer_color(CropImage& face, const CropImage& target, const std::vector<float>& weight, ColorMode mode) {
  if (mode == ColorMode::none || target.size != face.size) return;
  apply_color_transfer(face, measure_color(face, weight, mode), measure_color(target, weight, mode));
}

}  // namespace facetrain
