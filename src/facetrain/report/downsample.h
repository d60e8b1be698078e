#pragma once
// Curves of long runs (100 000 logged steps and more) are drawn from a few thousand points without
// losing what matters: the x range is cut into equal buckets and each bucket keeps its first, last,
// lowest and highest point (the "M4" reduction), so every spike and dip survives and the drawn line
// is the one the full data would draw at that width.
#include <cstddef>
#include <vector>

namespace facetrain::report {

// Indices (ascending) of the points of (x, y) to keep, `buckets` buckets over x's range. x must be
// ascending; points whose y is not finite are left out. Every point is kept when there are at most
// 4 * buckets of them.
std::vector<size_t> downsample_keep_extremes(const std::vector<double>& x, const std::vector<double>& y, size_t buckets);

}  // namespace facetrain::report
