// LandmarkPredictor on dlib's shape predictors, the 68-point and the 5-point model (ensembles of
// regression trees, Kazemi & Sullivan 2014). The model file is dlib's own serialization of dlib::shape_predictor; we read the
// same fields and run the cascade here, for three reasons:
//  - sub-pixel output: dlib::full_object_detection rounds every part to whole pixels, which shows
//    up as one-pixel jitter in aligned crops; boxes may also have fractional corners (the tracker
//    derives them from landmarks);
//  - speed: prediction is bound by memory, not arithmetic (15 cascade levels x 500 trees, each
//    visit reading a tree's splits and one 136-float leaf, all in separate heap blocks, ~4 MB per
//    face). We pack the splits contiguously (8 bytes each) and the leaves as int16 with one scale
//    per tree in one block advised for huge pages: half the bytes, far fewer cache and TLB misses;
//  - RAM: ~33 MB per model instead of ~65 MB.
// Each leaf value moves by at most 1/65534 of its tree's largest value; on dlib's reference faces the
// rounded points equal stock dlib's about as often as stock dlib's equal the reference files.
#include "data_prep/face/landmark_predictor.h"

#include "data_prep/face/model_cache.h"
#include "data_prep/face/packed_landmark_model.h"

#include "facetrain/base/error.h"
#include "facetrain/base/sha256.h"
#include "facetrain/face/alignment.h"
#include "facetrain/quality/face_scorer.h"

#include <dlib/image_processing/shape_predictor.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

namespace facetrain {

namespace {

void load_model(const std::string& path, PackedModel& out) {
  // The fields of dlib::shape_predictor, in its serialization order (version 1).
  dlib::matrix<float, 0, 1> initial_shape;
  std::vector<std::vector<dlib::impl::regression_tree>> forests;
  std::vector<std::vector<unsigned long>> anchor_idx;
  std::vector<std::vector<dlib::vector<float, 2>>> deltas;
  auto corrupt = [&](const std::string& what) { return InputDataError("landmark model '" + path + "' is corrupt (" + what + ")"); };
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputDataError("cannot open landmark model '" + path + "'");
    try {
      int version = 0;
      dlib::deserialize(version, in);
      if (version != 1) {
        throw InputDataError("landmark model '" + path + "' is not a dlib shape predictor (serialization version " +
                             std::to_string(version) + ")");
      }
      dlib::deserialize(initial_shape, in);
      dlib::deserialize(forests, in);
      dlib::deserialize(anchor_idx, in);
      dlib::deserialize(deltas, in);
    } catch (const dlib::serialization_error& e) {
      std::string reason = e.what();  // dlib appends a multi-line trace: keep the first line
      reason = reason.substr(0, reason.find('\n'));
      throw InputDataError("landmark model '" + path + "' is not a readable dlib shape predictor: " + reason);
    } catch (const std::bad_alloc&) {
      throw corrupt("implausible sizes");
    }
  }
  const size_t levels = forests.size();
  if ((initial_shape.size() != 2 * 68 && initial_shape.size() != 2 * 5) || levels == 0 || anchor_idx.size() != levels ||
      deltas.size() != levels) {
    throw InputDataError("landmark model '" + path + "' predicts " + std::to_string(initial_shape.size() / 2) +
                         " points; facetrain reads dlib's 68-point (iBUG 300-W order) and 5-point shape predictors");
  }
  const uint32_t parts = static_cast<uint32_t>(initial_shape.size() / 2);
  const size_t shape_floats = 2 * size_t{parts};
  out.parts = parts;
  out.initial_shape.assign(initial_shape.begin(), initial_shape.end());

  // Validate every index once (predict() indexes without checks) and count.
  size_t tree_count = 0, split_count = 0, leaf_count = 0;
  for (size_t c = 0; c < levels; ++c) {
    const size_t features = deltas[c].size();
    if (anchor_idx[c].size() != features || features > 65535) throw corrupt("feature pixels");
    for (unsigned long a : anchor_idx[c]) {
      if (a >= parts) throw corrupt("anchor index");
    }
    for (const auto& tree : forests[c]) {
      if (tree.leaf_values.size() != tree.splits.size() + 1) throw corrupt("tree shape");
      for (const auto& split : tree.splits) {
        if (split.idx1 >= features || split.idx2 >= features) throw corrupt("split index");
      }
      for (const auto& leaf : tree.leaf_values) {
        if (leaf.size() != static_cast<long>(shape_floats)) throw corrupt("leaf size");
      }
      ++tree_count;
      split_count += tree.splits.size();
      leaf_count += tree.leaf_values.size();
    }
  }
  if (leaf_count * shape_floats > UINT32_MAX || split_count > UINT32_MAX) throw corrupt("implausible sizes");

  out.anchor_idx.resize(levels);
  out.trees.reserve(tree_count);
  out.splits.reserve(split_count);
  out.leaves = allocate_packed_leaves(leaf_count * shape_floats);
  out.leaf_count = static_cast<uint32_t>(leaf_count);
  out.deltas.resize(levels);
  uint32_t next_leaf = 0;
  for (size_t c = 0; c < levels; ++c) {
    out.anchor_idx[c].assign(anchor_idx[c].begin(), anchor_idx[c].end());
    for (const auto& d : deltas[c]) out.deltas[c].push_back({d.x(), d.y()});
    out.first_tree.push_back(static_cast<uint32_t>(out.trees.size()));
    for (auto& tree : forests[c]) {
      float max_abs = 0.f;
      for (const auto& leaf : tree.leaf_values) max_abs = std::max(max_abs, dlib::max(dlib::abs(leaf)));
      if (!std::isfinite(max_abs)) throw corrupt("leaf values");
      const float scale = max_abs > 0.f ? max_abs / 32767.f : 1.f;
      out.trees.push_back({static_cast<uint32_t>(out.splits.size()), static_cast<uint32_t>(tree.splits.size()),
                           next_leaf, scale});
      for (const auto& s : tree.splits) {
        out.splits.push_back({static_cast<uint16_t>(s.idx1), static_cast<uint16_t>(s.idx2), s.thresh});
      }
      for (const auto& leaf : tree.leaf_values) {
        int16_t* q = out.leaves.get() + static_cast<size_t>(next_leaf) * shape_floats;
        for (size_t k = 0; k < shape_floats; ++k) q[k] = static_cast<int16_t>(std::lround(leaf(k) / scale));
        ++next_leaf;
      }
      tree.leaf_values.clear();
      tree.leaf_values.shrink_to_fit();
    }
  }
  out.first_tree.push_back(static_cast<uint32_t>(out.trees.size()));
}

// dlib::impl::find_tform_between_shapes: the least-squares similarity taking the mean shape to the
// current estimate; only its 2x2 part is used (feature pixels move with the face).
void similarity_between(const float* from, const float* to, int parts, float r[2][2]) {
  double mfx = 0, mfy = 0, mtx = 0, mty = 0;
  for (int i = 0; i < parts; ++i) {
    mfx += from[2 * i];
    mfy += from[2 * i + 1];
    mtx += to[2 * i];
    mty += to[2 * i + 1];
  }
  mfx /= parts;
  mfy /= parts;
  mtx /= parts;
  mty /= parts;
  double sxx = 0, dot = 0, cross = 0;
  for (int i = 0; i < parts; ++i) {
    const double fx = from[2 * i] - mfx, fy = from[2 * i + 1] - mfy;
    const double tx = to[2 * i] - mtx, ty = to[2 * i + 1] - mty;
    sxx += fx * fx + fy * fy;
    dot += fx * tx + fy * ty;
    cross += fx * ty - fy * tx;
  }
  const double a = sxx > 0 ? dot / sxx : 1.0, b = sxx > 0 ? cross / sxx : 0.0;
  r[0][0] = static_cast<float>(a);
  r[0][1] = static_cast<float>(-b);
  r[1][0] = static_cast<float>(b);
  r[1][1] = static_cast<float>(a);
}

}  // namespace

struct LandmarkPredictor::Impl {
  PackedModel model;
  std::string sha256;
};

LandmarkPredictor::LandmarkPredictor(const std::string& model_path, const std::string& expected_sha256)
    : impl_(std::make_unique<Impl>()) {
  // The model's SHA-256, checked before use (recorded for this very file while it is unchanged, else
  // computed: model_cache.h). Then the parsed model: from the model cache entry named by that SHA-256,
  // else parsed from dlib's serialization and cached.
  const std::string identity = file_identity(model_path);  // before hashing: the parse is cached only if unchanged
  impl_->sha256 = checked_model_sha256(model_path, expected_sha256, "landmark model",
                                       std::string("the 68-point model: Debian's libdlib-data installs ") +
                                           kDefaultLandmarkModelPath + "; the 5-point model: scripts/fetch-models.sh fetches " +
                                           kFivePointLandmarkModelFile);
  const std::string cache_key = "shape-predictor-v2-" + impl_->sha256 + ".packed";
  if (const auto cached = read_cache_entry(cache_key); cached && deserialize_packed_model(*cached, impl_->model)) return;
  impl_->model = PackedModel{};
  load_model(model_path, impl_->model);
  // Cached under the hash only if the file did not change while it was hashed and parsed.
  if (file_identity(model_path) == identity) write_cache_entry(cache_key, serialize_packed_model(impl_->model));
}

LandmarkPredictor::~LandmarkPredictor() = default;

const std::string& LandmarkPredictor::model_sha256() const { return impl_->sha256; }

LandmarkModelFile landmark_model_file(int points, const std::string& path, const std::string& sha256) {
  if (path.empty()) {
    if (points == 5) return {default_model_path(kFivePointLandmarkModelFile), sha256.empty() ? kFivePointLandmarkModelSha256 : sha256};
    return {kDefaultLandmarkModelPath, sha256.empty() ? kDefaultLandmarkModelSha256 : sha256};
  }
  if (path == kDefaultLandmarkModelPath && sha256.empty()) return {path, kDefaultLandmarkModelSha256};
  return {path, sha256};
}

int LandmarkPredictor::points() const { return static_cast<int>(impl_->model.parts); }

float fit_confidence_of(float spread, int points) {
  const float scale = points == 5 ? 0.015f : 0.05f;
  return std::isfinite(spread) ? std::exp(-std::max(0.f, spread) / scale) : 0.f;
}

LandmarkFit LandmarkPredictor::predict_checked(const Gray8Image& frame_gray, const FaceBox& box) const {
  LandmarkFit fit;
  fit.landmarks = predict(frame_gray, box);
  // The fitted points: all 68, or the five a 5-point model fits (the others follow them).
  std::vector<int> fitted;
  if (points() == 5) {
    fitted.assign(kFivePointIbugIndex.begin(), kFivePointIbugIndex.end());
  } else {
    for (int i = 0; i < 68; ++i) fitted.push_back(i);
  }
  const Landmarks68& lm = fit.landmarks;
  const float eye_distance = std::max(1.f, std::hypot((lm[42].x + lm[45].x - lm[36].x - lm[39].x) / 2.f,
                                                      (lm[42].y + lm[45].y - lm[36].y - lm[39].y) / 2.f));
  const float step = 0.1f * box.width();
  const float shifts[4][2] = {{-step, 0.f}, {step, 0.f}, {0.f, -step}, {0.f, step}};
  double sum = 0;
  for (const auto& shift : shifts) {
    const FaceBox moved{box.x0 + shift[0], box.y0 + shift[1], box.x1 + shift[0], box.y1 + shift[1], box.score};
    const Landmarks68 again = predict(frame_gray, moved);
    for (int i : fitted) sum += std::pow(again[i].x - lm[i].x, 2) + std::pow(again[i].y - lm[i].y, 2);
  }
  fit.spread = static_cast<float>(std::sqrt(sum / (4.0 * fitted.size()))) / eye_distance;
  fit.confidence = fit_confidence_of(fit.spread, points());
  return fit;
}

Landmarks68 LandmarkPredictor::predict(const Gray8Image& frame_gray, const FaceBox& box) const {
  if (frame_gray.empty() || frame_gray.pixels.size() < static_cast<size_t>(frame_gray.width) * frame_gray.height) {
    throw InternalError("landmark prediction on an empty or malformed image");
  }
  if (!(std::isfinite(box.x0) && std::isfinite(box.y0) && std::isfinite(box.x1) && std::isfinite(box.y1)) ||
      box.width() < 2.f || box.height() < 2.f) {
    throw InternalError("landmark prediction on a degenerate face box");
  }
  const PackedModel& m = impl_->model;
  // Normalized shape space -> image: (0,0) -> top-left pixel, (1,1) -> bottom-right pixel of the
  // box, as dlib::impl::unnormalizing_tform does for an inclusive dlib::rectangle.
  const float ox = box.x0, oy = box.y0;
  const float sx = box.x1 - 1.f - box.x0, sy = box.y1 - 1.f - box.y0;
  const int width = frame_gray.width, height = frame_gray.height;
  const uint8_t* pixels = frame_gray.pixels.data();

  const int parts = static_cast<int>(m.parts);
  const int shape_floats = 2 * parts;
  float shape[kMaxLandmarkShapeFloats];
  std::copy_n(m.initial_shape.data(), shape_floats, shape);
  std::vector<float> values;
  const size_t levels = m.deltas.size();
  for (size_t c = 0; c < levels; ++c) {
    // Sample this level's feature pixels, placed relative to the current shape estimate.
    float r[2][2];
    similarity_between(m.initial_shape.data(), shape, parts, r);
    const auto& anchors = m.anchor_idx[c];
    const auto& deltas = m.deltas[c];
    values.resize(deltas.size());
    for (size_t i = 0; i < deltas.size(); ++i) {
      const int a = anchors[i];
      const float u = r[0][0] * deltas[i].x + r[0][1] * deltas[i].y + shape[2 * a];
      const float v = r[1][0] * deltas[i].x + r[1][1] * deltas[i].y + shape[2 * a + 1];
      const long px = static_cast<long>(std::floor(ox + u * sx + 0.5f));
      const long py = static_cast<long>(std::floor(oy + v * sy + 0.5f));
      values[i] = (px >= 0 && py >= 0 && px < width && py < height)
                      ? static_cast<float>(pixels[static_cast<size_t>(py) * width + px])
                      : 0.f;
    }
    // Walk every tree of the level to its leaf and add the leaf (a shape increment).
    const float* value = values.data();
    for (uint32_t t = m.first_tree[c]; t < m.first_tree[c + 1]; ++t) {
      const PackedTree& tree = m.trees[t];
      const PackedSplit* splits = m.splits.data() + tree.first_split;
      uint32_t node = 0;
      while (node < tree.split_count) {
        const PackedSplit& s = splits[node];
        node = (value[s.idx1] - value[s.idx2] > s.thresh) ? 2 * node + 1 : 2 * node + 2;
      }
      const int16_t* leaf = m.leaves.get() + static_cast<size_t>(tree.first_leaf + node - tree.split_count) * shape_floats;
      const float scale = tree.scale;
      for (int k = 0; k < shape_floats; ++k) shape[k] += scale * static_cast<float>(leaf[k]);
    }
  }
  if (parts == 5) {
    FivePointLandmarks five;
    for (int i = 0; i < 5; ++i) five[i] = {ox + shape[2 * i] * sx, oy + shape[2 * i + 1] * sy};
    return landmarks_from_five_points(five);
  }
  Landmarks68 out;
  for (int i = 0; i < 68; ++i) out[i] = {ox + shape[2 * i] * sx, oy + shape[2 * i + 1] * sy};
  return out;
}

}  // namespace facetrain
