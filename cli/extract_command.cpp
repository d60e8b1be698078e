#include "extract_command.h"

#include "console_reporter.h"
#include "facetrain/base/error.h"
#include "facetrain/module/extract_module.h"

#include <CLI/CLI.hpp>

namespace facetrain::cli {

CLI::App* setup_extract(CLI::App& app, ExtractArgs& args) {
  auto* cmd = app.add_subcommand("extract", "Find, align and crop faces from plates into a face set");
  auto& c = args.config;
  cmd->add_option("inputs", c.inputs, "Movies or image sequences (plate.####.exr, plate.%04d.dpx, plate.$F4.png)")
      ->required();
  cmd->add_option("-o,--output", c.output, "Face set directory (created, or added to); required unless --decode-only");
  cmd->add_option("--frames", args.frames, "Frames to extract: 1001-1100, 1001-1100x2, 1001,1005,1010-1020");
  cmd->add_option("--size", c.crop_size_px, "Aligned crop size in pixels")->check(CLI::Range(64, 1024))
      ->capture_default_str();
  cmd->add_option("--face-type", args.face_type, "Crop coverage: full, whole or head")->capture_default_str();
  cmd->add_option("--start-frame", c.start_frame, "Number of a movie's first frame")->capture_default_str();
  cmd->add_option("--threads", c.threads, "Worker threads (0: one per core)")->check(CLI::Range(0, 256));
  cmd->add_option("--max-faces", c.tracker.max_faces, "Faces kept per frame, largest first")
      ->check(CLI::Range(1, 64))->capture_default_str();
  cmd->add_option("--detector", args.detector,
                  "Face detector: hog+cnn (HOG's unsure windows and lost tracks checked by dlib's CNN: turned faces at "
                  "HOG's speed class), hog (frontal faces), cnn (the CNN on the whole frame, 5-20x slower on a CPU) or "
                  "auto (hog+cnn where the CNN's model is found, else hog with a warning); docs/extract.md. Default "
                  "auto, or cnn when only --detector-model is given")
      ->check(CLI::IsMember({"auto", "hog", "cnn", "hog+cnn"}));
  cmd->add_option("--detector-model", c.detector.mmod_model_path,
                  "dlib CNN (mmod) detector model for cnn and hog+cnn (default: $FACETRAIN_MODELS/"
                  "mmod_human_face_detector.dat)");
  cmd->add_option("--detector-device", args.detector_device,
                  "Where the CNN's convolutions run (cnn, hog+cnn): dlib (dlib's CPU code), cpu or cuda (LibTorch, "
                  "through the torch module; the same network, weights and decoding)")
      ->check(CLI::IsMember({"dlib", "cpu", "cuda"}))->capture_default_str();
  cmd->add_option("--proposal-score", c.detector.proposal_score,
                  "hog+cnn: the lowest HOG score whose window the CNN checks")
      ->check(CLI::Range(-3.0, 0.0))->capture_default_str();
  cmd->add_option("--detect-width", c.detector.detect_width_px, "Frames are downscaled to this width for detection")
      ->check(CLI::Range(160, 8192))->capture_default_str();
  cmd->add_option("--min-score", c.detector.min_score, "Detector score threshold")->capture_default_str();
  cmd->add_option("--min-face-px", c.detector.min_face_px, "Smallest face kept (box width, frame pixels)")
      ->check(CLI::Range(8.0, 100000.0))->capture_default_str();
  cmd->add_option("--redetect-every", c.tracker.redetect_every, "Frames between full detections while tracking")
      ->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("--smoothing", c.tracker.smoothing, "Temporal landmark smoothing, 0 (none) to 1")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--landmarks", c.landmark_points,
                  "Landmark model: 68 (Debian libdlib-data's 68-point model; its training data excludes commercial "
                  "use) or 5 (dlib's public-domain 5-point model, from scripts/fetch-models.sh; no expression score)")
      ->check(CLI::IsMember({68, 5}))->capture_default_str();
  cmd->add_option("--landmark-model", c.landmark_model_path,
                  "Another dlib shape predictor (68 or 5 points, as --landmarks says) instead of the default");
  cmd->add_option("--landmark-sha256", c.landmark_model_sha256, "Expected SHA-256 of --landmark-model");
  cmd->add_option("--on-missing", args.on_missing,
                  "Asked frames a plate does not have (past its end, gaps in a sequence): error (exit 65) or skip "
                  "them with a warning; a plate with none of the asked frames is an error either way")
      ->check(CLI::IsMember(kOnMissingWords))->capture_default_str();
  cmd->add_option("--colorspace", c.colorspace,
                  "The plates' colour space in the OpenColorIO config, as it spells it (ACEScg, ACEScct...): the "
                  "detection proxy of image sequences uses its default display and view, the crops --encoding");
  cmd->add_option("--ocio-config", c.ocio_config, "OpenColorIO config for --colorspace (default: $OCIO)");
  cmd->add_option("--encoding", c.encoding,
                  "What the network sees, the face set's one encoding (docs/colour.md): plate (the code values as "
                  "stored), srgb (the sRGB curve), a colour space of the config (ACEScct) or DISPLAY/VIEW; default: "
                  "srgb for scene-linear plates, plate for others, the config's compositing_log role with --colorspace");
  cmd->add_option("--identity", c.identity,
                  "Keep only this person's faces: stills of the person or a face set of them (all REFs are one "
                  "person); decided per face track by the median descriptor distance (docs/extract.md)")
      ->expected(1, -1);
  cmd->add_option("--exclude-identity", c.exclude_identity,
                  "Drop the face tracks of these people: stills or face sets, each REF one person")
      ->expected(1, -1);
  cmd->add_option("--identity-threshold", c.identity_threshold,
                  "Largest median descriptor distance at which a track is the --identity / --exclude-identity person")
      ->check(CLI::Range(0.05, 2.0))->capture_default_str();
  cmd->add_flag("--decode-only", c.decode_only, "Only decode (benchmarks the reader); writes nothing");
  cmd->add_flag("--json", args.json, "Machine-readable JSON events on stdout");
  return cmd;
}

namespace {

// --identity / --exclude-identity: each track's verdict and votes, for the done event.
nlohmann::json tracks_json(const std::vector<TrackDecision>& decisions) {
  auto vote_json = [](const TrackVote& v) {
    return nlohmann::json{{"median", v.median}, {"closest", v.closest}, {"farthest", v.farthest}, {"share_within", v.share_within},
                          {"samples", v.samples}};
  };
  nlohmann::json out = nlohmann::json::array();
  for (const TrackDecision& d : decisions) {
    nlohmann::json track = {{"track", d.track}, {"frames", std::to_string(d.frame_first) + "-" + std::to_string(d.frame_last)},
                            {"faces", d.faces}, {"kept", d.verdict == TrackVerdict::kept},
                            {"verdict", to_string(d.verdict)}};
    if (d.identity) track["identity"] = vote_json(*d.identity);
    nlohmann::json excluded = nlohmann::json::array();
    for (const TrackVote& v : d.excluded) excluded.push_back(vote_json(v));
    if (!d.excluded.empty()) track["excluded"] = excluded;
    out.push_back(track);
  }
  return out;
}

}  // namespace

int run_extract_command(ExtractArgs& args, ConsoleReporter& reporter) {
  auto& c = args.config;
  if (!args.frames.empty()) c.frames = FrameRange::parse(args.frames);
  c.face_type = face_type_from_string(args.face_type);
  c.on_missing = parse_on_missing(args.on_missing);
  if (!args.detector.empty()) {
    c.detector.kind = parse_detector_kind(args.detector);
  } else {  // --detector-model alone: the CNN on the whole frame, as before --detector
    c.detector.kind = c.detector.mmod_model_path.empty() ? DetectorKind::automatic : DetectorKind::cnn;
  }
  c.detector.device = parse_detector_device(args.detector_device);
  if (!c.decode_only && c.output.empty()) throw UsageError("extract needs -o FACESET");
  reporter.event("start", {{"command", "extract"}, {"inputs", c.inputs}, {"output", c.output.string()}});
  const ExtractReport report = extract_module().run_extract(c, reporter);
  nlohmann::json sources = nlohmann::json::array();
  for (const auto& s : report.sources) {
    nlohmann::json source = {{"path", s.path}, {"frames", s.frames_processed}, {"frames_with_faces", s.frames_with_faces},
                             {"faces", s.faces_written}, {"frames_already_done", s.frames_already_done},
                             {"missing_frames", s.frames_missing.to_string()},
                             {"seconds", s.seconds},
                             {"frames_per_s", s.seconds > 0 ? s.frames_processed / s.seconds : 0.0}};
    if (!c.identity.empty() || !c.exclude_identity.empty()) source["tracks"] = tracks_json(s.tracks);
    sources.push_back(source);
  }
  const bool stopped = reporter.stop_requested();
  reporter.event("done", {{"reason", stopped ? "stopped" : "complete"}, {"sources", sources},
                          {"frames", report.frames_processed()}, {"faces", report.faces_written()}});
  return 0;
}

}  // namespace facetrain::cli
