#pragma once
// The API of libfacetrain-torch.so (see module_loader.h): training and swapping, behind LibTorch,
// CUDA, cuDNN and NCCL, which only `train` and `swap` need (and load once); and the CNN face
// detector's convolutions for `extract --detector-device cpu|cuda` (conv_stack_loader.h).
#include "facetrain/base/module_loader.h"
#include "facetrain/base/progress.h"
#include "facetrain/face/conv_stack.h"
#include "facetrain/jobs/matte_job.h"
#include "facetrain/jobs/swap_job.h"
#include "facetrain/jobs/train_job.h"

namespace facetrain {

struct TorchModuleApi {
  ModuleHeader header;
  TrainReport (*run_train)(const TrainJob& job, ProgressSink& progress);
  SwapReport (*run_swap)(const SwapJob& job, ProgressSink& progress);
  MatteTrainReport (*run_matte_train)(const MatteTrainJob& job, ProgressSink& progress);
  MatteApplyReport (*run_matte_apply)(const MatteApplyJob& job, ProgressSink& progress);
  // A convolution stack on the CPU or a CUDA device (facetrain/model/conv_stack_torch.h).
  std::unique_ptr<ConvStackRunner> (*open_conv_stack)(const ConvStack& stack, ConvStackDevice device);
};

#define FACETRAIN_TORCH_MODULE_ENTRY "facetrain_torch_module_api"

// Loads the module on first use; throws UnavailableError (69) when it cannot.
const TorchModuleApi& torch_module();

}  // namespace facetrain
