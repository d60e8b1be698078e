// dlib's HOG detector against its CNN (mmod) detector, and HOG checked by the CNN (hog+cnn, issue 26),
// on dlib's example photos (issue 12): recall,
// precision and time per photo, figures docs/extract.md quotes (tests/unit/figures.h; scripts/bench.sh
// --sections detector runs this case and, on the sample clips, `facetrain extract` with each detector).
//
// Photos: every image of dlib's examples/faces/training.xml and testing.xml (9 photos, 360-500 px
// wide, 43 reference faces of 37-109 px). Detector options: DetectorOptions' defaults (those of
// `facetrain extract`: upsample 0, min_score 0, min_face_px 40) except detect_width_px = 4096, so
// the photos are detected at their own size. Detections are matched one-to-one to reference boxes,
// greedily by descending IoU among pairs with IoU >= 0.5; unmatched detections are false positives.
// Time: the detect() call only (grey image in, boxes out; not the JPEG decode), the median of 3 runs
// per photo after one warm-up detection.
// Half the reference faces are narrower than min_face_px (40) and most are smaller than either
// detector's window at upsample 0 (about 80 px), so the same is measured again, as a supplement, with
// dlib's own example settings for small faces: upsample 1 and min_face_px 20 (as in dlib_face_test.cpp;
// extract has --min-face-px but no upsample option).
// The mmod model: $FACETRAIN_MODELS/mmod_human_face_detector.dat (scripts/fetch-models.sh).
#include "facetrain/face/alignment.h"
#include "data_prep/face/face_detector.h"
#include "dlib_examples.h"

#include <catch2/catch.hpp>

#include "../figures.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

using namespace facetrain;
using facetrain::testing::kFacesDir;
using facetrain::testing::load_rgb;
using facetrain::testing::iou;
using facetrain::testing::read_reference;
using facetrain::testing::ReferenceFace;

namespace {

constexpr int kDetectWidthPx = 4096;  // wider than every photo: no downscaling
constexpr int kRuns = 3;              // timed detections per photo (median)

struct Photo {
  std::string file;
  Gray8Image gray;
  std::vector<FaceBox> reference;
};

struct Tally {
  int reference = 0, detections = 0, matched = 0, matched_iou03 = 0;
  double iou_sum = 0, ms = 0, megapixels = 0;
  int photos = 0;
};

// Greedy one-to-one matching: pairs with IoU >= min_iou, best first. Returns the matched IoUs.
std::vector<float> match(const std::vector<FaceBox>& detections, const std::vector<FaceBox>& reference, float min_iou) {
  struct Pair {
    float overlap;
    size_t d, r;
  };
  std::vector<Pair> pairs;
  for (size_t d = 0; d < detections.size(); ++d) {
    for (size_t r = 0; r < reference.size(); ++r) {
      const float o = iou(detections[d], reference[r]);
      if (o >= min_iou) pairs.push_back({o, d, r});
    }
  }
  std::stable_sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) { return a.overlap > b.overlap; });
  std::vector<bool> d_used(detections.size()), r_used(reference.size());
  std::vector<float> matched;
  for (const Pair& p : pairs) {
    if (d_used[p.d] || r_used[p.r]) continue;
    d_used[p.d] = r_used[p.r] = true;
    matched.push_back(p.overlap);
  }
  return matched;
}

Tally measure(FaceDetector& detector, const std::vector<Photo>& photos) {
  Tally t;
  (void)detector.detect(photos.front().gray);  // warm-up: first-call allocations
  for (const Photo& photo : photos) {
    std::vector<FaceBox> boxes;
    std::vector<double> runs;
    for (int i = 0; i < kRuns; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      boxes = detector.detect(photo.gray);
      runs.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(runs.begin(), runs.end());
    t.ms += runs[runs.size() / 2];
    t.megapixels += static_cast<double>(photo.gray.width) * photo.gray.height / 1e6;
    ++t.photos;
    const std::vector<float> matched = match(boxes, photo.reference, 0.5f);
    t.reference += static_cast<int>(photo.reference.size());
    t.detections += static_cast<int>(boxes.size());
    t.matched += static_cast<int>(matched.size());
    for (float o : matched) t.iou_sum += o;
    t.matched_iou03 += static_cast<int>(match(boxes, photo.reference, 0.3f).size());
    UNSCOPED_INFO(photo.file << ": " << photo.reference.size() << " reference, " << boxes.size() << " detected, "
                             << matched.size() << " matched, " << runs[runs.size() / 2] << " ms");
  }
  return t;
}

nlohmann::json figures_of(const Tally& t) {
  auto r3 = [](double x) { return std::round(x * 1000.0) / 1000.0; };
  return {{"photos", t.photos},
          {"reference_faces", t.reference},
          {"detections", t.detections},
          {"matched", t.matched},
          {"false_positives", t.detections - t.matched},
          {"missed", t.reference - t.matched},
          {"recall", r3(static_cast<double>(t.matched) / t.reference)},
          {"precision", t.detections ? nlohmann::json(r3(static_cast<double>(t.matched) / t.detections)) : nlohmann::json()},
          {"mean_iou_matched", t.matched ? nlohmann::json(r3(t.iou_sum / t.matched)) : nlohmann::json()},
          {"recall_iou_0_3", r3(static_cast<double>(t.matched_iou03) / t.reference)},
          {"ms_per_photo", std::round(t.ms / t.photos * 10.0) / 10.0},
          {"ms_per_megapixel", std::round(t.ms / t.megapixels * 10.0) / 10.0},
          {"megapixels", r3(t.megapixels)}};
}

}  // namespace

TEST_CASE("HOG and mmod face detectors on dlib's example photos: recall, precision, time", "[.figures][detector]") {
  (void)facetrain::testing::figures_dir();  // run through scripts/bench.sh (or with its variables set)
  const char* models = std::getenv("FACETRAIN_MODELS");
  INFO("FACETRAIN_MODELS must name the folder of scripts/fetch-models.sh (bench.sh sets it)");
  REQUIRE(models != nullptr);
  const std::string mmod_path = (std::filesystem::path(models) / "mmod_human_face_detector.dat").string();
  INFO("mmod model: " << mmod_path);
  REQUIRE(std::filesystem::is_regular_file(mmod_path));

  std::vector<Photo> photos;
  for (const std::string xml : {"training.xml", "testing.xml"}) {
    for (const auto& [file, faces] : read_reference(xml)) {
      Photo p{file, to_gray(load_rgb(kFacesDir + file)), {}};
      REQUIRE(p.gray.width <= kDetectWidthPx);
      for (const ReferenceFace& f : faces) p.reference.push_back(f.box);
      photos.push_back(std::move(p));
    }
  }
  REQUIRE(photos.size() == 9);

  int narrower_than_40 = 0, at_least_80 = 0, faces = 0;
  float narrowest = 1e9f, widest = 0.f;
  for (const Photo& p : photos) {
    for (const FaceBox& b : p.reference) {
      ++faces;
      narrower_than_40 += b.width() < 40.f;
      at_least_80 += b.width() >= 80.f;
      narrowest = std::min(narrowest, b.width());
      widest = std::max(widest, b.width());
    }
  }
  REQUIRE(faces == 43);

  auto options_json = [](const DetectorOptions& o) {
    return nlohmann::json{{"detect_width_px", o.detect_width_px},
                          {"upsample", o.upsample},
                          {"min_score", o.min_score},
                          {"min_face_px", o.min_face_px}};
  };
  DetectorOptions defaults;  // extract's defaults, but no downscaling
  defaults.detect_width_px = kDetectWidthPx;
  DetectorOptions small_faces = defaults;
  small_faces.upsample = 1;
  small_faces.min_face_px = 20.f;
  nlohmann::json values = {{"photos", "dlib examples/faces training.xml + testing.xml"},
                           {"reference_face_widths_px", {{"min", narrowest}, {"max", widest},
                                                         {"under_40", narrower_than_40}, {"80_or_more", at_least_80}}},
                           {"matching", "greedy one-to-one by descending IoU, IoU >= 0.5"},
                           {"timing", "detect() only, median of 3 runs per photo, after one warm-up detection"},
                           {"options", options_json(defaults)},
                           {"options_upsample1", options_json(small_faces)}};
  for (const auto& [suffix, base] : {std::pair<std::string, DetectorOptions>{"", defaults}, {"_upsample1", small_faces}}) {
    DetectorOptions hog_options = base, mmod_options = base, hog_cnn_options = base;
    mmod_options.kind = DetectorKind::cnn;
    mmod_options.mmod_model_path = mmod_path;
    hog_cnn_options.kind = DetectorKind::hog_cnn;
    hog_cnn_options.mmod_model_path = mmod_path;
    values["hog" + suffix] = figures_of(measure(*make_face_detector(hog_options), photos));
    values["mmod" + suffix] = figures_of(measure(*make_face_detector(mmod_options), photos));
    values["hog_cnn" + suffix] = figures_of(measure(*make_face_detector(hog_cnn_options), photos));
  }
  facetrain::testing::record_figures("detector_stills", values);
}
