#include "data_prep/face/packed_landmark_model.h"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <new>

namespace facetrain {

std::unique_ptr<int16_t[], FreeDeleter> allocate_packed_leaves(size_t count) {
  constexpr size_t kHugePage = size_t{2} << 20;
  const size_t bytes = std::max<size_t>(kHugePage, (count * sizeof(int16_t) + kHugePage - 1) / kHugePage * kHugePage);
  void* p = nullptr;
  if (posix_memalign(&p, kHugePage, bytes) != 0 || p == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  madvise(p, bytes, MADV_HUGEPAGE);  // a hint; fine if the kernel declines
#endif
  return std::unique_ptr<int16_t[], FreeDeleter>(static_cast<int16_t*>(p));
}

std::string packed_model_problem(const PackedModel& m) {
  const size_t levels = m.deltas.size();
  if (levels == 0 || m.anchor_idx.size() != levels || m.first_tree.size() != levels + 1) return "levels";
  for (float v : m.initial_shape)
    if (!std::isfinite(v)) return "initial shape";
  if (m.first_tree.front() != 0 || m.first_tree.back() != m.trees.size()) return "tree ranges";
  for (size_t c = 0; c < levels; ++c) {
    const size_t features = m.deltas[c].size();
    if (m.anchor_idx[c].size() != features || features > 65535) return "feature pixels";
    for (uint16_t a : m.anchor_idx[c])
      if (a >= kLandmarkParts) return "anchor index";
    if (m.first_tree[c] > m.first_tree[c + 1]) return "tree ranges";
    for (uint32_t t = m.first_tree[c]; t < m.first_tree[c + 1]; ++t) {
      const PackedTree& tree = m.trees[t];
      if (uint64_t{tree.first_split} + tree.split_count > m.splits.size()) return "split range";
      if (uint64_t{tree.first_leaf} + tree.split_count + 1 > m.leaf_count) return "leaf range";
      if (!std::isfinite(tree.scale)) return "leaf scale";
      for (uint32_t k = 0; k < tree.split_count; ++k) {
        const PackedSplit& s = m.splits[tree.first_split + k];
        if (s.idx1 >= features || s.idx2 >= features || !std::isfinite(s.thresh)) return "split";
      }
    }
  }
  return {};
}

}  // namespace facetrain
