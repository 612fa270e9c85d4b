// Test support: a strict reader of the Prometheus text exposition format (version 0.0.4, as
// described in Prometheus's "Exposition formats" document), used instead of `promtool check
// metrics`, which Debian 12 ships only inside the `prometheus` package (the server, whose
// service starts on installation). It checks what promtool's parser and linter check for our
// output, and more:
//   - every line ends with "\n"; only "# HELP" and "# TYPE" comments, each at most once per family
//     and before its samples; TYPE is counter, gauge, histogram, summary or untyped;
//   - metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* (not "__…"),
//     label values quoted with only \\, \" and \n escapes, no duplicate label names;
//   - the samples of a family are contiguous and belong to the family (histograms: _bucket with
//     "le", _sum, _count); no sample is repeated;
//   - values are Go-style floats (NaN, +Inf, -Inf allowed); counters end in "_total" and are
//     not negative;
//   - histogram buckets: "le" increasing, ending at "+Inf", counts non-decreasing, the +Inf
//     bucket equal to _count.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "lunal/common/result.h"

namespace lunal::attest::service::testing {

// Sample key → value, where the key is `name{label="value",…}` with labels sorted by name (just
// `name` without labels). Errors: InvalidArgument "exposition.invalid", naming the line.
Result<std::map<std::string, double>> ParseExposition(std::string_view text);

}  // namespace lunal::attest::service::testing
