#pragma once
// One identity's faces packed into tensors that live on the training device for the whole run:
// no per-step decoding, no CPU augmentation workers (docs/design.md §1). Packed once from the face set
// (honouring crops an artist deleted), cached in the run directory under a content hash.
#include "facetrain/faceset/usable_faces.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace facetrain {

struct FacePack {
  at::Tensor images;     // uint8 [N,3,R,R]
  at::Tensor masks;      // uint8 [N,1,R,R], face hull
  at::Tensor landmarks;  // float [N,68,2], crop pixels at resolution R
  int64_t train_count = 0;  // faces [0, train_count) train; the rest (a tail slice in frame order) validate
  std::string content_sha256;  // of the face set's records and crop files, and R
  std::string face_type;       // the face set's crop coverage (full, whole, head)
  int landmark_points = 68;    // the face set's landmark model: 68 points, or 5 (63 from the template)
  NetworkEncodingRecord encoding;  // how the face set's crops were made (what the network sees)
  int64_t size() const;
  FacePack to(c10::Device device) const;
};

// Packs a face set's usable faces (read_usable_faces: it throws for a face set without any),
// crops resized to `resolution_px`, and holds out the last `validation_fraction` of faces (at least
// 1 when there are >= 8). Caches the result as CACHE_DIR/<name>-<hash>.pt.
FacePack load_face_pack(const UsableFaces& usable, int resolution_px, double validation_fraction,
                        const std::filesystem::path& cache_dir, const std::string& name);

// `count` faces spread evenly over the pack's held-out slice (over the whole pack when it holds none
// out), as indices (int64, CPU): the trainer's fixed preview, validation and identity faces.
at::Tensor held_out_faces(const FacePack& pack, int64_t count);

}  // namespace facetrain
