#include "facetrain/matte/matte_training.h"

#include "facetrain/base/error.h"
#include "facetrain/base/log.h"
#include "facetrain/base/sha256.h"
#include "facetrain/faceset/usable_faces.h"
#include "facetrain/matte/matte_faces.h"
#include "facetrain/matte/track_evidence.h"
#include "facetrain/matte/visible_matte_net.h"
#include "facetrain/model/torch_device.h"
#include "facetrain/occlusion/face_outline.h"
#include "facetrain/occlusion/label_mattes.h"
#include "facetrain/occlusion/occluder_synthesis.h"
#include "facetrain/swap/face_composite.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <set>
#include <map>

namespace facetrain {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Faces an artist labelled: their crops and the visible-face matte the label gives.
struct LabelledFaces {
  std::vector<size_t> faces;           // into usable.faces
  torch::Tensor target;                // float [L,R,R]
  std::vector<int64_t> frames;
};

LabelledFaces read_labels(const MatteTrainJob& job, const UsableFaces& usable, const MatteFaces& all, int resolution) {
  LabelledFaces out;
  if (job.labels.empty()) return out;
  const LabelWhite white_is = parse_label_white(job.labels_white);
  const auto& sources = usable.set.manifest.sources;
  if (sources.size() != 1)
    throw UsageError(fmt::format("--labels: {} holds faces of {} plates; label mattes need a face set of one plate",
                                 job.faces.string(), sources.size()));
  const auto labels = read_label_frames(job.labels, sources[0].width, sources[0].height);
  std::map<int64_t, std::vector<size_t>> faces_by_frame;
  for (size_t i = 0; i < usable.faces.size(); ++i) faces_by_frame[usable.faces[i].record->frame].push_back(i);
  std::vector<int64_t> unknown;
  for (const auto& [frame, label] : labels)
    if (!faces_by_frame.count(frame)) unknown.push_back(frame);
  if (!unknown.empty()) {
    std::string list;
    for (int64_t f : unknown) list += (list.empty() ? "" : ", ") + std::to_string(f);
    throw InputDataError(fmt::format("--labels {}: frame(s) {} have no face in {} (label only frames the face set holds, "
                                     "with the plate's own frame numbers)", job.labels, list, job.faces.string()));
  }
  std::vector<torch::Tensor> targets;
  const int crop_px = usable.set.manifest.size;
  for (const auto& [frame, label] : labels) {
    out.frames.push_back(frame);
    for (size_t i : faces_by_frame[frame]) {
      const auto& face = *usable.faces[i].face;
      const torch::Tensor hull = all.hull[static_cast<int64_t>(i)].contiguous();
      const std::vector<float> region(hull.data_ptr<float>(), hull.data_ptr<float>() + hull.numel());
      std::vector<float> matte = visible_matte_from_label(label.matte, rescale_alignment(face.aligned_from_frame, crop_px, resolution),
                                                          resolution, white_is, region);
      targets.push_back(torch::from_blob(matte.data(), {resolution, resolution}, torch::kFloat32).clone());
      out.faces.push_back(i);
    }
  }
  out.target = torch::stack(targets);
  return out;
}

// Visible-face labels draw the face's outline (hairline, far ear), the landmark hull does not: the
// face region of every face, and so the target of every synthetic and unlabelled one, becomes its
// hull corrected towards the outline the labels draw (outline_correction: by direction from the
// hull's centroid, the labels' upper-quartile reach over the hull's). The labelled faces' own targets
// stay their labels. Only with --outline-from-labels, and only from visible-face labels (labels that
// paint the occluder say nothing of the outline).
void correct_face_outlines(MatteFaces& faces, const LabelledFaces& labelled, int r) {
  const size_t plane = static_cast<size_t>(r) * r;
  auto plane_of = [&](const torch::Tensor& t) {
    const torch::Tensor c = t.contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + plane);
  };
  std::vector<std::vector<float>> hulls, labels;
  for (size_t k = 0; k < labelled.faces.size(); ++k) {
    hulls.push_back(plane_of(faces.hull[static_cast<int64_t>(labelled.faces[k])]));
    labels.push_back(plane_of(labelled.target[static_cast<int64_t>(k)]));
  }
  const OutlineCorrection correction = outline_correction(hulls, labels, r);
  const double before = faces.hull.sum().item<double>();
  for (int64_t i = 0; i < faces.hull.size(0); ++i) {
    std::vector<float> region = corrected_face_region(plane_of(faces.hull[i]), correction, r);
    faces.hull[i].copy_(torch::from_blob(region.data(), {r, r}, torch::kFloat32));
  }
  const auto [lo, hi] = std::minmax_element(correction.scale.begin(), correction.scale.end());
  log_info("matte train: the face outline from {} labelled faces ({} of {} directions seen): {:.2f} to {:.2f} times the "
           "landmark hull's reach, {:+.1f} % of its area", labelled.faces.size(), correction.directions_seen,
           correction.scale.size(), *lo, *hi, 100.0 * (faces.hull.sum().item<double>() / std::max(1.0, before) - 1));
}

// Per-sample loss: binary cross-entropy plus soft Dice, both weighted per pixel, [B].
torch::Tensor matte_loss(const torch::Tensor& logits, const torch::Tensor& target, const torch::Tensor& pixel_weight) {
  namespace F = torch::nn::functional;
  const torch::Tensor bce =
      (F::binary_cross_entropy_with_logits(logits, target, F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone)) *
       pixel_weight).sum({1, 2, 3}) / pixel_weight.sum({1, 2, 3}).clamp_min(1);
  const torch::Tensor p = torch::sigmoid(logits) * pixel_weight;
  const torch::Tensor t = target * pixel_weight;
  const torch::Tensor intersection = (p * t).sum({1, 2, 3});
  const torch::Tensor dice = 1 - (2 * intersection + 1) / (p.sum({1, 2, 3}) + t.sum({1, 2, 3}) + 1);
  return bce + dice;
}

// IoU of the visible pixels, over the pixels where `known` > 0.5 (all where null).
double iou(const float* predicted, const float* target, size_t n, const float* known = nullptr) {
  double inter = 0, uni = 0;
  for (size_t p = 0; p < n; ++p) {
    if (known && known[p] <= 0.5f) continue;
    const bool a = predicted[p] > 0.5f, b = target[p] > 0.5f;
    inter += a && b;
    uni += a || b;
  }
  return uni > 0 ? inter / uni : 1.0;
}

CropSample sample_of(const MatteFaces& faces, int64_t i, int resolution) {
  return {resolution, faces.rgb[i].data_ptr<float>(), faces.hull[i].data_ptr<float>()};
}

// What an unlabelled face teaches ([N,R,R] each): its target (the hull less the real occluders
// track_evidence.h found) and each pixel's weight in the loss (0 where the track evidence says the
// hull cannot be trusted and nothing says what is there).
struct UnlabelledTargets {
  torch::Tensor target;
  torch::Tensor weight;
};

class BatchMaker {
 public:
  BatchMaker(const MatteFaces& faces, const UnlabelledTargets& unlabelled,
             const std::vector<int64_t>& pool, const LabelledFaces& labelled, const std::vector<int64_t>& labelled_rows,
             int resolution, double label_weight, uint64_t seed)
      : faces_(faces), unlabelled_(unlabelled), pool_(pool), labelled_(labelled), labelled_rows_(labelled_rows), r_(resolution),
        label_weight_(label_weight), rng_(seed) {}

  // images [B,3,R,R], targets [B,1,R,R], per-pixel weights [B,1,R,R], per-sample weights [B]
  std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor> make(int batch) {
    const size_t plane = static_cast<size_t>(r_) * r_;
    torch::Tensor images = torch::empty({batch, r_, r_, 3}, torch::kFloat32);
    torch::Tensor targets = torch::empty({batch, 1, r_, r_}, torch::kFloat32);
    torch::Tensor weights = torch::ones({batch}, torch::kFloat32);
    torch::Tensor pixel_weights = torch::ones({batch, 1, r_, r_}, torch::kFloat32);
    std::uniform_real_distribution<double> u(0, 1);
    for (int b = 0; b < batch; ++b) {
      const bool use_label = !labelled_rows_.empty() && u(rng_) < 0.4;
      int64_t row = 0;
      std::vector<float> rgb, target, trust(plane, 1.f);
      if (use_label) {
        const size_t k = std::uniform_int_distribution<size_t>(0, labelled_rows_.size() - 1)(rng_);
        row = labelled_rows_[k];
        const torch::Tensor t = labelled_.target[static_cast<int64_t>(k)].contiguous();
        target.assign(t.data_ptr<float>(), t.data_ptr<float>() + plane);
        weights[b] = label_weight_;
      } else {
        row = pool_[std::uniform_int_distribution<size_t>(0, pool_.size() - 1)(rng_)];
        const float* t = unlabelled_.target[row].data_ptr<float>();
        const float* w = unlabelled_.weight[row].data_ptr<float>();
        target.assign(t, t + plane);
        trust.assign(w, w + plane);
      }
      const float* source = faces_.rgb[row].data_ptr<float>();
      rgb.assign(source, source + plane * 3);
      // Synthetic occluders on most faces (on labelled ones too: the label stays exact under them).
      const double chance = use_label ? 0.3 : 0.85;
      const int count = u(rng_) < chance ? (u(rng_) < 0.25 ? 2 : 1) : 0;
      for (int k = 0; k < count; ++k) {
        const int64_t other = pool_[std::uniform_int_distribution<size_t>(0, pool_.size() - 1)(rng_)];
        const CropSample face{r_, rgb.data(), target.data()};
        const auto kind = static_cast<OccluderKind>(std::uniform_int_distribution<int>(0, kOccluderKindCount - 1)(rng_));
        SynthesizedOcclusion occlusion = synthesize_occlusion(face, sample_of(faces_, other, r_), kind, rng_);
        rgb = std::move(occlusion.rgb);
        target = std::move(occlusion.visible);
        // Under the synthetic occluder the target is exact: trusted whatever the plate did there.
        for (size_t p = 0; p < plane; ++p) trust[p] = std::max(trust[p], occlusion.occluder[p]);
      }
      // Mirror half of them, and vary exposure a little.
      const bool flip = u(rng_) < 0.5;
      const float gain = static_cast<float>(0.8 + 0.4 * u(rng_));
      float* image_out = images[b].data_ptr<float>();
      float* target_out = targets[b].data_ptr<float>();
      float* trust_out = pixel_weights[b].data_ptr<float>();
      for (int y = 0; y < r_; ++y)
        for (int x = 0; x < r_; ++x) {
          const size_t from = static_cast<size_t>(y) * r_ + (flip ? r_ - 1 - x : x);
          const size_t to = static_cast<size_t>(y) * r_ + x;
          target_out[to] = target[from];
          trust_out[to] = trust[from];
          for (int c = 0; c < 3; ++c) image_out[to * 3 + c] = std::clamp(rgb[from * 3 + c] * gain, 0.f, 1.f);
        }
    }
    return {planar(images), targets, pixel_weights, weights};
  }

 private:
  const MatteFaces& faces_;
  const UnlabelledTargets& unlabelled_;
  const std::vector<int64_t>& pool_;
  const LabelledFaces& labelled_;
  const std::vector<int64_t>& labelled_rows_;
  int r_;
  double label_weight_;
  std::mt19937_64 rng_;
};

// IoU of the network's matte and of the landmark hull against exact ground truth, by occluder kind,
// on held-out faces with synthetic occluders (a fixed seed: the same occluders for every model).
// Exact where it is known, as in training: under the synthetic occluder, where the face's own pixels
// are trusted as face, and where a real occluder was found (track_evidence.h: occluder there); the
// pixels left out of the loss (a real occluder the hull calls face, or a face that changed) are left
// out of the score too, or a matte that sees a real thumb would be scored down for it.
void measure_holdout(VisibleMatteNet& net, const MatteFaces& faces, const UnlabelledTargets& unlabelled,
                     const std::vector<int64_t>& holdout, int r, torch::Device device, MatteTrainReport& report) {
  if (holdout.empty()) return;
  net->eval();
  torch::NoGradGuard no_grad;
  std::mt19937_64 rng(20241206);
  const size_t plane = static_cast<size_t>(r) * r;
  std::map<std::string, std::vector<double>> model_scores, hull_scores;
  double forward_seconds = 0;
  int64_t forwarded = 0;
  for (int kind = 0; kind < kOccluderKindCount; ++kind) {
    const auto k = static_cast<OccluderKind>(kind);
    std::vector<SynthesizedOcclusion> samples;
    std::vector<std::vector<float>> known;
    for (size_t i = 0; i < holdout.size(); ++i)
      for (int repeat = 0; repeat < 3; ++repeat) {
        const int64_t row = holdout[i], other = holdout[(i + 1 + repeat) % holdout.size()];
        samples.push_back(synthesize_occlusion(sample_of(faces, row, r), sample_of(faces, other, r), k, rng));
        SynthesizedOcclusion& sample = samples.back();
        const float* target = unlabelled.target[row].data_ptr<float>();
        const float* weight = unlabelled.weight[row].data_ptr<float>();
        known.emplace_back(plane);
        for (size_t p = 0; p < plane; ++p) {  // synthesized on the hull: the real occluders taken out again
          sample.visible[p] = target[p] * (1 - sample.occluder[p]);
          known.back()[p] = (weight[p] >= 0.5f || sample.occluder[p] > 0) ? 1.f : 0.f;
        }
        const float* hull = faces.hull[row].data_ptr<float>();
        hull_scores[to_string(k)].push_back(iou(hull, sample.visible.data(), plane, known.back().data()));
      }
    torch::Tensor images = torch::empty({static_cast<int64_t>(samples.size()), r, r, 3}, torch::kFloat32);
    for (size_t s = 0; s < samples.size(); ++s)
      std::copy(samples[s].rgb.begin(), samples[s].rgb.end(), images[static_cast<int64_t>(s)].data_ptr<float>());
    const auto start = Clock::now();
    const torch::Tensor predicted = torch::sigmoid(net->forward(planar(images).to(device))).to(torch::kCPU).contiguous();
    forward_seconds += seconds_since(start);
    forwarded += static_cast<int64_t>(samples.size());
    for (size_t s = 0; s < samples.size(); ++s)
      model_scores[to_string(k)].push_back(
          iou(predicted[static_cast<int64_t>(s)].data_ptr<float>(), samples[s].visible.data(), plane, known[s].data()));
  }
  const auto mean = [](const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / v.size(); };
  std::vector<double> all_model, all_hull;
  for (const auto& [kind, scores] : model_scores) {
    report.holdout_iou[kind] = mean(scores);
    report.hull_iou[kind] = mean(hull_scores[kind]);
    all_model.insert(all_model.end(), scores.begin(), scores.end());
    all_hull.insert(all_hull.end(), hull_scores[kind].begin(), hull_scores[kind].end());
  }
  report.holdout_iou["all"] = mean(all_model);
  report.hull_iou["all"] = mean(all_hull);
  report.ms_per_face = forwarded > 0 ? 1000 * forward_seconds / forwarded : 0;
}

}  // namespace

MatteTrainReport run_matte_train(const MatteTrainJob& job, ProgressSink& progress) {
  const auto start = Clock::now();
  if (job.output.empty()) throw UsageError("matte train: -o MATTE_MODEL is required");
  if (job.outline_from_labels && (job.labels.empty() || parse_label_white(job.labels_white) != LabelWhite::visible))
    throw UsageError("--outline-from-labels: needs --labels with --labels-white visible (labels that draw the visible face)");
  if (job.resolution_px < 32 || job.resolution_px > 512 || job.resolution_px % 8 != 0)
    throw UsageError(fmt::format("--resolution {}: a multiple of 8 from 32 to 512", job.resolution_px));
  const torch::Device device = select_device(job.device);
  const UsableFaces usable = read_usable_faces(job.faces);
  const int r = job.resolution_px;
  std::vector<size_t> every(usable.faces.size());
  std::iota(every.begin(), every.end(), size_t{0});
  log_info("{}: reading {} faces at {} px for the visible-face matte", job.faces.string(), every.size(), r);
  MatteFaces faces = load_matte_faces(usable, every, r);
  const LabelledFaces labelled = read_labels(job, usable, faces, r);
  if (job.outline_from_labels) correct_face_outlines(faces, labelled, r);

  // Held out: the last tenth of the faces in frame order, never trained on. The synthetic pool: the
  // rest, less the labelled faces and the least confident fifth: by landmark fit confidence where
  // extract recorded it (a real occluder over the face scatters the fit: -0.9 correlation with the
  // covered share on the occlusion ground truth), else by detector score (which a tracked face keeps
  // from its last detection). A real occluder's hull would teach the network that it is face.
  const int64_t n = static_cast<int64_t>(every.size());
  const int64_t held = n >= 10 ? std::max<int64_t>(1, n / 10) : 0;
  std::vector<int64_t> holdout, pool, labelled_rows;
  std::set<size_t> is_labelled(labelled.faces.begin(), labelled.faces.end());
  const bool by_fit = std::all_of(usable.faces.begin(), usable.faces.end(),
                                  [](const UsableFace& f) { return f.face->fit_confidence.has_value(); });
  std::vector<double> scores;
  for (const auto& f : usable.faces) scores.push_back(by_fit ? *f.face->fit_confidence : f.face->score);
  std::vector<double> sorted = scores;
  std::sort(sorted.begin(), sorted.end());
  const double confident = sorted.empty() ? 0 : sorted[sorted.size() / 5];  // the lowest fifth out
  for (int64_t i = 0; i < n; ++i) {
    if (is_labelled.count(static_cast<size_t>(i))) continue;
    if (i >= n - held) holdout.push_back(i);
    else if (scores[static_cast<size_t>(i)] >= confident) pool.push_back(i);
  }
  for (size_t i : labelled.faces) labelled_rows.push_back(static_cast<int64_t>(i));
  if (pool.empty()) throw InputDataError(fmt::format("{}: too few faces to learn a matte from ({})", job.faces.string(), n));
  log_info("matte train: {} faces for synthetic occluders (the least sure fifth by {} left out), {} labelled ({} frames), "
           "{} held out", pool.size(), by_fit ? "landmark fit confidence" : "detector score", labelled_rows.size(),
           labelled.frames.size(), holdout.size());

  torch::manual_seed(job.seed);
  if (job.width < 4 || job.width > 128) throw UsageError(fmt::format("--width {}: 4 to 128", job.width));
  const int64_t w = job.width;
  VisibleMatteNet net(std::array<int64_t, 4>{w, 2 * w, 3 * w, 4 * w});
  net->to(device);
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(job.learning_rate));
  const FaceTracks tracks = faces_by_track(usable, n);
  const double hull_pixels = std::max(1.0, (faces.hull > 0.5).sum().item<double>());
  auto hull_share = [&](const torch::Tensor& mask) { return 100.0 * ((faces.hull > 0.5) * mask).sum().item<double>() / hull_pixels; };
  const torch::Tensor moving_trust = moving_look_trust(tracks, faces);
  const CleanLookEvidence clean = clean_look_evidence(tracks, faces, scores);
  const torch::Tensor trust = torch::minimum(moving_trust, clean.trust);
  log_info("matte train: {:.1f} % of the face hulls' pixels are left out of the loss where no label or synthetic occluder "
           "says what they are: they depart from their track's look over +-12 frames ({:.1f} %) or from its clean look, "
           "the median of its surest quarter ({:.1f} %)", hull_share(trust < 0.5), hull_share(moving_trust < 0.5),
           hull_share(clean.trust < 0.5));
  const torch::Tensor moving = moving_occluders(tracks, faces);
  const torch::Tensor found = torch::maximum(moving, clean.entering);
  // An unlabelled face's target and per-pixel weight: the hull less the real occluders found, taught
  // where trusted or found.
  const UnlabelledTargets unlabelled{faces.hull * (1 - found), torch::maximum(trust, found)};
  log_info("matte train: {:.1f} % of the face hulls' pixels are taught as occluders: {:.1f} % move in front of the face, "
           "{:.1f} % depart from its clean look where something comes in from outside it",
           hull_share(found > 0.5), hull_share(moving > 0.5), hull_share(clean.entering > 0.5));
  BatchMaker batches(faces, unlabelled, pool, labelled, labelled_rows, r, job.label_weight, job.seed);
  MatteTrainReport report;
  progress.begin("matte train", job.steps);
  double smoothed_loss = 0;
  int64_t step = 0;
  for (; step < job.steps; ++step) {
    if (progress.stop_requested()) break;
    if (job.max_seconds > 0 && seconds_since(start) > job.max_seconds) break;
    // Cosine decay to a tenth over the run.
    const double lr = job.learning_rate * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * step / std::max<int64_t>(1, job.steps))));
    for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
    net->train();
    auto [images, targets, pixel_weights, weights] = batches.make(job.batch);
    const torch::Tensor per_sample = matte_loss(net->forward(images.to(device)), targets.to(device), pixel_weights.to(device));
    const torch::Tensor loss = (per_sample * weights.to(device)).sum() / weights.sum().to(device);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    const double value = loss.item<double>();
    smoothed_loss = step == 0 ? value : 0.95 * smoothed_loss + 0.05 * value;
    progress.update(step + 1);
    if ((step + 1) % 50 == 0)
      log_info("matte train: step {} loss {:.4f} ({:.0f} ms a step)", step + 1, smoothed_loss, 1000 * seconds_since(start) / (step + 1));
  }
  progress.end();
  if (step == 0) throw TemporaryError("matte train: stopped before the first step; nothing written");
  report.steps = step;
  report.final_loss = smoothed_loss;
  report.faces = static_cast<int>(pool.size());
  report.labelled_faces = static_cast<int>(labelled_rows.size());
  report.labelled_frames = labelled.frames;
  measure_holdout(net, faces, unlabelled, holdout, r, device, report);

  MatteModelInfo info;
  info.face_type = usable.set.manifest.face_type;
  info.crop_size_px = usable.set.manifest.size;
  info.resolution_px = r;
  info.widths = net->widths;
  info.trained_on = job.faces.string();
  info.labelled_faces = report.labelled_faces;
  save_matte_model(job.output.string(), net, info);
  report.model_sha256 = sha256_file_hex(job.output);
  report.seconds = seconds_since(start);
  return report;
}

}  // namespace facetrain
