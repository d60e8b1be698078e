#pragma once
// Artists' mattes for the visible-face matte (issue 24): an image sequence with the plate's frame
// numbers (a Nuke Roto rendered to roto.####.png, or an EXR's alpha), warped into each face's
// aligned crop with its aligned_from_frame. The matte channel is the alpha where the file has one,
// else the first channel; `white_is` says what the artist painted white.
#include "facetrain/face/face_types.h"
#include "facetrain/base/image.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace facetrain {

enum class LabelWhite { occluder, visible };
LabelWhite parse_label_white(const std::string& text);  // "occluder" | "visible"; UsageError otherwise

struct LabelFrame {
  std::filesystem::path file;
  FloatImage matte;  // channels 1, in [0, 1]: 1 = white as painted
};

// Reads every frame of the label sequence `pattern` (####, @, %04d, $F4). Throws MissingInputError
// (66) when nothing matches, InputDataError (65) naming the file for an unreadable image, and
// InputDataError naming the file and both sizes when a label is not `plate_width` x `plate_height`.
std::map<int64_t, LabelFrame> read_label_frames(const std::string& pattern, int plate_width, int plate_height);

// The label of one face in its aligned crop of `size_px` (bilinear; outside the frame counts as
// not painted), as the visible-face matte: white_is visible -> the label; white_is occluder ->
// face_region * (1 - label).
std::vector<float> visible_matte_from_label(const FloatImage& label, const Affine2d& aligned_from_frame, int size_px,
                                            LabelWhite white_is, const std::vector<float>& face_region);

}  // namespace facetrain
