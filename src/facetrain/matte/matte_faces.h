#pragma once
// A face set's faces as the matte network sees them: crops resized to its resolution and the
// landmark hull of each face there (issue 24). Shared by `matte train` and `matte apply`.
#include "facetrain/face/face_types.h"
#include "facetrain/faceset/usable_faces.h"

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <vector>

namespace facetrain {

struct MatteFaces {
  at::Tensor rgb;   // float [N,R,R,3] in [0,1], interleaved (what the occluder synthesis reads)
  at::Tensor hull;  // float [N,R,R] in {0,1}
};

// The faces `indices` of `usable` (indices into usable.faces). Throws InputDataError naming a crop
// whose size is not the face set's.
MatteFaces load_matte_faces(const UsableFaces& usable, const std::vector<size_t>& indices, int resolution_px);

// [N,R,R,3] interleaved -> [N,3,R,R] planar, what the network takes.
at::Tensor planar(const at::Tensor& interleaved);

}  // namespace facetrain
