#include "facetrain/manifest/swap_manifest.h"
#include "facetrain/swap/swap_quality.h"
#include "../test_support.h"

#include <cmath>
#include <fstream>

namespace fs = std::filesystem;

TEST_CASE("mask agreement is the IoU of the two masks at 0.5", "[unit][swap]") {
  const std::vector<float> a{1, 1, 1, 1, 0, 0, 0, 0};
  const std::vector<float> b{0.9f, 0.9f, 0, 0, 0.8f, 0, 0, 0};
  CHECK(facetrain::mask_agreement(a, b) == Approx(2.0 / 5.0));
  CHECK(facetrain::mask_agreement(a, a) == 1.0);
  CHECK(facetrain::mask_agreement(std::vector<float>(8, 0.f), std::vector<float>(8, 0.2f)) == 1.0);
}

TEST_CASE("colour shift is the matte-weighted mean change", "[unit][swap]") {
  const std::vector<float> before{0.5f, 0.5f, 0.5f, 0.2f, 0.2f, 0.2f};
  const std::vector<float> after{0.6f, 0.5f, 0.4f, 0.9f, 0.9f, 0.9f};
  CHECK(facetrain::color_shift(before, after, {1.f, 0.f}) == Approx(0.2 / 3));
  CHECK(facetrain::color_shift(before, after, {0.5f, 0.5f}) == Approx((0.2 / 3 + 0.7) / 2));
  CHECK(facetrain::color_shift(before, after, {0.f, 0.f}) == 0.0);
}

TEST_CASE("a frame's quality is its worst face", "[unit][swap]") {
  facetrain::SwapFrameQuality q;
  q.frame = 7;
  CHECK(std::isnan(q.mask_agreement));
  facetrain::add_face_quality(q, 1.5, 0.9, 0.02, 120);
  facetrain::add_face_quality(q, 0.4, 0.95, 0.08, 80);
  CHECK(q.faces == 2);
  CHECK(q.detection_score == 0.4);
  CHECK(q.mask_agreement == 0.9);
  CHECK(q.color_shift == 0.08);
  CHECK(q.face_px == 80);
}

TEST_CASE("swap manifests keep per-frame quality, and older ones without it still read", "[unit][swap]") {
  const fs::path dir = facetrain::testing::scratch_dir("swap-quality");
  facetrain::SwapManifest m;
  m.tool_version = "0.1.0";
  m.plate = "plate.mp4";
  m.frames.push_back({1, "out.0001.png", "aa"});
  m.frames.push_back({2, "out.0002.png", "bb"});
  facetrain::SwapFrameQuality with_face;
  with_face.frame = 1;
  facetrain::add_face_quality(with_face, 1.25, 0.875, 0.0625, 96.5);
  facetrain::SwapFrameQuality without_face;
  without_face.frame = 2;
  m.quality = {with_face, without_face};
  const fs::path path = facetrain::swap_manifest_path(dir, 1, 2);
  facetrain::write_swap_manifest(path, m);
  const auto read = facetrain::read_swap_manifest(path);
  REQUIRE(read.quality.size() == 2);
  CHECK(read.quality[0].faces == 1);
  CHECK(read.quality[0].mask_agreement == 0.875);
  CHECK(read.quality[0].face_px == 96.5);
  CHECK(read.quality[1].faces == 0);
  CHECK(std::isnan(read.quality[1].color_shift));

  std::ofstream(dir / "old.json") << R"({"format_version": 1, "facetrain": "0.1.0", "plate": "p", "plate_sha256": "x",
    "checkpoint": "c", "checkpoint_sha256": "y", "frames": [{"frame": 1, "file": "a.png", "sha256": "z"}]})";
  CHECK(facetrain::read_swap_manifest(dir / "old.json").quality.empty());
}
