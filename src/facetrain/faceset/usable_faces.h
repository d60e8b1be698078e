#pragma once
// The faces of a face set that training can use: every recorded face whose crop is still on disk
// (an artist deletes a crop to exclude its face) and whose landmark fit confidence is at least the
// threshold given (faces without one count as 1). Read before anything of a run is written, so a
// face set with nothing to learn from fails at once, naming it.
#include "facetrain/faceset/faceset.h"

#include <cstdint>
#include <filesystem>
#include <vector>

namespace facetrain {

struct UsableFace {
  const FrameRecord* record = nullptr;  // into UsableFaces::set
  const FaceRecord* face = nullptr;
};

struct UsableFaces {
  FaceSet set;
  std::vector<UsableFace> faces;  // in record order (source, frame), then face index
  int64_t crops_deleted = 0;      // recorded faces whose crop is gone
  int64_t low_fit_confidence = 0; // recorded faces left out for their landmark fit confidence

  UsableFaces() = default;
  UsableFaces(UsableFaces&&) = default;  // the pointers stay valid: the records do not move
  UsableFaces& operator=(UsableFaces&&) = default;
  UsableFaces(const UsableFaces&) = delete;
  UsableFaces& operator=(const UsableFaces&) = delete;
};

// Throws MissingInputError (66) when FACESET has no faceset.json, InputDataError (65) naming it when
// it holds no usable face (no records, only frames without a face, or every crop deleted), and as
// FaceSet::read for anything malformed.
UsableFaces read_usable_faces(const std::filesystem::path& faceset, double min_fit_confidence = 0.0);

}  // namespace facetrain
