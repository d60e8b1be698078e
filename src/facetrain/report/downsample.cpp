#include "facetrain/report/downsample.h"

#include <algorithm>
#include <cmath>

namespace facetrain::report {

std::vector<size_t> downsample_keep_extremes(const std::vector<double>& x, const std::vector<double>& y, size_t buckets) {
  std::vector<size_t> finite;
  const size_t n = std::min(x.size(), y.size());
  for (size_t i = 0; i < n; ++i)
    if (std::isfinite(x[i]) && std::isfinite(y[i])) finite.push_back(i);
  if (buckets == 0 || finite.size() <= 4 * buckets) return finite;
  const double x0 = x[finite.front()], x1 = x[finite.back()];
  const double width = (x1 - x0) / static_cast<double>(buckets);
  std::vector<size_t> kept;
  size_t k = 0;
  for (size_t b = 0; b < buckets && k < finite.size(); ++b) {
    const double end = b + 1 == buckets ? x1 : x0 + width * static_cast<double>(b + 1);
    const size_t first = k;
    size_t lowest = k, highest = k;
    while (k < finite.size() && (x[finite[k]] < end || b + 1 == buckets)) {
      if (y[finite[k]] < y[finite[lowest]]) lowest = k;
      if (y[finite[k]] > y[finite[highest]]) highest = k;
      ++k;
    }
    if (k == first) continue;  // an empty bucket
    const size_t last = k - 1;
    for (size_t pick : {first, std::min(lowest, highest), std::max(lowest, highest), last})
      if (kept.empty() || kept.back() != finite[pick]) kept.push_back(finite[pick]);
  }
  return kept;
}

}  // namespace facetrain::report
