#include "facetrain/matte/matte_apply.h"

#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"
#include "facetrain/base/log.h"
#include "facetrain/base/sha256.h"
#include "facetrain/faceset/usable_faces.h"
#include "facetrain/faceset/visible_mattes.h"
#include "facetrain/matte/matte_faces.h"
#include "facetrain/matte/visible_matte_net.h"
#include "facetrain/model/torch_device.h"
#include "facetrain/media/image_io.h"
#include "facetrain/occlusion/temporal_matte.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <algorithm>
#include <map>
#include <set>
#include <numeric>
#include <random>

namespace facetrain {

namespace {

using Clock = std::chrono::steady_clock;

// A fresh folder name for this run's mattes: the old folder stays until the new index is committed.
std::string fresh_folder_name(const std::string& model_sha256) {
  std::random_device entropy;
  return fmt::format("mattes/visible-{}-{:08x}", model_sha256.substr(0, 8), entropy());
}

std::vector<float> luma_of(const torch::Tensor& rgb_interleaved) {  // [R,R,3] -> R*R
  const torch::Tensor y = (rgb_interleaved.select(2, 0) * 0.2126f + rgb_interleaved.select(2, 1) * 0.7152f +
                           rgb_interleaved.select(2, 2) * 0.0722f).contiguous();
  return {y.data_ptr<float>(), y.data_ptr<float>() + y.numel()};
}

}  // namespace

MatteApplyReport run_matte_apply(const MatteApplyJob& job, ProgressSink& progress) {
  const auto start = Clock::now();
  if (job.window < 0 || job.window > 50) throw UsageError(fmt::format("--window {}: 0 to 50 frames", job.window));
  MatteModelInfo info;
  VisibleMatteNet net = load_matte_model(job.model.string(), info);
  const std::string model_sha256 = sha256_file_hex(job.model);
  const UsableFaces usable = read_usable_faces(job.faces);
  const FaceSetManifest& manifest = usable.set.manifest;
  if (info.face_type != manifest.face_type || info.crop_size_px != manifest.size)
    throw ConfigError(fmt::format("--model {} was trained on {} crops of {} px, but --faces {} holds {} crops of {} px: "
                                  "train a matte model on this face set (facetrain matte train --faces {})",
                                  job.model.string(), info.face_type, info.crop_size_px, job.faces.string(),
                                  manifest.face_type, manifest.size, job.faces.string()));
  const torch::Device device = select_device(job.device);
  net->to(device);
  net->eval();
  torch::NoGradGuard no_grad;
  const int r = info.resolution_px;
  const int crop_px = manifest.size;
  const size_t n = usable.faces.size();

  // 1. The network's matte of every face, at its resolution (with the crop's luma for smoothing).
  std::vector<std::vector<float>> mattes(n), lumas(n);
  std::vector<double> hull_area(n, 0.0);
  progress.begin("matte apply", static_cast<int64_t>(n));
  const size_t batch = static_cast<size_t>(std::max(1, job.batch));
  for (size_t begin = 0; begin < n; begin += batch) {
    if (progress.stop_requested()) throw TemporaryError("matte apply: stopped; the face set's mattes are unchanged");
    std::vector<size_t> indices(std::min(batch, n - begin));
    std::iota(indices.begin(), indices.end(), begin);
    const MatteFaces faces = load_matte_faces(usable, indices, r);
    const torch::Tensor predicted = torch::sigmoid(net->forward(planar(faces.rgb).to(device))).to(torch::kCPU).contiguous();
    for (size_t k = 0; k < indices.size(); ++k) {
      const torch::Tensor p = predicted[static_cast<int64_t>(k)];
      mattes[begin + k].assign(p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
      lumas[begin + k] = luma_of(faces.rgb[static_cast<int64_t>(k)]);
      hull_area[begin + k] = faces.hull[static_cast<int64_t>(k)].sum().item<double>();
    }
    progress.update(static_cast<int64_t>(begin + indices.size()));
  }
  progress.end();

  // 2. Smoothing along each track: runs of one (source, track) in consecutive frames.
  std::map<std::pair<std::string, int>, std::vector<size_t>> tracks;
  for (size_t i = 0; i < n; ++i) tracks[{usable.faces[i].record->source, usable.faces[i].face->track}].push_back(i);
  std::vector<std::vector<float>> smoothed(n);
  std::vector<double> flicker_before, flicker_after;
  for (const auto& [key, members] : tracks) {
    size_t run_begin = 0;
    for (size_t k = 1; k <= members.size(); ++k) {
      const bool breaks = k == members.size() ||
                          usable.faces[members[k]].record->frame != usable.faces[members[k - 1]].record->frame + 1;
      if (!breaks) continue;
      std::vector<TrackMatte> run;
      for (size_t m = run_begin; m < k; ++m) run.push_back({&mattes[members[m]], &lumas[members[m]]});
      auto result = smooth_mattes_over_track(run, job.window);
      std::vector<TrackMatte> after;
      for (size_t m = run_begin; m < k; ++m) {
        smoothed[members[m]] = std::move(result[m - run_begin]);
        after.push_back({&smoothed[members[m]], &lumas[members[m]]});
      }
      if (run.size() >= 2) {
        const double before_ratio = matte_flicker_ratio(run), after_ratio = matte_flicker_ratio(after);
        if (std::isfinite(before_ratio) && std::isfinite(after_ratio)) {
          flicker_before.push_back(before_ratio);
          flicker_after.push_back(after_ratio);
        }
      }
      run_begin = k;
    }
  }

  // 3. Written at the crop size into a fresh folder; the index last, then the old folder goes.
  const std::optional<VisibleMatteIndex> old_index = read_visible_matte_index(job.faces);
  VisibleMatteIndex index;
  index.size = crop_px;
  index.model = job.model.string();
  index.model_sha256 = model_sha256;
  index.window = job.window;
  const std::string folder = fresh_folder_name(model_sha256);
  create_directories_private(job.faces / folder);
  // A failure before the index is committed takes this run's folder back: the face set keeps its
  // old mattes and gains nothing.
  struct RemoveUnlessCommitted {
    std::filesystem::path path;
    bool committed = false;
    ~RemoveUnlessCommitted() {
      std::error_code ec;
      if (!committed) std::filesystem::remove_all(path, ec);
    }
  } new_folder{job.faces / folder};
  double occluded = 0;
  for (size_t i = 0; i < n; ++i) {
    if (progress.stop_requested()) throw TemporaryError("matte apply: stopped; the face set's mattes are unchanged");
    torch::Tensor m = torch::from_blob(smoothed[i].data(), {1, 1, r, r}, torch::kFloat32);
    namespace F = torch::nn::functional;
    m = F::interpolate(m, F::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{crop_px, crop_px})
                              .mode(torch::kBilinear)
                              .align_corners(false))
            .mul(255)
            .round()
            .clamp(0, 255)
            .to(torch::kUInt8)
            .contiguous();
    Gray8Image image;
    image.width = image.height = crop_px;
    image.pixels.assign(m.data_ptr<uint8_t>(), m.data_ptr<uint8_t>() + m.numel());
    const FaceRecord& face = *usable.faces[i].face;
    const std::string name = folder + "/" + std::filesystem::path(face.crop).filename().string();
    write_png(job.faces / name, image, kDefaultPngCompressionLevel, Durability::deferred);
    index.faces[face.crop] = {name, sha256_file_hex(job.faces / name)};
    double visible = 0;
    for (float v : smoothed[i]) visible += v;
    if (hull_area[i] > 0) occluded += std::clamp(1.0 - visible / hull_area[i], 0.0, 1.0);
  }
  sync_filesystem(job.faces / folder);
  write_visible_matte_index(job.faces, index);
  new_folder.committed = true;
  if (old_index) {
    std::set<std::filesystem::path> old_folders;
    for (const auto& [crop, file] : old_index->faces) old_folders.insert(std::filesystem::path(file.matte).parent_path());
    std::error_code ec;
    for (const auto& old : old_folders)
      if (old != std::filesystem::path(folder) && old.string().rfind("mattes/visible-", 0) == 0)
        std::filesystem::remove_all(job.faces / old, ec);
  }

  MatteApplyReport report;
  report.faces = static_cast<int>(n);
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  report.ms_per_face = n ? 1000 * report.seconds / n : 0;
  const auto mean = [](const std::vector<double>& v) {
    return v.empty() ? std::nan("") : std::accumulate(v.begin(), v.end(), 0.0) / v.size();
  };
  report.flicker_before = mean(flicker_before);
  report.flicker_after = mean(flicker_after);
  report.occluded_share = n ? occluded / n : 0;
  report.index = job.faces / kVisibleMatteIndex;
  return report;
}

}  // namespace facetrain
