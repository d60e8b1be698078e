#include "facetrain/occlusion/label_mattes.h"

#include "facetrain/base/error.h"
#include "facetrain/base/sequence_pattern.h"
#include "facetrain/face/alignment.h"
#include "facetrain/media/frame_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace facetrain {

LabelWhite parse_label_white(const std::string& text) {
  if (text == "occluder") return LabelWhite::occluder;
  if (text == "visible") return LabelWhite::visible;
  throw UsageError(fmt::format("--labels-white '{}': expected occluder (white = what is in front of the face) or "
                               "visible (white = the visible face)", text));
}

std::map<int64_t, LabelFrame> read_label_frames(const std::string& pattern, int plate_width, int plate_height) {
  FrameSourceOptions options;
  options.want_full_precision = true;
  options.on_missing = OnMissingFrame::skip;  // artists label a handful of frames, not a range
  const std::unique_ptr<FrameSource> source = open_frame_source(pattern, options);
  const std::optional<SequencePattern> sequence = SequencePattern::parse(pattern);
  std::map<int64_t, LabelFrame> labels;
  Frame frame;
  while (source->read(frame)) {
    const std::filesystem::path file = sequence ? std::filesystem::path(sequence->format(frame.number)) : std::filesystem::path(pattern);
    if (!frame.full) throw InternalError(fmt::format("{}: no full-precision pixels", file.string()));
    const FloatImage& image = *frame.full;
    if (image.width != plate_width || image.height != plate_height)
      throw InputDataError(fmt::format("{}: the label is {}x{}, the plate {}x{}: render the roto at the plate's "
                                       "resolution", file.string(), image.width, image.height, plate_width, plate_height));
    LabelFrame label;
    label.file = file;
    label.matte.width = image.width;
    label.matte.height = image.height;
    label.matte.channels = 1;
    label.matte.pixels.resize(static_cast<size_t>(image.width) * image.height);
    const int channel = image.channels == 4 ? 3 : 0;  // alpha where there is one
    for (size_t p = 0; p < label.matte.pixels.size(); ++p) {
      const float v = image.pixels[p * image.channels + channel];
      label.matte.pixels[p] = std::isfinite(v) ? std::clamp(v, 0.f, 1.f) : 0.f;
    }
    labels.emplace(frame.number, std::move(label));
  }
  if (labels.empty()) throw MissingInputError(fmt::format("--labels {}: no label image found", pattern));
  return labels;
}

std::vector<float> visible_matte_from_label(const FloatImage& label, const Affine2d& aligned_from_frame, int size_px,
                                            LabelWhite white_is, const std::vector<float>& face_region) {
  if (label.channels != 1) throw InternalError("visible_matte_from_label: a label has one channel");
  const Affine2d frame_from_aligned = invert(aligned_from_frame);
  std::vector<float> out(static_cast<size_t>(size_px) * size_px, 0.f);
  for (int v = 0; v < size_px; ++v)
    for (int u = 0; u < size_px; ++u) {
      const Point2f p = frame_from_aligned.apply({static_cast<float>(u), static_cast<float>(v)});
      const int x0 = static_cast<int>(std::floor(p.x)), y0 = static_cast<int>(std::floor(p.y));
      const float fx = p.x - x0, fy = p.y - y0;
      auto at = [&](int x, int y) {
        return x < 0 || y < 0 || x >= label.width || y >= label.height ? 0.f
                                                                       : label.pixels[static_cast<size_t>(y) * label.width + x];
      };
      const float sample = (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) +
                           (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
      const size_t i = static_cast<size_t>(v) * size_px + u;
      out[i] = white_is == LabelWhite::visible ? sample : face_region.at(i) * (1.f - sample);
    }
  return out;
}

}  // namespace facetrain
