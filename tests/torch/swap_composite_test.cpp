// The image work of `facetrain swap` around the network (src/facetrain/swap/face_composite.h).
#include "facetrain/swap/face_composite.h"
#include "facetrain/face/alignment.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>

using namespace facetrain;

namespace {

FloatImage random_plate(int w, int h, float scale, uint32_t seed) {
  FloatImage image;
  image.width = w;
  image.height = h;
  image.channels = 3;
  image.pixels.resize(static_cast<size_t>(w) * h * 3);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(0.f, scale);
  for (float& v : image.pixels) v = dist(rng);
  return image;
}

// A face placed by a similarity (rotation + scale + shift), with a disc matte in crop space.
PlacedFace disc_face(int size, const Affine2d& aligned_from_frame, float value) {
  PlacedFace face;
  face.aligned_from_frame = aligned_from_frame;
  face.rgb.size = size;
  face.rgb.rgb.assign(static_cast<size_t>(size) * size * 3, value);
  face.matte.assign(static_cast<size_t>(size) * size, 0.f);
  const float c = (size - 1) / 2.f, r = size * 0.3f;
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x)
      if (std::hypot(x - c, y - c) < r) face.matte[static_cast<size_t>(y) * size + x] = 1.f;
  return face;
}

Affine2d rotated(double angle_deg, double scale, double tx, double ty) {
  const double a = angle_deg * M_PI / 180.0;
  return Affine2d{scale * std::cos(a), -scale * std::sin(a), tx, scale * std::sin(a), scale * std::cos(a), ty};
}

}  // namespace

TEST_CASE("swap encoding for the network is invertible, above 1.0 and below 0 too", "[unit][swap]") {
  const NetworkEncoding srgb = NetworkEncoding::for_request({}, /*scene_linear_plate=*/true);
  const NetworkEncoding plate = NetworkEncoding::for_request({}, /*scene_linear_plate=*/false);
  REQUIRE(srgb.record().kind == EncodingKind::srgb);
  REQUIRE(plate.record().kind == EncodingKind::plate);
  for (float v : {0.f, 1e-4f, 0.0031308f, 0.18f, 0.5f, 1.f, 4.f, 37.5f, -0.02f}) {
    float e[3] = {v, v, v};
    srgb.encode(e, 1);
    float d[3] = {e[0], e[1], e[2]};
    srgb.decode(d, 1);
    CHECK(d[0] == Approx(v).epsilon(1e-5).margin(1e-7));
    float p[3] = {v, v, v};
    plate.encode(p, 1);
    CHECK(p[0] == v);
  }
  CHECK(srgb_encode_extended(0.18f) == Approx(0.4613).margin(1e-3));  // sRGB mid grey
  CHECK(srgb_encode_extended(1.f) == Approx(1.f).margin(1e-5));
  CHECK(srgb_encode_extended(4.f) > 1.f);  // monotonic beyond 1.0
}

TEST_CASE("swap crop follows aligned_from_frame and the model-resolution rescale", "[unit][swap]") {
  // A plate whose red channel is x and green is y: a crop's pixels tell where they were sampled.
  FloatImage plate;
  plate.width = 200;
  plate.height = 150;
  plate.pixels.resize(200 * 150 * 3);
  for (int y = 0; y < 150; ++y)
    for (int x = 0; x < 200; ++x) {
      plate.pixels[(y * 200 + x) * 3 + 0] = static_cast<float>(x);
      plate.pixels[(y * 200 + x) * 3 + 1] = static_cast<float>(y);
    }
  // Stored for 128 px crops: frame -> crop = 2x zoom of the region starting at (40, 30).
  const std::array<double, 6> stored{2.0, 0.0, -80.0, 0.0, 2.0, -60.0};
  const Affine2d at64 = rescale_alignment(stored, 128, 64);
  const CropImage crop = crop_for_network(plate, at64, 64, NetworkEncoding::for_request({}, false));
  // 64 px crop pixel (u, v) covers 128 px crop pixels 2u, 2u+1: frame x = 40 + (2u + 0.5) / 2.
  for (int v : {0, 10, 63})
    for (int u : {0, 17, 63}) {
      CHECK(crop.rgb[(v * 64 + u) * 3 + 0] == Approx(40.0 + (2 * u + 0.5) / 2.0).margin(1e-3));
      CHECK(crop.rgb[(v * 64 + u) * 3 + 1] == Approx(30.0 + (2 * v + 0.5) / 2.0).margin(1e-3));
    }
  const Affine2d same = rescale_alignment(stored, 128, 128);
  CHECK(same.a == 2.0);
  CHECK(same.tx == -80.0);
}

TEST_CASE("swap composite leaves every pixel outside the matte bit for bit", "[unit][swap]") {
  const int erode = GENERATE(0, 3, -2);
  const int feather = GENERATE(0, 5);
  const int levels = GENERATE(0, 255, 65535);
  CAPTURE(erode, feather, levels);
  const FloatImage plate = random_plate(160, 120, 4.0f, 7);  // scene-linear values above 1.0
  FloatImage image = plate;
  std::vector<float> alpha;
  const Affine2d aligned = rotated(12.0, 1.3, -40.0, -10.0);
  composite_face(image, alpha, disc_face(64, aligned, 0.25f), CompositeOptions{erode, feather, levels});
  REQUIRE(alpha.size() == 160u * 120u);
  size_t inside = 0, outside = 0, changed_outside = 0;
  for (size_t i = 0; i < alpha.size(); ++i) {
    const bool out_of_matte = levels > 0 ? std::lround(alpha[i] * levels) == 0 : alpha[i] == 0.f;
    if (out_of_matte) {
      ++outside;
      if (std::memcmp(&image.pixels[i * 3], &plate.pixels[i * 3], 3 * sizeof(float)) != 0) ++changed_outside;
    } else {
      ++inside;
      if (alpha[i] >= 1.f) CHECK(image.pixels[i * 3] == Approx(0.25f));  // fully inside: the face itself
    }
  }
  CHECK(changed_outside == 0);
  CHECK(inside > 200);   // the disc (radius ~19 crop px, / 1.3 scale) is on the plate
  CHECK(outside > 10000);
  // The matte stays near the disc: nothing far from its centre is touched.
  const Affine2d frame_from_aligned = invert(aligned);
  const Point2f centre = frame_from_aligned.apply({31.5f, 31.5f});
  // Dilation and feathering use square (separable) windows: a corner reaches sqrt(2) times as far;
  // bilinear sampling adds up to one more pixel.
  const float reach = 64 * 0.3f / 1.3f + std::sqrt(2.f) * (std::max(0, -erode) + feather) + 2;
  for (int y = 0; y < 120; ++y)
    for (int x = 0; x < 160; ++x)
      if (std::hypot(x - centre.x, y - centre.y) > reach) REQUIRE(alpha[static_cast<size_t>(y) * 160 + x] == 0.f);
}

TEST_CASE("swap composite: erosion shrinks, feathering softens, in plate pixels", "[unit][swap]") {
  const FloatImage plate = random_plate(160, 120, 1.0f, 3);
  const Affine2d aligned = rotated(0.0, 0.5, -20.0, -5.0);  // crop px = 0.5 * frame px: the disc is 2x bigger on the plate
  auto matte_area = [&](int erode, int feather) {
    FloatImage image = plate;
    std::vector<float> alpha;
    composite_face(image, alpha, disc_face(64, aligned, 0.5f), CompositeOptions{erode, feather, 0});
    double area = 0;
    size_t soft = 0;
    for (float a : alpha) {
      area += a;
      if (a > 0.f && a < 1.f) ++soft;
    }
    return std::make_pair(area, soft);
  };
  const auto [plain, plain_soft] = matte_area(0, 0);
  const auto [eroded, eroded_soft] = matte_area(4, 0);
  const auto [grown, grown_soft] = matte_area(-4, 0);
  const auto [feathered, feathered_soft] = matte_area(0, 6);
  // Disc radius on the plate: 19.2 / 0.5 = 38.4 px, area ~4630 px.
  CHECK(plain == Approx(M_PI * 38.4 * 38.4).epsilon(0.05));
  // A square window erodes a disc by 4 px along the axes and 4 * sqrt(2) px along the diagonals.
  CHECK(plain - eroded > 0.95 * M_PI * (38.4 * 38.4 - 34.4 * 34.4));
  CHECK(plain - eroded < 1.05 * M_PI * (38.4 * 38.4 - (38.4 - 4 * std::sqrt(2.0)) * (38.4 - 4 * std::sqrt(2.0))));
  CHECK(grown > plain + 700);
  CHECK(feathered == Approx(plain).epsilon(0.05));  // a symmetric blur keeps the area
  CHECK(feathered_soft > plain_soft + 1000);        // but spreads the edge
}
