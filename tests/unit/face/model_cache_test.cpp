// The model cache (data_prep/face/model_cache.h): a second landmark predictor reads the packed model
// instead of parsing dlib's file and predicts the same points; a second HOG detector reads the
// detector's binary form and finds the same faces; damaged, truncated or renamed entries are ignored
// and rewritten; a changed model file is hashed again.
#include "data_prep/face/face_detector.h"
#include "data_prep/face/landmark_predictor.h"
#include "data_prep/face/model_cache.h"
#include "data_prep/face/packed_landmark_model.h"
#include "facetrain/base/error.h"
#include "facetrain/face/alignment.h"
#include "facetrain/media/image_io.h"

#include "../test_support.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace facetrain;
namespace fs = std::filesystem;

namespace {

const std::string kPhoto = "/usr/share/doc/libdlib19.1/examples/faces/2008_002506.jpg";

// Points for a fixed box on one of dlib's example photos: any box exercises the whole cascade.
Landmarks68 predict_on_photo(const LandmarkPredictor& predictor) {
  static const Gray8Image gray = to_gray(read_rgb8(kPhoto));
  return predictor.predict(gray, FaceBox{150.f, 60.f, 290.f, 200.f});
}

// Points the cache at a fresh folder for the duration of a test case.
struct CacheDir {
  fs::path path;
  std::string previous;
  bool had_previous = false;
  explicit CacheDir(const std::string& name) : path(testing::scratch_dir("model-cache") / name) {
    fs::remove_all(path);
    if (const char* v = std::getenv("FACETRAIN_CACHE_DIR")) previous = v, had_previous = true;
    ::setenv("FACETRAIN_CACHE_DIR", path.c_str(), 1);
  }
  ~CacheDir() {
    if (had_previous) ::setenv("FACETRAIN_CACHE_DIR", previous.c_str(), 1);
    else ::unsetenv("FACETRAIN_CACHE_DIR");
  }
  static std::string landmark_key() { return "shape-predictor-v2-" + std::string(kDefaultLandmarkModelSha256) + ".packed"; }
  fs::path landmark_entry() const { return path / landmark_key(); }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("a cached landmark model predicts exactly what the parsed one does", "[unit][face][dlib]") {
  CacheDir cache("roundtrip");
  auto t0 = std::chrono::steady_clock::now();
  const LandmarkPredictor parsed(kDefaultLandmarkModelPath, kDefaultLandmarkModelSha256);
  const double parse_s = seconds_since(t0);
  REQUIRE(fs::exists(cache.landmark_entry()));
  t0 = std::chrono::steady_clock::now();
  const LandmarkPredictor cached(kDefaultLandmarkModelPath, kDefaultLandmarkModelSha256);
  const double cached_s = seconds_since(t0);
  WARN("landmark model: parsed and hashed in " << parse_s << " s, from the cache in " << cached_s << " s");
  CHECK(cached.model_sha256() == kDefaultLandmarkModelSha256);
  const Landmarks68 a = predict_on_photo(parsed), b = predict_on_photo(cached);
  for (int i = 0; i < 68; ++i) {
    CHECK(a[i].x == b[i].x);
    CHECK(a[i].y == b[i].y);
  }
}

TEST_CASE("a cached HOG detector finds exactly what the built one does", "[unit][face][dlib]") {
  CacheDir cache("hog");
  const Gray8Image gray = to_gray(read_rgb8(kPhoto));
  auto t0 = std::chrono::steady_clock::now();
  const auto built = make_face_detector(DetectorOptions{});
  const double built_s = seconds_since(t0);
  int entries = 0;
  for (const auto& e : fs::directory_iterator(cache.path))
    entries += e.path().filename().string().rfind("frontal-face-detector-", 0) == 0;
  REQUIRE(entries == 1);
  t0 = std::chrono::steady_clock::now();
  const auto cached = make_face_detector(DetectorOptions{});
  const double cached_s = seconds_since(t0);
  WARN("HOG detector: built in " << built_s << " s, from the cache in " << cached_s << " s");
  const auto a = built->detect(gray), b = cached->detect(gray);
  REQUIRE(a.size() >= 1);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].x0 == b[i].x0);
    CHECK(a[i].y1 == b[i].y1);
    CHECK(a[i].score == b[i].score);
  }
}

TEST_CASE("a damaged, truncated or renamed model cache entry is ignored and rewritten", "[unit][face][dlib]") {
  CacheDir cache("damaged");
  const LandmarkPredictor first(kDefaultLandmarkModelPath, kDefaultLandmarkModelSha256);
  const Landmarks68 expected = predict_on_photo(first);
  REQUIRE(read_cache_entry(CacheDir::landmark_key()).has_value());
  const auto size = fs::file_size(cache.landmark_entry());

  SECTION("a flipped bit in the leaves") {
    {
      std::fstream f(cache.landmark_entry(), std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(static_cast<std::streamoff>(size - 1000));
      char byte = 0;
      f.read(&byte, 1);
      byte ^= 0x10;
      f.seekp(static_cast<std::streamoff>(size - 1000));
      f.write(&byte, 1);
    }
    CHECK_FALSE(read_cache_entry(CacheDir::landmark_key()).has_value());
  }
  SECTION("a truncated file") {
    fs::resize_file(cache.landmark_entry(), size / 2);
    CHECK_FALSE(read_cache_entry(CacheDir::landmark_key()).has_value());
  }
  SECTION("another model's entry renamed to this name") {
    // The header names the entry it was written as: same bytes under another model's name fail.
    const std::string other = "shape-predictor-" + std::string(64, 'a') + ".packed";
    fs::copy_file(cache.landmark_entry(), cache.path / other);
    CHECK_FALSE(read_cache_entry(other).has_value());
  }
  const LandmarkPredictor again(kDefaultLandmarkModelPath, kDefaultLandmarkModelSha256);
  const Landmarks68 got = predict_on_photo(again);
  for (int i = 0; i < 68; ++i) CHECK((got[i].x == expected[i].x && got[i].y == expected[i].y));
  // Whatever the damage, the entry is whole again afterwards.
  const auto rewritten = read_cache_entry(CacheDir::landmark_key());
  REQUIRE(rewritten.has_value());
  PackedModel model;
  CHECK(deserialize_packed_model(*rewritten, model));
}

TEST_CASE("a model file changed since it was hashed is hashed again", "[unit][face][dlib]") {
  CacheDir cache("identity");
  const fs::path copy = cache.path.parent_path() / "model-copy.dat";
  fs::remove(copy);
  fs::copy_file(kDefaultLandmarkModelPath, copy);
  {
    const LandmarkPredictor p(copy.string(), kDefaultLandmarkModelSha256);
  }
  const std::string identity = file_identity(copy);
  REQUIRE(recorded_file_sha256(copy, identity) == std::optional<std::string>(kDefaultLandmarkModelSha256));
  // Rewritten in place with other bytes at the same size: ctime (and mtime) move, the record no longer applies.
  {
    std::fstream f(copy, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1000);
    f.write("facetrain", 9);
  }
  const std::string changed = file_identity(copy);
  CHECK(changed != identity);
  CHECK_FALSE(recorded_file_sha256(copy, changed).has_value());
  CHECK_THROWS_AS(LandmarkPredictor(copy.string(), kDefaultLandmarkModelSha256), InputDataError);
  fs::remove(copy);
}
