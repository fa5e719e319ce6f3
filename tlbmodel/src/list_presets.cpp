// tlbmodel-presets: prints the plugin's presets as JSON (presets_json), so that the harness
// reads them from the same definitions the plugin applies instead of restating them.
#include <cstdio>

#include "presets.hpp"

int main() {
  const std::string text = tlbm::presets_json();
  return std::fwrite(text.data(), 1, text.size(), stdout) == text.size() ? 0 : 1;
}
