#include "facetrain/quality/sharpness.h"

#include <cstddef>
#include <limits>

namespace facetrain {

namespace {
constexpr int kChannels = 3;
}  // namespace

double laplacian_energy(const std::vector<float>& rgb, int width, int height, const std::vector<float>& mask) {
  if (width < 3 || height < 3) return 0;
  const size_t pixels = static_cast<size_t>(width) * static_cast<size_t>(height);
  if (rgb.size() != pixels * kChannels || (!mask.empty() && mask.size() != pixels)) return 0;
  auto at = [&](int x, int y, int c) {
    return static_cast<double>(rgb[(static_cast<size_t>(y) * width + x) * kChannels + c]);
  };
  double energy = 0;
  for (int y = 1; y + 1 < height; ++y) {
    for (int x = 1; x + 1 < width; ++x) {
      const double weight = mask.empty() ? 1.0 : mask[static_cast<size_t>(y) * width + x];
      if (weight <= 0) continue;
      double sum = 0;
      for (int c = 0; c < kChannels; ++c) {
        const double laplacian = 4 * at(x, y, c) - at(x - 1, y, c) - at(x + 1, y, c) - at(x, y - 1, c) - at(x, y + 1, c);
        sum += laplacian * laplacian;
      }
      energy += weight * sum;
    }
  }
  return energy;
}

double sharpness_ratio(const std::vector<float>& output, const std::vector<float>& target, int width, int height,
                       const std::vector<float>& mask) {
  const double reference = laplacian_energy(target, width, height, mask);
  if (!(reference > 0)) return std::numeric_limits<double>::quiet_NaN();
  return laplacian_energy(output, width, height, mask) / reference;
}

}  // namespace facetrain
