#pragma once
// Identity and expression scores of swapped faces (issue 12), from what a FaceScorer gives
// (face_scorer.h): descriptor distances to the two identities' references, and landmark error.
// No dlib, no LibTorch.
#include "facetrain/face/face_types.h"
#include "facetrain/quality/face_scorer.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace facetrain {

// Euclidean distance between two descriptors (dlib's metric: < 0.6 is the same person).
double descriptor_distance(const FaceDescriptor& a, const FaceDescriptor& b);

// The element-wise mean of `descriptors` (a face set's reference); zeros when empty.
FaceDescriptor mean_descriptor(const std::vector<FaceDescriptor>& descriptors);

// The two identities a model swaps between, each as the mean descriptor of faces of its face set.
struct IdentityReference {
  FaceDescriptor actor{};
  FaceDescriptor double_{};
  int actor_faces = 0;
  int double_faces = 0;
  std::string model_sha256;  // of the face-recognition model that made them
  bool usable() const { return actor_faces > 0 && double_faces > 0; }
};

// As checkpoints record it (state.json "identity_reference": actor, double (128 numbers each),
// actor_faces, double_faces, model_sha256). from_json throws InputDataError naming `where` for a
// malformed record.
nlohmann::json identity_reference_to_json(const IdentityReference& reference);
IdentityReference identity_reference_from_json(const nlohmann::json& json, const std::string& where);

// One face's distances to both references.
struct IdentityScore {
  double to_actor = 0;
  double to_double = 0;
};
IdentityScore score_identity(const FaceDescriptor& face, const IdentityReference& reference);

// Over many faces: mean distances, the share of faces closer to the actor than to the double, and
// the share within dlib's same-person distance of the actor.
struct IdentitySummary {
  int faces = 0;
  double mean_to_actor = 0;
  double mean_to_double = 0;
  double closer_to_actor = 0;   // 0..1
  double same_as_actor = 0;     // 0..1, distance to the actor < kSamePersonDistance
};
IdentitySummary summarize_identity(const std::vector<IdentityScore>& scores);

// Expression and pose: the RMS distance between corresponding landmarks of `reference` and
// `other`, divided by `reference`'s inter-ocular distance (outer eye corners, points 36 and 45 of
// the iBUG 68-point layout). NaN when that distance is under 1 px.
double landmark_error_iod(const Landmarks68& reference, const Landmarks68& other);

}  // namespace facetrain
