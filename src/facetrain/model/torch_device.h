#pragma once
// The device `--device` names, for train and swap alike, with the one error text for a CUDA device
// that is not there.
#include <c10/core/Device.h>

#include <functional>
#include <string>

namespace facetrain {

// "cpu", or "cuda": the CUDA device cuda_index(device_count) (device 0 when no function is given).
// Throws UsageError (64) for another word, UnavailableError (69) for cuda without a CUDA device.
c10::Device select_device(const std::string& name, const std::function<int(int device_count)>& cuda_index = {});

}  // namespace facetrain
