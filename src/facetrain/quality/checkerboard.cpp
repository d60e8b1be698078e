#include "facetrain/quality/checkerboard.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdlib>
#include <limits>

namespace facetrain {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kPi = 3.14159265358979323846;
constexpr int kChannels = 3;
constexpr int kPeakRadius = 1;  // the 3x3 bins around a peak: the mask window smears a line that far
constexpr int kRingInner = 2;   // the surround: bins 2..4 away (Chebyshev distance) from a peak
constexpr int kRingOuter = 4;
constexpr int kMaxLevels = 3;

int circular_distance(int a, int b, int n) {
  const int d = std::abs(a - b) % n;
  return std::min(d, n - d);
}

// The frequencies (in bins of an n-point DFT) of a pattern repeating every 2^levels pixels.
std::vector<int> shuffle_frequencies(int n, int levels) {
  const int period = 1 << levels;
  std::vector<int> out;
  for (int k = 0; k < period; ++k) out.push_back(static_cast<int>(std::lround(static_cast<double>(k) * n / period)));
  return out;
}

int distance_to_set(int k, const std::vector<int>& set, int n) {
  int best = n;
  for (int s : set) best = std::min(best, circular_distance(k, s, n));
  return best;
}

// The bins an axis needs: those within the ring's outer radius of one of its peak frequencies.
std::vector<int> needed_bins(int n, const std::vector<int>& peaks) {
  std::vector<int> out;
  for (int k = 0; k < n; ++k)
    if (distance_to_set(k, peaks, n) <= kRingOuter) out.push_back(k);
  return out;
}

// Which part of the measure a bin (u, v) belongs to: +1 peak, -1 surround, 0 neither.
int bin_role(int u, int v, int height, int width, const std::vector<int>& rows, const std::vector<int>& columns) {
  int nearest = std::max(height, width);
  for (int pu : rows)
    for (int pv : columns) {
      if (pu == 0 && pv == 0) continue;  // the DC bin holds the image's mean, not a pattern
      nearest = std::min(nearest, std::max(circular_distance(u, pu, height), circular_distance(v, pv, width)));
    }
  const bool near_dc = std::max(circular_distance(u, 0, height), circular_distance(v, 0, width)) <= kPeakRadius;
  if (nearest <= kPeakRadius && !near_dc) return 1;
  if (nearest >= kRingInner && nearest <= kRingOuter && !near_dc) return -1;
  return 0;
}

// The weight of each pixel: the mask, or without one a 2-D Hann window: the DFT sees the image as
// periodic, and its borders would otherwise be a step whose energy lies along both axes, where half
// of the peaks are.
std::vector<double> pixel_weights(const std::vector<float>& mask, int width, int height) {
  std::vector<double> w(static_cast<size_t>(width) * height);
  if (!mask.empty()) return std::vector<double>(mask.begin(), mask.end());
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      w[static_cast<size_t>(y) * width + x] =
          (0.5 - 0.5 * std::cos(2 * kPi * (y + 0.5) / height)) * (0.5 - 0.5 * std::cos(2 * kPi * (x + 0.5) / width));
  return w;
}

// One channel, weighted and with its weighted mean taken away, as a plane of doubles.
std::vector<double> weighted_plane(const std::vector<float>& rgb, const std::vector<double>& weights, int channel) {
  double sum = 0, weight = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    sum += weights[i] * rgb[i * kChannels + channel];
    weight += weights[i];
  }
  const double mean = weight > 0 ? sum / weight : 0.0;
  std::vector<double> plane(weights.size());
  for (size_t i = 0; i < weights.size(); ++i) plane[i] = weights[i] * (rgb[i * kChannels + channel] - mean);
  return plane;
}

// exp(-2 pi i k x / n) for each k of `bins` and x in [0, n).
std::vector<std::complex<double>> twiddles(const std::vector<int>& bins, int n) {
  std::vector<std::complex<double>> t(bins.size() * static_cast<size_t>(n));
  for (size_t b = 0; b < bins.size(); ++b)
    for (int x = 0; x < n; ++x)
      t[b * n + x] = std::polar(1.0, -2.0 * kPi * static_cast<double>((static_cast<int64_t>(bins[b]) * x) % n) / n);
  return t;
}

// |DFT|^2 of a plane at the bins rows x columns: rows' transforms first, at the needed columns only.
std::vector<double> power_at(const std::vector<double>& plane, int width, int height, const std::vector<int>& rows,
                             const std::vector<int>& columns) {
  const auto tx = twiddles(columns, width), ty = twiddles(rows, height);
  const size_t nc = columns.size(), nr = rows.size();
  std::vector<std::complex<double>> by_row(static_cast<size_t>(height) * nc);
  for (int y = 0; y < height; ++y) {
    const double* line = plane.data() + static_cast<size_t>(y) * width;
    for (size_t c = 0; c < nc; ++c) {
      std::complex<double> s = 0;
      const std::complex<double>* t = tx.data() + c * width;
      for (int x = 0; x < width; ++x) s += line[x] * t[x];
      by_row[y * nc + c] = s;
    }
  }
  std::vector<double> power(nr * nc);
  for (size_t r = 0; r < nr; ++r)
    for (size_t c = 0; c < nc; ++c) {
      std::complex<double> s = 0;
      for (int y = 0; y < height; ++y) s += by_row[y * nc + c] * ty[r * height + y];
      power[r * nc + c] = std::norm(s);
    }
  return power;
}

}  // namespace

double PeriodicEnergy::ratio() const {
  if (peak_bins == 0 || surround_bins == 0 || !(surround > 0)) return kNaN;
  return (peak / peak_bins) / (surround / surround_bins);
}

PeriodicEnergy& PeriodicEnergy::operator+=(const PeriodicEnergy& other) {
  peak += other.peak;
  surround += other.surround;
  peak_bins += other.peak_bins;
  surround_bins += other.surround_bins;
  return *this;
}

PeriodicEnergy periodic_energy(const std::vector<float>& rgb, int width, int height, const std::vector<float>& mask,
                               int levels) {
  PeriodicEnergy e;
  if (levels < 1 || levels > kMaxLevels || width <= 0 || height <= 0) return e;
  // Peaks at least two rings apart, so that no ring reaches another peak's bins.
  const int min_side = (1 << levels) * (2 * kRingOuter + 1);
  const size_t pixels = static_cast<size_t>(width) * height;
  if (width < min_side || height < min_side || rgb.size() != pixels * kChannels || (!mask.empty() && mask.size() != pixels))
    return e;
  const auto peak_rows = shuffle_frequencies(height, levels), peak_columns = shuffle_frequencies(width, levels);
  const auto rows = needed_bins(height, peak_rows), columns = needed_bins(width, peak_columns);
  std::vector<int> roles(rows.size() * columns.size());
  for (size_t r = 0; r < rows.size(); ++r)
    for (size_t c = 0; c < columns.size(); ++c)
      roles[r * columns.size() + c] = bin_role(rows[r], columns[c], height, width, peak_rows, peak_columns);
  const auto weights = pixel_weights(mask, width, height);
  for (int channel = 0; channel < kChannels; ++channel) {
    const auto power = power_at(weighted_plane(rgb, weights, channel), width, height, rows, columns);
    for (size_t i = 0; i < power.size(); ++i) {
      if (roles[i] > 0) e.peak += power[i], ++e.peak_bins;
      if (roles[i] < 0) e.surround += power[i], ++e.surround_bins;
    }
  }
  return e;
}

double checkerboard_ratio(const std::vector<float>& output, const std::vector<float>& target, int width, int height,
                          const std::vector<float>& mask, int levels) {
  const double out = periodic_energy(output, width, height, mask, levels).ratio();
  const double ref = periodic_energy(target, width, height, mask, levels).ratio();
  return out / ref;
}

}  // namespace facetrain
