#pragma once
// The contact sheet of a face set (`facetrain report FACESET`; FACESET/report.html by default): what
// extract kept, track by track, each crop as the network will see it with its mattes drawn over it:
// outside the landmark hull dimmed, and, where the face set has visible-face mattes (`facetrain
// matte apply`, issue 24), the face pixels the matte excludes (a hand, a microphone, hair) tinted
// magenta. Reads only: nothing of the face set is changed.
#include "facetrain/report/embedded_image.h"

#include <filesystem>
#include <string>

namespace facetrain::report {

// At most this many crops on one page: a long shot's face set is sampled evenly, every track keeping
// its first and last face, and the page says how many it shows.
inline constexpr size_t kFaceSheetCrops = 480;

// `crop` with its mattes over it (all the same size; mattes read from their first channel, 255 =
// in): pixels outside `hull` at 40 % brightness; pixels inside `hull` but outside `visible` blended
// half way to magenta (255, 0, 255). `visible` null: the hull alone. Throws InputDataError when the
// sizes differ.
RgbImage matte_overlay(const RgbImage& crop, const RgbImage& hull, const RgbImage* visible);

// The page for face set `faceset`, as it will sit at `output`. Throws MissingInputError (66) without
// faceset.json, InputDataError (65) for a face set that cannot be read; a crop or matte that cannot be
// read is shown as such on the page.
std::string render_faceset_report(const std::filesystem::path& faceset, const std::filesystem::path& output);

}  // namespace facetrain::report
