#pragma once
// Where `facetrain swap` puts its frames: an image sequence (one atomic file per frame), or a movie
// (.mov/.mp4, written to a temporary file and renamed when complete) with the matte as a 16-bit PNG
// sequence beside it (`out.matte.####.png`), plus, with --review, side-by-side review frames
// (`<dir>/review/<name>.review.####.png`) or, with a movie, an H.264 review movie
// (`<dir>/<name>.review.mp4`). Frames hold the finished frame or the face alone (output_kind.h).
// No LibTorch.
#include "facetrain/media/frame_source.h"
#include "facetrain/base/image.h"
#include "facetrain/manifest/swap_manifest.h"
#include "facetrain/jobs/swap_job.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace facetrain {

class SwapWriter {
 public:
  // Checks the output options against each other (UsageError, 64): a frame token for image
  // sequences and none for movies, the extension, --chunk with a movie (a movie is the whole
  // range: render an image sequence per chunk), --bits / --exr-compression / --codec / --crf only
  // where they apply, an element only where the format has alpha (a movie: ProRes 4444, its default
  // then), an encoder for the codec (UnavailableError, 69).
  // `chunk_index` of `chunk_count`: the job's chunk (a movie cannot be written in chunks).
  SwapWriter(const SwapJob::Output& output, int chunk_index, int chunk_count);
  ~SwapWriter();
  SwapWriter(const SwapWriter&) = delete;
  SwapWriter& operator=(const SwapWriter&) = delete;

  bool is_movie() const;
  // For --skip-existing: the frame's output file exists (a movie: the finished movie exists).
  bool finished(int64_t frame) const;

  // Picks the encodings from the plate (its depth, scene-linear or not, frame rate) and creates the
  // output folders (OutputError, 73). `plate_path` is the plate as given (an image sequence's pattern:
  // its frames' header metadata is carried over). Call before write().
  void open(const SourceInfo& plate, const std::string& plate_path);
  int matte_levels() const;          // the levels mattes are quantised to (0 = float)
  bool wants_plate() const;          // write() needs the plate as decoded (the review shows it)
  bool wants_element() const;        // write() needs the face alone, premultiplied (--output-kind element)
  std::string describe() const;      // for the log: paths and encodings

  // One finished frame, in frame order: `swapped` (RGB, the plate's encoding) with its matte;
  // `plate` is the frame before compositing (used only when wants_plate()); `element` the face alone
  // premultiplied by the matte, zero outside it (used only when wants_element()).
  void write(int64_t frame, const FloatImage& plate, const FloatImage& swapped, const std::vector<float>& matte,
             const FloatImage& element);
  // Completes the movies (rename into place). Without it, the destructor leaves no movie behind.
  void finish();
  std::vector<std::filesystem::path> movies_written() const;

  // --skip-existing: a frame left as it was still belongs to this chunk's manifest.
  void keep_existing(int64_t frame);
  // Writes OUTPUT_DIR/swap-manifest.<first>-<last>.json for the chunk owning frames first..last:
  // every file written or kept, with its SHA-256, and `provenance` (plate, checkpoint), so that
  // `facetrain verify OUTPUT_DIR` can tell a finished render from a damaged one.
  void write_manifest(int64_t chunk_first, int64_t chunk_last, SwapManifest provenance) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace facetrain
