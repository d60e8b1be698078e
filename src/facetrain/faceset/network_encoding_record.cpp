#include "facetrain/faceset/network_encoding_record.h"
#include "facetrain/base/file_extension.h"

#include "facetrain/base/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace facetrain {

namespace {

using json = nlohmann::json;

std::string string_key(const json& object, const char* key, const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end()) throw InputDataError(fmt::format("{}: encoding: missing key '{}'", where, key));
  if (!it->is_string()) throw InputDataError(fmt::format("{}: encoding: '{}' must be a string", where, key));
  return it->get<std::string>();
}

}  // namespace

const char* to_string(EncodingKind kind) {
  switch (kind) {
    case EncodingKind::plate: return "plate";
    case EncodingKind::srgb: return "srgb";
    case EncodingKind::colorspace: return "colorspace";
    case EncodingKind::display_view: return "display_view";
  }
  return "?";
}

std::string NetworkEncodingRecord::name() const {
  switch (kind) {
    case EncodingKind::plate: return "plate";
    case EncodingKind::srgb: return "srgb";
    case EncodingKind::colorspace: return colorspace;
    case EncodingKind::display_view: return display + "/" + view;
  }
  return "?";
}

std::string NetworkEncodingRecord::describe() const {
  std::string text;
  switch (kind) {
    case EncodingKind::plate: text = "plate (the plate's own code values)"; break;
    case EncodingKind::srgb: text = "srgb (the sRGB curve, extended)"; break;
    case EncodingKind::colorspace: text = fmt::format("colour space '{}'", colorspace); break;
    case EncodingKind::display_view: text = fmt::format("display '{}' view '{}'", display, view); break;
  }
  if (config)
    text += fmt::format(" of OpenColorIO config '{}' (sha256 {})", config->name, config->sha256.substr(0, 12));
  if (!recorded) text += " (not recorded: inferred for a face set from before encodings were recorded)";
  return text;
}

bool same_network_encoding(const NetworkEncodingRecord& a, const NetworkEncodingRecord& b) {
  if (a.kind != b.kind) return false;
  if (a.kind == EncodingKind::colorspace && a.colorspace != b.colorspace) return false;
  if (a.kind == EncodingKind::display_view && (a.display != b.display || a.view != b.view)) return false;
  if (a.config.has_value() != b.config.has_value()) return false;
  if (a.config && (a.config->name != b.config->name || a.config->sha256 != b.config->sha256)) return false;
  return true;
}

bool same_network_values(const NetworkEncodingRecord& a, const NetworkEncodingRecord& b) {
  const auto display_values = [](const NetworkEncodingRecord& r) {
    return r.kind == EncodingKind::plate || r.kind == EncodingKind::srgb;
  };
  return same_network_encoding(a, b) || (display_values(a) && display_values(b));
}

json network_encoding_to_json(const NetworkEncodingRecord& r) {
  json out = {{"kind", to_string(r.kind)}, {"name", r.name()}};
  if (r.kind == EncodingKind::colorspace) out["colorspace"] = r.colorspace;
  if (r.kind == EncodingKind::display_view) {
    out["display"] = r.display;
    out["view"] = r.view;
  }
  if (r.config)
    out["ocio_config"] = {{"path", r.config->path},
                          {"name", r.config->name},
                          {"profile_version", r.config->profile_version},
                          {"sha256", r.config->sha256},
                          {"opencolorio", r.config->library_version}};
  return out;
}

NetworkEncodingRecord network_encoding_from_json(const json& value, const std::string& where) {
  if (!value.is_object()) throw InputDataError(fmt::format("{}: 'encoding' must be an object", where));
  NetworkEncodingRecord r;
  const std::string kind = string_key(value, "kind", where);
  if (kind == "plate") r.kind = EncodingKind::plate;
  else if (kind == "srgb") r.kind = EncodingKind::srgb;
  else if (kind == "colorspace") r.kind = EncodingKind::colorspace;
  else if (kind == "display_view") r.kind = EncodingKind::display_view;
  else throw InputDataError(fmt::format("{}: encoding: unknown kind '{}' (plate, srgb, colorspace or display_view)", where, kind));
  if (r.kind == EncodingKind::colorspace) r.colorspace = string_key(value, "colorspace", where);
  if (r.kind == EncodingKind::display_view) {
    r.display = string_key(value, "display", where);
    r.view = string_key(value, "view", where);
  }
  if (r.kind == EncodingKind::colorspace || r.kind == EncodingKind::display_view) {
    const auto it = value.find("ocio_config");
    if (it == value.end() || !it->is_object())
      throw InputDataError(fmt::format("{}: encoding: an OpenColorIO encoding needs 'ocio_config'", where));
    OcioConfigIdentity id;
    id.path = string_key(*it, "path", where);
    id.name = string_key(*it, "name", where);
    id.profile_version = string_key(*it, "profile_version", where);
    id.sha256 = string_key(*it, "sha256", where);
    id.library_version = string_key(*it, "opencolorio", where);
    r.config = id;
  }
  return r;
}

NetworkEncodingRecord legacy_network_encoding(const std::vector<std::string>& source_colorspaces) {
  NetworkEncodingRecord r;
  r.recorded = false;
  for (std::string cs : source_colorspaces) {
    cs = ascii_lower(std::move(cs));
    if (cs.find("linear") != std::string::npos) r.kind = EncodingKind::srgb;
  }
  return r;
}

}  // namespace facetrain
