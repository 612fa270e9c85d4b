// CLI conventions shared by `lunal` and `lunald` (DESIGN.md "Interfaces and conventions"):
// human output by default, `--json` for scripts, errors on stderr (or as a JSON error object on
// stdout with --json), and exit codes that scripts can branch on.
#pragma once

#include <cstdio>
#include <string_view>

#include "lunal/common/json.h"
#include "lunal/common/status.h"

namespace lunal::cli {

// Process exit codes. Stable: scripts depend on them.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,       // the thing checked is bad: verification failed, policy violated
  kExitUsage = 2,        // bad flags or input: invalid argument, malformed, unsupported
  kExitUnavailable = 3,  // a service or collateral could not be reached; retrying may help
  kExitDenied = 4,       // unauthenticated or permission denied
  kExitNotFound = 5,     // the named object does not exist
  kExitInternal = 70,    // our bug (sysexits EX_SOFTWARE)
};

ExitCode ExitCodeFor(Code code);

// The error as a JSON object, the same shape the HTTP APIs return:
// {"error": {"code": "...", "reason": "...", "message": "..."}}
Json ErrorJson(const Status& status);

// Prints `status` (human: "error: <message> [<reason>]" on stderr; json: ErrorJson on stdout)
// and returns its exit code.
int ReportError(const Status& status, bool json, std::FILE* human_out = stderr,
                std::FILE* json_out = stdout);

// Pretty-prints JSON (two-space indent) followed by a newline.
void PrintJson(const Json& value, std::FILE* out = stdout);

}  // namespace lunal::cli
