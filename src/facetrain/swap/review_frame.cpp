#include "facetrain/swap/review_frame.h"

#include "facetrain/media/srgb.h"
#include "facetrain/base/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace facetrain {

namespace {

// For each destination index, the source indices and weights of an area average (box filter) from
// `source` samples down (or up) to `destination` samples. Weights of one destination sum to 1.
std::vector<std::vector<std::pair<int, float>>> area_weights(int source, int destination) {
  std::vector<std::vector<std::pair<int, float>>> weights(destination);
  const double scale = static_cast<double>(source) / destination;
  for (int d = 0; d < destination; ++d) {
    const double begin = d * scale, end = (d + 1) * scale;
    const int first = static_cast<int>(std::floor(begin));
    const int last = std::min(source - 1, static_cast<int>(std::ceil(end)) - 1);
    for (int s = first; s <= last; ++s) {
      const double overlap = std::min(end, s + 1.0) - std::max(begin, static_cast<double>(s));
      if (overlap > 0) weights[d].push_back({s, static_cast<float>(overlap / scale)});
    }
  }
  return weights;
}

// Resamples one panel of `channels` display values (given per source pixel by `value`) into the
// review image at column offset `x0`.
template <typename ValueOf>
void draw_panel(Rgb8Image& out, int x0, int width, int height, const ReviewLayout& layout, ValueOf value) {
  const auto wx = area_weights(width, layout.panel_width);
  const auto wy = area_weights(height, layout.panel_height);
  // Horizontal pass: height rows of panel_width RGB values.
  std::vector<float> rows(static_cast<size_t>(height) * layout.panel_width * 3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < layout.panel_width; ++x) {
      float sum[3] = {0, 0, 0};
      for (const auto& [s, w] : wx[x])
        for (int c = 0; c < 3; ++c) sum[c] += w * value(static_cast<size_t>(y) * width + s, c);
      for (int c = 0; c < 3; ++c) rows[(static_cast<size_t>(y) * layout.panel_width + x) * 3 + c] = sum[c];
    }
  for (int y = 0; y < layout.panel_height; ++y) {
    uint8_t* row = out.row(y) + static_cast<size_t>(x0) * 3;
    for (int x = 0; x < layout.panel_width; ++x) {
      float sum[3] = {0, 0, 0};
      for (const auto& [s, w] : wy[y])
        for (int c = 0; c < 3; ++c) sum[c] += w * rows[(static_cast<size_t>(s) * layout.panel_width + x) * 3 + c];
      for (int c = 0; c < 3; ++c) row[x * 3 + c] = unit_to_8bit(sum[c]);
    }
  }
}

}  // namespace

ReviewLayout review_layout(int width, int height, int max_width, bool even_size) {
  ReviewLayout layout{width, height};
  if (3 * width > max_width) {
    layout.panel_width = std::max(1, max_width / 3);
    layout.panel_height = std::max(1, static_cast<int>(std::lround(static_cast<double>(height) * layout.panel_width / width)));
  }
  if (even_size) {
    layout.panel_width = std::max(2, layout.panel_width - layout.panel_width % 2);
    layout.panel_height = std::max(2, layout.panel_height - layout.panel_height % 2);
  }
  return layout;
}

Rgb8Image make_review_frame(const FloatImage& plate, const FloatImage& swapped, const std::vector<float>& matte,
                            bool scene_linear, const ReviewLayout& layout) {
  const int width = plate.width, height = plate.height;
  const size_t n = static_cast<size_t>(width) * height;
  if (plate.channels != 3 || swapped.channels != 3 || swapped.width != width || swapped.height != height ||
      plate.pixels.size() != n * 3 || swapped.pixels.size() != n * 3 || matte.size() != n || layout.panel_width <= 0 ||
      layout.panel_height <= 0)
    throw InternalError(fmt::format("review frame: inconsistent buffers ({}x{} plate, {}x{} swap, {} matte values)", width,
                                    height, swapped.width, swapped.height, matte.size()));
  auto display = [scene_linear](float v) {
    if (!(v > 0.f)) return 0.f;
    v = scene_linear ? srgb_encode(v) : v;
    return std::min(v, 1.f);
  };
  Rgb8Image out;
  out.width = 3 * layout.panel_width;
  out.height = layout.panel_height;
  out.pixels.assign(static_cast<size_t>(out.width) * out.height * 3, 0);
  draw_panel(out, 0, width, height, layout, [&](size_t i, int c) { return display(plate.pixels[i * 3 + c]); });
  draw_panel(out, layout.panel_width, width, height, layout,
             [&](size_t i, int c) { return display(swapped.pixels[i * 3 + c]); });
  draw_panel(out, 2 * layout.panel_width, width, height, layout,
             [&](size_t i, int) { return std::clamp(matte[i], 0.f, 1.f); });
  return out;
}

}  // namespace facetrain
