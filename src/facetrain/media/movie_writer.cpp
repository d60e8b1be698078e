// Movie encoding through libav* (FFmpeg 5.1 here; the calls used are the same in 4.x-7.x).
//
// Frames arrive as float RGB (display-referred, 0..1) with an optional matte. They are quantised to
// 16-bit RGBA and converted by libswscale to the encoder's Y'CbCr format with the BT.709 matrix,
// limited range (what editorial and review tools assume for ProRes and H.264), and tagged so:
// primaries, transfer and matrix BT.709. Alpha (ProRes 4444 only) is full range.
#include "facetrain/media/movie_writer.h"
#include "facetrain/base/file_extension.h"

#include "facetrain/base/atomic_file.h"
#include "facetrain/media/av_support.h"
#include "facetrain/base/error.h"
#include "facetrain/base/log.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdarg>
#include <mutex>
#include <string_view>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/timecode.h>
#include <libswscale/swscale.h>
}

namespace facetrain {

namespace fs = std::filesystem;

namespace {

const char* encoder_name(MovieCodec codec) { return codec == MovieCodec::h264 ? "libx264" : "prores_ks"; }

AVPixelFormat encoder_pixel_format(MovieCodec codec) {
  switch (codec) {
    case MovieCodec::prores_4444: return AV_PIX_FMT_YUVA444P10LE;
    case MovieCodec::prores_hq: return AV_PIX_FMT_YUV422P10LE;
    case MovieCodec::h264: return AV_PIX_FMT_YUV420P;
  }
  return AV_PIX_FMT_NONE;
}

AVRational frame_rate_of(double fps) {
  if (!(fps > 0) || !std::isfinite(fps)) return AVRational{24, 1};
  // 23.976... -> 24000/1001, 25 -> 25/1, 29.97... -> 30000/1001.
  for (int base : {24, 30, 48, 60, 120}) {
    if (std::abs(fps - base * 1000.0 / 1001.0) < 1e-3) return AVRational{base * 1000, 1001};
  }
  return av_d2q(fps, 100000);
}

uint16_t code16(float v) {
  if (!(v > 0.f)) return 0;  // NaN and negatives
  if (v >= 1.f) return 65535;
  return static_cast<uint16_t>(std::lround(v * 65535.f));
}

}  // namespace

MovieCodec parse_movie_codec(const std::string& text) {
  if (text == "prores_4444") return MovieCodec::prores_4444;
  if (text == "prores_hq") return MovieCodec::prores_hq;
  if (text == "h264") return MovieCodec::h264;
  throw UsageError(fmt::format("--codec {}: use prores_4444, prores_hq or h264", text));
}

const char* movie_codec_name(MovieCodec codec) {
  switch (codec) {
    case MovieCodec::prores_4444: return "prores_4444";
    case MovieCodec::prores_hq: return "prores_hq";
    case MovieCodec::h264: return "h264";
  }
  return "?";
}

bool movie_codec_available(MovieCodec codec) { return avcodec_find_encoder_by_name(encoder_name(codec)) != nullptr; }

bool is_movie_path(const fs::path& path) {
  const std::string ext = lower_case_extension(path);
  return ext == ".mov" || ext == ".mp4";
}

std::string offset_timecode(const std::string& timecode, double fps, int64_t frames) {
  if (timecode.empty()) return {};
  AVTimecode tc;
  if (av_timecode_init_from_string(&tc, frame_rate_of(fps), timecode.c_str(), nullptr) < 0) return {};
  if (frames < 0 || frames > (int64_t{1} << 30)) return {};
  char buffer[AV_TIMECODE_STR_SIZE] = {0};
  av_timecode_make_string(&tc, buffer, static_cast<int>(frames));
  return buffer;
}

struct MovieWriter::State {
  fs::path path;
  MovieSettings settings;
  AtomicOutput output;
  AVFormatContext* format = nullptr;
  AVCodecContext* encoder = nullptr;
  AVStream* stream = nullptr;
  AVFrame* frame = nullptr;
  AVPacket* packet = nullptr;
  SwsContext* sws = nullptr;
  std::vector<uint16_t> rgba;   // one frame, 16-bit RGBA
  int64_t frames = 0;
  bool finished = false;

  State(fs::path final_path, const MovieSettings& s) : path(final_path), settings(s), output(std::move(final_path)) {}

  ~State() {
    sws_freeContext(sws);
    av_packet_free(&packet);
    av_frame_free(&frame);
    avcodec_free_context(&encoder);
    if (format) {
      if (format->pb) avio_closep(&format->pb);
      avformat_free_context(format);
    }
    // `output` removes the temporary file unless finish() committed it.
  }

  [[noreturn]] void io_failure(const std::string& what, int code) const {
    throw IoError(fmt::format("{}: {}: {}", path.string(), what, av_error_text(code)));
  }

  // Sends `input` (nullptr: end of stream) and writes every packet the encoder has ready.
  void encode(const AVFrame* input) {
    int ret = avcodec_send_frame(encoder, input);
    if (ret < 0) io_failure(fmt::format("{} encoding failed at frame {}", movie_codec_name(settings.codec), frames), ret);
    while ((ret = avcodec_receive_packet(encoder, packet)) >= 0) {
      av_packet_rescale_ts(packet, encoder->time_base, stream->time_base);
      packet->stream_index = stream->index;
      ret = av_interleaved_write_frame(format, packet);
      if (ret < 0) io_failure("write failed", ret);
    }
    if (ret != AVERROR(EAGAIN) && ret != AVERROR_EOF) io_failure("encoding failed", ret);
  }
};

MovieWriter::MovieWriter(fs::path path, const MovieSettings& settings) {
  install_av_log_forwarding();
  const std::string name = path.string();
  const std::string ext = lower_case_extension(path);
  if (ext != ".mov" && ext != ".mp4") throw UsageError(fmt::format("{}: a movie must end in .mov or .mp4", name));
  const bool prores = settings.codec != MovieCodec::h264;
  if (prores && ext != ".mov")
    throw UsageError(fmt::format("{}: ProRes ({}) goes in a QuickTime .mov; use .mov or --codec h264", name,
                                 movie_codec_name(settings.codec)));
  if (settings.width <= 0 || settings.height <= 0)
    throw InternalError(fmt::format("{}: cannot write a {}x{} movie", name, settings.width, settings.height));
  if (settings.codec == MovieCodec::h264 && (settings.width % 2 || settings.height % 2))
    throw UsageError(fmt::format("{}: H.264 4:2:0 needs even dimensions, the frames are {}x{}; use ProRes (.mov)", name,
                                 settings.width, settings.height));
  if (settings.crf < 0 || settings.crf > 51) throw UsageError(fmt::format("--crf {}: use 0..51", settings.crf));
  const AVCodec* codec = avcodec_find_encoder_by_name(encoder_name(settings.codec));
  if (!codec)
    throw UnavailableError(fmt::format("{}: this FFmpeg build has no {} encoder for {}", name,
                                       encoder_name(settings.codec), movie_codec_name(settings.codec)));

  state_ = std::make_unique<State>(path, settings);  // creates the temporary file (OutputError, 73)
  State& s = *state_;
  const std::string temp = s.output.temp_path().string();

  int ret = avformat_alloc_output_context2(&s.format, nullptr, ext == ".mov" ? "mov" : "mp4", temp.c_str());
  if (ret < 0 || !s.format) throw InternalError(fmt::format("{}: no {} muxer: {}", name, ext, av_error_text(ret)));
  s.stream = avformat_new_stream(s.format, nullptr);
  s.encoder = avcodec_alloc_context3(codec);
  s.frame = av_frame_alloc();
  s.packet = av_packet_alloc();
  if (!s.stream || !s.encoder || !s.frame || !s.packet) throw InternalError(fmt::format("{}: out of memory", name));

  const AVRational rate = frame_rate_of(settings.fps);
  AVCodecContext* c = s.encoder;
  c->width = settings.width;
  c->height = settings.height;
  c->pix_fmt = encoder_pixel_format(settings.codec);
  c->time_base = av_inv_q(rate);
  c->framerate = rate;
  c->sample_aspect_ratio = AVRational{1, 1};
  c->color_range = AVCOL_RANGE_MPEG;
  c->colorspace = AVCOL_SPC_BT709;
  c->color_primaries = AVCOL_PRI_BT709;
  c->color_trc = AVCOL_TRC_BT709;
  if (s.format->oformat->flags & AVFMT_GLOBALHEADER) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  if (prores) {
    av_opt_set(c->priv_data, "profile", settings.codec == MovieCodec::prores_4444 ? "4444" : "hq", 0);
    av_opt_set(c->priv_data, "vendor", "apl0", 0);
  } else {
    av_opt_set(c->priv_data, "crf", std::to_string(settings.crf).c_str(), 0);
    av_opt_set(c->priv_data, "preset", "medium", 0);
  }
  ret = avcodec_open2(c, codec, nullptr);
  if (ret < 0) throw InternalError(fmt::format("{}: cannot open the {} encoder: {}", name, encoder_name(settings.codec), av_error_text(ret)));
  ret = avcodec_parameters_from_context(s.stream->codecpar, c);
  if (ret < 0) throw InternalError(fmt::format("{}: {}", name, av_error_text(ret)));
  s.stream->time_base = c->time_base;
  s.stream->avg_frame_rate = rate;
  s.stream->r_frame_rate = rate;
  if (!settings.timecode.empty()) {
    AVTimecode tc;
    if (av_timecode_init_from_string(&tc, rate, settings.timecode.c_str(), nullptr) >= 0)
      av_dict_set(&s.stream->metadata, "timecode", settings.timecode.c_str(), 0);
    else
      log_warning("{}: timecode {} does not fit {}/{} fps; the movie has none", name, settings.timecode, rate.num, rate.den);
  }

  if (!settings.comment.empty()) av_dict_set(&s.format->metadata, "comment", settings.comment.c_str(), 0);

  // Only the local file protocol: "file:" keeps a name with a colon from naming a protocol.
  ret = avio_open(&s.format->pb, ("file:" + temp).c_str(), AVIO_FLAG_WRITE);
  if (ret < 0) throw OutputError(fmt::format("{}: cannot create: {}", name, av_error_text(ret)));
  ret = avformat_write_header(s.format, nullptr);
  if (ret < 0) s.io_failure("cannot write the movie header", ret);

  s.frame->format = c->pix_fmt;
  s.frame->width = c->width;
  s.frame->height = c->height;
  // Encoders such as prores_ks write the colour description of each frame into the bitstream.
  s.frame->color_range = c->color_range;
  s.frame->colorspace = c->colorspace;
  s.frame->color_primaries = c->color_primaries;
  s.frame->color_trc = c->color_trc;
  ret = av_frame_get_buffer(s.frame, 0);
  if (ret < 0) throw InternalError(fmt::format("{}: cannot allocate a frame: {}", name, av_error_text(ret)));
  s.sws = sws_getContext(c->width, c->height, AV_PIX_FMT_RGBA64LE, c->width, c->height, c->pix_fmt,
                         SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT | SWS_BITEXACT, nullptr, nullptr, nullptr);
  if (!s.sws) throw InternalError(fmt::format("{}: no RGB to {} conversion", name, av_get_pix_fmt_name(c->pix_fmt)));
  // RGB (full range, matrix unused) to Y'CbCr BT.709 limited range.
  sws_setColorspaceDetails(s.sws, sws_getCoefficients(SWS_CS_ITU709), 1, sws_getCoefficients(SWS_CS_ITU709), 0, 0,
                           1 << 16, 1 << 16);
  s.rgba.resize(static_cast<size_t>(c->width) * c->height * 4);
}

MovieWriter::~MovieWriter() = default;

void MovieWriter::write(const FloatImage& rgb, const std::vector<float>& alpha) {
  State& s = *state_;
  if (s.finished) throw InternalError(fmt::format("{}: frame written after the movie was finished", s.path.string()));
  const size_t n = static_cast<size_t>(s.settings.width) * s.settings.height;
  if (rgb.width != s.settings.width || rgb.height != s.settings.height || rgb.channels != 3 || rgb.pixels.size() != n * 3)
    throw InternalError(fmt::format("{}: frame {} is {}x{}x{}, the movie {}x{}x3", s.path.string(), s.frames, rgb.width,
                                    rgb.height, rgb.channels, s.settings.width, s.settings.height));
  if (!alpha.empty() && alpha.size() != n)
    throw InternalError(fmt::format("{}: frame {} has a matte of {} values for {} pixels", s.path.string(), s.frames,
                                    alpha.size(), n));
  for (size_t i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c) s.rgba[i * 4 + c] = code16(rgb.pixels[i * 3 + c]);
    s.rgba[i * 4 + 3] = alpha.empty() ? 65535 : code16(alpha[i]);
  }
  int ret = av_frame_make_writable(s.frame);
  if (ret < 0) throw InternalError(fmt::format("{}: {}", s.path.string(), av_error_text(ret)));
  const uint8_t* src[1] = {reinterpret_cast<const uint8_t*>(s.rgba.data())};
  const int src_stride[1] = {s.settings.width * 8};
  sws_scale(s.sws, src, src_stride, 0, s.settings.height, s.frame->data, s.frame->linesize);
  s.frame->pts = s.frames;
  s.encode(s.frame);
  ++s.frames;
}

void MovieWriter::finish() {
  State& s = *state_;
  if (s.finished) return;
  s.encode(nullptr);
  int ret = av_write_trailer(s.format);
  if (ret < 0) s.io_failure("cannot write the movie index", ret);
  ret = avio_closep(&s.format->pb);
  if (ret < 0) s.io_failure("write failed", ret);
  s.output.commit();  // fsync and rename into place
  s.finished = true;
}

int64_t MovieWriter::frames_written() const { return state_->frames; }

const fs::path& MovieWriter::path() const { return state_->path; }

}  // namespace facetrain
