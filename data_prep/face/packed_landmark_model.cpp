#include "data_prep/face/packed_landmark_model.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <cmath>
#include <new>

namespace facetrain {
namespace {

// Appends plain arrays to a byte string; reads them back with bounds checks.
class Writer {
 public:
  template <typename T>
  void put(const T& value) { bytes_.append(reinterpret_cast<const char*>(&value), sizeof(T)); }
  template <typename T>
  void put_array(const T* data, size_t count) {
    bytes_.append(reinterpret_cast<const char*>(data), count * sizeof(T));
  }
  std::string& bytes() { return bytes_; }

 private:
  std::string bytes_;
};

class Reader {
 public:
  Reader(const char* data, size_t size) : data_(data), left_(size) {}
  template <typename T>
  bool get(T& value) { return get_array(&value, 1); }
  template <typename T>
  bool get_array(T* out, size_t count) {
    if (count > left_ / sizeof(T)) return false;
    std::memcpy(out, data_, count * sizeof(T));
    data_ += count * sizeof(T);
    left_ -= count * sizeof(T);
    return true;
  }
  bool at_end() const { return left_ == 0; }

 private:
  const char* data_;
  size_t left_;
};

}  // namespace


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
  if ((m.parts != 68 && m.parts != 5) || m.initial_shape.size() != 2 * size_t{m.parts}) return "parts";
  for (float v : m.initial_shape)
    if (!std::isfinite(v)) return "initial shape";
  if (m.first_tree.front() != 0 || m.first_tree.back() != m.trees.size()) return "tree ranges";
  for (size_t c = 0; c < levels; ++c) {
    const size_t features = m.deltas[c].size();
    if (m.anchor_idx[c].size() != features || features > 65535) return "feature pixels";
    for (uint16_t a : m.anchor_idx[c])
      if (a >= m.parts) return "anchor index";
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

std::string serialize_packed_model(const PackedModel& m) {
  Writer w;
  w.put(m.parts);
  w.put_array(m.initial_shape.data(), m.initial_shape.size());
  w.put(static_cast<uint32_t>(m.deltas.size()));
  for (size_t c = 0; c < m.deltas.size(); ++c) {
    w.put(static_cast<uint32_t>(m.deltas[c].size()));
    w.put_array(m.anchor_idx[c].data(), m.anchor_idx[c].size());
    w.put_array(m.deltas[c].data(), m.deltas[c].size());
  }
  w.put_array(m.first_tree.data(), m.first_tree.size());
  w.put(static_cast<uint32_t>(m.trees.size()));
  w.put_array(m.trees.data(), m.trees.size());
  w.put(static_cast<uint32_t>(m.splits.size()));
  w.put_array(m.splits.data(), m.splits.size());
  w.put(m.leaf_count);
  w.put_array(m.leaves.get(), static_cast<size_t>(m.leaf_count) * 2 * m.parts);
  return std::move(w.bytes());
}

bool deserialize_packed_model(std::string_view bytes, PackedModel& m) {
  const char* data = bytes.data();
  const size_t size = bytes.size();
  Reader r(data, size);
  uint32_t levels = 0, count = 0;
  if (!r.get(m.parts) || (m.parts != 68 && m.parts != 5)) return false;
  const size_t shape_floats = 2 * size_t{m.parts};
  m.initial_shape.resize(shape_floats);
  if (!r.get_array(m.initial_shape.data(), shape_floats) || !r.get(levels) || levels == 0 || levels > 1000) return false;
  m.anchor_idx.resize(levels);
  m.deltas.resize(levels);
  for (uint32_t c = 0; c < levels; ++c) {
    if (!r.get(count) || count > 65535) return false;
    m.anchor_idx[c].resize(count);
    m.deltas[c].resize(count);
    if (!r.get_array(m.anchor_idx[c].data(), count) || !r.get_array(m.deltas[c].data(), count)) return false;
  }
  m.first_tree.resize(levels + 1);
  if (!r.get_array(m.first_tree.data(), m.first_tree.size())) return false;
  if (!r.get(count) || count > size / sizeof(PackedTree)) return false;
  m.trees.resize(count);
  if (!r.get_array(m.trees.data(), count)) return false;
  if (!r.get(count) || count > size / sizeof(PackedSplit)) return false;
  m.splits.resize(count);
  if (!r.get_array(m.splits.data(), count)) return false;
  if (!r.get(m.leaf_count) || m.leaf_count > size / (sizeof(int16_t) * shape_floats)) return false;
  const size_t values = static_cast<size_t>(m.leaf_count) * shape_floats;
  m.leaves = allocate_packed_leaves(values);
  return r.get_array(m.leaves.get(), values) && r.at_end() && packed_model_problem(m).empty();
}

}  // namespace facetrain
