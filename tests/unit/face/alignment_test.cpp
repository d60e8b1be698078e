#include "facetrain/face/alignment.h"
#include "facetrain/face/face_types.h"
#include "facetrain/base/error.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using namespace facetrain;

namespace {

Landmarks68 to_landmarks(const std::vector<Point2f>& points) {
  Landmarks68 lm;
  REQUIRE(points.size() == 68);
  for (int i = 0; i < 68; ++i) lm[i] = points[i];
  return lm;
}

Affine2d similarity(double scale, double angle_rad, double tx, double ty) {
  Affine2d t;
  t.a = scale * std::cos(angle_rad);
  t.c = scale * std::sin(angle_rad);
  t.b = -t.c;
  t.d = t.a;
  t.tx = tx;
  t.ty = ty;
  return t;
}

void require_close(const Affine2d& x, const Affine2d& y, double tol) {
  CHECK(x.a == Approx(y.a).margin(tol));
  CHECK(x.b == Approx(y.b).margin(tol));
  CHECK(x.c == Approx(y.c).margin(tol));
  CHECK(x.d == Approx(y.d).margin(tol));
  CHECK(x.tx == Approx(y.tx).margin(tol));
  CHECK(x.ty == Approx(y.ty).margin(tol));
}

}  // namespace

TEST_CASE("face types parse and print", "[unit][face]") {
  for (FaceType t : {FaceType::full, FaceType::whole, FaceType::head}) {
    CHECK(face_type_from_string(to_string(t)) == t);
  }
  CHECK(std::string(to_string(FaceType::whole)) == "whole");
  try {
    face_type_from_string("mid");
    FAIL("no error for an unknown face type");
  } catch (const UsageError& e) {
    const std::string m = e.what();
    CHECK(m.find("mid") != std::string::npos);
    CHECK(m.find("full") != std::string::npos);
    CHECK(m.find("whole") != std::string::npos);
    CHECK(m.find("head") != std::string::npos);
  }
}

TEST_CASE("estimate_similarity recovers a known similarity from landmarks", "[unit][face]") {
  const std::vector<Point2f> src = template_landmarks(FaceType::full, 256);
  const Affine2d truth = similarity(1.7, 0.35, -42.5, 118.25);
  std::vector<Point2f> dst;
  for (const Point2f& p : src) dst.push_back(truth.apply(p));
  const Affine2d est = estimate_similarity(src, dst);
  require_close(est, truth, 1e-4);

  // Negative rotation, shrink.
  const Affine2d truth2 = similarity(0.31, -2.1, 7.0, -3.0);
  dst.clear();
  for (const Point2f& p : src) dst.push_back(truth2.apply(p));
  require_close(estimate_similarity(src, dst), truth2, 1e-4);

  // A mirrored target is not a similarity without reflection: the fit must not reflect.
  std::vector<Point2f> mirrored;
  for (const Point2f& p : src) mirrored.push_back({-p.x, p.y});
  const Affine2d m = estimate_similarity(src, mirrored);
  CHECK(m.a * m.d - m.b * m.c >= 0.0);

  CHECK_THROWS(estimate_similarity({{1, 1}, {1, 1}}, {{0, 0}, {2, 2}}));
  CHECK_THROWS(estimate_similarity({{1, 1}}, {{0, 0}}));
}

TEST_CASE("invert and compose", "[unit][face]") {
  Affine2d t = similarity(2.5, 0.7, 10, -20);
  t.b += 0.3;  // also a general affine
  const Affine2d inv = invert(t);
  require_close(compose(t, inv), Affine2d{}, 1e-12);
  require_close(compose(inv, t), Affine2d{}, 1e-12);
  const Affine2d u = similarity(0.5, -1.2, 3, 4);
  const Point2f p{12.5f, -7.25f};
  const Point2f a = compose(u, t).apply(p);
  const Point2f b = u.apply(t.apply(p));
  CHECK(a.x == Approx(b.x).margin(1e-4));
  CHECK(a.y == Approx(b.y).margin(1e-4));
  Affine2d singular;
  singular.a = singular.b = singular.c = singular.d = 0;
  CHECK_THROWS(invert(singular));
}

TEST_CASE("the template maps onto itself and the face types nest", "[unit][face]") {
  for (FaceType type : {FaceType::full, FaceType::whole, FaceType::head}) {
    for (int size : {64, 256}) {
      const Landmarks68 lm = to_landmarks(template_landmarks(type, size));
      require_close(aligned_from_frame(lm, type, size), Affine2d{}, 1e-4);
      for (const Point2f& p : lm) {  // every landmark lies inside the crop
        CHECK(p.x > 0);
        CHECK(p.y > 0);
        CHECK(p.x < size - 1);
        CHECK(p.y < size - 1);
      }
    }
  }
  // Left/right symmetric, eyes level, brows above eyes above nose above mouth above chin.
  const auto t = template_landmarks(FaceType::full, 256);
  CHECK(t[36].y == Approx(t[45].y).margin(1e-3));
  CHECK(t[36].x + t[45].x == Approx(255.0).margin(1e-3));
  CHECK(t[19].y < t[37].y);
  CHECK(t[37].y < t[30].y);
  CHECK(t[30].y < t[51].y);
  CHECK(t[57].y < t[8].y);
  // "full": brows to chin fill the crop with a small margin.
  CHECK(t[19].y < 0.1 * 256);
  CHECK(t[8].y > 0.9 * 256);
  // "whole" and "head" zoom out (smaller face) and leave more room above the brows than below the chin.
  const auto w = template_landmarks(FaceType::whole, 256);
  const auto h = template_landmarks(FaceType::head, 256);
  auto interocular = [](const std::vector<Point2f>& p) { return std::hypot(p[45].x - p[36].x, p[45].y - p[36].y); };
  CHECK(interocular(w) < 0.85 * interocular(t));
  CHECK(interocular(h) < 0.8 * interocular(w));
  CHECK(w[19].y > 256 - w[8].y);
  CHECK(h[19].y > 256 - h[8].y);
}

TEST_CASE("aligned_from_frame follows a moved face and ignores jaw-only changes", "[unit][face]") {
  const Landmarks68 base = to_landmarks(template_landmarks(FaceType::full, 256));
  const Affine2d frame_from_crop = similarity(0.8, 0.2, 300, 120);
  Landmarks68 in_frame;
  for (int i = 0; i < 68; ++i) in_frame[i] = frame_from_crop.apply(base[i]);
  const Affine2d a = aligned_from_frame(in_frame, FaceType::full, 256);
  require_close(a, invert(frame_from_crop), 1e-4);

  // An open mouth (chin and lower lip drop by 10 % of the face) moves the crop far less than the
  // drop itself.
  Landmarks68 open = in_frame;
  for (int i : {5, 6, 7, 8, 9, 10, 11, 55, 56, 57, 58, 59, 65, 66, 67}) open[i].y += 0.1f * 205;
  const Affine2d b = aligned_from_frame(open, FaceType::full, 256);
  const Point2f centre = in_frame[30];
  const Point2f pa = a.apply(centre), pb = b.apply(centre);
  CHECK(std::hypot(pa.x - pb.x, pa.y - pb.y) < 2.0);
  CHECK(std::hypot(b.a, b.c) / std::hypot(a.a, a.c) == Approx(1.0).margin(0.02));
}

TEST_CASE("warp_to_aligned samples bilinearly and blacks out the outside", "[unit][face]") {
  Rgb8Image frame;
  frame.width = 40;
  frame.height = 30;
  frame.pixels.resize(40 * 30 * 3);
  for (int y = 0; y < 30; ++y) {
    for (int x = 0; x < 40; ++x) {
      uint8_t* p = frame.row(y) + 3 * x;
      p[0] = static_cast<uint8_t>(4 * x);
      p[1] = static_cast<uint8_t>(5 * y);
      p[2] = 200;
    }
  }
  // Crop pixel (i, j) <- frame (i / 2 + 5.25, j / 2 + 3.5): exact for a linear ramp.
  Affine2d crop_from_frame;
  crop_from_frame.a = crop_from_frame.d = 2.0;
  crop_from_frame.tx = -10.5;
  crop_from_frame.ty = -7.0;
  const Rgb8Image crop = warp_to_aligned(frame, crop_from_frame, 64);
  REQUIRE(crop.width == 64);
  REQUIRE(crop.height == 64);
  for (int j : {0, 13, 40}) {
    for (int i : {0, 7, 50}) {
      const uint8_t* p = crop.row(j) + 3 * i;
      CHECK(int(p[0]) == Approx(4 * (i / 2.0 + 5.25)).margin(1));
      CHECK(int(p[1]) == Approx(5 * (j / 2.0 + 3.5)).margin(1));
      CHECK(int(p[2]) == 200);
    }
  }
  // Shift far outside: black.
  crop_from_frame.tx = 1000;
  const Rgb8Image outside = warp_to_aligned(frame, crop_from_frame, 16);
  for (uint8_t v : outside.pixels) CHECK(v == 0);
}

TEST_CASE("face_hull_mask covers the face and not the corners", "[unit][face]") {
  const Landmarks68 lm = to_landmarks(template_landmarks(FaceType::whole, 128));
  const Gray8Image mask = face_hull_mask(lm, Affine2d{}, 128);
  REQUIRE(mask.width == 128);
  REQUIRE(mask.pixels.size() == 128u * 128u);
  auto at = [&](float x, float y) { return int(mask.pixels[int(y) * 128 + int(x)]); };
  CHECK(at(lm[30].x, lm[30].y) == 255);  // nose tip
  CHECK(at(lm[37].x, lm[37].y) == 255);  // eye
  CHECK(at(lm[19].x, lm[19].y - 2) == 255);  // just above the brow: raised hull
  CHECK(at(1, 1) == 0);
  CHECK(at(126, 126) == 0);
  CHECK(at(lm[8].x, lm[8].y + 4) == 0);  // below the chin
  // Area roughly that of the hull polygon (anti-aliased edges, so a loose bound).
  int inside = 0;
  for (uint8_t v : mask.pixels) inside += v > 127;
  CHECK(inside > 0.25 * 128 * 128);
  CHECK(inside < 0.6 * 128 * 128);
}

TEST_CASE("to_gray uses Rec.709 luma", "[unit][face]") {
  Rgb8Image img;
  img.width = 4;
  img.height = 1;
  img.pixels = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255};
  const Gray8Image g = to_gray(img);
  REQUIRE(g.pixels.size() == 4);
  CHECK(int(g.pixels[0]) == 54);   // 0.2126 * 255
  CHECK(int(g.pixels[1]) == 182);  // 0.7152 * 255
  CHECK(int(g.pixels[2]) == 18);   // 0.0722 * 255
  CHECK(int(g.pixels[3]) == 255);
}
