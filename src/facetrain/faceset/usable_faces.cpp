#include "facetrain/faceset/usable_faces.h"

#include "facetrain/base/error.h"

#include <fmt/format.h>

#include <system_error>

namespace facetrain {

UsableFaces read_usable_faces(const std::filesystem::path& faceset, double min_fit_confidence) {
  UsableFaces usable;
  usable.set = FaceSet::read(faceset);
  int64_t recorded = 0;
  std::error_code ec;
  for (const auto& record : usable.set.frames)
    for (const auto& face : record.faces) {
      ++recorded;
      if (!std::filesystem::exists(usable.set.directory / face.crop, ec)) ++usable.crops_deleted;
      else if (face.fit_confidence.value_or(1.0) < min_fit_confidence) ++usable.low_fit_confidence;
      else usable.faces.push_back({&record, &face});
    }
  if (usable.faces.empty())
    throw InputDataError(fmt::format("{}: no usable face to train on ({} frame record(s), {} face(s), {} crop(s) "
                                     "deleted, {} with a landmark fit confidence below {}); {}",
                                     faceset.string(), usable.set.frames.size(), recorded, usable.crops_deleted,
                                     usable.low_fit_confidence, min_fit_confidence,
                                     usable.low_fit_confidence > 0 ? "lower min_fit_confidence, or extract frames "
                                                                     "where the face is in view into it"
                                                                   : "extract frames with faces into it"));
  return usable;
}

}  // namespace facetrain
