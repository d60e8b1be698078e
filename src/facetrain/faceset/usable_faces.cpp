#include "facetrain/faceset/usable_faces.h"

#include "facetrain/base/error.h"

#include <fmt/format.h>

#include <system_error>

namespace facetrain {

UsableFaces read_usable_faces(const std::filesystem::path& faceset) {
  UsableFaces usable;
  usable.set = FaceSet::read(faceset);
  int64_t recorded = 0;
  std::error_code ec;
  for (const auto& record : usable.set.frames)
    for (const auto& face : record.faces) {
      ++recorded;
      if (std::filesystem::exists(usable.set.directory / face.crop, ec)) usable.faces.push_back({&record, &face});
      else ++usable.crops_deleted;
    }
  if (usable.faces.empty())
    throw InputDataError(fmt::format("{}: no usable face to train on ({} frame record(s), {} face(s), {} crop(s) "
                                     "deleted); extract frames with faces into it",
                                     faceset.string(), usable.set.frames.size(), recorded, usable.crops_deleted));
  return usable;
}

}  // namespace facetrain
