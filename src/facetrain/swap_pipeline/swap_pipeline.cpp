#include "facetrain/swap_pipeline/swap_pipeline.h"

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
#include "facetrain/model/torch_device.h"
#include "facetrain/quality/temporal_stability.h"
#include "facetrain/swap/visible_face_matte.h"
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
#include <set>
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

LoadedModel load_model(const fs::path& path, c10::Device device) {
  LoadedModel out;
  const VerifiedCheckpoint verified = resolve_checkpoint(path);  // every file hashed once, here
  out.checkpoint = verified.directory;
  out.model_sha256 = verified.file_sha256("model.pt");
  const CheckpointState state = checkpoint_state_from_json(verified.state, out.checkpoint);
  out.face_type = state.face_type;
  out.encoding = state.encoding;
  out.identity = state.identity_reference;
  out.model = std::make_unique<FaceSwapModel>(state.model);
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
  double fit_confidence = SwapFrameQuality::kNone;  // the face set's landmark fit confidence (absent: NaN)
  Affine2d aligned_from_frame;   // at the model's resolution
  FaceBox box_in_crop;           // the face set's box of the face, in crop pixels (quality scores)
  CropImage plate_values;        // the crop in the plate's own values
  CropImage crop;                // encoded for the network, unclamped
  std::vector<float> hull;       // landmark hull, crop space, 0..1
  CropImage predicted;           // network output (encoded)
  std::vector<float> mask;       // learned mask
  std::vector<float> visible;    // visible-face matte at the face set's crop size (empty: none)
  Affine2d visible_from_frame;   // the face set's alignment, for `visible`
};

struct PendingFrame {
  int64_t number = 0;
  bool inferred = false;
  FloatImage base;               // the plate as decoded, RGB
  std::vector<FaceWork> faces;
};

using SteadyClock = std::chrono::steady_clock;

double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// The last frame rendered, for the flicker score of the next.
struct RenderedFrame {
  int64_t number = 0;
  FloatImage plate, output;
  std::vector<float> alpha;
};

// `facetrain swap` in named phases. run() calls them in this order:
//   setup()     and its checks: the output options (the writer, at construction), the device, the
//               plate and the asked frames it has, the face set and the model, the plate's identity,
//               the network encoding, the quality scores; nothing is written before they pass
//   plan()      the frames to render (--skip-existing) and to read (colour neighbours); the writer opened
//   render()    reads the plate in order; per frame read_frame() cuts its faces; infer() runs the network
//               over the pending faces; finish() gives each face its matte (matte_of()), colour and
//               scores, composites it and writes the frame
//   write()     completes the movies, writes the chunk's manifest, reports
class SwapPipeline {
 public:
  SwapPipeline(const SwapJob& job, ProgressSink& progress, const FaceScorerFactory& open_scorer)
      : job_(job), progress_(progress), open_scorer_(open_scorer), started_(SteadyClock::now()),
        writer_(job.output, job.chunk_index, job.chunk_count) {}  // output options checked first

  SwapReport run() {
    setup();
    plan();
    render();
    return write();
  }

 private:
  // --- phases ---------------------------------------------------------------------------------
  void setup();
  void open_plate();
  void load_face_set_and_model();
  void match_plate_to_face_set();
  void choose_encoding();
  void open_quality_scores();
  void plan();
  void render();
  void read_frame(const Frame& frame, bool wanted);
  void infer();
  void finish_ready(int64_t read_up_to);
  void finish(PendingFrame& frame);
  void composite(FaceWork& w, PendingFrame& frame, std::vector<float>& alpha, FloatImage& element,
                 std::vector<float>& element_alpha, SwapFrameQuality& frame_quality);
  void score_frame(const PendingFrame& frame, const FloatImage& plate, const std::vector<float>& alpha,
                   SwapFrameQuality& frame_quality);
  SwapReport write();

  // --- per face ---------------------------------------------------------------------------------
  // The matte a face is composited through (--matte): the one place it is chosen.
  std::vector<float> matte_of(const FaceWork& w) const;
  // Colour transfer (--color, --color-window) of the placed face toward the plate face's statistics;
  // returns its shift, and the plate face's mean for match_plate_mean after decoding.
  double transfer_colour(const FaceWork& w, int64_t frame, PlacedFace& placed, PlateMean& plate_mean) const;
  void score_face(const FaceWork& w, const PlacedFace& placed, SwapFrameQuality& frame_quality);

  const SourceInfo& info() const { return source_->info(); }

  const SwapJob& job_;
  ProgressSink& progress_;
  const FaceScorerFactory& open_scorer_;
  const SteadyClock::time_point started_;
  SwapWriter writer_;
  SwapReport report_;

  // setup()
  c10::Device device_{c10::DeviceType::CPU};
  int batch_ = 1;
  std::unique_ptr<FrameSource> source_;
  AskedFrames asked_;
  FrameSelection selection_;
  std::optional<FaceSet> faceset_;
  std::optional<VisibleFaceMattes> visible_mattes_;   // the face set's (issue 24)
  MatteMode matte_mode_ = MatteMode::both;            // --matte, auto resolved
  int64_t faces_without_visible_matte_ = 0;
  LoadedModel loaded_;
  int resolution_ = 0;
  std::string plate_sha256_;
  const FaceSetSource* matched_ = nullptr;  // the face set's source this plate is
  std::optional<NetworkEncoding> encoding_;
  std::unique_ptr<FaceScorer> scorer_;
  std::optional<FaceScoring> scoring_;

  // plan()
  std::map<int64_t, const FrameRecord*> records_;
  std::vector<int64_t> todo_, to_read_;
  int64_t color_window_ = 0;
  bool eight_bit_ = false;
  CompositeOptions composite_options_;

  // render()
  std::map<int64_t, std::vector<NeighbourCrop>> neighbour_crops_;  // frame -> its faces' crops
  std::vector<PendingFrame> pending_;   // in frame order; inferred in batches, finished in order
  size_t uninferred_faces_ = 0, uninferred_frames_ = 0;
  std::vector<int64_t> not_in_plate_;
  std::vector<SwapFrameQuality> quality_;  // per rendered frame, for the manifest
  std::vector<IdentityScore> identity_scores_;  // per swapped face
  std::vector<double> plate_identity_to_double_;  // per swapped face: the plate's own face
  std::vector<double> landmark_errors_, flicker_ratios_, seam_ratios_;
  int faces_scored_ = 0;  // faces the scorer saw (a 5-point face set gives none a landmark error)
  std::set<int64_t> low_fit_frames_;  // frames with a face whose landmark fit confidence is below kLowFitConfidence
  double scoring_seconds_ = 0;
  std::optional<RenderedFrame> previous_frame_;
};

// --- setup and checks -----------------------------------------------------------------------------

void SwapPipeline::setup() {
  device_ = select_device(job_.device);
  batch_ = job_.batch > 0 ? job_.batch : (device_.is_cuda() ? 8 : 1);
  open_plate();
  load_face_set_and_model();
  match_plate_to_face_set();
  choose_encoding();
  open_quality_scores();
}

// The plate, and the asked frames it has: checked before anything is loaded or written.
void SwapPipeline::open_plate() {
  FrameSourceOptions source_options;
  source_options.want_full_precision = true;
  source_options.start_frame = job_.start_frame;
  source_options.on_missing = job_.on_missing;
  source_ = open_frame_source(job_.plate, source_options);
  asked_ = asked_frames(job_, info());
  selection_ = select_frames(asked_.frames, *source_);
  if (selection_.open_ended)
    throw InputDataError(fmt::format("{}: its container does not record its length: give --frames FIRST-LAST", job_.plate));
  const std::string missing_warning = check_selection(selection_, asked_.text, *source_, job_.on_missing);
  if (!missing_warning.empty()) log_warning("{}", missing_warning);
  report_.frames_missing = selection_.missing;
}

void SwapPipeline::load_face_set_and_model() {
  faceset_.emplace(FaceSet::read(job_.faces));
  loaded_ = load_model(job_.model, device_);
  report_.checkpoint = loaded_.checkpoint;
  resolution_ = loaded_.model->config().resolution_px;
  const FaceSetManifest& manifest = faceset_->manifest;
  if (loaded_.face_type != manifest.face_type)
    throw ConfigError(fmt::format("--model {} was trained on face type '{}' but --faces {} holds face type '{}'",
                                  loaded_.checkpoint.string(), loaded_.face_type, job_.faces.string(), manifest.face_type));
  if (manifest.size <= 0) throw InputDataError(fmt::format("{}: faceset.json has no crop size", job_.faces.string()));
  log_info("model {} ({}), face set {} ({} px {})", loaded_.checkpoint.string(), describe(loaded_.model->config()),
           job_.faces.string(), manifest.size, manifest.face_type);
  // The matte: with the face set's visible-face mattes where it has them (issue 24).
  visible_mattes_.emplace(job_.faces);
  matte_mode_ = job_.composite.matte;
  if (matte_mode_ == MatteMode::automatic) matte_mode_ = visible_mattes_->available() ? MatteMode::visible : MatteMode::both;
  if (matte_mode_ == MatteMode::visible && !visible_mattes_->available())
    throw ConfigError(fmt::format("--matte visible: {} has no visible-face mattes (make them with facetrain matte train "
                                  "and facetrain matte apply --faces {})", job_.faces.string(), job_.faces.string()));
  if (matte_mode_ == MatteMode::visible && visible_mattes_->size() != manifest.size)
    throw InputDataError(fmt::format("{}: visible-face mattes of {} px, the face set's crops are {} px",
                                     (job_.faces / kVisibleMatteIndex).string(), visible_mattes_->size(), manifest.size));
  if (matte_mode_ == MatteMode::visible)
    log_info("matte: the face set's visible-face mattes ({}): occluders in front of the face stay the plate",
             (job_.faces / kVisibleMatteIndex).string());
}

// The plate must be one of the face set's sources (by its identity), unless --force.
void SwapPipeline::match_plate_to_face_set() {
  const FaceSetManifest& manifest = faceset_->manifest;
  plate_sha256_ = plate_identity_sha256(job_.plate);
  for (const auto& s : manifest.sources)
    if (s.sha256 == plate_sha256_) matched_ = &s;
  if (matched_) return;
  std::vector<std::string> known;
  for (const auto& s : manifest.sources) known.push_back(s.path);
  if (!job_.force)
    throw InputDataError(fmt::format(
        "--plate {} is not a source of --faces {} (its SHA-256 {} matches none of: {}); --force uses it anyway",
        job_.plate, job_.faces.string(), plate_sha256_, fmt::join(known, ", ")));
  for (const auto& s : manifest.sources)
    if (s.path == job_.plate) matched_ = &s;
  if (!matched_ && manifest.sources.size() == 1) matched_ = &manifest.sources.front();
  if (!matched_)
    throw InputDataError(fmt::format("--plate {}: --force needs the face set's source path or a face set with one "
                                     "source; {} has: {}", job_.plate, job_.faces.string(), fmt::join(known, ", ")));
  log_warning("--force: plate {} differs from {}'s source {}; using its alignments anyway", job_.plate,
              job_.faces.string(), matched_->path);
  progress_.event("warning", {{"message", "plate is not the face set's source (--force)"}, {"plate", job_.plate}});
}

// The network's encoding: the face set's, which the model must have been trained on, and which must
// be invertible to bring the network's faces back into the plate's own space.
void SwapPipeline::choose_encoding() {
  NetworkEncodingRecord recorded_encoding = faceset_->manifest.encoding;
  if (!recorded_encoding.recorded)  // a face set from before encodings were recorded: what swap did then
    recorded_encoding.kind = info().scene_linear ? EncodingKind::srgb : EncodingKind::plate;
  encoding_.emplace(NetworkEncoding::from_record(recorded_encoding, recorded_encoding.config ? matched_->colorspace : "",
                                                 job_.ocio_config));
  const NetworkEncoding& encoding = *encoding_;
  const RoundTrip& round_trip = encoding.round_trip();
  if (!round_trip.invertible())
    throw ConfigError(fmt::format(
        "--faces {}: its crops are in the encoding {}, which is not invertible from '{}' ({}): swap could not bring "
        "the model's faces back into the plate's own values; extract both face sets again with --encoding {} and train "
        "on them",
        job_.faces.string(), encoding.record().describe(), matched_->colorspace,
        !round_trip.has_inverse ? std::string("OpenColorIO has no inverse for it")
        : round_trip.probes_in_range == 0
            ? std::string("it maps no plate value into the network's range 0..1")
            : fmt::format("decode(encode(x)) misses x = ({:g}, {:g}, {:g}) by {:.3g}", round_trip.worst[0],
                          round_trip.worst[1], round_trip.worst[2], round_trip.max_error),
        encoding.invertible_alternative()));
  if (loaded_.encoding && !same_network_values(*loaded_.encoding, encoding.record()))
    throw ConfigError(fmt::format("--model {} was trained on crops in the encoding {}, but --faces {} holds crops in {}: "
                                  "the network would see other values than it learned; swap with a face set extracted "
                                  "with --encoding {}",
                                  loaded_.checkpoint.string(), loaded_.encoding->describe(), job_.faces.string(),
                                  encoding.record().describe(), loaded_.encoding->name()));
  if (!loaded_.encoding)
    log_warning("--model {}: its checkpoint does not record the encoding it was trained on; assuming {}",
                loaded_.checkpoint.string(), encoding.record().describe());
  log_info("network encoding: {} from '{}' (round trip within {:.2g})", encoding.record().describe(),
           matched_->colorspace, round_trip.max_error);
}

// Quality scores (issue 12): identity against the references train recorded in the checkpoint,
// expression (landmarks), stability (flicker, seam).
void SwapPipeline::open_quality_scores() {
  std::optional<IdentityReference> identity_reference = loaded_.identity;
  if (job_.quality.enabled) {
    scorer_ = open_scorer_(job_.quality.identity_model, faceset_->manifest.landmark_points);
    if (scorer_->has_identity() && !identity_reference)
      log_warning("--model {}: its checkpoint records no identity references (trained with --no-quality, without the "
                  "face-recognition model, or before facetrain measured identity): "
                  "identity scores are off", loaded_.checkpoint.string());
    if (scorer_->has_identity() && identity_reference && identity_reference->model_sha256 != scorer_->identity_model_sha256()) {
      log_warning("--model {}: its identity references were made with another face-recognition model (SHA-256 {}, this one "
                  "{}): identity scores are off", loaded_.checkpoint.string(), identity_reference->model_sha256,
                  scorer_->identity_model_sha256());
      identity_reference.reset();
    }
  }
  scoring_.emplace(scorer_.get(), identity_reference);
}

// --- plan -------------------------------------------------------------------------------------------

void SwapPipeline::plan() {
  for (const auto& r : faceset_->frames)
    if (r.source == matched_->path) records_[r.frame] = &r;

  // The frames of this chunk, and what is left to do.
  const std::vector<int64_t>& chunk = selection_.present;
  report_.frames_selected = static_cast<int64_t>(chunk.size());
  for (int64_t f : chunk) {
    if (job_.skip_existing && writer_.finished(f)) {
      ++report_.frames_skipped_existing;
      writer_.keep_existing(f);
      continue;
    }
    todo_.push_back(f);
  }
  std::vector<int64_t> unrecorded;
  for (int64_t f : todo_)
    if (!records_.count(f)) unrecorded.push_back(f);
  if (!unrecorded.empty()) {
    log_warning("{}: {} frame(s) of {} have no alignment record and are written unchanged: {}", job_.faces.string(),
                unrecorded.size(), job_.plate, describe_frames(unrecorded));
    progress_.event("warning", {{"message", "frames without alignment records are written unchanged"},
                                {"frames", describe_frames(unrecorded, 1000)}});
  }

  // Frames to decode: this chunk's, and for colour smoothing their neighbours (within
  // +-color_window, in the face set with faces, in the plate) even outside the chunk or --frames.
  color_window_ = job_.colour.mode == ColorMode::none ? 0 : std::max(0, job_.colour.window);
  to_read_ = todo_;
  if (color_window_ > 0) {
    for (int64_t f : todo_)
      for (int64_t g = std::max(info().frame_first, f - color_window_); g <= std::min(info().frame_last, f + color_window_); ++g) {
        auto it = records_.find(g);
        if (g != f && it != records_.end() && !it->second->faces.empty()) to_read_.push_back(g);
      }
    std::sort(to_read_.begin(), to_read_.end());
    to_read_.erase(std::unique(to_read_.begin(), to_read_.end()), to_read_.end());
  }

  // Output encoding: the plate's own precision.
  const bool float_plate = info().scene_linear || info().codec == "openexr";
  eight_bit_ = !float_plate && info().bit_depth <= 8;
  writer_.open(info(), job_.plate);
  composite_options_.erode_px = job_.composite.erode_px;
  composite_options_.feather_px = job_.composite.feather_px;
  composite_options_.visible_choke_px = job_.composite.visible_choke_px;
  composite_options_.matte_levels = writer_.matte_levels();
  log_info("swapping {} frame(s) of {} (chunk {}/{}) to {}, batch {} on {}", todo_.size(), job_.plate,
           job_.chunk_index, job_.chunk_count, writer_.describe(), batch_, device_.str());
}

// --- render: read, infer, finish --------------------------------------------------------------------

void SwapPipeline::render() {
  progress_.begin("swap", static_cast<int64_t>(todo_.size()));
  if (!to_read_.empty()) {
    const int64_t seek_gap = info().is_sequence ? 1 : 48;
    source_->seek(to_read_.front());
    size_t next = 0, next_todo = 0;
    int64_t last_read = std::numeric_limits<int64_t>::min() / 2;
    Frame frame;
    while (next < to_read_.size() && !progress_.stop_requested() && source_->read(frame)) {
      while (next < to_read_.size() && to_read_[next] < frame.number) ++next;
      if (next == to_read_.size()) break;
      if (frame.number != to_read_[next]) continue;
      ++next;
      last_read = frame.number;
      while (next_todo < todo_.size() && todo_[next_todo] < frame.number) not_in_plate_.push_back(todo_[next_todo++]);
      const bool wanted = next_todo < todo_.size() && todo_[next_todo] == frame.number;
      if (wanted) ++next_todo;
      read_frame(frame, wanted);
      if (uninferred_faces_ >= static_cast<size_t>(batch_) || uninferred_frames_ >= 16) infer();
      finish_ready(frame.number);
      // Crops no pending or later frame can reach any more.
      const int64_t oldest_needed = (pending_.empty() ? frame.number + 1 : pending_.front().number) - color_window_;
      neighbour_crops_.erase(neighbour_crops_.begin(), neighbour_crops_.lower_bound(oldest_needed));
      if (next < to_read_.size() && to_read_[next] - frame.number > seek_gap) source_->seek(to_read_[next]);
    }
    // Stopped early, a frame whose later neighbours were not read would get other colours than in
    // a whole render (and --skip-existing would keep it): only complete ones are written.
    infer();
    finish_ready(progress_.stop_requested() ? last_read : std::numeric_limits<int64_t>::max());
    while (next_todo < todo_.size() && !progress_.stop_requested()) not_in_plate_.push_back(todo_[next_todo++]);
  }
  progress_.end();
}

// One decoded frame: the plate as decoded (a frame to render), and its faces cut out for the network
// and, for colour smoothing, as neighbours of the frames around it.
void SwapPipeline::read_frame(const Frame& frame, bool wanted) {
  PendingFrame work;
  work.number = frame.number;
  // The plate as decoded: 8-bit plates keep their 8-bit codes exactly; deeper plates their full values.
  if (eight_bit_ || !frame.full) {
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
  auto it = records_.find(frame.number);
  if (it != records_.end()) {
    if (wanted && it->second->faces.empty()) ++report_.frames_without_faces;
    std::vector<NeighbourCrop> crops;
    for (const FaceRecord& face : it->second->faces) {
      FaceWork w;
      w.track = face.track;
      w.detection_score = face.score;
      w.fit_confidence = face.fit_confidence.value_or(SwapFrameQuality::kNone);
      w.aligned_from_frame = rescale_alignment(face.aligned_from_frame, faceset_->manifest.size, resolution_);
      w.box_in_crop = box_in_crop(face.bbox, w.aligned_from_frame);
      w.plate_values = crop_plate_values(crop_source, w.aligned_from_frame, resolution_);
      w.crop = encoded_for_network(w.plate_values, *encoding_);
      if (color_window_ > 0)
        crops.push_back({w.track, placement_of(w.aligned_from_frame, resolution_),
                         prepare_color_samples(w.crop, job_.colour.mode), w.plate_values});
      if (!wanted) continue;
      Landmarks68 landmarks{};
      for (size_t p = 0; p < landmarks.size() && p < face.landmarks.size(); ++p)
        landmarks[p] = {static_cast<float>(face.landmarks[p][0]), static_cast<float>(face.landmarks[p][1])};
      const Gray8Image hull = face_hull_mask(landmarks, w.aligned_from_frame, resolution_);
      w.hull.resize(hull.pixels.size());
      for (size_t i = 0; i < hull.pixels.size(); ++i) w.hull[i] = hull.pixels[i] / 255.f;
      if (matte_mode_ == MatteMode::visible) {
        w.visible = visible_mattes_->load(face.crop);
        const auto& m = face.aligned_from_frame;
        w.visible_from_frame = Affine2d{m[0], m[1], m[2], m[3], m[4], m[5]};
        if (w.visible.empty()) ++faces_without_visible_matte_;
      }
      work.faces.push_back(std::move(w));
    }
    if (!crops.empty()) neighbour_crops_[frame.number] = std::move(crops);
  } else if (wanted) {
    ++report_.frames_without_record;
  }
  if (wanted) {
    uninferred_faces_ += work.faces.size();
    ++uninferred_frames_;
    pending_.push_back(std::move(work));
  }
}

// Runs the network over every face of the pending frames not yet inferred, in batches padded to
// `batch` faces, so a face's result never depends on which other faces share its batch (chunked ==
// whole).
void SwapPipeline::infer() {
  torch::NoGradGuard no_grad;
  std::vector<FaceWork*> faces;
  for (auto& f : pending_) {
    if (f.inferred) continue;
    f.inferred = true;
    for (auto& w : f.faces) faces.push_back(&w);
  }
  uninferred_faces_ = uninferred_frames_ = 0;
  const int64_t r = resolution_;
  const int64_t plane = r * r;
  for (size_t begin = 0; begin < faces.size(); begin += static_cast<size_t>(batch_)) {
    const size_t count = std::min(faces.size() - begin, static_cast<size_t>(batch_));
    torch::Tensor input = torch::zeros({batch_, 3, r, r}, torch::kFloat32);
    float* in = input.data_ptr<float>();
    for (size_t i = 0; i < count; ++i) {
      const CropImage& crop = faces[begin + i]->crop;
      for (int64_t p = 0; p < plane; ++p)
        for (int c = 0; c < 3; ++c) in[(i * 3 + c) * plane + p] = std::clamp(crop.rgb[p * 3 + c], 0.f, 1.f);
    }
    SwapOutput out = loaded_.model->swap_double_to_actor(input.to(device_));
    torch::Tensor rgb = out.rgb.to(torch::kCPU, torch::kFloat32).contiguous();
    torch::Tensor mask = out.mask.to(torch::kCPU, torch::kFloat32).contiguous();
    const float* rgb_p = rgb.data_ptr<float>();
    const float* mask_p = mask.data_ptr<float>();
    for (size_t i = 0; i < count; ++i) {
      FaceWork& w = *faces[begin + i];
      w.predicted.size = resolution_;
      w.predicted.rgb.resize(static_cast<size_t>(plane) * 3);
      w.mask.assign(mask_p + i * plane, mask_p + (i + 1) * plane);
      for (int64_t p = 0; p < plane; ++p)
        for (int c = 0; c < 3; ++c) w.predicted.rgb[p * 3 + c] = rgb_p[(i * 3 + c) * plane + p];
    }
  }
}

// Finishes (writes), in order, the pending frames that are inferred and whose colour neighbours
// are all read (every frame up to `read_up_to` is).
void SwapPipeline::finish_ready(int64_t read_up_to) {
  size_t ready = 0;
  while (ready < pending_.size() && pending_[ready].inferred && pending_[ready].number <= read_up_to - color_window_) ++ready;
  for (size_t i = 0; i < ready; ++i) {
    finish(pending_[i]);
    progress_.update(report_.frames_written);
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(ready));
}

// One frame: each face composited into it, the frame's scores, the frame written.
void SwapPipeline::finish(PendingFrame& frame) {
  std::vector<float> alpha(static_cast<size_t>(frame.base.width) * frame.base.height, 0.f);
  FloatImage plate;  // before compositing, for the review and the stability scores
  if (writer_.wants_plate() || scoring_->enabled()) plate = frame.base;
  // The face alone: the same faces composited over nothing, which is the face premultiplied by
  // the matte (zero outside it); over the plate it gives the full frame again.
  FloatImage element;
  std::vector<float> element_alpha;
  if (writer_.wants_element()) {
    element.width = frame.base.width;
    element.height = frame.base.height;
    element.pixels.assign(frame.base.pixels.size(), 0.f);
  }
  SwapFrameQuality frame_quality;
  frame_quality.frame = frame.number;
  for (FaceWork& w : frame.faces) composite(w, frame, alpha, element, element_alpha, frame_quality);
  if (scoring_->enabled() && !frame.faces.empty()) score_frame(frame, plate, alpha, frame_quality);
  writer_.write(frame.number, plate, frame.base, alpha, element);
  quality_.push_back(frame_quality);
  // This frame is done: the next one's flicker score takes it over (moved, not copied).
  if (scoring_->enabled() && !frame.faces.empty())
    previous_frame_ = RenderedFrame{frame.number, std::move(plate), std::move(frame.base), std::move(alpha)};
  else
    previous_frame_.reset();
  ++report_.frames_written;
}

std::vector<float> SwapPipeline::matte_of(const FaceWork& w) const {
  switch (matte_mode_) {
    case MatteMode::mask: return w.mask;
    case MatteMode::hull: return w.hull;
    case MatteMode::both:
    case MatteMode::visible:
    case MatteMode::automatic: break;
  }
  std::vector<float> matte(w.mask.size());
  for (size_t i = 0; i < w.mask.size(); ++i) matte[i] = std::min(w.mask[i], w.hull[i]);
  if (!w.visible.empty()) {
    // The colour statistics and scores see only the visible face; composite_face cuts the
    // occluders out at the plate's resolution (PlacedFace::visible).
    const std::vector<float> visible = resample_square_matte(w.visible, faceset_->manifest.size, resolution_);
    for (size_t i = 0; i < matte.size(); ++i) matte[i] = std::min(matte[i], visible[i]);
  }
  return matte;
}

// One face into `frame` (and the element): its matte, colour and scores; back into the plate's own
// values; composited.
void SwapPipeline::composite(FaceWork& w, PendingFrame& frame, std::vector<float>& alpha, FloatImage& element,
                             std::vector<float>& element_alpha, SwapFrameQuality& frame_quality) {
  const double agreement = mask_agreement(w.mask, w.hull);
  PlacedFace placed;
  placed.aligned_from_frame = w.aligned_from_frame;
  placed.matte = matte_of(w);
  if (!w.visible.empty()) {
    placed.visible = std::move(w.visible);
    placed.visible_size = faceset_->manifest.size;
    placed.visible_from_frame = w.visible_from_frame;
  }
  placed.rgb = std::move(w.predicted);
  PlateMean plate_mean;
  const double shift = transfer_colour(w, frame.number, placed, plate_mean);
  add_face_quality(frame_quality, w.detection_score, agreement, shift, placement_of(w.aligned_from_frame, resolution_).width);
  add_fit_confidence(frame_quality, w.fit_confidence);
  if (w.fit_confidence < kLowFitConfidence) low_fit_frames_.insert(frame.number);
  if (scoring_->enabled()) score_face(w, placed, frame_quality);
  // Back into the plate's own values, by the exact inverse of the crop's encoding, and there
  // given the plate face's mean (plate_mean.h).
  encoding_->decode(placed.rgb.rgb.data(), static_cast<size_t>(placed.rgb.size) * placed.rgb.size);
  if (job_.colour.mode != ColorMode::none)
    match_plate_mean(placed.rgb, placed.matte, plate_mean, info().scene_linear ? MeanMatch::gain : MeanMatch::offset);
  if (encoding_->record().kind == EncodingKind::plate)
    for (float& v : placed.rgb.rgb) v = std::clamp(v, 0.f, 1.f);
  composite_face(frame.base, alpha, placed, composite_options_);
  if (writer_.wants_element()) composite_face(element, element_alpha, placed, composite_options_);
  ++report_.faces_swapped;
}

// Temporal smoothing: the PLATE face's statistics (the transfer's target) are averaged over the
// frames within +-color_window holding the same face (same_face), each one's crop weighted by THIS
// frame's matte (the crops are aligned, so its pixels cover the same part of the face). The predicted
// face's statistics are measured on this frame alone: the output then carries the smoothed plate
// statistics exactly, so neither the plate's flicker nor the network's frame-to-frame variation
// reaches it, and no neighbour needs the network. Neighbours are read from the plate whatever the
// chunk, so a frame's result depends only on (frame, model, job). The same frames' plate faces in
// the plate's own values give the mean matched after decoding.
double SwapPipeline::transfer_colour(const FaceWork& w, int64_t frame, PlacedFace& placed, PlateMean& plate_mean) const {
  const ColorMode mode = job_.colour.mode;
  if (mode == ColorMode::none) return 0;
  const std::vector<float> before = placed.rgb.rgb;
  std::vector<ColorStatistics> plate_statistics;
  std::vector<PlateMean> plate_means;
  if (color_window_ == 0) {
    plate_statistics.push_back(measure_color(w.crop, placed.matte, mode));
    plate_means.push_back(measure_plate_mean(w.plate_values, placed.matte));
  } else {
    const FacePlacement placement = placement_of(w.aligned_from_frame, resolution_);
    for (auto it = neighbour_crops_.lower_bound(frame - color_window_);
         it != neighbour_crops_.end() && it->first <= frame + color_window_; ++it)
      for (const NeighbourCrop& n : it->second)
        if (same_face(n, w.track, placement)) {
          plate_statistics.push_back(measure_color(n.samples, placed.matte));
          plate_means.push_back(measure_plate_mean(n.plate_values, placed.matte));
        }
  }
  apply_color_transfer(placed.rgb, measure_color(placed.rgb, placed.matte, mode), average_color(plate_statistics));
  plate_mean = average_plate_mean(plate_means);
  return color_shift(before, placed.rgb.rgb, placed.matte);
}

// On the crops as the network sees them: the swapped face over the plate's.
void SwapPipeline::score_face(const FaceWork& w, const PlacedFace& placed, SwapFrameQuality& frame_quality) {
  const auto scoring_started = SteadyClock::now();
  const SwappedFaceScores scores = scoring_->score(w.crop, face_over_plate(placed.rgb, w.crop, placed.matte), w.box_in_crop);
  add_face_scores(frame_quality, scores);
  ++faces_scored_;
  if (std::isfinite(scores.identity_to_actor)) identity_scores_.push_back({scores.identity_to_actor, scores.identity_to_double});
  if (std::isfinite(scores.plate_identity_to_double)) plate_identity_to_double_.push_back(scores.plate_identity_to_double);
  if (std::isfinite(scores.landmark_error)) landmark_errors_.push_back(scores.landmark_error);
  scoring_seconds_ += seconds_since(scoring_started);
}

// The frame's stability scores: the seam, and the flicker against the frame before.
void SwapPipeline::score_frame(const PendingFrame& frame, const FloatImage& plate, const std::vector<float>& alpha,
                               SwapFrameQuality& frame_quality) {
  const auto scoring_started = SteadyClock::now();
  frame_quality.seam_ratio = seam_ratio(plate, frame.base, alpha);
  if (std::isfinite(frame_quality.seam_ratio)) seam_ratios_.push_back(frame_quality.seam_ratio);
  if (previous_frame_ && previous_frame_->number == frame.number - 1) {
    frame_quality.flicker_ratio = flicker_ratio(previous_frame_->plate, plate, previous_frame_->output, frame.base,
                                                previous_frame_->alpha, alpha);
    if (std::isfinite(frame_quality.flicker_ratio)) flicker_ratios_.push_back(frame_quality.flicker_ratio);
  }
  scoring_seconds_ += seconds_since(scoring_started);
}

// --- write ----------------------------------------------------------------------------------------

SwapReport SwapPipeline::write() {
  if (faces_without_visible_matte_ > 0)
    log_warning("{}: {} face(s) have no visible-face matte (extracted after `facetrain matte apply`?): composited with "
                "the face matte alone; run facetrain matte apply again", job_.faces.string(), faces_without_visible_matte_);
  // Frames the plate's header promised that decoding did not find (a movie shorter than it says):
  // missing frames like any other, found only now.
  std::string undelivered;
  if (!not_in_plate_.empty()) {
    const FrameRange lacking = FrameRange::of_frames(not_in_plate_);
    undelivered = fmt::format("{}: {}: the plate ended before frames {} (its header counts frames {})", job_.plate,
                              asked_.text, lacking.to_string(8), describe_plate_frames(info()));
    if (job_.on_missing == OnMissingFrame::skip) {
      log_warning("{}; skipped (--on-missing skip)", undelivered);
      report_.frames_missing = report_.frames_missing.joined(lacking);
      undelivered.clear();
    }
  }
  // A stopped render, or one that lacks frames, leaves no movie behind.
  if (!progress_.stop_requested() && undelivered.empty()) writer_.finish();
  report_.movies = writer_.movies_written();
  const std::vector<int64_t>& chunk = selection_.present;
  if (!chunk.empty()) {  // what this chunk wrote (or kept), for `facetrain verify`
    const RoundTrip& round_trip = encoding_->round_trip();
    SwapManifest provenance;
    provenance.tool_version = version_string();
    provenance.plate = job_.plate;
    provenance.plate_sha256 = plate_sha256_;
    provenance.checkpoint = loaded_.checkpoint.string();
    provenance.checkpoint_sha256 = loaded_.model_sha256;
    provenance.output_kind = output_kind_name(job_.output.kind);
    provenance.missing_frames = report_.frames_missing.to_string();
    provenance.encoding = network_encoding_to_json(encoding_->record());
    provenance.encoding["plate_colorspace"] = matched_->colorspace;
    provenance.encoding["round_trip_max_error"] = round_trip.max_error;
    provenance.encoding["round_trip_probes"] = round_trip.probes_in_range;
    provenance.quality = std::move(quality_);
    if (scoring_->enabled()) {
      report_.quality = summarize_swap_quality(faces_scored_, identity_scores_, plate_identity_to_double_, landmark_errors_,
                                               flicker_ratios_, seam_ratios_, scoring_seconds_);
      provenance.quality_summary = report_.quality;
    }
    writer_.write_manifest(chunk.front(), chunk.back(), std::move(provenance));
  }
  if (!undelivered.empty())
    throw InputDataError(fmt::format("{}; {}", undelivered,
                                     writer_.is_movie() ? "no movie was written"
                                                        : fmt::format("the {} frames before were written", report_.frames_written)));
  if (!low_fit_frames_.empty()) {
    std::vector<int64_t> frames(low_fit_frames_.begin(), low_fit_frames_.end());
    log_warning("landmark fit: {} frame(s) have a face whose landmark fit confidence is below {} ({}): its alignment "
                "was a guess (a hand over the face, a profile); look at them (fit_confidence in the swap manifest)",
                frames.size(), kLowFitConfidence, FrameRange::of_frames(frames).to_string());
  }
  report_.seconds = seconds_since(started_);
  return report_;
}

}  // namespace

SwapReport run_swap(const SwapJob& job, ProgressSink& progress, const FaceScorerFactory& open_scorer) {
  return SwapPipeline(job, progress, open_scorer).run();
}

}  // namespace facetrain
