// libfacetrain-torch.so's entry (see base/module_loader.h): `train` and `swap`, each handed the quality
// scores' face models from libfacetrain-extract.so (face_scorer_loader.h); and the CNN face detector's
// convolutions, which libfacetrain-extract.so opens through conv_stack_loader.h.
#include "facetrain/module/face_scorer_loader.h"
#include "facetrain/module/torch_module.h"
#include "facetrain/matte/matte_apply.h"
#include "facetrain/model/conv_stack_torch.h"
#include "facetrain/matte/matte_training.h"
#include "facetrain/swap_pipeline/swap_pipeline.h"
#include "facetrain/train/trainer.h"

namespace {

facetrain::TrainReport train(const facetrain::TrainJob& job, facetrain::ProgressSink& progress) {
  return facetrain::run_train(job, progress, &facetrain::open_face_scorer);
}

facetrain::SwapReport swap(const facetrain::SwapJob& job, facetrain::ProgressSink& progress) {
  return facetrain::run_swap(job, progress, &facetrain::open_face_scorer);
}

}  // namespace

extern "C" __attribute__((visibility("default"))) const void* facetrain_torch_module_api() {
  static const facetrain::TorchModuleApi api{
      {sizeof(facetrain::TorchModuleApi), FACETRAIN_VERSION},  // this module's build (libfacetrain_base's version_string() is shared)
      &train,
      &swap,
      &facetrain::run_matte_train,
      &facetrain::run_matte_apply,
      &facetrain::open_torch_conv_stack,
  };
  return &api;
}
