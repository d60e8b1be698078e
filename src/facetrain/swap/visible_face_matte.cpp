#include "facetrain/swap/visible_face_matte.h"

#include "facetrain/base/error.h"
#include "facetrain/media/image_io.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace facetrain {

VisibleFaceMattes::VisibleFaceMattes(std::filesystem::path faceset)
    : faceset_(std::move(faceset)), index_(read_visible_matte_index(faceset_)) {}

std::vector<float> VisibleFaceMattes::load(const std::string& crop) const {
  if (!index_) return {};
  const auto it = index_->faces.find(crop);
  if (it == index_->faces.end()) return {};
  const std::filesystem::path path = faceset_ / it->second.matte;
  const Rgb8Image image = read_rgb8(path);
  if (image.width != index_->size || image.height != index_->size)
    throw InputDataError(fmt::format("{}: {}x{} pixels, the visible-face mattes are {} px", path.string(), image.width,
                                     image.height, index_->size));
  std::vector<float> matte(static_cast<size_t>(image.width) * image.height);
  for (size_t p = 0; p < matte.size(); ++p) matte[p] = image.pixels[p * 3] / 255.f;
  return matte;
}

std::vector<float> resample_square_matte(const std::vector<float>& matte, int from_px, int to_px) {
  if (from_px == to_px) return matte;
  std::vector<float> out(static_cast<size_t>(to_px) * to_px);
  const double s = static_cast<double>(from_px) / to_px;
  for (int v = 0; v < to_px; ++v)
    for (int u = 0; u < to_px; ++u) {
      const double x = std::clamp((u + 0.5) * s - 0.5, 0.0, from_px - 1.0), y = std::clamp((v + 0.5) * s - 0.5, 0.0, from_px - 1.0);
      const int x0 = static_cast<int>(x), y0 = static_cast<int>(y);
      const int x1 = std::min(x0 + 1, from_px - 1), y1 = std::min(y0 + 1, from_px - 1);
      const float fx = static_cast<float>(x - x0), fy = static_cast<float>(y - y0);
      auto at = [&](int xx, int yy) { return matte[static_cast<size_t>(yy) * from_px + xx]; };
      out[static_cast<size_t>(v) * to_px + u] =
          (at(x0, y0) * (1 - fx) + at(x1, y0) * fx) * (1 - fy) + (at(x0, y1) * (1 - fx) + at(x1, y1) * fx) * fy;
    }
  return out;
}

}  // namespace facetrain
