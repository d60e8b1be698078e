#include "facetrain/train/face_pack.h"

#include "facetrain/face/alignment.h"
#include "facetrain/face/face_types.h"
#include "facetrain/media/image_io.h"
#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"
#include "facetrain/base/log.h"
#include "facetrain/base/sha256.h"
#include "facetrain/faceset/faceset.h"
#include "facetrain/train/tensor_file.h"
#include "facetrain/swap/visible_face_matte.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace facetrain {

int64_t FacePack::size() const { return images.defined() ? images.size(0) : 0; }

FacePack FacePack::to(c10::Device device) const {
  FacePack moved = *this;
  moved.images = images.to(device);
  moved.masks = masks.to(device);
  moved.landmarks = landmarks.to(device);
  return moved;
}

namespace {

std::string pack_hash(const FaceSet& set, const std::vector<UsableFace>& faces, int resolution_px,
                      double validation_fraction, const VisibleFaceMattes& visible) {
  std::string text = fmt::format("pack v1 res={} val={}\n", resolution_px, validation_fraction);
  if (visible.available()) text += "visible " + visible.content_sha256() + "\n";
  std::error_code ec;
  for (const auto& f : faces) {
    const auto path = set.directory / f.face->crop;
    const auto mtime = std::filesystem::last_write_time(path, ec).time_since_epoch().count();
    text += fmt::format("{} {} {} {} {}\n", f.record->source, f.record->frame, f.face->crop,
                        std::filesystem::file_size(path, ec), mtime);
    for (double v : f.face->aligned_from_frame) text += fmt::format("{} ", v);
    text += '\n';
  }
  return sha256_hex(text);
}

FacePack pack_faces(const FaceSet& set, const std::vector<UsableFace>& faces, int resolution_px,
                    const VisibleFaceMattes& visible) {
  const int64_t n = static_cast<int64_t>(faces.size());
  const int crop_px = set.manifest.size;
  const double scale = static_cast<double>(resolution_px) / crop_px;
  FacePack pack;
  pack.images = torch::empty({n, 3, resolution_px, resolution_px}, torch::kUInt8);
  pack.masks = torch::empty({n, 1, resolution_px, resolution_px}, torch::kUInt8);
  pack.landmarks = torch::empty({n, 68, 2}, torch::kFloat32);
  auto landmarks = pack.landmarks.accessor<float, 3>();
  for (int64_t i = 0; i < n; ++i) {
    const auto& f = faces[static_cast<size_t>(i)];
    const Rgb8Image crop = read_rgb8(set.directory / f.face->crop);
    if (crop.width != crop_px || crop.height != crop_px)
      throw InputDataError(fmt::format("{}: crop is {}x{}, the face set says {} px", (set.directory / f.face->crop).string(),
                                       crop.width, crop.height, crop_px));
    auto image = torch::from_blob(const_cast<uint8_t*>(crop.pixels.data()), {crop_px, crop_px, 3}, torch::kUInt8)
                     .permute({2, 0, 1})
                     .unsqueeze(0)
                     .to(torch::kFloat32);
    if (crop_px != resolution_px) {
      namespace F = torch::nn::functional;
      auto options = F::InterpolateFuncOptions().size(std::vector<int64_t>{resolution_px, resolution_px});
      if (crop_px % resolution_px == 0) options.mode(torch::kArea);  // exact box filter on integer ratios
      else options.mode(torch::kBilinear).align_corners(false);
      image = F::interpolate(image, options);
    }
    pack.images[i] = image.round().clamp(0, 255).to(torch::kUInt8)[0];
    // Landmarks and the hull mask at the model's resolution, straight from the stored alignment.
    const auto& m = f.face->aligned_from_frame;
    Affine2d aligned{m[0] * scale, m[1] * scale, m[2] * scale, m[3] * scale, m[4] * scale, m[5] * scale};
    Landmarks68 in_frame;
    for (size_t p = 0; p < 68; ++p) {
      in_frame[p] = {static_cast<float>(f.face->landmarks[p][0]), static_cast<float>(f.face->landmarks[p][1])};
      const Point2f q = aligned.apply(in_frame[p]);
      landmarks[i][static_cast<int64_t>(p)][0] = q.x;
      landmarks[i][static_cast<int64_t>(p)][1] = q.y;
    }
    Gray8Image mask = face_hull_mask(in_frame, aligned, resolution_px);
    // With visible-face mattes (issue 24) the mask is the visible face: the losses leave out what is
    // in front of it, and the learned mask learns to leave it out too.
    if (const std::vector<float> matte = visible.load(f.face->crop); !matte.empty()) {
      const std::vector<float> at_resolution = resample_square_matte(matte, crop_px, resolution_px);
      for (size_t p = 0; p < mask.pixels.size(); ++p)
        mask.pixels[p] = static_cast<uint8_t>(std::min<float>(mask.pixels[p], std::round(at_resolution[p] * 255.f)));
    }
    std::memcpy(pack.masks[i].data_ptr<uint8_t>(), mask.pixels.data(), mask.pixels.size());
  }
  return pack;
}

}  // namespace

FacePack load_face_pack(const UsableFaces& usable, int resolution_px, double validation_fraction,
                        const std::filesystem::path& cache_dir, const std::string& name) {
  const FaceSet& set = usable.set;
  const std::vector<UsableFace>& faces = usable.faces;
  const int64_t deleted = usable.crops_deleted;  // an artist deleted the crop: the face is excluded
  const std::filesystem::path& faceset = set.directory;
  std::error_code ec;
  const VisibleFaceMattes visible(set.directory);
  if (visible.available())
    log_info("{}: visible-face mattes ({}): the losses leave out what is in front of the face", faceset.string(),
             (faceset / kVisibleMatteIndex).string());
  const std::string hash = pack_hash(set, faces, resolution_px, validation_fraction, visible);
  const auto cache_path = cache_dir / fmt::format("{}-{}.pt", name, hash.substr(0, 16));
  const int64_t n = static_cast<int64_t>(faces.size());
  const int64_t held_out = n >= 8 ? std::max<int64_t>(1, static_cast<int64_t>(n * validation_fraction)) : 0;

  FacePack pack;
  if (std::filesystem::exists(cache_path, ec)) {
    std::vector<torch::Tensor> tensors;
    try {
      torch::load(tensors, cache_path.string());
    } catch (const c10::Error&) {
      tensors.clear();
    }
    if (tensors.size() == 3 && tensors[0].size(0) == n) {
      pack.images = tensors[0];
      pack.masks = tensors[1];
      pack.landmarks = tensors[2];
      log_info("{}: {} faces from the pack cache {}", faceset.string(), n, cache_path.string());
    } else {
      log_warning("{}: unreadable pack cache, rebuilding", cache_path.string());
    }
  }
  if (!pack.images.defined()) {
    log_info("{}: packing {} faces at {} px{}", faceset.string(), n, resolution_px,
             deleted ? fmt::format(" ({} deleted crops excluded)", deleted) : "");
    pack = pack_faces(set, faces, resolution_px, visible);
    create_directories_private(cache_dir);
    try {  // the cache only saves time: a full disk here is a warning, not the end of training
      AtomicOutput out(cache_path);
      save_tensors({pack.images, pack.masks, pack.landmarks}, out.temp_path());
      out.commit();
    } catch (const IoError& e) {
      log_warning("{}: pack cache not written ({})", faceset.string(), e.what());
    }
  }
  pack.train_count = n - held_out;
  pack.content_sha256 = hash;
  pack.face_type = set.manifest.face_type;
  pack.landmark_points = set.manifest.landmark_points;
  pack.encoding = set.manifest.encoding;
  return pack;
}

at::Tensor held_out_faces(const FacePack& pack, int64_t count) {
  const int64_t first = pack.train_count < pack.size() ? pack.train_count : 0;
  const int64_t n = std::min(count, pack.size() - first);
  return torch::linspace(static_cast<double>(first), static_cast<double>(pack.size() - 1), n,
                         torch::TensorOptions().dtype(torch::kFloat64))
      .round()
      .to(torch::kLong);
}

}  // namespace facetrain
