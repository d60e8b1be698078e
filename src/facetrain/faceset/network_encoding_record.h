#pragma once
// What the network sees, as recorded in faceset.json, a run's manifest.json and checkpoints, and the
// swap manifest: how plate values become the [0, 1] values of the crops (and back, in swap). Plain
// data: reading, writing and comparing it needs neither OpenColorIO nor LibTorch
// (media/network_encoding.h applies it).
#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <vector>

namespace facetrain {

enum class EncodingKind {
  plate,         // the plate's own code values (video, DPX/TIFF/PNG as stored): identity, no OCIO
  srgb,          // the sRGB curve extended over the real line, for scene-linear plates without OCIO
  colorspace,    // OpenColorIO: from the plate's colour space to a colour space of the config (ACEScct)
  display_view,  // OpenColorIO: the plate's colour space through a display and view of the config
};
const char* to_string(EncodingKind kind);

// The OpenColorIO config an encoding came from. Identity is name + SHA-256 of the file: a config
// moved to another path (a farm's mount) is the same config; an edited one is not.
struct OcioConfigIdentity {
  std::string path;              // where it was read, for messages
  std::string name;              // the config's own name
  std::string profile_version;   // ocio_profile_version, "2.1"
  std::string sha256;            // of the config file
  std::string library_version;   // the OpenColorIO that read it, "2.1.2"
};

struct NetworkEncodingRecord {
  EncodingKind kind = EncodingKind::plate;
  std::string colorspace;            // colorspace: the encoding's colour space as the config spells it
  std::string display, view;         // display_view
  std::optional<OcioConfigIdentity> config;  // colorspace and display_view
  bool recorded = true;              // false: a face set written before encodings were recorded (inferred)

  // What `extract --encoding` takes to make this encoding again: "plate", "srgb", "ACEScct",
  // "sRGB - Display/ACES 1.0 - SDR Video".
  std::string name() const;
  // For messages: "ACEScct (OpenColorIO config cg-config-v1.0.0_aces-v1.3_ocio-v2.1, sha256 0123abcd...)".
  std::string describe() const;
};

// Whether two face sets' crops were made in one encoding: the same kind, colour space or display
// and view, and config identity (name and SHA-256; not the path).
bool same_network_encoding(const NetworkEncodingRecord& a, const NetworkEncodingRecord& b);

// Whether a network trained on crops of one encoding sees the same kind of values in the other's:
// the same encoding, or plate and srgb, which both give sRGB display values (a video's code values
// are the sRGB-like encoding of its light; a scene-linear plate through the sRGB curve gives the
// same): a model trained on a movie swaps the EXR plate of the same shot, as it always has. Train
// and swap check models and face sets with it; one face set holds one encoding (same_network_encoding).
bool same_network_values(const NetworkEncodingRecord& a, const NetworkEncodingRecord& b);

nlohmann::json network_encoding_to_json(const NetworkEncodingRecord& record);
// Throws InputDataError naming `where` and the key for anything malformed.
NetworkEncodingRecord network_encoding_from_json(const nlohmann::json& value, const std::string& where);

// The encoding of a face set written before encodings were recorded, from its sources' colour
// spaces as extract recorded them then: scene-linear float plates ("linear", OpenImageIO's
// "Linear"...) went through the sRGB curve, everything else was used as stored.
NetworkEncodingRecord legacy_network_encoding(const std::vector<std::string>& source_colorspaces);

}  // namespace facetrain
