// Movie frames read through libav* (FFmpeg 5.1). FFmpeg headers stay in the media files that need
// them: this reader, movie_writer.cpp and av_support.cpp (shared error text and log routing).
//
// Frame numbers come from timestamps: number = start_frame + round((pts - first_pts) * time_base * fps),
// fps from avg_frame_rate (else r_frame_rate). Numbers already used (variable frame rate) are dropped
// with one warning per file; gaps are kept as gaps. Without timestamps or a frame rate, frames are
// numbered in decode order.
//
// Damage policy: frames decoded before the damage are returned; then read() throws InputDataError
// naming the file and the first frame that could not be read. Damage is: a read error, a packet the
// demuxer marks corrupt, a packet the decoder rejects, or an end of file that comes before the end of
// the data the container's index promises (a truncated .mp4/.mov/.avi). Containers without such an
// index (MPEG-TS, raw H.264) cannot tell truncation from a real end: they just end.
//
// Security: local regular files only. The file is opened through the "file" protocol alone, the
// container is probed first and must be on an allow list of self-contained movie formats (no HLS,
// concat, or other playlists), and every attempt by a demuxer to open a further file is refused.
#include "facetrain/media/av_support.h"
#include "facetrain/media/frame_limits.h"
#include "facetrain/media/source_factories.h"
#include "facetrain/base/error.h"
#include "facetrain/base/log.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <string_view>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

namespace facetrain {
namespace {

constexpr int64_t kNoNumber = std::numeric_limits<int64_t>::min();

// Self-contained movie containers (FFmpeg demuxer names). Anything else, playlists and reference
// formats (hls, dash, concat, image2, ...) in particular, is refused.
constexpr std::array<std::string_view, 22> kAllowedDemuxers = {
    "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi", "mxf", "mpegts", "mpeg", "flv", "asf",
    "h264", "hevc", "m4v", "mpegvideo", "yuv4mpegpipe", "dv", "ivf", "nut", "ogg", "gif",
    "mjpeg", "obu", "vc1", "gxf"};

// Demuxers must not open anything besides the file we handed them.
int refuse_nested_open(AVFormatContext*, AVIOContext**, const char* url, int, AVDictionary**) {
  log_warning("refused a movie container's request to open another file ({})", url ? url : "");
  return AVERROR(EPERM);
}

bool is_full_range(const AVFrame* frame) {
  if (frame->color_range == AVCOL_RANGE_JPEG) return true;
  switch (frame->format) {
    case AV_PIX_FMT_YUVJ420P:
    case AV_PIX_FMT_YUVJ422P:
    case AV_PIX_FMT_YUVJ444P:
    case AV_PIX_FMT_YUVJ440P:
    case AV_PIX_FMT_YUVJ411P:
      return true;
    default:
      return false;
  }
}

// The YUV->RGB matrix: the stream's own, else the customary guess (HD: BT.709, SD: BT.601).
int sws_matrix_for(const AVFrame* frame, std::string& name) {
  switch (frame->colorspace) {
    case AVCOL_SPC_BT709: name = "bt709"; return SWS_CS_ITU709;
    case AVCOL_SPC_BT470BG:
    case AVCOL_SPC_SMPTE170M: name = "bt601"; return SWS_CS_ITU601;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL: name = "bt2020"; return SWS_CS_BT2020;
    case AVCOL_SPC_SMPTE240M: name = "smpte240m"; return SWS_CS_SMPTE240M;
    case AVCOL_SPC_FCC: name = "fcc"; return SWS_CS_FCC;
    default: break;
  }
  if (frame->height >= 720) {
    name = "bt709";
    return SWS_CS_ITU709;
  }
  name = "bt601";
  return SWS_CS_ITU601;
}

// Clockwise rotation of an interleaved image by 90, 180 or 270 degrees. `src_stride` in elements.
template <typename T>
void rotate_clockwise(const T* src, int width, int height, int channels, size_t src_stride, int degrees, T* dst) {
  const int out_width = (degrees == 180) ? width : height;
  const int out_height = (degrees == 180) ? height : width;
  for (int y = 0; y < out_height; ++y) {
    T* out = dst + static_cast<size_t>(y) * out_width * channels;
    for (int x = 0; x < out_width; ++x) {
      int sx = 0;
      int sy = 0;
      if (degrees == 90) {
        sx = y;
        sy = height - 1 - x;
      } else if (degrees == 180) {
        sx = width - 1 - x;
        sy = height - 1 - y;
      } else {
        sx = width - 1 - y;
        sy = x;
      }
      const T* in = src + static_cast<size_t>(sy) * src_stride + static_cast<size_t>(sx) * channels;
      for (int c = 0; c < channels; ++c) out[x * channels + c] = in[c];
    }
  }
}

struct IoCloser {
  void operator()(AVIOContext* io) const { avio_closep(&io); }
};
struct FormatCloser {
  void operator()(AVFormatContext* format) const { avformat_close_input(&format); }
};
struct CodecFreer {
  void operator()(AVCodecContext* codec) const { avcodec_free_context(&codec); }
};
struct PacketFreer {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
struct FrameFreer {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
struct SwsFreer {
  void operator()(SwsContext* context) const { sws_freeContext(context); }
};

class VideoSource final : public FrameSource {
 public:
  VideoSource(const std::string& path, const FrameSourceOptions& options) : path_(path), options_(options) {
    install_av_log_forwarding();
    packet_holder_.reset(av_packet_alloc());
    frame_holder_.reset(av_frame_alloc());
    pending_holder_.reset(av_frame_alloc());
    packet_ = packet_holder_.get();
    frame_ = frame_holder_.get();
    pending_ = pending_holder_.get();
    if (!packet_ || !frame_ || !pending_) throw InternalError(fmt::format("{}: out of memory", path_));
    open_container();
    open_decoder();
    read_first_frame();
  }

  VideoSource(const VideoSource&) = delete;
  VideoSource& operator=(const VideoSource&) = delete;

  const SourceInfo& info() const override { return info_; }
  bool has_frame(int64_t number) const override {
    return number >= info_.frame_first && (info_.frame_last < info_.frame_first || number <= info_.frame_last);
  }

  void seek(int64_t frame) override;
  bool read(Frame& frame) override;

 private:
  [[noreturn]] void fail(const std::string& what) const { throw InputDataError(fmt::format("{}: {}", path_, what)); }

  void open_container();
  void open_decoder();
  void read_first_frame();
  bool decode_next(AVFrame* out);
  void start_draining(const std::string& damage);
  bool index_promises_more_data() const;
  int64_t number_of(const AVFrame* decoded) const;
  void setup_conversion(const AVFrame* decoded);
  void convert(const AVFrame* decoded, Frame& out);
  int64_t next_expected_number() const { return last_number_ == kNoNumber ? options_.start_frame : last_number_ + 1; }

  std::string path_;
  FrameSourceOptions options_;
  SourceInfo info_;

  // Owners, declared so that they are released in the right order (the format before its I/O).
  std::unique_ptr<AVIOContext, IoCloser> io_holder_;
  std::unique_ptr<AVFormatContext, FormatCloser> format_holder_;
  std::unique_ptr<AVCodecContext, CodecFreer> codec_holder_;
  std::unique_ptr<AVPacket, PacketFreer> packet_holder_;
  std::unique_ptr<AVFrame, FrameFreer> frame_holder_;
  std::unique_ptr<AVFrame, FrameFreer> pending_holder_;
  std::unique_ptr<SwsContext, SwsFreer> sws_rgb8_holder_;
  std::unique_ptr<SwsContext, SwsFreer> sws_rgb48_holder_;

  AVIOContext* io_ = nullptr;
  AVFormatContext* format_ = nullptr;
  AVCodecContext* codec_ = nullptr;
  AVStream* stream_ = nullptr;
  int stream_index_ = -1;
  AVPacket* packet_ = nullptr;
  AVFrame* frame_ = nullptr;
  AVFrame* pending_ = nullptr;  // decoded but not yet returned (first frame, or first after a seek)
  bool has_pending_ = false;

  AVRational time_base_{0, 1};
  AVRational fps_{0, 1};
  bool use_timestamps_ = true;
  int64_t first_pts_ = 0;
  int rotation_cw_deg_ = 0;
  int decoded_width_ = 0;   // before rotation
  int decoded_height_ = 0;

  bool demux_eof_ = false;
  std::string damage_;      // why the stream ended early, if it did
  int64_t last_number_ = kNoNumber;
  int64_t skip_before_ = kNoNumber;
  bool warned_duplicate_ = false;

  SwsContext* sws_rgb8_ = nullptr;
  SwsContext* sws_rgb48_ = nullptr;
  int conv_width_ = 0;
  int conv_height_ = 0;
  int conv_format_ = AV_PIX_FMT_NONE;
  int conv_colorspace_ = -1;
  int conv_range_ = -1;
  std::vector<uint8_t> rgb8_scratch_;    // padded rows: swscale may write past a row's last pixel
  int rgb8_stride_ = 0;
  std::vector<uint8_t> rgb48_scratch_;
  int rgb48_stride_ = 0;
  std::vector<float> float_scratch_;      // full precision before rotation
};

void VideoSource::open_container() {
  const std::string url = "file:" + path_;  // a path with ':' in it is never taken for a protocol
  AVDictionary* io_options = nullptr;
  av_dict_set(&io_options, "protocol_whitelist", "file", 0);
  int ret = avio_open2(&io_, url.c_str(), AVIO_FLAG_READ, nullptr, &io_options);
  av_dict_free(&io_options);
  io_holder_.reset(io_);
  if (ret < 0) fail(fmt::format("cannot open: {}", av_error_text(ret)));
  if (avio_size(io_) == 0) fail("the file is empty");

  const AVInputFormat* input_format = nullptr;
  ret = av_probe_input_buffer2(io_, &input_format, url.c_str(), nullptr, 0, 0);
  if (ret < 0 || !input_format) fail("not a movie file FFmpeg recognises");
  const std::string_view demuxer = input_format->name;
  if (std::find(kAllowedDemuxers.begin(), kAllowedDemuxers.end(), demuxer) == kAllowedDemuxers.end()) {
    fail(fmt::format("the '{}' container is refused: only self-contained movie files are read (no playlists, "
                     "concat lists or other files that refer to further files)",
                     demuxer));
  }

  format_ = avformat_alloc_context();
  if (!format_) throw InternalError(fmt::format("{}: out of memory", path_));
  format_->pb = io_;
  format_->io_open = refuse_nested_open;
  AVDictionary* format_options = nullptr;
  av_dict_set(&format_options, "protocol_whitelist", "file", 0);
  ret = avformat_open_input(&format_, url.c_str(), input_format, &format_options);  // frees format_ on failure
  av_dict_free(&format_options);
  format_holder_.reset(format_);
  if (ret < 0) fail(fmt::format("not a readable movie ({} demuxer: {})", demuxer, av_error_text(ret)));

  // Refuse absurd sizes the header announces before anything decodes a frame.
  for (unsigned i = 0; i < format_->nb_streams; ++i) {
    const AVCodecParameters* par = format_->streams[i]->codecpar;
    if (par->codec_type == AVMEDIA_TYPE_VIDEO && (par->width != 0 || par->height != 0)) {
      check_frame_size(path_, par->width, par->height, options_.max_pixels);
    }
  }
  std::vector<AVDictionary*> stream_options(format_->nb_streams, nullptr);
  for (auto& dict : stream_options) av_dict_set_int(&dict, "max_pixels", options_.max_pixels, 0);
  ret = avformat_find_stream_info(format_, stream_options.empty() ? nullptr : stream_options.data());
  for (auto& dict : stream_options) av_dict_free(&dict);
  if (ret < 0) fail(fmt::format("cannot read stream information: {}", av_error_text(ret)));

  stream_index_ = av_find_best_stream(format_, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (stream_index_ < 0) fail("no video stream");
  stream_ = format_->streams[stream_index_];
  for (unsigned i = 0; i < format_->nb_streams; ++i) {
    if (static_cast<int>(i) != stream_index_) format_->streams[i]->discard = AVDISCARD_ALL;
  }
  check_frame_size(path_, stream_->codecpar->width, stream_->codecpar->height, options_.max_pixels);

  time_base_ = stream_->time_base;
  fps_ = stream_->avg_frame_rate;
  if (fps_.num <= 0 || fps_.den <= 0) fps_ = stream_->r_frame_rate;
  if (fps_.num <= 0 || fps_.den <= 0 || time_base_.num <= 0 || time_base_.den <= 0) {
    fps_ = AVRational{0, 1};
    use_timestamps_ = false;
  }

  size_t side_data_size = 0;
  const uint8_t* matrix = av_stream_get_side_data(stream_, AV_PKT_DATA_DISPLAYMATRIX, &side_data_size);
  if (matrix && side_data_size >= 9 * sizeof(int32_t)) {
    const double ccw = av_display_rotation_get(reinterpret_cast<const int32_t*>(matrix));
    if (std::isfinite(ccw)) {
      double cw = std::fmod(-ccw, 360.0);
      if (cw < 0) cw += 360.0;
      const int snapped = static_cast<int>(std::lround(cw / 90.0)) % 4 * 90;
      if (std::abs(cw - snapped) < 1.0 || std::abs(cw - 360.0) < 1.0) {
        rotation_cw_deg_ = snapped;
      } else {
        log_warning("{}: rotation of {:.1f} degrees is not a multiple of 90; ignored", path_, cw);
      }
    }
  }
}

void VideoSource::open_decoder() {
  const AVCodec* decoder = avcodec_find_decoder(stream_->codecpar->codec_id);
  if (!decoder) fail(fmt::format("no decoder for codec '{}'", avcodec_get_name(stream_->codecpar->codec_id)));
  codec_ = avcodec_alloc_context3(decoder);
  codec_holder_.reset(codec_);
  if (!codec_) throw InternalError(fmt::format("{}: out of memory", path_));
  int ret = avcodec_parameters_to_context(codec_, stream_->codecpar);
  if (ret < 0) fail(fmt::format("bad codec parameters: {}", av_error_text(ret)));
  codec_->pkt_timebase = stream_->time_base;
  codec_->max_pixels = options_.max_pixels;
  codec_->thread_count = std::max(0, options_.decode_threads);
  codec_->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
  ret = avcodec_open2(codec_, decoder, nullptr);
  if (ret < 0) fail(fmt::format("cannot open the {} decoder: {}", decoder->name, av_error_text(ret)));

  info_.path = path_;
  info_.is_sequence = false;
  info_.fps = fps_.num > 0 ? av_q2d(fps_) : 0.0;
  info_.codec = avcodec_get_name(stream_->codecpar->codec_id);
  info_.scene_linear = false;
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(stream_->codecpar->format));
  info_.bit_depth = desc ? desc->comp[0].depth : 8;
  info_.frame_first = options_.start_frame;
  // The start timecode as the demuxer exports it (QuickTime/MP4 tmcd track, MXF): on the video
  // stream, the container, or the timecode track itself.
  const AVDictionaryEntry* timecode = av_dict_get(stream_->metadata, "timecode", nullptr, 0);
  if (!timecode) timecode = av_dict_get(format_->metadata, "timecode", nullptr, 0);
  for (unsigned i = 0; !timecode && i < format_->nb_streams; ++i)
    timecode = av_dict_get(format_->streams[i]->metadata, "timecode", nullptr, 0);
  if (timecode && timecode->value) info_.timecode = timecode->value;
  int64_t frame_count = stream_->nb_frames;
  if (frame_count <= 0 && info_.fps > 0) {
    double duration_s = -1.0;
    if (stream_->duration != AV_NOPTS_VALUE && stream_->duration > 0) {
      duration_s = stream_->duration * av_q2d(time_base_);
    } else if (format_->duration != AV_NOPTS_VALUE && format_->duration > 0) {
      duration_s = static_cast<double>(format_->duration) / AV_TIME_BASE;
    }
    if (duration_s > 0) frame_count = std::llround(duration_s * info_.fps);
  }
  info_.frame_last = options_.start_frame + std::max<int64_t>(frame_count, 0) - 1;
}

void VideoSource::read_first_frame() {
  if (!decode_next(pending_)) {
    if (!damage_.empty()) fail(fmt::format("no frame could be decoded ({})", damage_));
    fail("no video frames");
  }
  has_pending_ = true;
  decoded_width_ = pending_->width;
  decoded_height_ = pending_->height;
  check_frame_size(path_, decoded_width_, decoded_height_, options_.max_pixels);
  const int64_t pts = pending_->best_effort_timestamp;
  if (pts == AV_NOPTS_VALUE) {
    use_timestamps_ = false;
  } else {
    first_pts_ = pts;
  }
  const bool swapped = rotation_cw_deg_ == 90 || rotation_cw_deg_ == 270;
  info_.width = swapped ? decoded_height_ : decoded_width_;
  info_.height = swapped ? decoded_width_ : decoded_height_;
  std::string matrix_name;
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(pending_->format));
  if (desc && (desc->flags & AV_PIX_FMT_FLAG_RGB)) {
    info_.colorspace = "rgb";
  } else {
    sws_matrix_for(pending_, matrix_name);
    info_.colorspace = matrix_name;
  }
  if (desc) info_.bit_depth = desc->comp[0].depth;
}

// Ends demuxing because of damage: the decoder still returns what it holds, then read() fails.
void VideoSource::start_draining(const std::string& damage) {
  if (damage_.empty()) damage_ = damage;
  demux_eof_ = true;
  avcodec_send_packet(codec_, nullptr);
}

// True when the container's index places data beyond the end of the file (it was cut short).
bool VideoSource::index_promises_more_data() const {
  const int64_t file_size = avio_size(io_);
  if (file_size <= 0) return false;
  const int entries = avformat_index_get_entries_count(stream_);
  for (int i = entries - 1; i >= 0 && i >= entries - 64; --i) {
    const AVIndexEntry* entry = avformat_index_get_entry(stream_, i);
    if (entry && entry->pos >= 0 && entry->pos + entry->size > file_size) return true;
  }
  return false;
}

bool VideoSource::decode_next(AVFrame* out) {
  for (;;) {
    int ret = avcodec_receive_frame(codec_, out);
    if (ret == 0) return true;
    if (ret == AVERROR_EOF) return false;
    if (ret != AVERROR(EAGAIN)) {
      // A decoder failing outright: whatever it held is lost; report the damage.
      if (damage_.empty()) damage_ = fmt::format("decoding failed: {}", av_error_text(ret));
      return false;
    }
    if (demux_eof_) return false;  // drained decoder asking for more: nothing left
    ret = av_read_frame(format_, packet_);
    if (ret == AVERROR_EOF) {
      start_draining(index_promises_more_data() ? "the file ends before the data its index lists (truncated)" : "");
      continue;
    }
    if (ret < 0) {
      start_draining(fmt::format("read error: {}", av_error_text(ret)));
      continue;
    }
    if (packet_->stream_index != stream_index_) {
      av_packet_unref(packet_);
      continue;
    }
    if (packet_->flags & AV_PKT_FLAG_CORRUPT) {
      av_packet_unref(packet_);
      start_draining("corrupt or incomplete packet");
      continue;
    }
    ret = avcodec_send_packet(codec_, packet_);
    av_packet_unref(packet_);
    if (ret < 0 && ret != AVERROR(EAGAIN)) {
      start_draining(fmt::format("the decoder rejected the data: {}", av_error_text(ret)));
    }
  }
}

int64_t VideoSource::number_of(const AVFrame* decoded) const {
  const int64_t pts = decoded->best_effort_timestamp;
  if (!use_timestamps_ || pts == AV_NOPTS_VALUE) return next_expected_number();
  // (pts - first) * time_base * fps, rounded to nearest, in exact integer arithmetic.
  const int64_t offset = av_rescale_q(pts - first_pts_, time_base_, av_inv_q(fps_));
  return options_.start_frame + offset;
}

bool VideoSource::read(Frame& out) {
  for (;;) {
    if (has_pending_) {
      av_frame_unref(frame_);
      av_frame_move_ref(frame_, pending_);
      has_pending_ = false;
    } else if (!decode_next(frame_)) {
      if (!damage_.empty()) {
        fail(fmt::format("damaged or truncated at frame {} ({}); the frames before it were read",
                         next_expected_number(), damage_));
      }
      return false;
    }
    const int64_t number = number_of(frame_);
    if (last_number_ != kNoNumber && number <= last_number_) {
      if (!warned_duplicate_) {
        warned_duplicate_ = true;
        log_warning("{}: variable frame rate: more than one frame falls on frame number {}; such frames are dropped",
                    path_, number);
      }
      av_frame_unref(frame_);
      continue;
    }
    last_number_ = number;
    if (number < skip_before_) {
      av_frame_unref(frame_);
      continue;
    }
    out.number = number;
    const int64_t pts = frame_->best_effort_timestamp;
    if (use_timestamps_ && pts != AV_NOPTS_VALUE) {
      out.time_s = static_cast<double>(pts - first_pts_) * av_q2d(time_base_);
    } else {
      out.time_s = info_.fps > 0 ? static_cast<double>(number - options_.start_frame) / info_.fps : 0.0;
    }
    convert(frame_, out);
    av_frame_unref(frame_);
    return true;
  }
}

void VideoSource::seek(int64_t target) {
  has_pending_ = false;
  av_frame_unref(pending_);
  int64_t target_ts = first_pts_;
  if (use_timestamps_ && target > options_.start_frame) {
    target_ts = first_pts_ + av_rescale_q(target - options_.start_frame, av_inv_q(fps_), time_base_);
  }
  // Land on a keyframe at or before the target; if the first frame decoded there is already past
  // the target (B-frame delays, sparse index), back off further.
  const int64_t second_ts = av_rescale_q(1, AVRational{1, 1}, time_base_);
  for (int attempt = 0; attempt < 6; ++attempt) {
    int64_t backoff = 0;
    if (attempt > 0) backoff = second_ts * (int64_t{1} << (2 * (attempt - 1)));  // 1, 4, 16, 64 s
    const int64_t seek_ts = (attempt == 5) ? first_pts_ : std::max(first_pts_, target_ts - backoff);
    int ret = av_seek_frame(format_, stream_index_, seek_ts, AVSEEK_FLAG_BACKWARD);
    if (ret < 0) ret = av_seek_frame(format_, stream_index_, first_pts_, AVSEEK_FLAG_BACKWARD);
    if (ret < 0) ret = avformat_seek_file(format_, -1, std::numeric_limits<int64_t>::min(), 0, 0, AVSEEK_FLAG_BYTE);
    if (ret < 0) fail(fmt::format("cannot seek to frame {}: {}", target, av_error_text(ret)));
    avcodec_flush_buffers(codec_);
    demux_eof_ = false;
    damage_.clear();
    last_number_ = kNoNumber;
    if (!decode_next(pending_)) break;  // past the end (or damage, reported by the next read)
    has_pending_ = true;
    if (!use_timestamps_ || seek_ts <= first_pts_) break;
    const int64_t landed = number_of(pending_);
    if (landed <= target) break;
    has_pending_ = false;
    av_frame_unref(pending_);
  }
  skip_before_ = target;
}

void VideoSource::setup_conversion(const AVFrame* decoded) {
  const auto format = static_cast<AVPixelFormat>(decoded->format);
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(format);
  if (!desc) fail(fmt::format("unknown pixel format at frame {}", next_expected_number()));
  std::string matrix_name;
  const int matrix = sws_matrix_for(decoded, matrix_name);
  const int range = is_full_range(decoded) ? 1 : 0;
  const int flags = SWS_BILINEAR;  // keeps swscale's fast unscaled paths (ACCURATE_RND halves 1080p speed)
  const auto make = [&](SwsContext* context, AVPixelFormat to) {
    context = sws_getCachedContext(context, decoded->width, decoded->height, format, decoded->width, decoded->height,
                                   to, flags, nullptr, nullptr, nullptr);
    if (!context) fail(fmt::format("cannot convert pixel format '{}'", desc->name));
    if (!(desc->flags & AV_PIX_FMT_FLAG_RGB)) {
      sws_setColorspaceDetails(context, sws_getCoefficients(matrix), range, sws_getCoefficients(SWS_CS_DEFAULT), 1, 0,
                               1 << 16, 1 << 16);
    }
    return context;
  };
  sws_rgb8_ = make(sws_rgb8_holder_.release(), AV_PIX_FMT_RGB24);
  sws_rgb8_holder_.reset(sws_rgb8_);
  if (options_.want_full_precision) {
    sws_rgb48_ = make(sws_rgb48_holder_.release(), AV_PIX_FMT_RGB48);
    sws_rgb48_holder_.reset(sws_rgb48_);
  }

  // Row padding of 64 bytes plus one spare row: swscale's SIMD paths write whole blocks.
  rgb8_stride_ = (decoded->width * 3 + 63) / 64 * 64 + 64;
  rgb8_scratch_.assign(static_cast<size_t>(rgb8_stride_) * (decoded->height + 1), 0);
  if (options_.want_full_precision) {
    rgb48_stride_ = (decoded->width * 6 + 63) / 64 * 64 + 64;
    rgb48_scratch_.assign(static_cast<size_t>(rgb48_stride_) * (decoded->height + 1), 0);
  }
  conv_width_ = decoded->width;
  conv_height_ = decoded->height;
  conv_format_ = decoded->format;
  conv_colorspace_ = decoded->colorspace;
  conv_range_ = decoded->color_range;
}

void VideoSource::convert(const AVFrame* decoded, Frame& out) {
  if (decoded->width != decoded_width_ || decoded->height != decoded_height_) {
    fail(fmt::format("frame size changes from {}x{} to {}x{} at frame {}", decoded_width_, decoded_height_,
                     decoded->width, decoded->height, out.number));
  }
  if (!sws_rgb8_ || decoded->format != conv_format_ || decoded->colorspace != conv_colorspace_ ||
      decoded->color_range != conv_range_ || (options_.want_full_precision && !sws_rgb48_)) {
    setup_conversion(decoded);
  }
  const int width = decoded->width;
  const int height = decoded->height;
  const bool swapped = rotation_cw_deg_ == 90 || rotation_cw_deg_ == 270;
  const int out_width = swapped ? height : width;
  const int out_height = swapped ? width : height;

  uint8_t* dst_data[4] = {rgb8_scratch_.data(), nullptr, nullptr, nullptr};
  int dst_stride[4] = {rgb8_stride_, 0, 0, 0};
  sws_scale(sws_rgb8_, decoded->data, decoded->linesize, 0, height, dst_data, dst_stride);
  Rgb8Image& display = out.display;
  display.width = out_width;
  display.height = out_height;
  display.pixels.resize(static_cast<size_t>(width) * height * 3);
  if (rotation_cw_deg_ == 0) {
    const size_t row_bytes = static_cast<size_t>(width) * 3;
    for (int y = 0; y < height; ++y) {
      std::memcpy(display.pixels.data() + y * row_bytes, rgb8_scratch_.data() + static_cast<size_t>(y) * rgb8_stride_,
                  row_bytes);
    }
  } else {
    rotate_clockwise(rgb8_scratch_.data(), width, height, 3, static_cast<size_t>(rgb8_stride_), rotation_cw_deg_,
                     display.pixels.data());
  }

  if (!options_.want_full_precision) {
    out.full.reset();
    return;
  }
  uint8_t* dst48_data[4] = {rgb48_scratch_.data(), nullptr, nullptr, nullptr};
  int dst48_stride[4] = {rgb48_stride_, 0, 0, 0};
  sws_scale(sws_rgb48_, decoded->data, decoded->linesize, 0, height, dst48_data, dst48_stride);
  if (!out.full) out.full.emplace();
  FloatImage& full = *out.full;
  full.width = out_width;
  full.height = out_height;
  full.channels = 3;
  full.pixels.resize(static_cast<size_t>(width) * height * 3);
  float* target = full.pixels.data();
  if (rotation_cw_deg_ != 0) {
    float_scratch_.resize(full.pixels.size());
    target = float_scratch_.data();
  }
  constexpr float kScale = 1.0f / 65535.0f;
  for (int y = 0; y < height; ++y) {
    const auto* row = reinterpret_cast<const uint16_t*>(rgb48_scratch_.data() + static_cast<size_t>(y) * rgb48_stride_);
    float* dst = target + static_cast<size_t>(y) * width * 3;
    for (int i = 0; i < width * 3; ++i) dst[i] = row[i] * kScale;
  }
  if (rotation_cw_deg_ != 0) {
    rotate_clockwise(float_scratch_.data(), width, height, 3, static_cast<size_t>(width) * 3, rotation_cw_deg_,
                     full.pixels.data());
  }
}

}  // namespace

std::unique_ptr<FrameSource> open_video_source(const std::string& path, const FrameSourceOptions& options) {
  return std::make_unique<VideoSource>(path, options);
}

}  // namespace facetrain
