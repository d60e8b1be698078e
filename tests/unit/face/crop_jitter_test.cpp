// Frame-to-frame jitter of the aligned crops on the sample clips: a figure docs/design.md §10 quotes
// (tests/unit/figures.h; scripts/bench.sh --sections figures extracts the face sets it reads:
// CLIP.default with facetrain's defaults, CLIP.smoothing0 with --smoothing 0).
#include "facetrain/face/alignment.h"
#include "facetrain/faceset/faceset.h"

#include <catch2/catch.hpp>

#include "../figures.h"

#include <cmath>
#include <filesystem>
#include <functional>
#include <string>

namespace fs = std::filesystem;
using namespace facetrain;

namespace {

struct Jitter {
  double px = 0;         // mean, in crop pixels
  int64_t triples = 0;   // frames t with t - 1 and t + 1 beside them
};

// How far the crop window moves from one frame to the next beyond a steady motion: the second
// difference |x(t+1) - 2 x(t) + x(t-1)| of the positions in the frame of the crop's four corners,
// scaled to crop pixels, averaged over every frame whose neighbours hold the same face (face 0, one
// track). `crop_of` gives a face's aligned_from_frame.
Jitter crop_jitter(const FaceSet& set, const std::function<Affine2d(const FaceRecord&)>& crop_of) {
  const float far = static_cast<float>(set.manifest.size) - 0.5f;
  const Point2f corners[4] = {{-0.5f, -0.5f}, {far, -0.5f}, {-0.5f, far}, {far, far}};
  double sum = 0;
  int64_t triples = 0;
  for (size_t t = 1; t + 1 < set.frames.size(); ++t) {
    const FrameRecord &before = set.frames[t - 1], &now = set.frames[t], &after = set.frames[t + 1];
    if (before.source != now.source || after.source != now.source) continue;
    if (now.frame != before.frame + 1 || after.frame != now.frame + 1) continue;
    if (before.faces.empty() || now.faces.empty() || after.faces.empty()) continue;
    if (before.faces[0].track != now.faces[0].track || after.faces[0].track != now.faces[0].track) continue;
    const Affine2d crop_now = crop_of(now.faces[0]);
    const Affine2d frame_before = invert(crop_of(before.faces[0])), frame_now = invert(crop_now),
                   frame_after = invert(crop_of(after.faces[0]));
    double moved = 0;
    for (const Point2f& corner : corners) {
      const Point2f a = frame_before.apply(corner), b = frame_now.apply(corner), c = frame_after.apply(corner);
      moved += std::hypot(c.x - 2.0 * b.x + a.x, c.y - 2.0 * b.y + a.y);
    }
    sum += std::hypot(crop_now.a, crop_now.c) * moved / 4.0;  // crop pixels per frame pixel
    ++triples;
  }
  return {triples ? sum / static_cast<double>(triples) : 0.0, triples};
}

Affine2d stored(const FaceRecord& face) {
  const auto& m = face.aligned_from_frame;
  return {m[0], m[1], m[2], m[3], m[4], m[5]};
}

Landmarks68 landmarks_of(const FaceRecord& face, bool whole_pixels) {
  REQUIRE(face.landmarks.size() == 68);
  Landmarks68 out;
  for (size_t i = 0; i < 68; ++i) {
    const double x = face.landmarks[i][0], y = face.landmarks[i][1];
    out[i] = whole_pixels ? Point2f{static_cast<float>(std::round(x)), static_cast<float>(std::round(y))}
                          : Point2f{static_cast<float>(x), static_cast<float>(y)};
  }
  return out;
}

}  // namespace

TEST_CASE("figures: crop jitter on the sample clips, by landmark precision and smoothing", "[.figures][jitter]") {
  const fs::path dir = facetrain::testing::figures_dir();
  nlohmann::json clips = nlohmann::json::object();
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".default") continue;
    const std::string clip = entry.path().stem().string();
    INFO(clip);
    const FaceSet smoothed = FaceSet::read(entry.path());
    const FaceSet raw = FaceSet::read(dir / (clip + ".smoothing0"));
    REQUIRE(raw.manifest.face_type == smoothed.manifest.face_type);
    REQUIRE(raw.manifest.size == smoothed.manifest.size);
    const FaceType type = face_type_from_string(raw.manifest.face_type);
    const int size = raw.manifest.size;
    // Recomputing a crop from its landmarks gives the stored one, so that the whole-pixel variant
    // differs from the stored crops by the rounding alone.
    for (const FrameRecord& frame : raw.frames) {
      if (frame.faces.empty()) continue;
      const Affine2d again = aligned_from_frame(landmarks_of(frame.faces[0], false), type, size);
      const Affine2d kept = stored(frame.faces[0]);
      CHECK(std::abs(again.tx - kept.tx) < 1e-2);
      CHECK(std::abs(again.a - kept.a) < 1e-4);
      break;
    }
    // Stock dlib rounds each landmark to a whole pixel (dlib::full_object_detection): emulated by
    // rounding the unsmoothed landmarks before the alignment.
    const Jitter whole_pixel = crop_jitter(raw, [&](const FaceRecord& f) {
      return aligned_from_frame(landmarks_of(f, true), type, size);
    });
    const Jitter subpixel = crop_jitter(raw, stored);
    const Jitter smooth = crop_jitter(smoothed, stored);
    REQUIRE(subpixel.triples >= 100);
    REQUIRE(smooth.triples >= 100);
    clips[clip] = {{"frames_compared", subpixel.triples},
                   {"crop_size_px", size},
                   {"face_type", raw.manifest.face_type},
                   {"whole_pixel_landmarks_unsmoothed_px", whole_pixel.px},
                   {"subpixel_landmarks_unsmoothed_px", subpixel.px},
                   {"subpixel_landmarks_smoothed_px", smooth.px}};
  }
  REQUIRE_FALSE(clips.empty());
  facetrain::testing::record_figures(
      "crop_jitter",
      {{"metric", "mean second difference |x(t+1) - 2 x(t) + x(t-1)| of the crop's four corners, in crop pixels"},
       {"smoothed", "facetrain extract defaults"},
       {"unsmoothed", "facetrain extract --smoothing 0"},
       {"whole_pixel", "the unsmoothed landmarks rounded to whole pixels (stock dlib), crops recomputed"},
       {"clips", clips}});
  // What docs/design.md §10 says: sub-pixel landmarks and smoothing each reduce the jitter.
  for (const auto& [clip, j] : clips.items()) {
    INFO(clip);
    CHECK(j["subpixel_landmarks_unsmoothed_px"].get<double>() < j["whole_pixel_landmarks_unsmoothed_px"].get<double>());
    CHECK(j["subpixel_landmarks_smoothed_px"].get<double>() < j["subpixel_landmarks_unsmoothed_px"].get<double>());
  }
}
