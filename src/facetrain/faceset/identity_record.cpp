#include "facetrain/faceset/identity_record.h"

#include "facetrain/base/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <set>

namespace facetrain {

namespace {

using json = nlohmann::json;

constexpr size_t kDescriptorSize = 128;  // dlib's face-recognition ResNet

json person_to_json(const IdentityPerson& person) {
  json files = json::array();
  for (const IdentityReferenceFile& f : person.references)
    files.push_back({{"path", f.path}, {"sha256", f.sha256}, {"kind", f.kind}, {"faces", f.faces}});
  return {{"references", files}, {"descriptor", person.descriptor}};
}

IdentityPerson person_from_json(const json& value, const std::string& where) {
  IdentityPerson person;
  for (const json& f : value.at("references")) {
    IdentityReferenceFile file;
    file.path = f.at("path").get<std::string>();
    file.sha256 = f.at("sha256").get<std::string>();
    file.kind = f.at("kind").get<std::string>();
    file.faces = f.at("faces").get<int>();
    if (file.kind != "image" && file.kind != "faceset")
      throw InputDataError(fmt::format("{}: identity: reference kind '{}' is neither image nor faceset", where, file.kind));
    person.references.push_back(file);
  }
  person.descriptor = value.at("descriptor").get<std::vector<float>>();
  if (person.descriptor.size() != kDescriptorSize ||
      !std::all_of(person.descriptor.begin(), person.descriptor.end(), [](float v) { return std::isfinite(v); }))
    throw InputDataError(fmt::format("{}: identity: a descriptor must be {} finite numbers", where, kDescriptorSize));
  return person;
}

std::multiset<std::string> hashes_of(const IdentityPerson& person) {
  std::multiset<std::string> out;
  for (const IdentityReferenceFile& f : person.references) out.insert(f.sha256);
  return out;
}

std::string paths_of(const IdentityPerson& person) {
  std::string out;
  for (const IdentityReferenceFile& f : person.references) out += (out.empty() ? "" : " ") + f.path;
  return out;
}

}  // namespace

json identity_record_to_json(const IdentityRecord& record) {
  json out = {{"format_version", kIdentityRecordVersion},
              {"threshold", record.threshold},
              {"vote", "median descriptor distance of a track's faces"},
              {"model_sha256", record.model_sha256}};
  if (record.keep) out["keep"] = person_to_json(*record.keep);
  json exclude = json::array();
  for (const IdentityPerson& p : record.exclude) exclude.push_back(person_to_json(p));
  out["exclude"] = exclude;
  return out;
}

IdentityRecord identity_record_from_json(const json& value, const std::string& where) {
  try {
    const int version = value.at("format_version").get<int>();
    if (version < 1 || version > kIdentityRecordVersion)
      throw InputDataError(fmt::format("{}: identity: format_version {} is not supported (this facetrain reads 1 to {})",
                                       where, version, kIdentityRecordVersion));
    IdentityRecord record;
    record.threshold = value.at("threshold").get<double>();
    if (!std::isfinite(record.threshold) || record.threshold <= 0)
      throw InputDataError(fmt::format("{}: identity: threshold must be a positive number", where));
    record.model_sha256 = value.at("model_sha256").get<std::string>();
    if (value.contains("keep")) record.keep = person_from_json(value.at("keep"), where);
    for (const json& p : value.at("exclude")) record.exclude.push_back(person_from_json(p, where));
    return record;
  } catch (const json::exception& e) {
    throw InputDataError(fmt::format("{}: malformed identity record: {}", where, e.what()));
  }
}

bool same_identity_choice(const std::optional<IdentityRecord>& a, const std::optional<IdentityRecord>& b) {
  if (!a || !b) return !a && !b;
  if (a->threshold != b->threshold || a->keep.has_value() != b->keep.has_value()) return false;
  if (a->keep && hashes_of(*a->keep) != hashes_of(*b->keep)) return false;
  std::multiset<std::multiset<std::string>> ea, eb;
  for (const IdentityPerson& p : a->exclude) ea.insert(hashes_of(p));
  for (const IdentityPerson& p : b->exclude) eb.insert(hashes_of(p));
  return ea == eb;
}

std::string describe_identity_choice(const std::optional<IdentityRecord>& record) {
  if (!record) return "no --identity or --exclude-identity";
  std::string out;
  if (record->keep) out = "--identity " + paths_of(*record->keep);
  for (const IdentityPerson& p : record->exclude) out += (out.empty() ? "" : " ") + std::string("--exclude-identity ") + paths_of(p);
  return fmt::format("{} (--identity-threshold {:g})", out, record->threshold);
}

}  // namespace facetrain
