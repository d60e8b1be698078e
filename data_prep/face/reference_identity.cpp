#include "data_prep/face/reference_identity.h"

#include "facetrain/base/error.h"
#include "facetrain/base/log.h"
#include "facetrain/base/sha256.h"
#include "facetrain/faceset/faceset.h"
#include "facetrain/face/alignment.h"
#include "facetrain/media/image_io.h"
#include "facetrain/quality/identity_scores.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <memory>

namespace facetrain {

namespace {

// The still's largest face: its descriptor. Several faces: the largest is taken, with a warning,
// since a still of the person usually has them in front.
std::vector<FaceDescriptor> still_descriptors(const std::string& path, FaceScorer& scorer,
                                              const LandmarkPredictor& landmarks, const ReferenceOptions& options) {
  const Rgb8Image image = read_rgb8(path);
  const Gray8Image gray = to_gray(image);
  DetectorOptions detector_options = options.detector;
  detector_options.upsample = std::max(detector_options.upsample, 1);
  std::vector<FaceBox> boxes = make_face_detector(detector_options)->detect(gray);
  if (boxes.empty())
    throw InputDataError(fmt::format("{}: no face found in this reference image (--identity and --exclude-identity "
                                     "take stills that show the person's face, or a face set of the person)", path));
  std::stable_sort(boxes.begin(), boxes.end(), [](const FaceBox& a, const FaceBox& b) { return a.width() > b.width(); });
  if (boxes.size() > 1)
    log_warning("{}: {} faces in this reference image; the largest ({:.0f} px wide) is the person", path, boxes.size(),
                boxes.front().width());
  FaceToScore face{&image, landmarks.predict(gray, boxes.front())};
  return scorer.descriptors({face});
}

// Up to kReferenceFacesPerFaceSet crops that are still there (a deleted crop is an excluded face),
// evenly spread; the crops' landmarks mapped into crop pixels.
std::vector<FaceDescriptor> faceset_descriptors(const std::string& path, FaceScorer& scorer,
                                                const ReferenceOptions& options, std::string& sha256_out) {
  const FaceSet set = FaceSet::read(path);
  if (set.manifest.face_type != to_string(options.face_type))
    throw ConfigError(fmt::format("{}: this reference face set holds {} faces; this extract makes {} faces (a reference "
                                  "face set must have the --face-type of the face set it chooses faces for)",
                                  path, set.manifest.face_type, to_string(options.face_type)));
  std::vector<const FaceRecord*> faces;
  std::error_code ec;
  for (const FrameRecord& frame : set.frames)
    for (const FaceRecord& face : frame.faces)
      if (std::filesystem::is_regular_file(set.directory / face.crop, ec)) faces.push_back(&face);
  if (faces.empty()) throw InputDataError(fmt::format("{}: this reference face set has no face crops", path));
  const size_t take = std::min(faces.size(), static_cast<size_t>(kReferenceFacesPerFaceSet));
  std::vector<Rgb8Image> crops(take);
  std::vector<FaceToScore> batch(take);
  std::string crop_hashes;
  for (size_t i = 0; i < take; ++i) {
    const FaceRecord& face = *faces[i * faces.size() / take];
    crops[i] = read_rgb8(set.directory / face.crop);
    crop_hashes += sha256_file_hex(set.directory / face.crop);
    const auto& m = face.aligned_from_frame;
    const Affine2d aligned{m[0], m[1], m[2], m[3], m[4], m[5]};
    batch[i].image = &crops[i];
    for (size_t k = 0; k < batch[i].landmarks.size() && k < face.landmarks.size(); ++k)
      batch[i].landmarks[k] = aligned.apply({static_cast<float>(face.landmarks[k][0]), static_cast<float>(face.landmarks[k][1])});
  }
  // The face set's identity as a reference: the crops it gave, so that pruning crops changes it.
  sha256_out = sha256_hex(crop_hashes);
  return scorer.descriptors(batch);
}

bool is_faceset(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec) && std::filesystem::exists(std::filesystem::path(path) / "faceset.json", ec);
}

}  // namespace

IdentityPerson reference_person(const std::vector<std::string>& files, FaceScorer& scorer,
                                const LandmarkPredictor& landmarks, const ReferenceOptions& options) {
  IdentityPerson person;
  std::vector<FaceDescriptor> all;
  for (const std::string& path : files) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw MissingInputError(fmt::format("{}: no such reference file", path));
    IdentityReferenceFile file;
    file.path = path;
    std::vector<FaceDescriptor> found;
    if (is_faceset(path)) {
      file.kind = "faceset";
      found = faceset_descriptors(path, scorer, options, file.sha256);
    } else if (std::filesystem::is_directory(path, ec)) {
      throw InputDataError(fmt::format("{}: a folder without faceset.json is neither a still nor a face set", path));
    } else {
      file.kind = "image";
      file.sha256 = sha256_file_hex(path);
      found = still_descriptors(path, scorer, landmarks, options);
    }
    file.faces = static_cast<int>(found.size());
    all.insert(all.end(), found.begin(), found.end());
    person.references.push_back(file);
  }
  const FaceDescriptor mean = mean_descriptor(all);
  person.descriptor.assign(mean.begin(), mean.end());
  return person;
}

FaceDescriptor descriptor_of(const IdentityPerson& person) {
  FaceDescriptor out{};
  if (person.descriptor.size() != out.size()) throw InternalError("identity descriptor of the wrong size");
  std::copy(person.descriptor.begin(), person.descriptor.end(), out.begin());
  return out;
}

}  // namespace facetrain
