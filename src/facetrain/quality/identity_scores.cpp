#include "facetrain/quality/identity_scores.h"

#include "facetrain/base/error.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace facetrain {

double descriptor_distance(const FaceDescriptor& a, const FaceDescriptor& b) {
  double sum = 0;
  for (int k = 0; k < kFaceDescriptorSize; ++k) {
    const double d = static_cast<double>(a[k]) - b[k];
    sum += d * d;
  }
  return std::sqrt(sum);
}

FaceDescriptor mean_descriptor(const std::vector<FaceDescriptor>& descriptors) {
  FaceDescriptor out{};
  if (descriptors.empty()) return out;
  std::array<double, kFaceDescriptorSize> sum{};
  for (const FaceDescriptor& d : descriptors)
    for (int k = 0; k < kFaceDescriptorSize; ++k) sum[k] += d[k];
  for (int k = 0; k < kFaceDescriptorSize; ++k) out[k] = static_cast<float>(sum[k] / descriptors.size());
  return out;
}

nlohmann::json identity_reference_to_json(const IdentityReference& reference) {
  return {{"actor", std::vector<float>(reference.actor.begin(), reference.actor.end())},
          {"double", std::vector<float>(reference.double_.begin(), reference.double_.end())},
          {"actor_faces", reference.actor_faces},
          {"double_faces", reference.double_faces},
          {"model_sha256", reference.model_sha256}};
}

IdentityReference identity_reference_from_json(const nlohmann::json& json, const std::string& where) {
  IdentityReference out;
  try {
    const auto actor = json.at("actor").get<std::vector<float>>();
    const auto double_ = json.at("double").get<std::vector<float>>();
    if (actor.size() != kFaceDescriptorSize || double_.size() != kFaceDescriptorSize)
      throw InputDataError(where + ": identity_reference: descriptors of " + std::to_string(actor.size()) + " and " +
                           std::to_string(double_.size()) + " numbers, expected " + std::to_string(kFaceDescriptorSize));
    std::copy(actor.begin(), actor.end(), out.actor.begin());
    std::copy(double_.begin(), double_.end(), out.double_.begin());
    out.actor_faces = json.at("actor_faces").get<int>();
    out.double_faces = json.at("double_faces").get<int>();
    out.model_sha256 = json.at("model_sha256").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw InputDataError(where + ": identity_reference: " + e.what());
  }
  return out;
}

IdentityScore score_identity(const FaceDescriptor& face, const IdentityReference& reference) {
  return {descriptor_distance(face, reference.actor), descriptor_distance(face, reference.double_)};
}

IdentitySummary summarize_identity(const std::vector<IdentityScore>& scores) {
  IdentitySummary out;
  for (const IdentityScore& s : scores) {
    ++out.faces;
    out.mean_to_actor += s.to_actor;
    out.mean_to_double += s.to_double;
    out.closer_to_actor += s.to_actor < s.to_double ? 1 : 0;
    out.same_as_actor += s.to_actor < kSamePersonDistance ? 1 : 0;
  }
  if (out.faces > 0) {
    out.mean_to_actor /= out.faces;
    out.mean_to_double /= out.faces;
    out.closer_to_actor /= out.faces;
    out.same_as_actor /= out.faces;
  }
  return out;
}

double landmark_error_iod(const Landmarks68& reference, const Landmarks68& other) {
  const double iod = std::hypot(reference[45].x - reference[36].x, reference[45].y - reference[36].y);
  if (!(iod >= 1.0)) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    const double dx = other[i].x - reference[i].x, dy = other[i].y - reference[i].y;
    sum += dx * dx + dy * dy;
  }
  return std::sqrt(sum / reference.size()) / iod;
}

}  // namespace facetrain
