#pragma once
// `facetrain matte apply` (issue 24): writes one visible-face matte per face into a face set
// (faceset/visible_mattes.h), smoothed along each track where the plate holds still
// (occlusion/temporal_matte.h). The new mattes replace the old ones only when all are written.
#include "facetrain/base/progress.h"
#include "facetrain/jobs/matte_job.h"

namespace facetrain {

// Throws ConfigError (78) for a model made for another face type or crop size, MissingInputError /
// InputDataError for the face set and the model, OutputError / IoError writing.
MatteApplyReport run_matte_apply(const MatteApplyJob& job, ProgressSink& progress);

}  // namespace facetrain
