#include "facetrain/train/training_scores.h"

#include "facetrain/quality/checkerboard.h"
#include "facetrain/quality/image_similarity.h"
#include "facetrain/quality/sharpness.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace facetrain {

namespace {

// The RGB head's shuffle and the last upscale block's before it: periods 2 and 4 pixels.
constexpr int kCheckerboardLevels = 2;

// [N,C,R,R] -> N interleaved images (R*R*C floats), on the CPU.
std::vector<std::vector<float>> interleaved(const at::Tensor& nchw) {
  const at::Tensor t = nchw.detach().to(torch::kCPU, torch::kFloat32).permute({0, 2, 3, 1}).contiguous();
  const int64_t n = t.size(0), per_image = t.numel() / std::max<int64_t>(1, n);
  const float* data = t.data_ptr<float>();
  std::vector<std::vector<float>> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[i].assign(data + i * per_image, data + (i + 1) * per_image);
  return out;
}

}  // namespace

nlohmann::json reconstruction_metrics(const at::Tensor& output, const at::Tensor& target, const at::Tensor& mask,
                                      const std::string& prefix) {
  const int height = static_cast<int>(target.size(2)), width = static_cast<int>(target.size(3));
  const auto out = interleaved(output.clamp(0, 1)), reference = interleaved(target), weights = interleaved(mask);
  double ssim_sum = 0, ms_ssim_sum = 0, psnr_sum = 0;
  int ssim_n = 0, ms_ssim_n = 0, psnr_n = 0;
  // Summed over the faces before dividing: one face's few peak bins are too noisy to average ratios.
  PeriodicEnergy out_energy, target_energy;
  double out_laplacian = 0, target_laplacian = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const ReconstructionScores s = reconstruction_scores(out[i], reference[i], width, height, weights[i]);
    if (std::isfinite(s.ssim)) ssim_sum += s.ssim, ++ssim_n;
    if (std::isfinite(s.ms_ssim)) ms_ssim_sum += s.ms_ssim, ++ms_ssim_n;
    if (std::isfinite(s.psnr_db)) psnr_sum += s.psnr_db, ++psnr_n;
    out_energy += periodic_energy(out[i], width, height, weights[i], kCheckerboardLevels);
    target_energy += periodic_energy(reference[i], width, height, weights[i], kCheckerboardLevels);
    out_laplacian += laplacian_energy(out[i], width, height, weights[i]);
    target_laplacian += laplacian_energy(reference[i], width, height, weights[i]);
  }
  nlohmann::json metrics = nlohmann::json::object();
  if (ssim_n > 0) metrics[prefix + "ssim"] = ssim_sum / ssim_n;
  if (ms_ssim_n > 0) metrics[prefix + "ms_ssim"] = ms_ssim_sum / ms_ssim_n;
  if (psnr_n > 0) metrics[prefix + "psnr_db"] = psnr_sum / psnr_n;
  const double checkerboard = out_energy.ratio() / target_energy.ratio();
  if (std::isfinite(checkerboard)) metrics[prefix + "checkerboard_ratio"] = checkerboard;
  if (target_laplacian > 0) metrics[prefix + "sharpness_ratio"] = out_laplacian / target_laplacian;
  return metrics;
}

namespace {

// Faces (float [N,3,R,R] in 0..1 or uint8) as 8-bit crops, and their landmarks (float [N,68,2]).
std::vector<Rgb8Image> rgb8_crops(const at::Tensor& images) {
  at::Tensor rgb = images.detach().to(torch::kCPU);
  if (rgb.scalar_type() != torch::kUInt8) rgb = rgb.to(torch::kFloat32).clamp(0, 1).mul(255).round().to(torch::kUInt8);
  rgb = rgb.permute({0, 2, 3, 1}).contiguous();
  std::vector<Rgb8Image> crops(static_cast<size_t>(rgb.size(0)));
  for (int64_t i = 0; i < rgb.size(0); ++i) {
    Rgb8Image& crop = crops[i];
    crop.height = static_cast<int>(rgb.size(1));
    crop.width = static_cast<int>(rgb.size(2));
    const uint8_t* data = rgb[i].data_ptr<uint8_t>();
    crop.pixels.assign(data, data + rgb[i].numel());
  }
  return crops;
}

std::vector<Landmarks68> landmark_list(const at::Tensor& landmarks) {
  const at::Tensor points = landmarks.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  std::vector<Landmarks68> out(static_cast<size_t>(points.size(0)));
  for (int64_t i = 0; i < points.size(0); ++i) {
    const float* p = points[i].data_ptr<float>();
    for (size_t k = 0; k < out[i].size(); ++k) out[i][k] = {p[2 * k], p[2 * k + 1]};
  }
  return out;
}

}  // namespace

std::vector<FaceDescriptor> face_descriptors(FaceScorer& scorer, const at::Tensor& images, const at::Tensor& landmarks) {
  const std::vector<Rgb8Image> crops = rgb8_crops(images);
  const std::vector<Landmarks68> points = landmark_list(landmarks);
  std::vector<FaceToScore> faces(crops.size());
  for (size_t i = 0; i < crops.size(); ++i) faces[i] = {&crops[i], points[i]};
  return scorer.descriptors(faces);
}

nlohmann::json expression_metrics(FaceScorer& scorer, const at::Tensor& swapped, const at::Tensor& originals,
                                  const at::Tensor& landmarks, const std::string& prefix) {
  if (scorer.landmark_points() != 68) return nlohmann::json::object();
  const std::vector<Rgb8Image> out = rgb8_crops(swapped), in = rgb8_crops(originals);
  const std::vector<Landmarks68> points = landmark_list(landmarks);
  double sum = 0;
  int n = 0;
  for (size_t i = 0; i < out.size() && i < in.size() && i < points.size(); ++i) {
    FaceBox box{points[i][0].x, points[i][0].y, points[i][0].x, points[i][0].y};
    for (const Point2f& p : points[i]) {
      box.x0 = std::min(box.x0, p.x), box.y0 = std::min(box.y0, p.y);
      box.x1 = std::max(box.x1, p.x), box.y1 = std::max(box.y1, p.y);
    }
    // Both refitted the same way in the same box (as swap scores them), so the fit's own error cancels.
    const double error = landmark_error_iod(scorer.refit_landmarks(in[i], box), scorer.refit_landmarks(out[i], box));
    if (std::isfinite(error)) sum += error, ++n;
  }
  if (n == 0) return nlohmann::json::object();
  return {{prefix + "landmark_error", sum / n}};
}

IdentityReference make_identity_reference(FaceScorer& scorer, const FacePack& actor, const FacePack& double_,
                                          int max_faces) {
  auto reference_of = [&](const FacePack& pack, int& count) {
    const int64_t available = pack.train_count > 0 ? pack.train_count : pack.size();
    const int64_t n = std::min<int64_t>(max_faces, available);
    count = static_cast<int>(n);
    if (n <= 0) return FaceDescriptor{};
    const at::Tensor index = torch::linspace(0, static_cast<double>(available - 1), n, torch::kFloat64).round().to(torch::kLong);
    const at::Tensor cpu_index = index.to(pack.images.device());
    return mean_descriptor(face_descriptors(scorer, pack.images.index_select(0, cpu_index),
                                            pack.landmarks.index_select(0, cpu_index)));
  };
  IdentityReference out;
  out.actor = reference_of(actor, out.actor_faces);
  out.double_ = reference_of(double_, out.double_faces);
  out.model_sha256 = scorer.identity_model_sha256();
  return out;
}

nlohmann::json identity_metrics(const std::vector<FaceDescriptor>& faces, const IdentityReference& reference,
                                const std::string& prefix) {
  std::vector<IdentityScore> scores;
  for (const FaceDescriptor& d : faces) scores.push_back(score_identity(d, reference));
  const IdentitySummary s = summarize_identity(scores);
  if (s.faces == 0) return nlohmann::json::object();
  return {{prefix + "to_actor", s.mean_to_actor},
          {prefix + "to_double", s.mean_to_double},
          {prefix + "closer_to_actor", s.closer_to_actor},
          {prefix + "same_as_actor", s.same_as_actor}};
}

}  // namespace facetrain
