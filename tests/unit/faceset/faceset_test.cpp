#include "facetrain/base/error.h"
#include "facetrain/faceset/faceset.h"
#include "facetrain/faceset/usable_faces.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

namespace fs = std::filesystem;
using namespace facetrain;
using Catch::Matchers::Contains;

namespace {

FrameRecord sample_record(const std::string& source, int64_t frame, int faces) {
  FrameRecord record{source, frame, {}};
  for (int i = 0; i < faces; ++i) {
    FaceRecord face;
    face.index = i;
    face.track = i;
    face.bbox = {10, 20, 110, 120};
    face.score = 1.5;
    for (int p = 0; p < 68; ++p) face.landmarks.push_back({10.0 + p, 20.5 + p});
    face.aligned_from_frame = {2, 0.1, -3, -0.1, 2, 4};
    face.crop = "faces/x_" + std::to_string(frame) + ".png";
    face.mask = "masks/x_" + std::to_string(frame) + ".png";
    record.faces.push_back(face);
  }
  return record;
}

std::string line_with(const std::string& faces_json) {
  return R"({"source": "a.mp4", "frame": 1, "faces": [)" + faces_json + "]}";
}

std::string face_json(const std::string& bbox, const std::string& crop = "\"faces/a.png\"") {
  std::string landmarks = "[";
  for (int p = 0; p < 68; ++p) landmarks += std::string(p ? "," : "") + "[1,2]";
  landmarks += "]";
  return R"({"index": 0, "bbox": )" + bbox + R"(, "score": 1, "landmarks": )" + landmarks +
         R"(, "aligned_from_frame": [[1,0,0],[0,1,0]], "crop": )" + crop + "}";
}

}  // namespace

TEST_CASE("alignment records round-trip through JSON lines", "[unit][faceset]") {
  const FrameRecord record = sample_record("plates/a.mp4", 1001, 2);
  const FrameRecord back = frame_record_from_json_line(frame_record_to_json_line(record), "x:1");
  CHECK(back.source == record.source);
  CHECK(back.frame == 1001);
  REQUIRE(back.faces.size() == 2);
  CHECK(back.faces[1].landmarks[67][1] == Approx(87.5));
  CHECK(back.faces[0].aligned_from_frame[2] == Approx(-3));
  CHECK(back.faces[0].crop == "faces/x_1001.png");
  CHECK(frame_record_from_json_line(R"({"source": "a", "frame": 3, "faces": []})", "x:1").faces.empty());
}

TEST_CASE("the landmark fit confidence is optional in a record, and within 0..1", "[unit][faceset]") {
  FrameRecord record = sample_record("a.mp4", 5, 2);
  record.faces[0].fit_confidence = 0.0312;
  const std::string line = frame_record_to_json_line(record);
  const FrameRecord back = frame_record_from_json_line(line, "x:1");
  REQUIRE(back.faces[0].fit_confidence.has_value());
  CHECK(*back.faces[0].fit_confidence == Approx(0.0312));
  CHECK_FALSE(back.faces[1].fit_confidence.has_value());   // older face sets: none recorded
  CHECK(line.find("fit_confidence") == line.rfind("fit_confidence"));  // written once, for the face that has it
  const std::string good_bbox = "[1, 2, 3, 4]";
  for (const char* bad : {"-0.1", "1.5", "\"high\"", "1e400"}) {
    std::string face = face_json(good_bbox);
    face.insert(face.size() - 1, std::string(", \"fit_confidence\": ") + bad);
    CAPTURE(face);
    REQUIRE_THROWS_WITH(frame_record_from_json_line(line_with(face), "al.jsonl:3"), Contains("al.jsonl:3"));
  }
}

TEST_CASE("train's faces leave out those whose landmark fit confidence is below the threshold", "[unit][faceset]") {
  const fs::path dir = fs::temp_directory_path() / ("facetrain-usable-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  {
    FaceSetWriter writer(dir, "whole", 128, "modelsha", "test");
    writer.register_source({"a.mp4", "abc", 640, 480, 25.0, 1, 4, "bt709", {}});
    for (int frame = 1; frame <= 4; ++frame) {
      FrameRecord r = sample_record("a.mp4", frame, 1);
      if (frame == 2) r.faces[0].fit_confidence = 0.01;   // a guess
      if (frame == 3) r.faces[0].fit_confidence = 0.6;    // steady
      // frames 1 and 4: none recorded (an older extract): kept
      std::ofstream(dir / r.faces[0].crop) << "png";
      writer.add(r);
    }
    writer.flush();
  }
  const UsableFaces all = read_usable_faces(dir);
  CHECK(all.faces.size() == 4);
  CHECK(all.low_fit_confidence == 0);
  const UsableFaces confident = read_usable_faces(dir, kLowFitConfidence);
  CHECK(confident.faces.size() == 3);
  CHECK(confident.low_fit_confidence == 1);
  for (const UsableFace& f : confident.faces) CHECK(f.record->frame != 2);
  // Frames 1 and 4 count as 1 and stay; a threshold above 1 leaves nothing, and says why.
  CHECK(read_usable_faces(dir, 0.99).faces.size() == 2);
  REQUIRE_THROWS_WITH(read_usable_faces(dir, 1.5), Contains("4 with a landmark fit confidence below 1.5"));
  fs::remove_all(dir);
}

TEST_CASE("hostile alignment records are refused naming file and line", "[unit][faceset]") {
  const std::string good_bbox = "[1, 2, 3, 4]";
  CHECK_NOTHROW(frame_record_from_json_line(line_with(face_json(good_bbox)), "al.jsonl:7"));
  const std::vector<std::string> bad = {
      "not json",
      "[1, 2]",
      R"({"source": 5, "frame": 1, "faces": []})",
      R"({"source": "a", "frame": "1", "faces": []})",
      R"({"source": "a", "frame": 1})",
      line_with(face_json("[1, 2, 3]")),
      line_with(face_json("[1, 2, 3, \"4\"]")),
      line_with(face_json("[1, 2, 3, 1e300]")),
      line_with(face_json(good_bbox, "\"../../etc/passwd\"")),
      line_with(face_json(good_bbox, "\"faces/../../x.png\"")),
      line_with(face_json(good_bbox, "\"/abs/faces/x.png\"")),
      line_with(face_json(good_bbox, "42")),
      R"({"source": "a", "frame": 1, "faces": [{"index": 0}]})",
  };
  for (const auto& line : bad) {
    CAPTURE(line);
    REQUIRE_THROWS_WITH(frame_record_from_json_line(line, "al.jsonl:7"), Contains("al.jsonl:7"));
  }
  std::string many = line_with("");
  std::string faces;
  for (int i = 0; i < 1000; ++i) faces += std::string(i ? "," : "") + "{}";
  REQUIRE_THROWS_WITH(frame_record_from_json_line(line_with(faces), "al.jsonl:9"), Contains("1000 faces"));
}

TEST_CASE("face-set writers share one directory safely", "[unit][faceset]") {
  const auto dir = fs::temp_directory_path() / "facetrain_faceset_test";
  fs::remove_all(dir);
  auto writer_job = [&](int64_t first) {
    FaceSetWriter writer(dir, "whole", 128, "modelsha", "test");
    FaceSetSource source{"clip.mp4", "abc", 640, 480, 25.0, first, first + 99, "bt709", {}};
    writer.register_source(source);
    for (int64_t f = first; f < first + 100; ++f) {
      writer.add(sample_record("clip.mp4", f, 1));
      if (writer.pending() == 30) writer.flush();
    }
    writer.flush();
  };
  std::thread a(writer_job, 1), b(writer_job, 101), c(writer_job, 201);
  a.join();
  b.join();
  c.join();
  const FaceSet set = FaceSet::read(dir);
  CHECK(set.frames.size() == 300);
  CHECK(set.frames.front().frame == 1);
  CHECK(set.frames.back().frame == 300);
  REQUIRE(set.manifest.sources.size() == 1);
  CHECK(set.manifest.sources[0].frame_first == 1);
  CHECK(set.manifest.sources[0].frame_last == 300);
  CHECK(FaceSet::recorded_frames(dir, "clip.mp4").size() == 300);
  CHECK(FaceSet::recorded_frames(dir, "other.mp4").empty());

  SECTION("a different size or face type is refused, naming both") {
    REQUIRE_THROWS_WITH(FaceSetWriter(dir, "whole", 256, "modelsha", "test"), Contains("128") && Contains("256"));
    REQUIRE_THROWS_AS(FaceSetWriter(dir, "head", 128, "modelsha", "test"), ConfigError);
  }
  SECTION("another file at the same path is refused") {
    FaceSetWriter writer(dir, "whole", 128, "modelsha", "test");
    REQUIRE_THROWS_WITH(writer.register_source({"clip.mp4", "different", 640, 480, 25.0, 1, 2, "", {}}),
                        Contains("clip.mp4"));
  }
  SECTION("each detector that extracted a source is recorded once, in the order first used") {
    FaceSetWriter writer(dir, "whole", 128, "modelsha", "test");
    CHECK(FaceSet::read(dir).manifest.sources[0].detectors.empty());  // no detector was named above
    FaceSetSource chunk{"clip.mp4", "abc", 640, 480, 25.0, 1, 100, "bt709", {{"hog+cnn", "cnnsha", "dlib"}}};
    writer.register_source(chunk);
    writer.register_source(chunk);  // a second chunk with the same detector: recorded once
    chunk.detectors = {{"hog", "", ""}};
    writer.register_source(chunk);  // inside the recorded range, but another detector: recorded
    chunk.detectors = {{"hog+cnn", "cnnsha", "cuda"}};
    writer.register_source(chunk);  // the same detector on another device: recorded
    const auto detectors = FaceSet::read(dir).manifest.sources[0].detectors;
    REQUIRE(detectors.size() == 3);
    CHECK(detectors[0] == FaceSetDetector{"hog+cnn", "cnnsha", "dlib"});
    CHECK(detectors[1] == FaceSetDetector{"hog", "", ""});
    CHECK(detectors[2] == FaceSetDetector{"hog+cnn", "cnnsha", "cuda"});
  }
  SECTION("a duplicate record from an overlapping run is read once") {
    FaceSetWriter writer(dir, "whole", 128, "modelsha", "test");
    writer.add(sample_record("clip.mp4", 5, 1));
    writer.flush();
    CHECK(FaceSet::read(dir).frames.size() == 300);
  }
  fs::remove_all(dir);
  CHECK_THROWS_AS(FaceSet::read(dir), MissingInputError);
}

TEST_CASE("a face set holds one network encoding, recorded; older face sets get the one extract used then",
          "[unit][faceset]") {
  const fs::path dir = fs::temp_directory_path() / ("facetrain-encoding-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  NetworkEncodingRecord acescct;
  acescct.kind = EncodingKind::colorspace;
  acescct.colorspace = "ACEScct";
  acescct.config = OcioConfigIdentity{"/studio/config.ocio", "cg-config", "2.1", std::string(64, 'c'), "2.1.2"};
  {
    FaceSetWriter writer(dir, "whole", 128, "modelsha", "test", acescct);
    writer.register_source({"plate.####.exr", "abc", 64, 64, 24.0, 1001, 1001, "ACEScg", {}});
    writer.add(sample_record("plate.####.exr", 1001, 1));
    writer.flush();
  }
  const FaceSet set = FaceSet::read(dir);
  CHECK(set.manifest.format_version == kFaceSetFormatVersion);
  CHECK(same_network_encoding(set.manifest.encoding, acescct));
  CHECK(set.manifest.encoding.recorded);
  // Another encoding into the same face set is refused, naming both.
  REQUIRE_THROWS_AS(FaceSetWriter(dir, "whole", 128, "modelsha", "test"), ConfigError);
  REQUIRE_THROWS_WITH(FaceSetWriter(dir, "whole", 128, "modelsha", "test"), Contains("ACEScct") && Contains("plate"));
  CHECK_NOTHROW(FaceSetWriter(dir, "whole", 128, "modelsha", "test", acescct));
  // A version 1 face set (no "encoding"): inferred from its sources' colour spaces.
  std::string text;
  {
    std::ifstream in(dir / "faceset.json");
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  nlohmann::json doc = nlohmann::json::parse(text);
  const auto manifest_as = [&](const nlohmann::json& d) {
    std::ofstream(dir / "faceset.json") << d.dump();
    return FaceSet::read_manifest(dir);
  };
  doc.erase("encoding");
  doc["format_version"] = 1;
  doc["sources"][0]["colorspace"] = "Linear";
  CHECK(manifest_as(doc).encoding.kind == EncodingKind::srgb);
  CHECK(!manifest_as(doc).encoding.recorded);
  doc["sources"][0]["colorspace"] = "bt709";
  CHECK(manifest_as(doc).encoding.kind == EncodingKind::plate);
  // A version 2 face set must have it.
  doc["format_version"] = 2;
  REQUIRE_THROWS_WITH(manifest_as(doc), Contains("faceset.json") && Contains("encoding"));
  fs::remove_all(dir);
}
