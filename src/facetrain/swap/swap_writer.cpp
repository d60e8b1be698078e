#include "facetrain/swap/swap_writer.h"
#include "facetrain/base/file_extension.h"

#include "facetrain/media/image_io.h"
#include "facetrain/media/movie_writer.h"
#include "facetrain/media/srgb.h"
#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"
#include "facetrain/base/log.h"
#include "facetrain/base/sequence_pattern.h"
#include "facetrain/base/sha256.h"
#include "facetrain/swap/review_frame.h"
#include "facetrain/swap/swap_output.h"

#include <fmt/format.h>

#include <cctype>
#include <optional>
#include <regex>
#include <set>

namespace facetrain {

namespace fs = std::filesystem;

namespace {

constexpr int kReviewMaxWidth = 1920;

// The output's name without frame token and extension: "comp/swap.####.exr" -> "swap",
// "comp/shot_v001.mov" -> "shot_v001".
std::string output_name(const std::string& output) {
  std::string name = fs::path(output).stem().string();
  static const std::regex token(R"([._-]?(#+|@+|%0?[0-9]*d|\$F[0-9]*)$)");
  name = std::regex_replace(name, token, "");
  return name.empty() ? "swap" : name;
}

fs::path folder_of(const fs::path& path) { return path.parent_path().empty() ? fs::path(".") : path.parent_path(); }

}  // namespace

struct SwapWriter::State {
  const SwapJob::Output& output;
  std::string name;
  fs::path folder;
  // image sequences
  std::optional<SequencePattern> frames;
  OutputEncoding encoding;
  // movies
  bool movie = false;
  fs::path movie_path;
  MovieSettings movie_settings;
  std::optional<SequencePattern> mattes;       // out.matte.####.png beside the movie
  std::unique_ptr<MovieWriter> movie_writer;   // created with the first frame (its size)
  // review
  bool review_movie = false;
  std::optional<SequencePattern> review_frames;
  fs::path review_movie_path;
  std::unique_ptr<MovieWriter> review_writer;
  // the plate
  bool scene_linear = false;
  std::string plate_timecode;                   // a movie plate's first frame's
  int64_t plate_first = 0;
  double plate_fps = 0;                         // 0: unknown
  std::optional<SequencePattern> plate_files;   // an image-sequence plate's frames (their header metadata)
  bool carry_metadata = false;                  // EXR plate to EXR: attributes carried over
  bool opened = false;
  std::vector<fs::path> movies_done;
  std::vector<std::pair<int64_t, fs::path>> files_written;   // (frame, path) for the manifest

  explicit State(const SwapJob::Output& o) : output(o) {}
};

SwapWriter::SwapWriter(const SwapJob::Output& o, int chunk_index, int chunk_count)
    : state_(std::make_unique<State>(o)) {
  State& s = *state_;
  const std::string& output = o.pattern;
  s.name = output_name(output);
  s.movie = is_movie_path(output);
  const auto token = SequencePattern::parse(output);
  if (s.movie) {
    if (token)
      throw UsageError(fmt::format("-o {}: a movie is one file; drop the frame token (the matte goes to {}.matte.####.png)",
                                   output, s.name));
    if (chunk_count > 1)
      throw UsageError(fmt::format("-o {} with --chunk {}/{}: a movie holds the whole range and cannot be written in "
                                   "chunks; render an image sequence per chunk (-o {}.####.exr) and make the movie from it",
                                   output, chunk_index, chunk_count, (folder_of(output) / s.name).string()));
    if (o.bits) throw UsageError(fmt::format("--bits applies to .png and .tif output, not to the movie {}", output));
    if (!o.exr_compression.empty()) throw UsageError(fmt::format("--exr-compression applies to .exr output, not to {}", output));
    s.movie_path = output;
    s.folder = folder_of(s.movie_path);
    const bool mov = lower_case_extension(output) == ".mov";
    const bool element = o.kind == OutputKind::element;
    s.movie_settings.codec = !o.codec.empty() ? parse_movie_codec(o.codec)
                             : element          ? MovieCodec::prores_4444  // the only movie codec with alpha
                             : mov              ? MovieCodec::prores_hq
                                                : MovieCodec::h264;
    if (element && (s.movie_settings.codec != MovieCodec::prores_4444 || !mov))
      throw UsageError(fmt::format("-o {} --output-kind element: an element needs its matte as alpha, which of the "
                                   "movie codecs only ProRes 4444 (in a .mov) holds; use NAME.mov (--codec "
                                   "prores_4444), or an image sequence",
                                   output));
    if (s.movie_settings.codec != MovieCodec::h264 && !mov)
      throw UsageError(fmt::format("-o {}: ProRes ({}) goes in a QuickTime .mov; use .mov or --codec h264", output,
                                   movie_codec_name(s.movie_settings.codec)));
    if (o.crf >= 0 && s.movie_settings.codec != MovieCodec::h264)
      throw UsageError(fmt::format("--crf applies to H.264; {} is {}", output, movie_codec_name(s.movie_settings.codec)));
    s.movie_settings.crf = o.crf >= 0 ? o.crf : 18;
    if (s.movie_settings.codec == MovieCodec::prores_4444)  // QuickTime has no flag for it: say it in words
      s.movie_settings.comment =
          element ? "facetrain element: the swapped face; alpha is the matte, straight (not premultiplied)"
                  : "facetrain full frame: the finished frame; alpha is the face matte, straight (not premultiplied)";
    if (!movie_codec_available(s.movie_settings.codec))
      throw UnavailableError(fmt::format("-o {}: this FFmpeg build has no encoder for {}", output,
                                         movie_codec_name(s.movie_settings.codec)));
    s.mattes = SequencePattern::parse((s.folder / (s.name + ".matte.####.png")).string());
    if (o.review) {
      s.review_movie = movie_codec_available(MovieCodec::h264);
      if (s.review_movie) s.review_movie_path = s.folder / (s.name + ".review.mp4");
      else log_warning("--review: this FFmpeg build has no H.264 encoder (libx264); writing review frames instead");
    }
  } else {
    if (!token) throw UsageError(fmt::format("-o {}: needs a frame token (####, @, %04d or $F4), or a .mov/.mp4 movie", output));
    s.frames = token;
    s.folder = token->directory().empty() ? fs::path(".") : token->directory();
    s.encoding.format = output_format_for(output);
    if (!o.codec.empty() || o.crf >= 0)
      throw UsageError(fmt::format("--codec and --crf apply to .mov/.mp4 output, not to {}", output));
    if (o.bits && s.encoding.format == OutputFormat::exr)
      throw UsageError(fmt::format("--bits applies to .png and .tif; for {} use --exr-type half|float", output));
    if (o.bits && o.bits != 8 && o.bits != 16) throw UsageError(fmt::format("--bits {}: use 8 or 16", o.bits));
    if (!o.exr_compression.empty()) {
      if (s.encoding.format != OutputFormat::exr)
        throw UsageError(fmt::format("--exr-compression applies to .exr output, not to {}", output));
      s.encoding.exr_compression = parse_exr_compression(o.exr_compression);
    }
  }
  if (o.review && !s.review_movie)
    s.review_frames = SequencePattern::parse((s.folder / "review" / (s.name + ".review.####.png")).string());
}

SwapWriter::~SwapWriter() {
  // Stopped or failed before finish(): the movies' temporary files are removed with their writers.
  for (auto* writer : {state_->movie_writer.get(), state_->review_writer.get()})
    if (writer) log_warning("{}: not finished ({} frames encoded); no movie written", writer->path().string(), writer->frames_written());
}

bool SwapWriter::is_movie() const { return state_->movie; }

bool SwapWriter::finished(int64_t frame) const {
  const State& s = *state_;
  std::error_code ec;
  return s.movie ? fs::exists(s.movie_path, ec) : fs::exists(s.frames->format(frame), ec);
}

void SwapWriter::open(const SourceInfo& plate, const std::string& plate_path) {
  State& s = *state_;
  const SwapJob::Output& o = s.output;
  // The plate's own precision.
  const bool float_plate = plate.scene_linear || plate.codec == "openexr";
  const bool eight_bit = !float_plate && plate.bit_depth <= 8;
  s.scene_linear = plate.scene_linear;
  s.plate_timecode = plate.timecode;
  s.plate_first = plate.frame_first;
  s.plate_fps = plate.fps;
  if (s.movie) {
    s.encoding.format = OutputFormat::png;  // the matte sequence
    s.encoding.bits = 16;
    s.movie_settings.fps = plate.fps > 0 ? plate.fps : 24.0;
  } else if (s.encoding.format == OutputFormat::png) {
    s.encoding.bits = o.bits ? o.bits : (eight_bit ? 8 : 16);
  } else if (s.encoding.format == OutputFormat::tif) {
    s.encoding.bits = o.bits ? o.bits : 16;
  } else {
    s.encoding.bits = o.exr_bits ? o.exr_bits : (float_plate && plate.bit_depth == 16 ? 16 : 32);
    s.carry_metadata = plate.is_sequence && plate.codec == "openexr";
  }
  if (plate.is_sequence) s.plate_files = SequencePattern::parse(plate_path);
  create_directories_private(s.folder);
  if (s.review_frames) create_directories_private(s.review_frames->directory());
  s.opened = true;
}

int SwapWriter::matte_levels() const { return alpha_levels(state_->encoding); }

bool SwapWriter::wants_plate() const { return state_->output.review; }

bool SwapWriter::wants_element() const { return state_->output.kind == OutputKind::element; }

std::string SwapWriter::describe() const {
  const State& s = *state_;
  std::string text;
  if (s.movie) {
    text = fmt::format("{} ({}{}, {:.3f} fps), matte {}", s.movie_path.string(), movie_codec_name(s.movie_settings.codec),
                       s.movie_settings.codec == MovieCodec::h264 ? fmt::format(" crf {}", s.movie_settings.crf) : "",
                       s.movie_settings.fps, s.mattes->original());
  } else {
    const char* kind = s.encoding.format == OutputFormat::exr ? "EXR" : s.encoding.format == OutputFormat::tif ? "TIFF" : "PNG";
    text = s.encoding.format == OutputFormat::exr
               ? fmt::format("{} ({} {}, {})", s.frames->original(), kind, s.encoding.bits == 16 ? "half" : "float",
                             s.encoding.exr_compression)
               : fmt::format("{} ({} {}-bit)", s.frames->original(), kind, s.encoding.bits);
  }
  text += fmt::format(", {}", output_kind_name(s.output.kind));
  if (s.review_movie) text += fmt::format(", review {}", s.review_movie_path.string());
  else if (s.review_frames) text += fmt::format(", review {}", s.review_frames->original());
  return text;
}

void SwapWriter::write(int64_t frame, const FloatImage& plate, const FloatImage& swapped, const std::vector<float>& matte,
                       const FloatImage& element) {
  State& s = *state_;
  if (!s.opened) throw InternalError("SwapWriter::write before open");
  const bool write_element = wants_element();
  if (write_element && (element.width != swapped.width || element.height != swapped.height))
    throw InternalError(fmt::format("frame {}: no element to write", frame));
  // What the frame file or movie holds: the finished frame, or the face alone.
  const FloatImage& picture = write_element ? element : swapped;
  if (s.movie) {
    if (!s.movie_writer) {
      MovieSettings settings = s.movie_settings;
      settings.width = swapped.width;
      settings.height = swapped.height;
      if (s.plate_files) {  // an image sequence's header may give its frame rate and this frame's timecode
        const ImageTiming timing = read_image_timing(s.plate_files->format(frame));
        if (timing.fps > 0) settings.fps = s.movie_settings.fps = timing.fps;
        settings.timecode = timing.timecode;
      } else if (!s.plate_timecode.empty()) {  // a movie plate's start timecode, moved to this frame
        settings.timecode = offset_timecode(s.plate_timecode, settings.fps, frame - s.plate_first);
      }
      s.movie_writer = std::make_unique<MovieWriter>(s.movie_path, settings);
    }
    if (write_element || s.scene_linear) {
      // ProRes 4444's alpha is straight: an element goes in as the face's own colour.
      FloatImage display = write_element ? unpremultiply(element, matte) : swapped;
      if (s.scene_linear)  // a movie is display-referred: scene-linear plates through the sRGB encoding
        for (float& v : display.pixels) v = v > 0.f ? srgb_encode(v) : 0.f;
      s.movie_writer->write(display, matte);
    } else {
      s.movie_writer->write(swapped, matte);
    }
    write_matte_frame(s.mattes->format(frame), swapped.width, swapped.height, matte);
    s.files_written.emplace_back(frame, s.mattes->format(frame));
  } else {
    FrameMetadata metadata;
    if (s.carry_metadata) {
      metadata.copy_from = s.plate_files->format(frame);
    } else {  // a movie plate: its rate, and its timecode moved to this frame
      metadata.timing.fps = s.plate_fps;
      if (!s.plate_timecode.empty() && s.plate_fps > 0)
        metadata.timing.timecode = offset_timecode(s.plate_timecode, s.plate_fps, frame - s.plate_first);
    }
    write_swap_frame(s.frames->format(frame), picture, matte, s.output.kind, s.encoding, metadata);
    s.files_written.emplace_back(frame, s.frames->format(frame));
  }
  if (s.output.review) {
    const ReviewLayout layout = review_layout(swapped.width, swapped.height, kReviewMaxWidth, s.review_movie);
    const Rgb8Image review = make_review_frame(plate, swapped, matte, s.scene_linear, layout);
    if (s.review_movie) {
      if (!s.review_writer) {
        MovieSettings settings;
        settings.codec = MovieCodec::h264;
        settings.width = review.width;
        settings.height = review.height;
        settings.fps = s.movie_settings.fps;
        settings.crf = 18;
        s.review_writer = std::make_unique<MovieWriter>(s.review_movie_path, settings);
      }
      FloatImage rgb;
      rgb.width = review.width;
      rgb.height = review.height;
      rgb.pixels.resize(review.pixels.size());
      for (size_t i = 0; i < review.pixels.size(); ++i) rgb.pixels[i] = review.pixels[i] / 255.f;
      s.review_writer->write(rgb, {});
    } else {
      write_png(s.review_frames->format(frame), review);
      s.files_written.emplace_back(frame, s.review_frames->format(frame));
    }
  }
}

void SwapWriter::finish() {
  State& s = *state_;
  for (auto* writer : {s.movie_writer.get(), s.review_writer.get()}) {
    if (!writer) continue;
    writer->finish();
    log_info("wrote {} ({} frames)", writer->path().string(), writer->frames_written());
    s.movies_done.push_back(writer->path());
  }
  s.movie_writer.reset();
  s.review_writer.reset();
}

std::vector<fs::path> SwapWriter::movies_written() const { return state_->movies_done; }

void SwapWriter::keep_existing(int64_t frame) {
  State& s = *state_;
  std::error_code ec;
  const auto keep = [&](const fs::path& path) {
    if (fs::exists(path, ec)) s.files_written.emplace_back(frame, path);
  };
  if (s.movie) {
    keep(s.mattes->format(frame));
  } else {
    keep(s.frames->format(frame));
    if (s.review_frames) keep(s.review_frames->format(frame));
  }
}

void SwapWriter::write_manifest(int64_t chunk_first, int64_t chunk_last, SwapManifest provenance) const {
  const State& s = *state_;
  std::vector<std::pair<int64_t, fs::path>> files = s.files_written;
  std::error_code ec;
  if (s.movie) {  // finished movies, or a movie --skip-existing kept
    for (const fs::path& path : {s.movie_path, s.review_movie_path})
      if (!path.empty() && fs::exists(path, ec)) files.emplace_back(chunk_first, path);
  }
  std::set<std::string> seen;
  for (const auto& [frame, path] : files) {
    const std::string relative = path.lexically_relative(s.folder).string();
    if (!seen.insert(relative).second) continue;
    provenance.frames.push_back({frame, relative, sha256_file_hex(path)});
  }
  write_swap_manifest(swap_manifest_path(s.folder, chunk_first, chunk_last), provenance);
}

}  // namespace facetrain
