#include "data_prep/extract_pipeline.h"

#include "facetrain/face/alignment.h"
#include "data_prep/face/dlib_face_scorer.h"
#include "data_prep/face/landmark_predictor.h"
#include "data_prep/face/reference_identity.h"
#include "facetrain/media/srgb.h"
#include "facetrain/media/frame_selection.h"
#include "facetrain/media/image_io.h"
#include "facetrain/media/network_encoding.h"
#include "facetrain/base/bounded_queue.h"
#include "facetrain/base/error.h"
#include "facetrain/base/log.h"
#include "facetrain/base/sequence_pattern.h"
#include "facetrain/base/sha256.h"
#include "facetrain/base/version.h"
#include "facetrain/faceset/faceset.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <functional>
#include <optional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace facetrain {

namespace {

using Clock = std::chrono::steady_clock;

// A decoded frame on its way from the decoder to the tracker.
struct DecodedFrame {
  int64_t sequence = 0;  // order of arrival, for the ordered commit
  Frame frame;
  Gray8Image gray;       // made by the decoder thread: the tracker thread is the critical path
};

// A tracked frame on its way to a crop writer.
struct TrackedWork {
  int64_t sequence = 0;
  Rgb8Image display;
  std::optional<FloatImage> full;  // the plate's own values, when the crops are encoded from them
  TrackedFrame tracked;
};

// How the crops of a run are made: cut from the 8-bit detection proxy when it already is the
// network's encoding (video and display-referred plates as stored; scene-linear plates through the
// sRGB curve), else cut from the plate's own values and encoded (OpenColorIO encodings).
struct CropEncoding {
  NetworkEncoding encoding;
  bool from_full_precision = false;
};

// The network encoding's 8-bit crop: bilinear from the plate's own values, encoded, clamped to the
// network's range [0, 1], rounded.
Rgb8Image encoded_crop(const FloatImage& full, const Affine2d& aligned, int size, const NetworkEncoding& encoding) {
  std::vector<float> rgb = warp_rgb_to_aligned(full, aligned, size);
  encoding.encode(rgb.data(), static_cast<size_t>(size) * size);
  Rgb8Image crop;
  crop.width = crop.height = size;
  crop.pixels.resize(rgb.size());
  for (size_t i = 0; i < rgb.size(); ++i) crop.pixels[i] = unit_to_8bit(rgb[i]);
  return crop;
}

// Collects finished records from writer threads and hands them to the face set in arrival order,
// a chunk at a time.
class OrderedCommitter {
 public:
  OrderedCommitter(FaceSetWriter& writer, int frames_per_commit) : writer_(writer), per_commit_(frames_per_commit) {}

  void finished(int64_t sequence, FrameRecord record) {
    std::lock_guard<std::mutex> lock(mutex_);
    waiting_.emplace(sequence, std::move(record));
    while (!waiting_.empty() && waiting_.begin()->first == next_) {
      writer_.add(std::move(waiting_.begin()->second));
      waiting_.erase(waiting_.begin());
      ++next_;
      if (static_cast<int>(writer_.pending()) >= per_commit_) writer_.flush();
    }
  }

  // Commits everything that is contiguous from the start; records after a hole (a frame whose
  // writer failed) are committed too: each record is complete by itself.
  void flush_all() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [sequence, record] : waiting_) writer_.add(std::move(record));
    waiting_.clear();
    writer_.flush();
  }

 private:
  FaceSetWriter& writer_;
  int per_commit_;
  std::mutex mutex_;
  std::map<int64_t, FrameRecord> waiting_;
  int64_t next_ = 0;
};

// Remembers the first exception thrown by any stage; later stages stop early once one is set.
class FirstError {
 public:
  void capture() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!error_) error_ = std::current_exception();
    failed_ = true;
  }
  bool failed() const { return failed_.load(); }
  void rethrow() {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::mutex mutex_;
  std::exception_ptr error_;
  std::atomic<bool> failed_{false};
};

FrameRecord write_faces(FaceSetWriter& writer, const std::string& source, const ExtractConfig& config,
                        const CropEncoding& crops, const TrackedWork& work) {
  FrameRecord record;
  record.source = source;
  record.frame = work.tracked.frame_number;
  int index = 0;
  for (const auto& face : work.tracked.faces) {
    const Affine2d transform = aligned_from_frame(face.landmarks, config.face_type, config.crop_size_px);
    const std::string name = writer.face_name(source, record.frame, index);
    FaceRecord out;
    out.index = index;
    out.track = face.track_id;
    out.bbox = {face.box.x0, face.box.y0, face.box.x1, face.box.y1};
    out.score = face.box.score;
    out.fit_confidence = std::round(static_cast<double>(face.fit_confidence) * 1e4) / 1e4;
    for (const auto& p : face.landmarks) out.landmarks.push_back({p.x, p.y});
    out.aligned_from_frame = {transform.a, transform.b, transform.tx, transform.c, transform.d, transform.ty};
    out.crop = "faces/" + name + ".png";
    out.mask = "masks/" + name + ".png";
    if (crops.from_full_precision && !work.full)
      throw InternalError(fmt::format("{}: frame {}: no full-precision pixels to encode", source, record.frame));
    write_png(writer.directory() / out.crop,
              crops.from_full_precision ? encoded_crop(*work.full, transform, config.crop_size_px, crops.encoding)
                                        : warp_to_aligned(work.display, transform, config.crop_size_px),
              config.png_compression, Durability::deferred);
    write_png(writer.directory() / out.mask, face_hull_mask(face.landmarks, transform, config.crop_size_px),
              config.png_compression, Durability::deferred);
    record.faces.push_back(std::move(out));
    ++index;
  }
  return record;
}

int worker_count(const ExtractConfig& config) {
  const int cores = std::max(1u, std::thread::hardware_concurrency());
  return config.threads > 0 ? config.threads : cores;
}

FrameSourceOptions source_options(const ExtractConfig& config) {
  FrameSourceOptions options;
  options.start_frame = config.start_frame;
  options.on_missing = config.on_missing;
  options.colorspace = config.colorspace;
  options.ocio_config = config.ocio_config;
  return options;
}

// The frames of a source this run owns: the asked frames the plate has, less those recorded earlier.
struct OwnedFrames {
  FrameSelection selection;
  int64_t first = 0, last = -1;  // the span to decode; last < first: to the end (a movie of unknown length)
  int64_t wanted = 0, already_done = 0;
  std::set<int64_t> done;
  std::vector<int64_t> expected;  // the present frames not done earlier: what decoding must deliver
};

OwnedFrames owned_frames(const FrameSource& source, const ExtractConfig& config, const std::string& input) {
  const SourceInfo& info = source.info();
  OwnedFrames owned;
  owned.selection = select_frames(config.frames, source);
  const std::vector<int64_t>& present = owned.selection.present;
  owned.first = present.empty() ? info.frame_first : present.front();
  owned.last = present.empty() ? info.frame_first - 1 : present.back();
  std::error_code ec;
  if (!config.decode_only && std::filesystem::exists(config.output / "faceset.json", ec))
    owned.done = FaceSet::recorded_frames(config.output, input);
  for (int64_t f : present) {
    if (owned.done.count(f)) {
      ++owned.already_done;
    } else {
      ++owned.wanted;
      owned.expected.push_back(f);
    }
  }
  return owned;
}

// Decodes the frames a run owns, in order, handing each to `take` (which may move from it; false:
// stop) while `keep_going`; `delivered` collects their numbers as they go, so it holds the frames
// before damage in the plate too. Nothing is read past the last frame asked for, nor (a sequence:
// one file per frame) a file between two wanted ones: a gap there is none of this run's business.
void decode_owned(FrameSource& source, const ExtractConfig& config, const OwnedFrames& owned,
                  std::vector<int64_t>& delivered, const std::function<bool()>& keep_going,
                  const std::function<bool(Frame&)>& take) {
  const int64_t first = owned.first, last = owned.last;
  if (first > source.info().frame_first) source.seek(first);
  Frame frame;
  size_t next_expected = 0;  // into owned.expected, for skipping over a sequence's unwanted files
  while (keep_going() && source.read(frame)) {
    const int64_t number = frame.number;
    if (number > last && last >= first) break;
    if (config.frames.contains(number) && !owned.done.count(number)) {
      delivered.push_back(number);
      if (!take(frame)) break;
      frame = Frame{};
    }
    if (number == last && last >= first) break;
    while (next_expected < owned.expected.size() && owned.expected[next_expected] <= number) ++next_expected;
    if (source.info().is_sequence && next_expected < owned.expected.size() && owned.expected[next_expected] > number + 1)
      source.seek(owned.expected[next_expected]);
  }
}

std::string asked_text(const ExtractConfig& config) {
  return config.frames.is_all() ? "all frames" : "--frames " + config.frames.to_string();
}

// The frames the plate promised but did not deliver (a movie shorter than its header says): an
// error under --on-missing error (what was extracted is complete and kept), else added to the
// report's missing frames with a warning.
void account_undelivered(const SourceInfo& info, const ExtractConfig& config, const OwnedFrames& owned,
                         const std::vector<int64_t>& delivered, SourceReport& report) {
  if (owned.selection.open_ended) return;
  const FrameRange lacking = undelivered_frames(owned.expected, delivered);
  if (lacking.empty()) return;
  const std::string message = fmt::format("{}: {}: the plate ended before frames {} (its header counts frames {})",
                                          info.path, asked_text(config), lacking.to_string(8), describe_plate_frames(info));
  if (config.on_missing == OnMissingFrame::error)
    throw InputDataError(fmt::format("{}; the {} frames decoded were extracted and kept", message, report.frames_processed));
  log_warning("{}; skipped (--on-missing skip)", message);
  report.frames_missing = report.frames_missing.joined(lacking);
}

SourceReport decode_only(const std::string& input, const ExtractConfig& config, ProgressSink& progress) {
  FrameSourceOptions options = source_options(config);
  options.decode_threads = worker_count(config);
  auto source = open_frame_source(input, options);
  const OwnedFrames owned = owned_frames(*source, config, input);
  SourceReport report;
  report.path = input;
  report.frames_missing = owned.selection.missing;
  const auto start = Clock::now();
  if (owned.first > source->info().frame_first) source->seek(owned.first);
  progress.begin("decode " + input, owned.selection.open_ended ? -1 : owned.wanted);
  Frame frame;
  std::vector<int64_t> delivered;
  size_t next_expected = 0;
  while (!progress.stop_requested() && source->read(frame)) {
    if (!owned.selection.open_ended && frame.number > owned.last) break;
    if (config.frames.contains(frame.number)) {
      delivered.push_back(frame.number);
      progress.update(++report.frames_processed);
    }
    if (!owned.selection.open_ended && frame.number == owned.last) break;
    while (next_expected < owned.expected.size() && owned.expected[next_expected] <= frame.number) ++next_expected;
    if (source->info().is_sequence && next_expected < owned.expected.size() &&
        owned.expected[next_expected] > frame.number + 1)
      source->seek(owned.expected[next_expected]);  // a sequence's files between wanted ones are not read
  }
  progress.end();
  if (!progress.stop_requested()) account_undelivered(source->info(), config, owned, delivered, report);
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return report;
}

// The plate as the face set records it (its identity, size, rate, frames, colour space). Returns
// whether it is new to the face set.
bool register_plate(FaceSetWriter& writer, const std::string& input, const SourceInfo& info, const ExtractConfig& config,
                    int64_t first, int64_t last) {
  FaceSetSource entry;
  entry.path = input;
  entry.sha256 = plate_identity_sha256(input);
  entry.width = info.width;
  entry.height = info.height;
  entry.fps = info.fps;
  entry.frame_first = first;
  entry.frame_last = last;
  entry.colorspace = config.colorspace.empty() ? info.colorspace : config.colorspace;
  if (!config.decode_only) {  // config.detector is resolved (run_extract): auto is decided, the model hashed
    const bool runs_cnn = config.detector.kind == DetectorKind::cnn || config.detector.kind == DetectorKind::hog_cnn;
    entry.detectors.push_back({std::string(to_string(config.detector.kind)), config.detector.mmod_model_sha256,
                               runs_cnn ? std::string(to_string(config.detector.device)) : std::string()});
  }
  return writer.register_source(entry);
}

// After the stages ended: a plate that gave no face at all leaves the face set as it was, so a rerun
// reports the same (65), unless `no_face_accepted` (--identity's person absent, --on-missing skip);
// damage in the plate is 65 too, naming what was kept before it.
void refuse_unusable_source(const SourceReport& report, FaceSetWriter& writer, const std::string& input, bool new_source,
                            const std::exception_ptr& media_error, bool stopped, bool no_face_accepted) {
  if (report.frames_processed > 0 && report.faces_written == 0 && !stopped && !no_face_accepted) {
    writer.retract(input, new_source);
    throw InputDataError(fmt::format("0 faces in {} frames of {}{}", report.frames_processed, input,
                                     media_error ? " (the file is also damaged)" : ""));
  }
  if (!media_error) return;
  try {
    std::rethrow_exception(media_error);
  } catch (const InputDataError& e) {
    throw InputDataError(fmt::format("{} ({} frames before the damage were extracted and kept)", e.what(),
                                     report.frames_processed));
  }
}

// `identity`: the tracks chosen by --identity / --exclude-identity (track_identity.h), whose faces
// are written instead of tracking again; null: every face the tracker keeps.
SourceReport extract_source(const std::string& input, const ExtractConfig& config, const LandmarkPredictor& predictor,
                            const NetworkEncoding& encoding, FaceSetWriter& writer, ProgressSink& progress,
                            const TrackIdentityPass* identity) {
  SourceReport report;
  report.path = input;
  const auto start = Clock::now();
  const int workers = worker_count(config);

  FrameSourceOptions options = source_options(config);
  options.decode_threads = workers;
  auto source = open_frame_source(input, options);
  const SourceInfo& info = source->info();
  // The proxy is the encoding when no OpenColorIO colour space is involved and the plate is what
  // the proxy takes it for (scene-linear through the sRGB curve, anything else as stored).
  const EncodingKind proxy_kind = info.scene_linear ? EncodingKind::srgb : EncodingKind::plate;
  const CropEncoding crops{encoding, !config.colorspace.empty() || encoding.record().kind != proxy_kind};
  if (crops.from_full_precision) {  // the plate's own values travel to the crop writers
    source.reset();
    options.want_full_precision = true;
    source = open_frame_source(input, options);
  }

  const OwnedFrames owned = owned_frames(*source, config, input);
  const int64_t first = owned.first, last = owned.last, wanted = owned.wanted;
  report.frames_already_done = owned.already_done;
  report.frames_missing = owned.selection.missing;
  if (owned.selection.present.empty() && !owned.selection.open_ended) return report;  // run_extract checked
  if (wanted == 0 && last >= first) {
    log_info("{}: frames {}-{} already extracted into {}; nothing to do", input, first, last, writer.directory().string());
    return report;
  }

  const bool new_source = register_plate(writer, input, info, config, first, last);

  log_info("{}: {}x{} {} {:.3f} fps, frames {}-{}: {} to extract{}", input, info.width, info.height, info.codec,
           info.fps, first, last, wanted,
           report.frames_already_done ? fmt::format(" ({} done earlier)", report.frames_already_done) : "");
  progress.begin("extract " + input, wanted);

  BoundedQueue<DecodedFrame> decoded(16);
  BoundedQueue<TrackedWork> tracked(16);
  OrderedCommitter committer(writer, config.frames_per_commit);
  FirstError stage_error;
  std::exception_ptr media_error;  // damage in the plate: what was decoded before it is kept
  std::vector<int64_t> delivered;  // the frames the decoder handed on (read after it is joined)
  std::atomic<int64_t> frames_processed{0}, frames_with_faces{0}, faces_written{0};

  std::thread decoder([&] {
    try {
      int64_t sequence = 0;
      decode_owned(*source, config, owned, delivered, [&] { return !progress.stop_requested() && !stage_error.failed(); },
                   [&](Frame& frame) {
                     Gray8Image gray = to_gray(frame.display);
                     return decoded.push({sequence++, std::move(frame), std::move(gray)});
                   });
    } catch (const InputDataError&) {
      media_error = std::current_exception();
    } catch (...) {
      stage_error.capture();
    }
    decoded.close();
  });

  std::thread tracker_thread([&] {
    try {
      std::optional<FaceTracker> tracker;
      if (!identity) tracker.emplace(make_face_detector(config.detector), predictor, config.tracker);
      std::map<int64_t, DecodedFrame> held;  // frames whose faces the tracker has not released yet
      auto release = [&](std::vector<TrackedFrame> frames) {
        for (auto& t : frames) {
          auto it = held.find(t.frame_number);
          if (it == held.end()) throw InternalError(fmt::format("tracker released unknown frame {}", t.frame_number));
          tracked.push({it->second.sequence, std::move(it->second.frame.display), std::move(it->second.frame.full),
                        std::move(t)});
          held.erase(it);
        }
      };
      DecodedFrame item;
      while (decoded.pop(item)) {
        if (stage_error.failed()) continue;  // drain so the decoder is not blocked
        const int64_t number = item.frame.number;
        const Gray8Image gray = std::move(item.gray);
        held.emplace(number, std::move(item));
        release(identity ? std::vector<TrackedFrame>{identity->kept(number)} : tracker->push(number, gray));
      }
      if (tracker) release(tracker->flush());
    } catch (...) {
      stage_error.capture();
    }
    tracked.close();
  });

  std::vector<std::thread> writers;
  // Decoding and tracking are one thread each but rarely saturate a core; crop writers fill the rest.
  const int writer_threads = std::max(1, workers);
  for (int w = 0; w < writer_threads; ++w) {
    writers.emplace_back([&] {
      TrackedWork work;
      while (tracked.pop(work)) {
        if (stage_error.failed()) continue;
        try {
          FrameRecord record = write_faces(writer, input, config, crops, work);
          const auto face_count = static_cast<int64_t>(record.faces.size());
          committer.finished(work.sequence, std::move(record));
          faces_written += face_count;
          if (face_count > 0) ++frames_with_faces;
          progress.update(++frames_processed);
        } catch (...) {
          stage_error.capture();
        }
      }
    });
  }

  decoder.join();
  tracker_thread.join();
  for (auto& t : writers) t.join();
  progress.end();
  committer.flush_all();  // whatever was finished is complete and worth keeping

  report.frames_processed = frames_processed;
  report.frames_with_faces = frames_with_faces;
  report.faces_written = faces_written;
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  stage_error.rethrow();
  // A plate where --on-missing skip accepted that the person is absent: its frames are recorded
  // with no face, as done.
  const bool person_absent = identity && !identity->any_kept();
  refuse_unusable_source(report, writer, input, new_source, media_error, progress.stop_requested(), person_absent);
  if (!progress.stop_requested()) account_undelivered(info, config, owned, delivered, report);
  return report;
}

// The first pass of --identity / --exclude-identity over one plate's owned frames: every face
// tracked, a sample of each track described, the tracks voted on. Damage in the plate ends the pass
// quietly: the extract pass meets it again and reports it as it would without --identity.
std::unique_ptr<TrackIdentityPass> identify_tracks(const std::string& input, const ExtractConfig& config,
                                                   const LandmarkPredictor& predictor, FaceScorer& scorer,
                                                   const IdentityChoice& choice, ProgressSink& progress) {
  FrameSourceOptions options = source_options(config);
  options.decode_threads = worker_count(config);
  auto source = open_frame_source(input, options);
  const OwnedFrames owned = owned_frames(*source, config, input);
  auto pass = std::make_unique<TrackIdentityPass>(choice, scorer, config.tracker.max_faces);
  if (owned.wanted == 0 && !owned.selection.open_ended) {  // done by an earlier run: nothing to choose
    pass->decide();
    return pass;
  }
  TrackerOptions tracking = config.tracker;
  tracking.max_faces = std::max(tracking.max_faces, kIdentityTrackedFaces);
  FaceTracker tracker(make_face_detector(config.detector), predictor, tracking);
  BoundedQueue<Frame> decoded(16);
  std::vector<int64_t> delivered;
  std::exception_ptr decode_error;
  std::thread decoder([&] {
    try {
      decode_owned(*source, config, owned, delivered, [&] { return !progress.stop_requested(); },
                   [&](Frame& frame) { return decoded.push(std::move(frame)); });
    } catch (const InputDataError&) {
    } catch (...) {
      decode_error = std::current_exception();
    }
    decoded.close();
  });
  progress.begin("choose tracks " + input, owned.selection.open_ended ? -1 : owned.wanted);
  std::map<int64_t, Rgb8Image> held;  // pictures of the frames the tracker has not released yet
  int64_t seen = 0;
  auto add = [&](std::vector<TrackedFrame> frames) {
    for (TrackedFrame& t : frames) {
      auto it = held.find(t.frame_number);
      if (it == held.end()) throw InternalError(fmt::format("tracker released unknown frame {}", t.frame_number));
      pass->add(it->second, std::move(t));
      held.erase(it);
      progress.update(++seen);
    }
  };
  try {
    Frame frame;
    while (decoded.pop(frame)) {
      const Gray8Image gray = to_gray(frame.display);
      const int64_t number = frame.number;
      held.emplace(number, std::move(frame.display));
      add(tracker.push(number, gray));
    }
    add(tracker.flush());
  } catch (...) {
    decoded.close();
    decoder.join();
    throw;
  }
  decoder.join();
  progress.end();
  if (decode_error) std::rethrow_exception(decode_error);
  pass->decide();
  return pass;
}

// The people --identity and --exclude-identity name: their record for the face set, their
// descriptors for the vote, and the network that describes faces.
struct ChosenPeople {
  IdentityRecord record;
  IdentityChoice choice;
  std::unique_ptr<FaceScorer> scorer;
};

std::optional<ChosenPeople> choose_people(const ExtractConfig& config, const LandmarkPredictor& landmarks) {
  if (config.identity.empty() && config.exclude_identity.empty()) return std::nullopt;
  FaceScorerOptions scorer_options;
  scorer_options.identity_model_path = default_identity_model_path();
  scorer_options.landmark_model_path = config.landmark_model_path;
  scorer_options.landmark_model_sha256 = config.landmark_model_sha256;
  scorer_options.landmark_points = config.landmark_points;
  ChosenPeople people;
  people.scorer = make_face_scorer(scorer_options);
  const ReferenceOptions reference_options{config.face_type, config.detector};
  people.record.threshold = people.choice.threshold = config.identity_threshold;
  people.record.model_sha256 = people.scorer->identity_model_sha256();
  if (!config.identity.empty()) {
    people.record.keep = reference_person(config.identity, *people.scorer, landmarks, reference_options);
    people.choice.keep = descriptor_of(*people.record.keep);
  }
  for (const std::string& file : config.exclude_identity) {
    people.record.exclude.push_back(reference_person({file}, *people.scorer, landmarks, reference_options));
    people.choice.exclude.push_back(descriptor_of(people.record.exclude.back()));
  }
  log_info("identity: {}", describe_identity_choice(people.record));
  return people;
}

// A plate in which no track is kept: 65 naming the closest track, before anything is written; with
// --on-missing skip a warning (its frames are then recorded without faces). A plate with no track
// at all is left to the usual "0 faces" error.
void check_person_found(const std::string& input, const ExtractConfig& config, const ChosenPeople& people,
                        const TrackIdentityPass& pass) {
  const auto& decisions = pass.decisions();
  for (const TrackDecision& d : decisions) log_info("{}: {}", input, describe_track_decision(d, config.identity_threshold));
  if (decisions.empty() || pass.any_kept()) return;
  std::string closest;
  if (people.choice.keep) {
    const TrackDecision* best = nullptr;
    for (const TrackDecision& d : decisions)
      if (d.identity && d.identity->samples > 0 && (!best || d.identity->median < best->identity->median)) best = &d;
    if (best)
      closest = fmt::format(": the closest is track {} (frames {}-{}) at median distance {:.3f}, closest face {:.3f}",
                            best->track, best->frame_first, best->frame_last, best->identity->median,
                            best->identity->closest);
  }
  const std::string message = fmt::format("{}: {} keeps none of the {} face tracks in {}{}", input,
                                          describe_identity_choice(people.record), decisions.size(), asked_text(config),
                                          closest);
  if (config.on_missing == OnMissingFrame::error)
    throw InputDataError(message + "; nothing was written (--on-missing skip records the plate without faces)");
  log_warning("{}; recorded without faces (--on-missing skip)", message);
}

}  // namespace

ExtractReport run_extract(const ExtractConfig& requested, ProgressSink& progress) {
  ExtractConfig config = requested;
  if (!config.decode_only) {
    config.detector = resolve_detector(requested.detector, true);
    // The CNN's model is loaded once here, so that a missing or unreadable one stops the run before
    // anything is written.
    if (config.detector.kind != DetectorKind::hog) make_face_detector(config.detector);
  }
  ExtractReport report;
  // Open every input first: a typo in the third path, or frames the second plate does not have,
  // fail before an hour of work on the first and before anything is written.
  // A farm task re-queued after it finished finds nothing to do and skips loading the model.
  bool work_left = false;
  std::optional<bool> scene_linear;  // of the plates, for the default encoding
  for (const auto& input : config.inputs) {
    const auto source = open_frame_source(input, source_options(config));
    if (scene_linear && *scene_linear != source->info().scene_linear && config.encoding.empty() &&
        config.colorspace.empty())
      throw ConfigError(fmt::format("{}: scene-linear and display-referred plates in one face set would get different "
                                    "network encodings (srgb, plate): choose one with --encoding, or extract them into "
                                    "separate face sets", input));
    scene_linear = source->info().scene_linear;
    const OwnedFrames owned = owned_frames(*source, config, input);
    const std::string warning = check_selection(owned.selection, asked_text(config), *source, config.on_missing);
    if (!warning.empty()) log_warning("{}", warning);
    if (owned.wanted > 0 || owned.selection.open_ended) work_left = true;
    SourceReport source_report;
    source_report.path = input;
    source_report.frames_already_done = owned.already_done;
    source_report.frames_missing = owned.selection.missing;
    report.sources.push_back(source_report);
  }
  // The network's encoding, checked before the landmark model is loaded or anything is written.
  const NetworkEncoding encoding = NetworkEncoding::for_request(
      {config.ocio_config, config.colorspace, config.encoding}, scene_linear.value_or(false));
  const RoundTrip& round_trip = encoding.round_trip();
  log_info("network encoding: {}{} (round trip within {:.2g})", encoding.record().describe(),
           config.colorspace.empty() ? "" : fmt::format(" from '{}'", config.colorspace), round_trip.max_error);
  if (!round_trip.invertible())
    log_warning("--encoding {}: not invertible from '{}' (round trip off by {:.3g} at ({:g}, {:g}, {:g})): train can use "
                "these crops, but swap will refuse them; {} is invertible",
                encoding.record().name(), config.colorspace, round_trip.max_error, round_trip.worst[0],
                round_trip.worst[1], round_trip.worst[2], encoding.invertible_alternative());
  if (config.decode_only) {
    report.sources.clear();
    for (const auto& input : config.inputs) report.sources.push_back(decode_only(input, config, progress));
    return report;
  }
  if (!work_left) {
    for (const auto& s : report.sources)
      log_info("{}: the asked frames are already extracted into {}; nothing to do", s.path, config.output.string());
    return report;
  }
  report.sources.clear();
  const bool five_points = config.landmark_points == 5;
  const LandmarkModelFile model =
      landmark_model_file(config.landmark_points, config.landmark_model_path, config.landmark_model_sha256);
  std::unique_ptr<LandmarkPredictor> loaded;
  try {
    loaded = std::make_unique<LandmarkPredictor>(model.path, model.sha256);
  } catch (const Error& e) {
    const std::string hint =
        five_points ? fmt::format(" (--landmarks 5 uses dlib's 5-point model {} with SHA-256 {}, which "
                                  "scripts/fetch-models.sh puts in the models folder; another model needs "
                                  "--landmark-model FILE --landmark-sha256 HEX)",
                                  kFivePointLandmarkModelFile, kFivePointLandmarkModelSha256)
                    : fmt::format(" (the default landmark model is {} with SHA-256 {}, from Debian's libdlib-data; "
                                  "another model needs --landmark-model FILE --landmark-sha256 HEX)",
                                  kDefaultLandmarkModelPath, kDefaultLandmarkModelSha256);
    if (e.code() == ExitCode::no_input) throw MissingInputError(e.what() + hint);
    throw InputDataError(e.what() + hint);
  }
  const LandmarkPredictor& predictor = *loaded;
  if (predictor.points() != config.landmark_points)
    throw ConfigError(fmt::format("--landmark-model {} fits {} points; --landmarks asks for {} (give --landmarks {})",
                                  model.path, predictor.points(), config.landmark_points, predictor.points()));
  // --identity / --exclude-identity: every plate's tracks are chosen before anything is written.
  const std::optional<ChosenPeople> people = choose_people(config, predictor);
  std::map<std::string, std::unique_ptr<TrackIdentityPass>> chosen_tracks;
  for (const auto& input : people ? config.inputs : std::vector<std::string>{}) {
    auto pass = identify_tracks(input, config, predictor, *people->scorer, people->choice, progress);
    if (progress.stop_requested()) return report;
    check_person_found(input, config, *people, *pass);
    chosen_tracks[input] = std::move(pass);
  }
  FaceSetWriter writer(config.output, to_string(config.face_type), config.crop_size_px, predictor.model_sha256(),
                       version_string(), encoding.record(), people ? std::optional(people->record) : std::nullopt,
                       predictor.points());
  for (const auto& input : config.inputs) {
    const TrackIdentityPass* tracks = people ? chosen_tracks.at(input).get() : nullptr;
    SourceReport source = extract_source(input, config, predictor, encoding, writer, progress, tracks);
    if (tracks) source.tracks = tracks->decisions();
    report.sources.push_back(source);
    if (progress.stop_requested()) break;
    log_info("{}: {} faces in {} frames ({} with a face) in {:.1f} s, {:.1f} frames/s", input, source.faces_written,
             source.frames_processed, source.frames_with_faces, source.seconds,
             source.seconds > 0 ? source.frames_processed / source.seconds : 0.0);
  }
  return report;
}

}  // namespace facetrain
