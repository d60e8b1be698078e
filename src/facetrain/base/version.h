#pragma once
namespace facetrain {
const char* version_string();  // "0.1.0"
}
