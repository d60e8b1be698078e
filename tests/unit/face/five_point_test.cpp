// dlib's 5-point landmark model (extract --landmarks 5, the model a commercial studio may use): the
// 68 landmarks it stands for (landmarks_from_five_points), our packed cascade against dlib's own
// shape predictor, its points against the hand-placed reference landmarks of dlib's example faces,
// and the identity descriptor of a crop aligned by it against the 68-point model's. The model comes
// from scripts/fetch-models.sh (.cache/models or $FACETRAIN_MODELS): a missing model fails these.
#include "data_prep/face/dlib_face_scorer.h"
#include "data_prep/face/landmark_predictor.h"
#include "dlib_examples.h"
#include "facetrain/face/alignment.h"
#include "facetrain/quality/identity_scores.h"

#include <catch2/catch.hpp>
#include <dlib/image_processing.h>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace facetrain;
using facetrain::testing::kFacesDir;
using facetrain::testing::load_rgb;
using facetrain::testing::read_reference;

namespace {

std::string five_point_model() {
  const std::string path = default_model_path(kFivePointLandmarkModelFile);
  INFO("5-point landmark model '" << path << "' (scripts/fetch-models.sh fetches it; FACETRAIN_MODELS says where)");
  REQUIRE(std::filesystem::is_regular_file(path));
  return path;
}

const LandmarkPredictor& five_point_predictor() {
  static const LandmarkPredictor predictor(five_point_model(), kFivePointLandmarkModelSha256);
  return predictor;
}

double distance(Point2f a, Point2f b) { return std::hypot(a.x - b.x, a.y - b.y); }

// Every reference face of dlib's two example sets (43 faces with 68 hand-placed landmarks).
struct Reference {
  std::string file;
  facetrain::testing::ReferenceFace face;
};
std::vector<Reference> reference_faces() {
  std::vector<Reference> out;
  for (const char* xml : {"training_with_face_landmarks.xml", "testing_with_face_landmarks.xml"})
    for (const auto& [file, faces] : read_reference(xml))
      for (const auto& face : faces)
        if (face.landmarks.size() == 68) out.push_back({file, face});
  return out;
}

}  // namespace

TEST_CASE("five points: the template moved by their similarity, the five themselves in their slots", "[unit][face]") {
  // The template's own five points, rotated by 0.3 rad, scaled to 180 px and moved: all 68 follow.
  const std::vector<Point2f> canonical = template_landmarks(FaceType::full, 1000);
  const double angle = 0.3, scale = 0.18;
  Affine2d frame_from_template;
  frame_from_template.a = scale * std::cos(angle);
  frame_from_template.b = -scale * std::sin(angle);
  frame_from_template.c = scale * std::sin(angle);
  frame_from_template.d = scale * std::cos(angle);
  frame_from_template.tx = 412.5;
  frame_from_template.ty = 233.25;
  FivePointLandmarks five;
  for (int k = 0; k < 5; ++k) five[k] = frame_from_template.apply(canonical[kFivePointIbugIndex[k]]);
  const Landmarks68 lifted = landmarks_from_five_points(five);
  double worst = 0;
  for (int i = 0; i < 68; ++i) worst = std::max(worst, distance(lifted[i], frame_from_template.apply(canonical[i])));
  CHECK(worst < 1e-3);
  // The same crop as the 68 points would give.
  Landmarks68 exact;
  for (int i = 0; i < 68; ++i) exact[i] = frame_from_template.apply(canonical[i]);
  const Affine2d a = aligned_from_frame(lifted, FaceType::whole, 256), b = aligned_from_frame(exact, FaceType::whole, 256);
  CHECK(std::abs(a.tx - b.tx) < 1e-2);
  CHECK(std::abs(a.a - b.a) < 1e-5);

  // Noisy points: the five fitted points are kept as they are, the rest follows their best similarity.
  FivePointLandmarks noisy = five;
  noisy[0].x += 3.f;
  noisy[4].y -= 2.f;
  const Landmarks68 lifted_noisy = landmarks_from_five_points(noisy);
  for (int k = 0; k < 5; ++k) {
    CHECK(lifted_noisy[kFivePointIbugIndex[k]].x == noisy[k].x);
    CHECK(lifted_noisy[kFivePointIbugIndex[k]].y == noisy[k].y);
  }
  CHECK(distance(lifted_noisy[8], lifted[8]) > 0.1);   // the chin moved with them...
  CHECK(distance(lifted_noisy[8], lifted[8]) < 4.0);   // ...by a fraction of their noise
}

TEST_CASE("five points: the packed cascade predicts what dlib's shape predictor does", "[unit][face][dlib]") {
  const LandmarkPredictor& ours = five_point_predictor();
  CHECK(ours.points() == 5);
  CHECK(ours.model_sha256() == kFivePointLandmarkModelSha256);
  dlib::shape_predictor stock;
  {
    std::ifstream in(five_point_model(), std::ios::binary);
    dlib::deserialize(stock, in);
  }
  REQUIRE(stock.num_parts() == 5);
  int faces = 0, exact = 0;
  double worst = 0;
  for (const Reference& r : reference_faces()) {
    const Rgb8Image photo = load_rgb(kFacesDir + r.file);
    dlib::array2d<unsigned char> gray(photo.height, photo.width);
    const Gray8Image our_gray = to_gray(photo);
    for (int y = 0; y < photo.height; ++y)
      for (int x = 0; x < photo.width; ++x) gray[y][x] = our_gray.pixels[static_cast<size_t>(y) * photo.width + x];
    const FaceBox& b = r.face.box;
    // dlib's rectangle is inclusive: right = x1 - 1.
    const dlib::rectangle rect(std::lround(b.x0), std::lround(b.y0), std::lround(b.x1) - 1, std::lround(b.y1) - 1);
    const dlib::full_object_detection theirs = stock(gray, rect);
    const FaceBox box{static_cast<float>(rect.left()), static_cast<float>(rect.top()),
                      static_cast<float>(rect.right() + 1), static_cast<float>(rect.bottom() + 1), 0.f};
    const Landmarks68 mine = ours.predict(our_gray, box);
    for (int k = 0; k < 5; ++k) {
      const Point2f p = mine[kFivePointIbugIndex[k]];
      worst = std::max(worst, distance(p, {static_cast<float>(theirs.part(k).x()), static_cast<float>(theirs.part(k).y())}));
      exact += std::lround(p.x) == theirs.part(k).x() && std::lround(p.y) == theirs.part(k).y();
    }
    ++faces;
  }
  // dlib rounds each part to a whole pixel, and our int16 leaves move a point by a hair, which now
  // and then tips a split: rounded, most points are dlib's, and none is far (as for the 68-point
  // model, dlib_face_test.cpp).
  INFO(faces << " faces: " << exact << " of " << 5 * faces << " points equal dlib's after rounding; largest distance to "
             << "dlib's rounded points " << worst << " px");
  CHECK(faces >= 40);
  CHECK(exact >= 0.85 * 5 * faces);
  CHECK(worst <= 1.5);
}

TEST_CASE("five points: on dlib's reference faces they land on the hand-placed eye corners and nose", "[unit][face][dlib]") {
  const LandmarkPredictor& five = five_point_predictor();
  const LandmarkPredictor sixty_eight(kDefaultLandmarkModelPath, kDefaultLandmarkModelSha256);
  double error_five = 0, error_68 = 0, crop_shift = 0;
  int faces = 0;
  for (const Reference& r : reference_faces()) {
    const Gray8Image gray = to_gray(load_rgb(kFacesDir + r.file));
    const auto& ref = r.face.landmarks;
    const double iod = distance(ref[36], ref[45]);
    const Landmarks68 a = five.predict(gray, r.face.box), b = sixty_eight.predict(gray, r.face.box);
    for (int k = 0; k < 5; ++k) {
      const int i = kFivePointIbugIndex[k];
      error_five += distance(a[i], ref[i]) / iod / 5;
      error_68 += distance(b[i], ref[i]) / iod / 5;
    }
    // Where the two models put the crop: its centre and corners, in crop widths.
    const Affine2d fa = invert(aligned_from_frame(a, FaceType::whole, 256));
    const Affine2d fb = invert(aligned_from_frame(b, FaceType::whole, 256));
    double shift = 0;
    for (const Point2f c : {Point2f{0, 0}, Point2f{256, 0}, Point2f{0, 256}, Point2f{256, 256}, Point2f{128, 128}})
      shift += distance(fa.apply(c), fb.apply(c)) / 5;
    crop_shift += shift / distance(fb.apply({0, 0}), fb.apply({256, 0}));
    ++faces;
  }
  error_five /= faces;
  error_68 /= faces;
  crop_shift /= faces;
  INFO(faces << " faces: mean error of the five points " << error_five << " of the eye distance (68-point model at the "
             << "same points " << error_68 << "); crops " << crop_shift << " of their width apart");
  CHECK(faces >= 40);
  CHECK(error_five < 0.06);
  CHECK(crop_shift < 0.04);
}

TEST_CASE("five points: the identity descriptor of a face aligned by them is the 68-point one's", "[unit][face][quality]") {
  FaceScorerOptions options;
  options.identity_model_path = default_identity_model_path();
  REQUIRE(std::filesystem::is_regular_file(options.identity_model_path));
  const std::unique_ptr<FaceScorer> with_68 = make_face_scorer(options);
  options.landmark_points = 5;
  const std::unique_ptr<FaceScorer> with_5 = make_face_scorer(options);
  CHECK(with_68->landmark_points() == 68);
  CHECK(with_5->landmark_points() == 5);
  const auto refs = read_reference("testing_with_face_landmarks.xml");
  double worst = 0, sum = 0;
  int faces = 0;
  for (const auto& [file, boxes] : refs) {
    const Rgb8Image photo = load_rgb(kFacesDir + file);
    for (const auto& r : boxes) {
      const FaceDescriptor a = with_68->descriptors({{&photo, with_68->refit_landmarks(photo, r.box)}}).front();
      const FaceDescriptor b = with_5->descriptors({{&photo, with_5->refit_landmarks(photo, r.box)}}).front();
      worst = std::max(worst, descriptor_distance(a, b));
      sum += descriptor_distance(a, b);
      ++faces;
    }
  }
  // The two models frame the chip a little differently (a face set's crops 1-3 % of their width
  // apart): the descriptors move by far less than what tells two people apart (0.6).
  INFO(faces << " faces: distance between the two descriptors of one face: mean " << sum / faces << ", largest " << worst);
  CHECK(faces >= 5);
  CHECK(sum / faces < 0.15);
  CHECK(worst < 0.3);
}
