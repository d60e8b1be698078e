// LandmarkPredictor on dlib's 68-point shape predictor (an ensemble of regression trees, Kazemi &
// Sullivan 2014). The model file is dlib's own serialization of dlib::shape_predictor; we read the
// same fields into our own struct and run the cascade here so that the landmarks keep their
// sub-pixel precision (dlib::full_object_detection rounds every part to whole pixels, which shows up
// as one-pixel jitter in aligned crops) and so that the face box may have fractional corners (the
// tracker derives boxes from smoothed landmarks).
#include "data_prep/face/landmark_predictor.h"

#include "facetrain/base/error.h"
#include "facetrain/base/sha256.h"

#include <dlib/image_processing/shape_predictor.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>

namespace facetrain {

namespace {

constexpr int kShapeFloats = 2 * 68;

// The fields of dlib::shape_predictor, in its serialization order (version 1).
struct ShapeModel {
  dlib::matrix<float, 0, 1> initial_shape;                                   // 2*N, box-normalized
  std::vector<std::vector<dlib::impl::regression_tree>> forests;            // one forest per cascade
  std::vector<std::vector<unsigned long>> anchor_idx;                      // per cascade, per feature pixel
  std::vector<std::vector<dlib::vector<float, 2>>> deltas;                 // offset from the anchor part
};


void read_shape_model(const std::string& path, ShapeModel& model) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputDataError("cannot open landmark model '" + path + "'");
  try {
    int version = 0;
    dlib::deserialize(version, in);
    if (version != 1) {
      throw InputDataError("landmark model '" + path + "' is not a dlib shape predictor (serialization version " +
                           std::to_string(version) + ")");
    }
    dlib::deserialize(model.initial_shape, in);
    dlib::deserialize(model.forests, in);
    dlib::deserialize(model.anchor_idx, in);
    dlib::deserialize(model.deltas, in);
  } catch (const dlib::serialization_error& e) {
    throw InputDataError("landmark model '" + path + "' is not a readable dlib shape predictor: " + e.what());
  } catch (const std::bad_alloc&) {
    throw InputDataError("landmark model '" + path + "' is corrupt (implausible sizes)");
  }
  const size_t cascades = model.forests.size();
  if (model.initial_shape.size() != 2 * 68 || cascades == 0 || model.anchor_idx.size() != cascades ||
      model.deltas.size() != cascades) {
    throw InputDataError("landmark model '" + path + "' does not predict 68 landmarks (it has " +
                         std::to_string(model.initial_shape.size() / 2) + " parts)");
  }
  // Validate every index once so that predict() can index without checks.
  for (size_t c = 0; c < cascades; ++c) {
    const size_t features = model.deltas[c].size();
    if (model.anchor_idx[c].size() != features) throw InputDataError("landmark model '" + path + "' is corrupt");
    for (unsigned long a : model.anchor_idx[c]) {
      if (a >= 68) throw InputDataError("landmark model '" + path + "' is corrupt (anchor index)");
    }
    for (const auto& tree : model.forests[c]) {
      if (tree.leaf_values.size() != tree.splits.size() + 1) {
        throw InputDataError("landmark model '" + path + "' is corrupt (tree shape)");
      }
      for (const auto& split : tree.splits) {
        if (split.idx1 >= features || split.idx2 >= features) {
          throw InputDataError("landmark model '" + path + "' is corrupt (split index)");
        }
      }
      for (const auto& leaf : tree.leaf_values) {
        if (leaf.size() != kShapeFloats) throw InputDataError("landmark model '" + path + "' is corrupt (leaf size)");
      }
    }
  }
}

}  // namespace

struct LandmarkPredictor::Impl {
  ShapeModel model;
  std::string sha256;
};

LandmarkPredictor::LandmarkPredictor(const std::string& model_path, const std::string& expected_sha256)
    : impl_(std::make_unique<Impl>()) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(model_path, ec)) {
    throw MissingInputError("landmark model '" + model_path +
                            "' not found (Debian: apt-get install libdlib-data, which installs " +
                            kDefaultLandmarkModelPath + ")");
  }
  impl_->sha256 = sha256_file_hex(model_path);
  if (!expected_sha256.empty() && impl_->sha256 != expected_sha256) {
    throw InputDataError("landmark model '" + model_path + "' has SHA-256 " + impl_->sha256 + ", expected " +
                         expected_sha256 + " (wrong or corrupt file; reinstall libdlib-data)");
  }
  read_shape_model(model_path, impl_->model);
}

LandmarkPredictor::~LandmarkPredictor() = default;

const std::string& LandmarkPredictor::model_sha256() const { return impl_->sha256; }

Landmarks68 LandmarkPredictor::predict(const Gray8Image& frame_gray, const FaceBox& box) const {
  if (frame_gray.empty() || frame_gray.pixels.size() < static_cast<size_t>(frame_gray.width) * frame_gray.height) {
    throw InternalError("landmark prediction on an empty or malformed image");
  }
  if (!(std::isfinite(box.x0) && std::isfinite(box.y0) && std::isfinite(box.x1) && std::isfinite(box.y1)) ||
      box.width() < 2.f || box.height() < 2.f) {
    throw InternalError("landmark prediction on a degenerate face box");
  }
  const ShapeModel& m = impl_->model;
  // Normalized shape space -> image: (0,0) -> top-left pixel, (1,1) -> bottom-right pixel of the
  // box, as dlib::impl::unnormalizing_tform does for an inclusive dlib::rectangle.
  const float ox = box.x0, oy = box.y0;
  const float sx = box.x1 - 1.f - box.x0, sy = box.y1 - 1.f - box.y0;
  const int width = frame_gray.width, height = frame_gray.height;
  const uint8_t* pixels = frame_gray.pixels.data();

  dlib::matrix<float, 0, 1> shape = m.initial_shape;
  float* shape_data = &shape(0);
  std::vector<float> feature_values;
  for (size_t c = 0; c < m.forests.size(); ++c) {
    // Similarity from the mean shape to the current estimate moves the feature pixels with the face.
    const dlib::matrix<float, 2, 2> r =
        dlib::matrix_cast<float>(dlib::impl::find_tform_between_shapes(m.initial_shape, shape).get_m());
    const auto& anchors = m.anchor_idx[c];
    const auto& deltas = m.deltas[c];
    feature_values.resize(deltas.size());
    for (size_t i = 0; i < deltas.size(); ++i) {
      const unsigned long a = anchors[i];
      const float u = r(0, 0) * deltas[i].x() + r(0, 1) * deltas[i].y() + shape(2 * a);
      const float v = r(1, 0) * deltas[i].x() + r(1, 1) * deltas[i].y() + shape(2 * a + 1);
      const long px = static_cast<long>(std::floor(ox + u * sx + 0.5f));
      const long py = static_cast<long>(std::floor(oy + v * sy + 0.5f));
      feature_values[i] = (px >= 0 && py >= 0 && px < width && py < height)
                              ? static_cast<float>(pixels[static_cast<size_t>(py) * width + px])
                              : 0.f;
    }
    // Walk every tree of this cascade level to its leaf and add the leaf (a shape increment).
    for (const auto& tree : m.forests[c]) {
      const auto& splits = tree.splits;
      size_t node = 0;
      while (node < splits.size()) {
        const auto& sp = splits[node];
        node = (feature_values[sp.idx1] - feature_values[sp.idx2] > sp.thresh) ? 2 * node + 1 : 2 * node + 2;
      }
      const float* leaf = &tree.leaf_values[node - splits.size()](0);
      for (int k = 0; k < kShapeFloats; ++k) shape_data[k] += leaf[k];
    }
  }
  Landmarks68 out;
  for (int i = 0; i < 68; ++i) {
    out[i] = {ox + shape(2 * i) * sx, oy + shape(2 * i + 1) * sy};
  }
  return out;
}

}  // namespace facetrain
