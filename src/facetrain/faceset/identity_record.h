#pragma once
// Whom a face set holds, as faceset.json's optional "identity" record says (extract --identity,
// --exclude-identity; docs/face-set-format.md#identity-the-person-kept): the reference files with
// their SHA-256s, the reference descriptors, the threshold of the per-track vote. Absent in face sets
// extracted without those flags (and in every face set before them), which read as before. Plain
// data: reading, writing and comparing it needs no dlib.
#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <vector>

namespace facetrain {

// Version 1: keep, exclude, threshold, vote, model_sha256.
inline constexpr int kIdentityRecordVersion = 1;

// One file given to --identity or --exclude-identity.
struct IdentityReferenceFile {
  std::string path;     // as given on the command line
  std::string sha256;   // a still's file hash; a face set's faceset.json hash
  std::string kind;     // "image" or "faceset"
  int faces = 0;        // faces whose descriptors went into the mean
};

// One person: the files that show them and the mean of their faces' descriptors (128 numbers).
struct IdentityPerson {
  std::vector<IdentityReferenceFile> references;
  std::vector<float> descriptor;
};

struct IdentityRecord {
  std::optional<IdentityPerson> keep;   // --identity: all its files are one person
  std::vector<IdentityPerson> exclude;  // --exclude-identity: each file a person of its own
  double threshold = 0;                 // a track's median distance at most this: that person
  std::string model_sha256;             // the face-recognition model that made the descriptors
};

nlohmann::json identity_record_to_json(const IdentityRecord& record);
// Throws InputDataError naming `where` for a malformed record or a format_version this reader does
// not know.
IdentityRecord identity_record_from_json(const nlohmann::json& value, const std::string& where);

// Whether two runs chose the same people the same way: the same reference files (by SHA-256, not
// path: a farm mounts them elsewhere), the same exclusions, the same threshold. Descriptors are
// derived from the files and not compared.
bool same_identity_choice(const std::optional<IdentityRecord>& a, const std::optional<IdentityRecord>& b);

// For messages: "--identity a.png b.png (threshold 0.5)", "no --identity".
std::string describe_identity_choice(const std::optional<IdentityRecord>& record);

}  // namespace facetrain
