#pragma once
// dlib's shape predictors (an ensemble of regression trees; the 68-point and the 5-point model) in the packed form that
// LandmarkPredictor walks (dlib_landmark_predictor.cpp says why): splits contiguous, leaves as int16
// with one scale per tree. Internal to data_prep/face; no dlib here, so the model cache
// (model_cache.h) keeps it without dlib's slow portable serialization.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace facetrain {

// The models LandmarkPredictor reads: dlib's 68-point (iBUG 300-W) and 5-point (eye corners, base of
// the nose) predictors.
inline constexpr int kMaxLandmarkParts = 68;
inline constexpr int kMaxLandmarkShapeFloats = 2 * kMaxLandmarkParts;

struct PackedSplit {
  uint16_t idx1, idx2;  // feature pixels compared
  float thresh;         // go left when value[idx1] - value[idx2] > thresh
};

struct PackedTree {
  uint32_t first_split;
  uint32_t split_count;
  uint32_t first_leaf;  // in units of 2 * parts int16 values
  float scale;          // leaf value = scale * int16
};

struct PackedDelta {
  float x, y;  // a feature pixel's offset from its anchoring part, in mean-shape units
};

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

struct PackedModel {
  uint32_t parts = 0;                              // 68 or 5
  std::vector<float> initial_shape;                // 2 * parts: x0, y0, x1, y1, ...
  std::vector<std::vector<uint16_t>> anchor_idx;   // per level, per feature pixel: anchoring part
  std::vector<std::vector<PackedDelta>> deltas;    // per level, per feature pixel: offset from it
  std::vector<uint32_t> first_tree;                // per level, into trees; plus an end marker
  std::vector<PackedTree> trees;
  std::vector<PackedSplit> splits;
  std::unique_ptr<int16_t[], FreeDeleter> leaves;  // leaf_count * 2 * parts values
  uint32_t leaf_count = 0;
};

// Leaves in one block aligned and advised for huge pages (fewer TLB misses while predicting).
std::unique_ptr<int16_t[], FreeDeleter> allocate_packed_leaves(size_t count);

// Checks every index predict() follows without checks; returns the first problem, or empty.
std::string packed_model_problem(const PackedModel& model);

// The model as plain arrays (host byte order), for the model cache (model_cache.h), and back: false
// (model left partial) when the bytes are not a whole, valid packed model.
std::string serialize_packed_model(const PackedModel& model);
bool deserialize_packed_model(std::string_view bytes, PackedModel& model);

}  // namespace facetrain
