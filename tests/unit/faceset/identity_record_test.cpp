#include "facetrain/base/error.h"
#include "facetrain/faceset/faceset.h"
#include "facetrain/faceset/identity_record.h"
#include "../test_support.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

using namespace facetrain;
using Catch::Matchers::Contains;

namespace {

IdentityRecord sample_identity(const std::string& reference_sha256, double threshold = 0.5) {
  IdentityRecord record;
  record.threshold = threshold;
  record.model_sha256 = std::string(64, 'm');
  record.keep = IdentityPerson{{{"stills/actor.png", reference_sha256, "image", 1}}, std::vector<float>(128, 0.25f)};
  record.exclude.push_back(IdentityPerson{{{"double/", std::string(64, 'd'), "faceset", 64}}, std::vector<float>(128, -0.5f)});
  return record;
}

}  // namespace

TEST_CASE("identity record: round trip, and malformed records refused naming the file", "[identity]") {
  const IdentityRecord record = sample_identity(std::string(64, 'a'));
  const nlohmann::json json = identity_record_to_json(record);
  CHECK(json["format_version"] == kIdentityRecordVersion);
  const IdentityRecord back = identity_record_from_json(json, "faceset.json");
  REQUIRE(back.keep);
  CHECK(back.keep->references.at(0).sha256 == std::string(64, 'a'));
  CHECK(back.keep->descriptor == record.keep->descriptor);
  CHECK(back.exclude.size() == 1);
  CHECK(back.threshold == 0.5);
  CHECK(same_identity_choice(record, back));

  nlohmann::json newer = json;
  newer["format_version"] = kIdentityRecordVersion + 1;
  CHECK_THROWS_WITH(identity_record_from_json(newer, "fs/faceset.json"), Contains("fs/faceset.json") && Contains("format_version"));
  nlohmann::json short_descriptor = json;
  short_descriptor["keep"]["descriptor"] = std::vector<float>(3, 0.f);
  CHECK_THROWS_AS(identity_record_from_json(short_descriptor, "faceset.json"), InputDataError);
  nlohmann::json missing = json;
  missing.erase("threshold");
  CHECK_THROWS_AS(identity_record_from_json(missing, "faceset.json"), InputDataError);
}

TEST_CASE("identity record: the same choice is the same files by SHA-256 and the same threshold", "[identity]") {
  IdentityRecord moved = sample_identity(std::string(64, 'a'));
  moved.keep->references[0].path = "/farm/mount/stills/actor.png";  // another mount: the same choice
  CHECK(same_identity_choice(sample_identity(std::string(64, 'a')), moved));
  CHECK_FALSE(same_identity_choice(sample_identity(std::string(64, 'a')), sample_identity(std::string(64, 'b'))));
  CHECK_FALSE(same_identity_choice(sample_identity(std::string(64, 'a')), sample_identity(std::string(64, 'a'), 0.6)));
  CHECK_FALSE(same_identity_choice(sample_identity(std::string(64, 'a')), std::nullopt));
  CHECK(same_identity_choice(std::nullopt, std::nullopt));
}

TEST_CASE("face set: the identity record is optional, kept by later writers, and one choice per face set", "[identity]") {
  const std::filesystem::path dir = testing::scratch_dir("identity-record") / "set";
  const IdentityRecord identity = sample_identity(std::string(64, 'a'));
  {
    FaceSetWriter writer(dir, "whole", 128, "modelsha", "test", NetworkEncodingRecord{}, identity);
    writer.register_source({"plate.mp4", "abc", 64, 64, 24.0, 1, 1, "", {}});  // rewrites faceset.json
  }
  const FaceSetManifest manifest = FaceSet::read_manifest(dir);
  REQUIRE(manifest.identity);
  CHECK(same_identity_choice(manifest.identity, identity));
  CHECK(manifest.format_version == kFaceSetFormatVersion);  // the record has its own version
  CHECK_NOTHROW(FaceSetWriter(dir, "whole", 128, "modelsha", "test", NetworkEncodingRecord{}, identity));
  CHECK_THROWS_AS(FaceSetWriter(dir, "whole", 128, "modelsha", "test"), ConfigError);
  CHECK_THROWS_WITH(FaceSetWriter(dir, "whole", 128, "modelsha", "test", NetworkEncodingRecord{},
                                  sample_identity(std::string(64, 'b'))),
                    Contains("--identity stills/actor.png") && Contains("(one face set holds one person"));
  // A face set without the record (every face set before it) reads with none.
  const std::filesystem::path plain = testing::scratch_dir("identity-record") / "plain";
  { FaceSetWriter writer(plain, "whole", 128, "modelsha", "test"); }
  CHECK_FALSE(FaceSet::read_manifest(plain).identity);
}
