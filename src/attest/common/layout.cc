#include "lunal/attest/layout.h"

namespace lunal::attest::internal {

Status LayoutBug(std::string_view name, Field field, std::size_t position) {
  return Internal("attest.internal.layout", "{}: reading at {}, layout says {}", name, position,
                  field.offset);
}

}  // namespace lunal::attest::internal
