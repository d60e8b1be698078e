// The landmark fit confidence (LandmarkPredictor::predict_checked): on dlib's 43 hand-landmarked
// example faces the fit holds (the cascade re-seeded from moved boxes lands where it did); with a
// flat patch over the side of the face and the mouth, as a hand would be, the fit is a guess and the
// confidence falls, for the 68-point and the 5-point model alike. The end-to-end check on real hands
// is tests/e2e/extract_fit_confidence.sh.
#include "data_prep/face/landmark_predictor.h"
#include "dlib_examples.h"
#include "facetrain/face/alignment.h"
#include "facetrain/quality/face_scorer.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>

using namespace facetrain;
using facetrain::testing::kFacesDir;
using facetrain::testing::load_rgb;
using facetrain::testing::read_reference;

namespace {

struct Measured {
  std::vector<double> clean, covered;
  double median(std::vector<double> v) const {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }
};

// The grey frame with a flat grey patch over the face's right half below the eyes (image left),
// from the nose to below the chin: where a hand in front of the mouth would be.
Gray8Image covered(const Gray8Image& gray, const std::vector<Point2f>& lm) {
  Gray8Image out = gray;
  const float x0 = lm[0].x - 5, x1 = lm[33].x + 0.15f * (lm[16].x - lm[0].x);
  const float y0 = lm[29].y, y1 = lm[8].y + 10;
  for (int y = std::max(0, int(y0)); y < std::min(out.height, int(y1)); ++y)
    for (int x = std::max(0, int(x0)); x < std::min(out.width, int(x1)); ++x)
      out.pixels[static_cast<size_t>(y) * out.width + x] = 170;
  return out;
}

Measured measure(const LandmarkPredictor& predictor) {
  Measured m;
  for (const char* xml : {"training_with_face_landmarks.xml", "testing_with_face_landmarks.xml"})
    for (const auto& [file, faces] : read_reference(xml)) {
      const Gray8Image gray = to_gray(load_rgb(kFacesDir + file));
      for (const auto& face : faces) {
        if (face.landmarks.size() != 68) continue;
        const LandmarkFit fit = predictor.predict_checked(gray, face.box);
        CHECK(fit.confidence == Approx(fit_confidence_of(fit.spread, predictor.points())));
        m.clean.push_back(fit.confidence);
        m.covered.push_back(predictor.predict_checked(covered(gray, face.landmarks), face.box).confidence);
      }
    }
  return m;
}

void check(const Measured& m, const char* model) {
  int lower = 0;
  for (size_t i = 0; i < m.clean.size(); ++i) lower += m.covered[i] < m.clean[i];
  INFO(model << ": " << m.clean.size() << " faces; median confidence " << m.median(m.clean) << " as they are, "
             << m.median(m.covered) << " with the mouth and a cheek covered; lower when covered for " << lower);
  CHECK(m.clean.size() == 43);
  // Half these faces are small (eyes 15-20 px apart), where a pixel is a large part of the eye
  // distance: their fits spread more than a plate's (a talking head at 80 px: 0.7-0.8).
  CHECK(m.median(m.clean) > 0.15);
  CHECK(m.median(m.covered) < 0.25 * m.median(m.clean));
  CHECK(lower >= 0.8 * m.clean.size());
}

}  // namespace

TEST_CASE("fit confidence: the spread's scale, and what is not a number", "[unit][face]") {
  CHECK(fit_confidence_of(0.f, 68) == 1.f);
  CHECK(fit_confidence_of(0.05f, 68) == Approx(std::exp(-1.0)));
  CHECK(fit_confidence_of(0.015f, 5) == Approx(std::exp(-1.0)));
  CHECK(fit_confidence_of(std::nanf(""), 68) == 0.f);
  CHECK(fit_confidence_of(-1.f, 68) == 1.f);
}

TEST_CASE("fit confidence: high where the face is in view, falling where a hand would be (68 points)",
          "[unit][face][dlib]") {
  const LandmarkPredictor predictor(kDefaultLandmarkModelPath, kDefaultLandmarkModelSha256);
  check(measure(predictor), "68-point model");
}

TEST_CASE("fit confidence: the same with the 5-point model", "[unit][face][dlib]") {
  const std::string path = default_model_path(kFivePointLandmarkModelFile);
  INFO("5-point model '" << path << "' (scripts/fetch-models.sh)");
  REQUIRE(std::filesystem::is_regular_file(path));
  const LandmarkPredictor predictor(path, kFivePointLandmarkModelSha256);
  check(measure(predictor), "5-point model");
}
