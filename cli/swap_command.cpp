#include "swap_command.h"

#include "console_reporter.h"
#include "facetrain/base/error.h"
#include "facetrain/base/log.h"
#include "facetrain/module/torch_module.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace facetrain::cli {

CLI::App* setup_swap(CLI::App& app, SwapArgs& args) {
  auto* cmd = app.add_subcommand("swap", "Put the actor's face on the double's plate with a trained model");
  auto& job = args.job;
  cmd->add_option("--model", job.model, "Run directory (its newest complete checkpoint) or one checkpoint directory");
  cmd->add_option("--plate", job.plate, "The double's plate: a movie or an image sequence (plate.####.exr)");
  cmd->add_option("--faces", job.faces, "The plate's face set (facetrain extract of the same plate)");
  cmd->add_option("-o,--output", job.output.pattern,
                  "Output frames: PATTERN with ####, @, %04d or $F4; .exr, .tif or .png; or a movie (.mov, .mp4) "
                  "with the matte as NAME.matte.####.png beside it");
  cmd->add_option("--output-kind", args.output_kind,
                  "full-frame: the finished frame (EXR: alpha 1, the matte in channel matte.A; PNG/TIFF/ProRes 4444: "
                  "the matte as straight alpha); element: the face alone, premultiplied by the matte (A = matte), "
                  "0 outside it")
      ->check(CLI::IsMember({"full-frame", "element"}))->capture_default_str();
  cmd->add_option("--frames", args.frames, "Frames to swap: 1001-1100, 1001-1100x2, 1001,1005,1010-1020");
  cmd->add_option("--chunk", args.chunk, "Only chunk I of N contiguous chunks of the frames (I/N)");
  cmd->add_option("--on-missing", args.on_missing,
                  "Asked frames the plate does not have: error (exit 65) or skip them with a warning (listed in the "
                  "done event and the manifest); a chunk with none of its frames in the plate is an error either way")
      ->check(CLI::IsMember(kOnMissingWords))->capture_default_str();
  cmd->add_option("--ocio-config", job.ocio_config,
                  "The face set's OpenColorIO config, where it is not at the path extract recorded (default: that "
                  "path, else $OCIO); it must be the same config (name and SHA-256)");
  cmd->add_option("--start-frame", job.start_frame, "Number of a movie's first frame (as given to extract)");
  cmd->add_flag("--skip-existing", job.skip_existing, "Leave frames whose output file exists alone");
  cmd->add_flag("--force", job.force, "Use a plate that is not the face set's source (by SHA-256)");
  cmd->add_option("--device", job.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--batch", job.batch, "Faces per network call (default 1 on CPU, 8 on CUDA)")->check(CLI::Range(1, 1024));
  cmd->add_option("--matte", args.matte,
                  "visible (both, and only where the face is visible: hands, props and hair in front stay the plate; "
                  "needs `facetrain matte apply` on the face set), mask (learned), hull (landmarks), both (the minimum), "
                  "or auto (visible when the face set has visible-face mattes, else both)")
      ->check(CLI::IsMember({"auto", "visible", "mask", "hull", "both"}))->capture_default_str();
  cmd->add_option("--erode", job.composite.erode_px, "Shrink the matte by this many output pixels (negative grows it)")
      ->check(CLI::Range(-256, 256));
  cmd->add_option("--feather", job.composite.feather_px, "Soften the matte edge over this many output pixels")->check(CLI::Range(0, 256));
  cmd->add_option("--visible-choke", job.composite.visible_choke_px,
                  "Erode the visible-face matte by this many output pixels, so that an occluder's soft edge stays "
                  "the plate (--matte visible)")->check(CLI::Range(0, 64))->capture_default_str();
  cmd->add_option("--color", args.color,
                  "Colour transfer onto the plate's face: none, rct (Reinhard in Lab), lct (mean and covariance) "
                  "or hist (per-channel histogram match)")
      ->check(CLI::IsMember({"none", "rct", "lct", "hist"}));
  cmd->add_option("--color-window", job.colour.window,
                  "Average the plate face's colour statistics over this many frames each side (0 = per frame)")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--exr-type", args.exr_type, "EXR pixel type: half or float (default: the plate's)")
      ->check(CLI::IsMember({"half", "float"}));
  cmd->add_option("--exr-compression", job.output.exr_compression, "EXR compression: zip (default), piz, dwaa or none")
      ->check(CLI::IsMember({"zip", "piz", "dwaa", "none"}));
  cmd->add_option("--bits", job.output.bits, "PNG/TIFF bits per channel: 8 or 16 (default: PNG the plate's, TIFF 16)")
      ->check(CLI::IsMember({8, 16}));
  cmd->add_option("--codec", job.output.codec, "Movie codec: prores_4444 (matte in alpha), prores_hq (.mov default) or h264 (.mp4 default)")
      ->check(CLI::IsMember({"prores_4444", "prores_hq", "h264"}));
  cmd->add_option("--crf", job.output.crf, "H.264 constant rate factor, 0 (lossless) to 51 (default 18)")->check(CLI::Range(0, 51));
  cmd->add_flag("--review", job.output.review,
                "Also write plate | swap | matte side by side (8-bit, at most 1920 wide) to DIR/review/NAME.review.####.png, "
                "or with a movie output an H.264 DIR/NAME.review.mp4");
  cmd->add_flag("!--no-quality", job.quality.enabled,
                "Do not score the render (identity, expression, flicker, seam: in the swap manifest and printed)");
  cmd->add_option("--identity-model", job.quality.identity_model,
                  "dlib's face-recognition model for the identity scores (default: $FACETRAIN_MODELS or the build's "
                  "models folder, where scripts/fetch-models.sh puts it)");
  cmd->add_flag("--json", args.json, "Machine-readable JSON events on stdout");
  return cmd;
}

int run_swap_command(SwapArgs& args, ConsoleReporter& reporter) {
  SwapJob& job = args.job;
  if (job.model.empty() || job.plate.empty() || job.faces.empty() || job.output.pattern.empty())
    throw UsageError("swap needs --model RUN --plate INPUT --faces FACESET -o PATTERN");
  if (!args.frames.empty()) job.frames = FrameRange::parse(args.frames);
  if (!args.chunk.empty()) std::tie(job.chunk_index, job.chunk_count) = parse_chunk(args.chunk);
  job.on_missing = parse_on_missing(args.on_missing);
  job.output.kind = parse_output_kind(args.output_kind);
  job.composite.matte = parse_matte_mode(args.matte);
  job.colour.mode = parse_color_mode(args.color);
  if (!args.exr_type.empty()) job.output.exr_bits = args.exr_type == "half" ? 16 : 32;

  reporter.event("start", {{"command", "swap"}, {"plate", job.plate}, {"output", job.output.pattern},
                           {"chunk", fmt::format("{}/{}", job.chunk_index, job.chunk_count)}});
  const SwapReport report = torch_module().run_swap(job, reporter);
  std::vector<std::string> movies;
  for (const auto& m : report.movies) movies.push_back(m.string());
  log_info("wrote {} frame(s) ({} swapped faces, {} without a record, {} without faces, {} skipped as existing) in {:.1f} s",
           report.frames_written, report.faces_swapped, report.frames_without_record, report.frames_without_faces,
           report.frames_skipped_existing, report.seconds);
  nlohmann::json quality = nullptr;
  if (report.quality) {
    quality = report.quality->to_json();
    log_info("{}", describe_swap_quality(*report.quality, report.seconds));
  }
  reporter.event("done", {{"frames", report.frames_selected},
                          {"frames_written", report.frames_written},
                          {"frames_skipped_existing", report.frames_skipped_existing},
                          {"frames_without_record", report.frames_without_record},
                          {"frames_without_faces", report.frames_without_faces},
                          {"faces_swapped", report.faces_swapped},
                          {"missing_frames", report.frames_missing.to_string()},
                          {"seconds", report.seconds},
                          {"checkpoint", report.checkpoint.string()},
                          {"movies", movies},
                          {"quality", quality}});
  return 0;
}

}  // namespace facetrain::cli
