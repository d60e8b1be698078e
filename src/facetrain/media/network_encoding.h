#pragma once
// The network's encoding (docs/design.md §7): how plate values become the [0, 1] values the network sees
// (extract's crops, swap's crops) and how the network's output goes back to the plate's own space
// (swap). One per face set, recorded in faceset.json (faceset/network_encoding_record.h):
//   plate         the plate's code values as stored (video, DPX/TIFF/PNG): identity;
//   srgb          the sRGB curve extended over the real line (scene-linear plates without a config);
//   colour space  OpenColorIO, from the plate's colour space to one of the config's (ACEScct);
//   display/view  OpenColorIO, through one of the config's displays and views (tone-mapped: usually
//                 not invertible, so swap refuses it).
// The OpenColorIO processors are built without lossy optimisations (no fast log/exp/pow), so
// decode(encode(x)) gives x back to float precision wherever the transform itself is invertible.
#include "facetrain/faceset/network_encoding_record.h"

#include <array>
#include <cstddef>
#include <memory>
#include <string>

namespace facetrain {

struct EncodingRequest {
  std::string ocio_config;       // empty: $OCIO (only read for OpenColorIO encodings)
  std::string input_colorspace;  // the plates' colour space in the config; empty: no OpenColorIO
  // "" (the default below), "plate", "srgb", a colour space of the config, "display" (its default
  // display and view) or "DISPLAY/VIEW".
  std::string encoding;
};

// How exactly decode() undoes encode(): over a fixed set of probe colours in the plate's space
// (greys from 2^-14 to 2^16, primaries and secondaries at the same levels, [0, 1] in 1/64 steps),
// those the encoding maps into the network's range [0, 1] are encoded and decoded again.
struct RoundTrip {
  // Largest |decode(encode(x)) - x| / max(1, |x|) over those probes, per channel: at most half a
  // 16-bit code value (7.6e-6) below 1.0, that fraction of the value above it, for an exact inverse.
  double max_error = 0;
  std::array<float, 3> worst{};  // the probe colour where it is largest
  int probes_in_range = 0;       // probes the encoding maps into [0, 1]
  bool has_inverse = true;       // false: OpenColorIO cannot invert the transform at all
  bool invertible() const;
};
inline constexpr double kInvertibleTolerance = 0.5 / 65535.0;

class NetworkEncoding {
 public:
  // extract: the encoding the request names for plates of this kind. Without an OpenColorIO colour
  // space: `srgb` for scene-linear plates, `plate` for the others. With one: the config's
  // compositing_log role when it has one (ACEScct in the ACES configs), else its default display
  // and view. Throws ConfigError (78) naming the config, colour space, display or view.
  static NetworkEncoding for_request(const EncodingRequest& request, bool scene_linear_plate);
  // swap: the encoding a face set recorded, for a plate in `input_colorspace` (its source's, as the
  // config spells it). The config is `ocio_config` when given, else the recorded path while a file
  // is there, else $OCIO; it must be the recorded one (name and SHA-256): ConfigError (78) naming
  // both otherwise.
  static NetworkEncoding from_record(const NetworkEncodingRecord& record, const std::string& input_colorspace,
                                     const std::string& ocio_config);

  const NetworkEncodingRecord& record() const { return record_; }
  const std::string& input_colorspace() const { return input_colorspace_; }
  // `pixel_count` interleaved RGB floats, in place; nothing is clamped; non-finite values become 0
  // first. Thread-safe.
  void encode(float* rgb, size_t pixel_count) const;
  void decode(float* rgb, size_t pixel_count) const;
  const RoundTrip& round_trip() const { return round_trip_; }
  // An invertible encoding of the same config to suggest instead of this one, for messages
  // ("ACEScct (the config's compositing_log role)"; "srgb" without a log colour space).
  std::string invertible_alternative() const;

 private:
  struct Processors;
  NetworkEncodingRecord record_;
  std::string input_colorspace_;
  std::shared_ptr<const Processors> processors_;  // OpenColorIO kinds
  RoundTrip round_trip_;
  std::string alternative_;

  void measure_round_trip();
};

// The extended sRGB curve of the `srgb` encoding (exposed for tests): linear below the knee (also
// for negative values), the power law above it (also above 1.0); exact inverses of each other.
float srgb_encode_extended(float linear);
float srgb_decode_extended(float encoded);

}  // namespace facetrain
