#pragma once
// The people extract --identity and --exclude-identity name, from their reference files: stills of
// the person (any image OpenImageIO reads), or a face set of the person. A person's descriptor is
// the mean of dlib face-recognition descriptors of the references' faces (face_scorer.h).
#include "data_prep/face/face_detector.h"
#include "data_prep/face/landmark_predictor.h"
#include "facetrain/face/face_types.h"
#include "facetrain/faceset/identity_record.h"
#include "facetrain/quality/face_scorer.h"

#include <string>
#include <vector>

namespace facetrain {

// At most this many crops of a reference face set are described, evenly spread over its records:
// the mean of 64 descriptors moves by well under the vote's margins, and describing every crop of
// a long face set would cost seconds per hundred faces.
inline constexpr int kReferenceFacesPerFaceSet = 64;

struct ReferenceOptions {
  FaceType face_type = FaceType::whole;  // the face set being extracted: a reference face set must match
  DetectorOptions detector;              // finds the face in a still (upsampled once: stills may be small)
};

// One person shown by all `files` together (--identity). Throws InputDataError (65) naming a still
// with no face, or a face set whose crops are all deleted; ConfigError (78) naming a reference face
// set of another face type than options.face_type; MissingInputError (66) for a file that is not there.
IdentityPerson reference_person(const std::vector<std::string>& files, FaceScorer& scorer,
                                const LandmarkPredictor& landmarks, const ReferenceOptions& options);

// The descriptor as the scorer's type.
FaceDescriptor descriptor_of(const IdentityPerson& person);

}  // namespace facetrain
