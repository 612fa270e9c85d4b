// The in-toto Statement v1 / SLSA Provenance v1 document of a Lunal build: building it from a
// ProvenanceInput and checking one that came out of a verified envelope. Private to
// build/provenance.
#pragma once

#include <string>
#include <vector>

#include "lunal/build/provenance.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"

namespace lunal::build::internal {

// True for exactly 64 lowercase hex digits (in-toto digest_set.md: lowercase hex for SHA-2).
bool IsLowerHex64(std::string_view s);

struct CheckedStatement {
  std::vector<Subject> subjects;
  std::string build_hash;  // "sha256:<manifest subject digest>", or empty
  std::string builder_id;
  std::string build_type;
};

// Step 5 of VerifyProvenance: the shape this component writes. provenance.bad_statement.
Result<CheckedStatement> CheckStatement(const Json& statement);

}  // namespace lunal::build::internal
