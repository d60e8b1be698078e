#pragma once
// The side-by-side review image of one swapped frame, for directors and supervisors: plate | swap |
// matte, 8-bit display-referred, scaled down (area average) to at most `max_width` pixels wide.
#include "facetrain/base/image.h"

#include <vector>

namespace facetrain {

struct ReviewLayout {
  int panel_width = 0;   // each of the three panels
  int panel_height = 0;
};

// The panel size for a plate of `width` x `height`: the plate's size when three fit in `max_width`,
// else scaled to fit (aspect kept, rounded). `even_size` rounds both down to even numbers (H.264 4:2:0).
ReviewLayout review_layout(int width, int height, int max_width, bool even_size);

// `plate` and `swapped` are RGB (channels 3) in the plate's encoding: display-referred 0..1, or
// scene-linear (`scene_linear`), shown through the sRGB encoding; values outside 0..1 are clamped.
// `matte` (width * height, 0..1) is shown as grey.
Rgb8Image make_review_frame(const FloatImage& plate, const FloatImage& swapped, const std::vector<float>& matte,
                            bool scene_linear, const ReviewLayout& layout);

}  // namespace facetrain
