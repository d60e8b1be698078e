#include "facetrain/swap/swap_pipeline.h"

#include "facetrain/face/alignment.h"
#include "facetrain/media/frame_selection.h"
#include "facetrain/media/frame_source.h"
#include "facetrain/media/network_encoding.h"
#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"
#include "facetrain/base/log.h"
#include "facetrain/base/sequence_pattern.h"
#include "facetrain/base/sha256.h"
#include "facetrain/base/version.h"
#include "facetrain/faceset/faceset.h"
#include "facetrain/model/face_swap_model.h"
#include "facetrain/module/face_scorer_loader.h"
#include "facetrain/quality/temporal_stability.h"
#include "facetrain/swap/color_transfer.h"
#include "facetrain/swap/face_composite.h"
#include "facetrain/swap/face_scores.h"
#include "facetrain/swap/plate_mean.h"
#include "facetrain/swap/swap_output.h"
#include "facetrain/swap/swap_quality.h"
#include "facetrain/swap/swap_writer.h"
#include "facetrain/train/model_checkpoint.h"

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join (fmt >= 11 keeps it here)
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <unistd.h>

namespace facetrain {

namespace {

namespace fs = std::filesystem;

struct LoadedModel {
  fs::path checkpoint;
  std::string model_sha256;  // of checkpoint/model.pt, verified when the checkpoint was resolved
  std::string face_type;
  std::optional<NetworkEncodingRecord> encoding;  // what it was trained on (absent in older checkpoints)
  std::optional<IdentityReference> identity;      // the identities' reference descriptors (absent in older checkpoints)
  std::unique_ptr<FaceSwapModel> model;
};

ModelConfig model_config_from_state(const nlohmann::json& state, const fs::path& checkpoint) {
  ModelConfig config;
  try {
    const auto& m = state.at("model_config");
    config.architecture = parse_architecture(m.at("architecture").get<std::string>());
    config.resolution_px = m.at("resolution").get<int>();
    config.ae_dims = m.at("ae_dims").get<int>();
    config.e_dims = m.at("e_dims").get<int>();
    config.d_dims = m.at("d_dims").get<int>();
    config.d_mask_dims = m.at("d_mask_dims").get<int>();
  } catch (const nlohmann::json::exception& e) {
    throw InputDataError(fmt::format("{}: state.json has no usable model_config ({})", (checkpoint / "state.json").string(), e.what()));
  } catch (const ConfigError& e) {
    throw InputDataError(fmt::format("{}: state.json: {}", (checkpoint / "state.json").string(), e.what()));
  }
  try {
    validate_model_config(config);
  } catch (const ConfigError& e) {
    throw InputDataError(fmt::format("{}: state.json: {}", (checkpoint / "state.json").string(), e.what()));
  }
  return config;
}

LoadedModel load_model(const fs::path& path, c10::Device device) {
  LoadedModel out;
  const VerifiedCheckpoint verified = resolve_checkpoint(path);  // every file hashed once, here
  out.checkpoint = verified.directory;
  out.model_sha256 = verified.file_sha256("model.pt");
  const nlohmann::json& state = verified.state;
  const ModelConfig config = model_config_from_state(state, out.checkpoint);
  out.face_type = state.value("face_type", std::string());
  if (state.contains("encoding"))
    out.encoding = network_encoding_from_json(state["encoding"], (out.checkpoint / "state.json").string());
  if (state.contains("identity_reference"))
    out.identity = identity_reference_from_json(state["identity_reference"], (out.checkpoint / "state.json").string());
  out.model = std::make_unique<FaceSwapModel>(config);
  const NamedTensors wanted = out.model->named_parameters();
  const fs::path weights = out.checkpoint / "model.pt";
  const NamedTensors loaded = load_named(weights, wanted);
  if (loaded.size() != wanted.size())
    throw InputDataError(fmt::format("{}: holds {} of the model's {} tensors", weights.string(), loaded.size(), wanted.size()));
  out.model->load_named_parameters(loaded, weights.string());
  out.model->to(device);
  out.model->train(false);
  return out;
}

// The same identity `facetrain extract` records in faceset.json.
std::string plate_identity(const std::string& plate) {
  if (auto pattern = SequencePattern::parse(plate)) return source_identity_sha256(pattern->scan());
  return sha256_file_hex(plate);
}

// Where a face's crop lies on the plate: its centre and its width, in plate pixels.
struct FacePlacement {
  double x = 0, y = 0, width = 0;
};

FacePlacement placement_of(const Affine2d& aligned_from_frame, int size_px) {
  const Affine2d f = invert(aligned_from_frame);
  const double c = (size_px - 1) / 2.0;
  return {f.a * c + f.b * c + f.tx, f.c * c + f.d * c + f.ty, size_px * std::sqrt(std::abs(f.a * f.d - f.b * f.c))};
}

// The face set's box of a face (frame pixels) in crop pixels: its centre mapped, its size scaled (the
// box stays upright: the crop's rotation is small, and the landmark predictor wants an upright box).
FaceBox box_in_crop(const std::array<double, 4>& bbox, const Affine2d& aligned_from_frame) {
  const Affine2d& a = aligned_from_frame;
  const double scale = std::sqrt(std::abs(a.a * a.d - a.b * a.c));
  const Point2f centre = a.apply({static_cast<float>((bbox[0] + bbox[2]) / 2), static_cast<float>((bbox[1] + bbox[3]) / 2)});
  const float half_width = static_cast<float>((bbox[2] - bbox[0]) * scale / 2);
  const float half_height = static_cast<float>((bbox[3] - bbox[1]) * scale / 2);
  return {centre.x - half_width, centre.y - half_height, centre.x + half_width, centre.y + half_height, 0.f};
}

// One face of a frame near the ones being finished, prepared for its colour statistics.
struct NeighbourCrop {
  int track = 0;
  FacePlacement placement;
  ColorSamples samples;       // in the network's encoding
  CropImage plate_values;     // the crop in the plate's own values (plate_mean.h)
};

// Whether `n` is the face (track, placement) in a nearby frame: the same track id and, since face
// sets extracted in separate runs may number their tracks differently, within half a crop width.
bool same_face(const NeighbourCrop& n, int track, const FacePlacement& placement) {
  return n.track == track &&
         std::hypot(n.placement.x - placement.x, n.placement.y - placement.y) <= 0.5 * placement.width;
}

// "1001-1005, 1010, 1020-1022" (at most `limit` parts).
std::string describe_frames(const std::vector<int64_t>& frames, size_t limit = 8) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < frames.size()) {
    size_t j = i;
    while (j + 1 < frames.size() && frames[j + 1] == frames[j] + 1) ++j;
    if (parts.size() == limit) {
      parts.push_back("...");
      break;
    }
    parts.push_back(i == j ? std::to_string(frames[i]) : fmt::format("{}-{}", frames[i], frames[j]));
    i = j + 1;
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

// Chunking enumerates the asked frames: a --frames span wider than this with --chunk is refused.
constexpr int64_t kMaxChunkedSpan = int64_t{1} << 22;  // 48 hours at 24 fps

// What this run was asked for: --frames (or every frame of the plate), and of those, chunk I of N;
// with the words that name it in messages.
struct AskedFrames {
  FrameRange frames;
  std::string text;
};

AskedFrames asked_frames(const SwapJob& job, const SourceInfo& plate) {
  std::string text = job.frames.is_all() ? "all frames" : "--frames " + job.frames.to_string();
  if (job.chunk_count == 1) return {job.frames, text};
  std::vector<int64_t> frames;
  if (job.frames.is_all()) {
    if (plate.frame_last < plate.frame_first)
      throw InputDataError(fmt::format("{}: --chunk needs the plate's length, which its container does not record; "
                                       "give --frames FIRST-LAST", plate.path));
    frames = job.frames.frames_within(plate.frame_first, plate.frame_last);
  } else {
    const int64_t lowest = *job.frames.lowest(), highest = *job.frames.highest();
    if (highest - lowest >= kMaxChunkedSpan)
      throw UsageError(fmt::format("--frames {} with --chunk: chunks divide at most {} frames; give the plate's range",
                                   job.frames.to_string(), kMaxChunkedSpan));
    frames = job.frames.frames_within(lowest, highest);
  }
  const std::vector<int64_t> chunk = chunk_of(frames, job.chunk_index, job.chunk_count);
  text = fmt::format("--chunk {}/{} of {}", job.chunk_index, job.chunk_count, text);
  if (chunk.empty())
    throw InputDataError(fmt::format("{}: {}: the chunk holds no frame ({} frame(s) in {} chunks)", plate.path, text,
                                     frames.size(), job.chunk_count));
  const FrameRange range = FrameRange::of_frames(chunk);
  return {range, fmt::format("{} (frames {})", text, range.to_string())};
}

struct FaceWork {
  int track = 0;                 // the face set's track id (colour statistics follow it over frames)
  double detection_score = 0;    // the face set's, for the render's quality record
  Affine2d aligned_from_frame;   // at the model's resolution
  FaceBox box_in_crop;           // the face set's box of the face, in crop pixels (quality scores)
  CropImage plate_values;        // the crop in the plate's own values
  CropImage crop;                // encoded for the network, unclamped
  std::vector<float> hull;       // landmark hull, crop space, 0..1
  CropImage predicted;           // network output (encoded)
  std::vector<float> mask;       // learned mask
};

struct PendingFrame {
  int64_t number = 0;
  bool inferred = false;
  FloatImage base;               // the plate as decoded, RGB
  std::vector<FaceWork> faces;
};

}  // namespace

SwapReport run_swap(const SwapJob& job, ProgressSink& progress) {
  const auto started = std::chrono::steady_clock::now();
  SwapReport report;

  // --- output: frames or a movie (options checked before anything is loaded)
  SwapWriter writer(job);

  // --- device and model
  c10::Device device(c10::DeviceType::CPU);
  if (job.device == "cuda") {
    if (!torch::cuda::is_available())
      throw UnavailableError("--device cuda: no CUDA device is available (this build or machine has none)");
    device = c10::Device(c10::DeviceType::CUDA, 0);
  } else if (job.device != "cpu") {
    throw UsageError(fmt::format("--device {}: use cpu or cuda", job.device));
  }
  const int batch = job.batch > 0 ? job.batch : (device.is_cuda() ? 8 : 1);

  // --- the plate, and the asked frames it has: checked before anything is loaded or written
  FrameSourceOptions source_options;
  source_options.want_full_precision = true;
  source_options.start_frame = job.start_frame;
  source_options.on_missing = job.on_missing;
  auto source = open_frame_source(job.plate, source_options);
  const SourceInfo& info = source->info();
  const AskedFrames asked = asked_frames(job, info);
  const FrameSelection selection = select_frames(asked.frames, *source);
  if (selection.open_ended)
    throw InputDataError(fmt::format("{}: its container does not record its length: give --frames FIRST-LAST", job.plate));
  const std::string missing_warning = check_selection(selection, asked.text, *source, job.on_missing);
  if (!missing_warning.empty()) log_warning("{}", missing_warning);
  report.frames_missing = selection.missing;

  const FaceSet faceset = FaceSet::read(job.faces);
  LoadedModel loaded = load_model(job.model, device);
  report.checkpoint = loaded.checkpoint;
  FaceSwapModel& model = *loaded.model;
  const int resolution = model.config().resolution_px;
  if (loaded.face_type != faceset.manifest.face_type)
    throw ConfigError(fmt::format("--model {} was trained on face type '{}' but --faces {} holds face type '{}'",
                                  loaded.checkpoint.string(), loaded.face_type, job.faces.string(),
                                  faceset.manifest.face_type));
  if (faceset.manifest.size <= 0)
    throw InputDataError(fmt::format("{}: faceset.json has no crop size", job.faces.string()));
  log_info("model {} ({}), face set {} ({} px {})", loaded.checkpoint.string(), describe(model.config()),
           job.faces.string(), faceset.manifest.size, faceset.manifest.face_type);

  // --- the plate's identity
  const std::string identity = plate_identity(job.plate);
  const FaceSetSource* matched = nullptr;
  for (const auto& s : faceset.manifest.sources)
    if (s.sha256 == identity) matched = &s;
  if (!matched) {
    std::vector<std::string> known;
    for (const auto& s : faceset.manifest.sources) known.push_back(s.path);
    if (!job.force)
      throw InputDataError(fmt::format(
          "--plate {} is not a source of --faces {} (its SHA-256 {} matches none of: {}); --force uses it anyway",
          job.plate, job.faces.string(), identity, fmt::join(known, ", ")));
    for (const auto& s : faceset.manifest.sources)
      if (s.path == job.plate) matched = &s;
    if (!matched && faceset.manifest.sources.size() == 1) matched = &faceset.manifest.sources.front();
    if (!matched)
      throw InputDataError(fmt::format("--plate {}: --force needs the face set's source path or a face set with one "
                                       "source; {} has: {}", job.plate, job.faces.string(), fmt::join(known, ", ")));
    log_warning("--force: plate {} differs from {}'s source {}; using its alignments anyway", job.plate,
                job.faces.string(), matched->path);
    progress.event("warning", {{"message", "plate is not the face set's source (--force)"}, {"plate", job.plate}});
  }
  // --- the network's encoding: the face set's, which the model must have been trained on, and
  // which must be invertible to bring the network's faces back into the plate's own space
  NetworkEncodingRecord recorded_encoding = faceset.manifest.encoding;
  if (!recorded_encoding.recorded)  // a face set from before encodings were recorded: what swap did then
    recorded_encoding.kind = info.scene_linear ? EncodingKind::srgb : EncodingKind::plate;
  const NetworkEncoding encoding =
      NetworkEncoding::from_record(recorded_encoding, recorded_encoding.config ? matched->colorspace : "", job.ocio_config);
  const RoundTrip& round_trip = encoding.round_trip();
  if (!round_trip.invertible())
    throw ConfigError(fmt::format(
        "--faces {}: its crops are in the encoding {}, which is not invertible from '{}' ({}): swap could not bring "
        "the model's faces back into the plate's own values; extract both face sets again with --encoding {} and train "
        "on them",
        job.faces.string(), encoding.record().describe(), matched->colorspace,
        !round_trip.has_inverse ? std::string("OpenColorIO has no inverse for it")
        : round_trip.probes_in_range == 0
            ? std::string("it maps no plate value into the network's range 0..1")
            : fmt::format("decode(encode(x)) misses x = ({:g}, {:g}, {:g}) by {:.3g}", round_trip.worst[0],
                          round_trip.worst[1], round_trip.worst[2], round_trip.max_error),
        encoding.invertible_alternative()));
  if (loaded.encoding && !same_network_values(*loaded.encoding, encoding.record()))
    throw ConfigError(fmt::format("--model {} was trained on crops in the encoding {}, but --faces {} holds crops in {}: "
                                  "the network would see other values than it learned; swap with a face set extracted "
                                  "with --encoding {}",
                                  loaded.checkpoint.string(), loaded.encoding->describe(), job.faces.string(),
                                  encoding.record().describe(), loaded.encoding->name()));
  if (!loaded.encoding)
    log_warning("--model {}: its checkpoint does not record the encoding it was trained on; assuming {}",
                loaded.checkpoint.string(), encoding.record().describe());
  log_info("network encoding: {} from '{}' (round trip within {:.2g})", encoding.record().describe(),
           matched->colorspace, round_trip.max_error);

  // --- quality scores (issue 12): identity against the references train recorded in the checkpoint,
  // expression (landmarks), stability (flicker, seam)
  std::unique_ptr<FaceScorer> scorer;
  std::optional<IdentityReference> identity_reference = loaded.identity;
  if (job.quality_scores) {
    scorer = open_face_scorer(job.identity_model);
    if (scorer->has_identity() && !identity_reference)
      log_warning("--model {}: its checkpoint records no identity references (trained with --no-quality, without the "
                  "face-recognition model, or before facetrain measured identity): "
                  "identity scores are off", loaded.checkpoint.string());
    if (scorer->has_identity() && identity_reference && identity_reference->model_sha256 != scorer->identity_model_sha256()) {
      log_warning("--model {}: its identity references were made with another face-recognition model (SHA-256 {}, this one "
                  "{}): identity scores are off", loaded.checkpoint.string(), identity_reference->model_sha256,
                  scorer->identity_model_sha256());
      identity_reference.reset();
    }
  }
  const FaceScoring scoring(scorer.get(), identity_reference);
  std::vector<IdentityScore> identity_scores;   // per swapped face
  std::vector<double> landmark_errors, flicker_ratios, seam_ratios;
  double scoring_seconds = 0;
  struct RenderedFrame {  // the last frame rendered, for the flicker score of the next
    int64_t number = 0;
    FloatImage plate, output;
    std::vector<float> alpha;
  };
  std::optional<RenderedFrame> previous_frame;

  std::map<int64_t, const FrameRecord*> records;
  for (const auto& r : faceset.frames)
    if (r.source == matched->path) records[r.frame] = &r;

  // --- frames of this chunk, and what is left to do
  const std::vector<int64_t>& chunk = selection.present;
  report.frames_selected = static_cast<int64_t>(chunk.size());
  std::vector<int64_t> todo;
  for (int64_t f : chunk) {
    if (job.skip_existing && writer.finished(f)) {
      ++report.frames_skipped_existing;
      writer.keep_existing(f);
      continue;
    }
    todo.push_back(f);
  }
  std::vector<int64_t> unrecorded;
  for (int64_t f : todo)
    if (!records.count(f)) unrecorded.push_back(f);
  if (!unrecorded.empty()) {
    log_warning("{}: {} frame(s) of {} have no alignment record and are written unchanged: {}", job.faces.string(),
                unrecorded.size(), job.plate, describe_frames(unrecorded));
    progress.event("warning", {{"message", "frames without alignment records are written unchanged"},
                               {"frames", describe_frames(unrecorded, 1000)}});
  }

  // --- frames to decode: this chunk's, and for colour smoothing their neighbours (within
  // +-color_window, in the face set with faces, in the plate) even outside the chunk or --frames
  const int64_t color_window = job.color == ColorMode::none ? 0 : std::max(0, job.color_window);
  std::vector<int64_t> to_read = todo;
  if (color_window > 0) {
    for (int64_t f : todo)
      for (int64_t g = std::max(info.frame_first, f - color_window); g <= std::min(info.frame_last, f + color_window); ++g) {
        auto it = records.find(g);
        if (g != f && it != records.end() && !it->second->faces.empty()) to_read.push_back(g);
      }
    std::sort(to_read.begin(), to_read.end());
    to_read.erase(std::unique(to_read.begin(), to_read.end()), to_read.end());
  }
  std::map<int64_t, std::vector<NeighbourCrop>> neighbour_crops;  // frame -> its faces' crops
  std::vector<SwapFrameQuality> quality;                           // per rendered frame, for the manifest

  // --- output encoding: the plate's own precision
  const bool float_plate = info.scene_linear || info.codec == "openexr";
  const bool eight_bit = !float_plate && info.bit_depth <= 8;
  writer.open(info);
  CompositeOptions composite_options;
  composite_options.erode_px = job.erode_px;
  composite_options.feather_px = job.feather_px;
  composite_options.matte_levels = writer.matte_levels();
  log_info("swapping {} frame(s) of {} (chunk {}/{}) to {}, batch {} on {}", todo.size(), job.plate,
           job.chunk_index, job.chunk_count, writer.describe(), batch, device.str());

  torch::NoGradGuard no_grad;

  // Runs the network over every face of `frames`, in batches padded to `batch` faces, so a face's
  // result never depends on which other faces share its batch (chunked == whole).
  auto infer = [&](std::vector<PendingFrame>& frames) {
    std::vector<FaceWork*> faces;
    for (auto& f : frames) {
      if (f.inferred) continue;
      f.inferred = true;
      for (auto& w : f.faces) faces.push_back(&w);
    }
    const int64_t r = resolution;
    const int64_t plane = r * r;
    for (size_t begin = 0; begin < faces.size(); begin += static_cast<size_t>(batch)) {
      const size_t count = std::min(faces.size() - begin, static_cast<size_t>(batch));
      torch::Tensor input = torch::zeros({batch, 3, r, r}, torch::kFloat32);
      float* in = input.data_ptr<float>();
      for (size_t i = 0; i < count; ++i) {
        const CropImage& crop = faces[begin + i]->crop;
        for (int64_t p = 0; p < plane; ++p)
          for (int c = 0; c < 3; ++c) in[(i * 3 + c) * plane + p] = std::clamp(crop.rgb[p * 3 + c], 0.f, 1.f);
      }
      SwapOutput out = model.swap_double_to_actor(input.to(device));
      torch::Tensor rgb = out.rgb.to(torch::kCPU, torch::kFloat32).contiguous();
      torch::Tensor mask = out.mask.to(torch::kCPU, torch::kFloat32).contiguous();
      const float* rgb_p = rgb.data_ptr<float>();
      const float* mask_p = mask.data_ptr<float>();
      for (size_t i = 0; i < count; ++i) {
        FaceWork& w = *faces[begin + i];
        w.predicted.size = resolution;
        w.predicted.rgb.resize(static_cast<size_t>(plane) * 3);
        w.mask.assign(mask_p + i * plane, mask_p + (i + 1) * plane);
        for (int64_t p = 0; p < plane; ++p)
          for (int c = 0; c < 3; ++c) w.predicted.rgb[p * 3 + c] = rgb_p[(i * 3 + c) * plane + p];
      }
    }
  };

  auto finish = [&](PendingFrame& frame) {
    std::vector<float> alpha(static_cast<size_t>(frame.base.width) * frame.base.height, 0.f);
    FloatImage plate;  // before compositing, for the review and the stability scores
    if (writer.wants_plate() || scoring.enabled()) plate = frame.base;
    // The face alone: the same faces composited over nothing, which is the face premultiplied by
    // the matte (zero outside it); over the plate it gives the full frame again.
    FloatImage element;
    std::vector<float> element_alpha;
    if (writer.wants_element()) {
      element.width = frame.base.width;
      element.height = frame.base.height;
      element.pixels.assign(frame.base.pixels.size(), 0.f);
    }
    SwapFrameQuality frame_quality;
    frame_quality.frame = frame.number;
    for (FaceWork& w : frame.faces) {
      const double agreement = mask_agreement(w.mask, w.hull);
      PlacedFace placed;
      placed.aligned_from_frame = w.aligned_from_frame;
      switch (job.matte) {
        case MatteMode::mask: placed.matte = w.mask; break;
        case MatteMode::hull: placed.matte = w.hull; break;
        case MatteMode::both:
          placed.matte.resize(w.mask.size());
          for (size_t i = 0; i < w.mask.size(); ++i) placed.matte[i] = std::min(w.mask[i], w.hull[i]);
          break;
      }
      placed.rgb = std::move(w.predicted);
      double shift = 0;
      PlateMean plate_mean;
      if (job.color != ColorMode::none) {
        const std::vector<float> before = placed.rgb.rgb;
        // Temporal smoothing: the PLATE face's statistics (the transfer's target) are averaged over
        // the frames within +-color_window holding the same face (same_face), each one's crop weighted by
        // THIS frame's matte (the crops are aligned, so its pixels cover the same part of the face).
        // The predicted face's statistics are measured on this frame alone: the output then carries
        // the smoothed plate statistics exactly, so neither the plate's flicker nor the network's
        // frame-to-frame variation reaches it, and no neighbour needs the network. Neighbours are
        // read from the plate whatever the chunk, so a frame's result depends only on (frame,
        // model, job).
        // The same frames' plate faces in the plate's own values, for the mean matched after decoding.
        std::vector<ColorStatistics> plate_statistics;
        std::vector<PlateMean> plate_means;
        if (color_window == 0) {
          plate_statistics.push_back(measure_color(w.crop, placed.matte, job.color));
          plate_means.push_back(measure_plate_mean(w.plate_values, placed.matte));
        } else {
          const FacePlacement placement = placement_of(w.aligned_from_frame, resolution);
          for (auto it = neighbour_crops.lower_bound(frame.number - color_window);
               it != neighbour_crops.end() && it->first <= frame.number + color_window; ++it)
            for (const NeighbourCrop& n : it->second)
              if (same_face(n, w.track, placement)) {
                plate_statistics.push_back(measure_color(n.samples, placed.matte));
                plate_means.push_back(measure_plate_mean(n.plate_values, placed.matte));
              }
        }
        apply_color_transfer(placed.rgb, measure_color(placed.rgb, placed.matte, job.color),
                             average_color(plate_statistics));
        shift = color_shift(before, placed.rgb.rgb, placed.matte);
        plate_mean = average_plate_mean(plate_means);
      }
      add_face_quality(frame_quality, w.detection_score, agreement, shift,
                       placement_of(w.aligned_from_frame, resolution).width);
      if (scoring.enabled()) {  // on the crops as the network sees them: the swapped face over the plate's
        const auto scoring_started = std::chrono::steady_clock::now();
        const SwappedFaceScores scores =
            scoring.score(w.crop, face_over_plate(placed.rgb, w.crop, placed.matte), w.box_in_crop);
        add_face_scores(frame_quality, scores);
        if (std::isfinite(scores.identity_to_actor)) identity_scores.push_back({scores.identity_to_actor, scores.identity_to_double});
        if (std::isfinite(scores.landmark_error)) landmark_errors.push_back(scores.landmark_error);
        scoring_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - scoring_started).count();
      }
      // Back into the plate's own values, by the exact inverse of the crop's encoding, and there
      // given the plate face's mean (plate_mean.h).
      encoding.decode(placed.rgb.rgb.data(), static_cast<size_t>(placed.rgb.size) * placed.rgb.size);
      if (job.color != ColorMode::none)
        match_plate_mean(placed.rgb, placed.matte, plate_mean, info.scene_linear ? MeanMatch::gain : MeanMatch::offset);
      if (encoding.record().kind == EncodingKind::plate)
        for (float& v : placed.rgb.rgb) v = std::clamp(v, 0.f, 1.f);
      composite_face(frame.base, alpha, placed, composite_options);
      if (writer.wants_element()) composite_face(element, element_alpha, placed, composite_options);
      ++report.faces_swapped;
    }
    if (scoring.enabled() && !frame.faces.empty()) {
      const auto scoring_started = std::chrono::steady_clock::now();
      frame_quality.seam_ratio = seam_ratio(plate, frame.base, alpha);
      if (std::isfinite(frame_quality.seam_ratio)) seam_ratios.push_back(frame_quality.seam_ratio);
      if (previous_frame && previous_frame->number == frame.number - 1) {
        frame_quality.flicker_ratio = flicker_ratio(previous_frame->plate, plate, previous_frame->output, frame.base,
                                                    previous_frame->alpha, alpha);
        if (std::isfinite(frame_quality.flicker_ratio)) flicker_ratios.push_back(frame_quality.flicker_ratio);
      }
      scoring_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - scoring_started).count();
    }
    writer.write(frame.number, plate, frame.base, alpha, element);
    quality.push_back(frame_quality);
    // This frame is done: the next one's flicker score takes it over (moved, not copied).
    if (scoring.enabled() && !frame.faces.empty())
      previous_frame = RenderedFrame{frame.number, std::move(plate), std::move(frame.base), std::move(alpha)};
    else
      previous_frame.reset();
    ++report.frames_written;
  };

  progress.begin("swap", static_cast<int64_t>(todo.size()));
  std::vector<PendingFrame> pending;   // in frame order; inferred in batches, finished in order
  size_t uninferred_faces = 0, uninferred_frames = 0;
  auto infer_pending = [&]() {
    infer(pending);
    uninferred_faces = uninferred_frames = 0;
  };
  // Finishes (writes), in order, the pending frames that are inferred and whose colour neighbours
  // are all read (every frame up to `read_up_to` is).
  auto finish_ready = [&](int64_t read_up_to) {
    size_t ready = 0;
    while (ready < pending.size() && pending[ready].inferred && pending[ready].number <= read_up_to - color_window) ++ready;
    for (size_t i = 0; i < ready; ++i) {
      finish(pending[i]);
      progress.update(report.frames_written);
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(ready));
  };

  std::vector<int64_t> not_in_plate;
  if (!to_read.empty()) {
    const int64_t seek_gap = info.is_sequence ? 1 : 48;
    source->seek(to_read.front());
    size_t next = 0, next_todo = 0;
    int64_t last_read = std::numeric_limits<int64_t>::min() / 2;
    Frame frame;
    while (next < to_read.size() && !progress.stop_requested() && source->read(frame)) {
      while (next < to_read.size() && to_read[next] < frame.number) ++next;
      if (next == to_read.size()) break;
      if (frame.number != to_read[next]) continue;
      ++next;
      last_read = frame.number;
      while (next_todo < todo.size() && todo[next_todo] < frame.number) not_in_plate.push_back(todo[next_todo++]);
      const bool wanted = next_todo < todo.size() && todo[next_todo] == frame.number;
      if (wanted) ++next_todo;

      PendingFrame work;
      work.number = frame.number;
      // The plate as decoded: 8-bit plates keep their 8-bit codes exactly; deeper plates their full values.
      if (eight_bit || !frame.full) {
        work.base.width = frame.display.width;
        work.base.height = frame.display.height;
        work.base.pixels.resize(frame.display.pixels.size());
        for (size_t i = 0; i < frame.display.pixels.size(); ++i) work.base.pixels[i] = frame.display.pixels[i] / 255.f;
      } else if (wanted) {
        const FloatImage& full = *frame.full;
        work.base.width = full.width;
        work.base.height = full.height;
        const size_t n = static_cast<size_t>(full.width) * full.height;
        work.base.pixels.resize(n * 3);
        for (size_t i = 0; i < n; ++i)
          for (int c = 0; c < 3; ++c) work.base.pixels[i * 3 + c] = full.pixels[i * full.channels + c];
      }
      const FloatImage& crop_source = frame.full ? *frame.full : work.base;
      auto it = records.find(frame.number);
      if (it != records.end()) {
        if (wanted && it->second->faces.empty()) ++report.frames_without_faces;
        std::vector<NeighbourCrop> crops;
        for (const FaceRecord& face : it->second->faces) {
          FaceWork w;
          w.track = face.track;
          w.detection_score = face.score;
          w.aligned_from_frame = rescale_alignment(face.aligned_from_frame, faceset.manifest.size, resolution);
          w.box_in_crop = box_in_crop(face.bbox, w.aligned_from_frame);
          w.plate_values = crop_plate_values(crop_source, w.aligned_from_frame, resolution);
          w.crop = encoded_for_network(w.plate_values, encoding);
          if (color_window > 0)
            crops.push_back({w.track, placement_of(w.aligned_from_frame, resolution), prepare_color_samples(w.crop, job.color),
                             w.plate_values});
          if (!wanted) continue;
          Landmarks68 landmarks{};
          for (size_t p = 0; p < landmarks.size() && p < face.landmarks.size(); ++p)
            landmarks[p] = {static_cast<float>(face.landmarks[p][0]), static_cast<float>(face.landmarks[p][1])};
          const Gray8Image hull = face_hull_mask(landmarks, w.aligned_from_frame, resolution);
          w.hull.resize(hull.pixels.size());
          for (size_t i = 0; i < hull.pixels.size(); ++i) w.hull[i] = hull.pixels[i] / 255.f;
          work.faces.push_back(std::move(w));
        }
        if (!crops.empty()) neighbour_crops[frame.number] = std::move(crops);
      } else if (wanted) {
        ++report.frames_without_record;
      }
      if (wanted) {
        uninferred_faces += work.faces.size();
        ++uninferred_frames;
        pending.push_back(std::move(work));
      }
      if (uninferred_faces >= static_cast<size_t>(batch) || uninferred_frames >= 16) infer_pending();
      finish_ready(frame.number);
      // Crops no pending or later frame can reach any more.
      const int64_t oldest_needed = (pending.empty() ? frame.number + 1 : pending.front().number) - color_window;
      neighbour_crops.erase(neighbour_crops.begin(), neighbour_crops.lower_bound(oldest_needed));
      if (next < to_read.size() && to_read[next] - frame.number > seek_gap) source->seek(to_read[next]);
    }
    // Stopped early, a frame whose later neighbours were not read would get other colours than in
    // a whole render (and --skip-existing would keep it): only complete ones are written.
    infer_pending();
    finish_ready(progress.stop_requested() ? last_read : std::numeric_limits<int64_t>::max());
    while (next_todo < todo.size() && !progress.stop_requested()) not_in_plate.push_back(todo[next_todo++]);
  }
  progress.end();
  // Frames the plate's header promised that decoding did not find (a movie shorter than it says):
  // missing frames like any other, found only now.
  std::string undelivered;
  if (!not_in_plate.empty()) {
    const FrameRange lacking = FrameRange::of_frames(not_in_plate);
    undelivered = fmt::format("{}: {}: the plate ended before frames {} (its header counts frames {})", job.plate,
                              asked.text, lacking.to_string(8), describe_plate_frames(info));
    if (job.on_missing == OnMissingFrame::skip) {
      log_warning("{}; skipped (--on-missing skip)", undelivered);
      report.frames_missing = report.frames_missing.joined(lacking);
      undelivered.clear();
    }
  }
  // A stopped render, or one that lacks frames, leaves no movie behind.
  if (!progress.stop_requested() && undelivered.empty()) writer.finish();
  report.movies = writer.movies_written();
  if (!chunk.empty()) {  // what this chunk wrote (or kept), for `facetrain verify`
    SwapManifest provenance;
    provenance.tool_version = version_string();
    provenance.plate = job.plate;
    provenance.plate_sha256 = identity;
    provenance.checkpoint = loaded.checkpoint.string();
    provenance.checkpoint_sha256 = loaded.model_sha256;
    provenance.output_kind = output_kind_name(job.output_kind);
    provenance.missing_frames = report.frames_missing.to_string();
    provenance.encoding = network_encoding_to_json(encoding.record());
    provenance.encoding["plate_colorspace"] = matched->colorspace;
    provenance.encoding["round_trip_max_error"] = round_trip.max_error;
    provenance.encoding["round_trip_probes"] = round_trip.probes_in_range;
    provenance.quality = std::move(quality);
    if (scoring.enabled()) {
      report.quality = summarize_swap_quality(identity_scores, landmark_errors, flicker_ratios, seam_ratios, scoring_seconds);
      provenance.quality_summary = report.quality;
    }
    writer.write_manifest(chunk.front(), chunk.back(), std::move(provenance));
  }
  if (!undelivered.empty())
    throw InputDataError(fmt::format("{}; {}", undelivered,
                                     writer.is_movie() ? "no movie was written"
                                                       : fmt::format("the {} frames before were written", report.frames_written)));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace facetrain
