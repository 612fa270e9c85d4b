// The one place where lunal::Status maps to HTTP, in both directions.
//
// Server side: a handler that fails returns ErrorResponse(status), which picks the HTTP status and
// writes the body every Lunal API uses (DESIGN.md, "Interfaces and conventions"):
//
//   {"error": {"code": "verification_failed", "reason": "tdx.quote.signature_invalid",
//              "message": "..."}}
//
// Client side: StatusFromErrorBody turns such a response back into the same Status, so a remote
// call fails with the code and reason the server produced.
//
// Mapping (HttpStatusFor):
//   invalid_argument, malformed      400  the request is wrong (405 for the reason
//                                          "http.method_not_allowed")
//   unsupported                      422  well-formed, but a version/type/algorithm we do not
//   handle verification_failed              422  well-formed input whose signature/chain/binding
//   fails policy_violation                 403  verified, but the policy refuses: an authorisation
//   answer unauthenticated                  401  (with WWW-Authenticate: Bearer) permission_denied
//   403 not_found                        404 conflict                         409
//   resource_exhausted               413  (429 when the reason ends in ".rate_limited";
//                                          431 for "http.header_too_large")
//   deadline_exceeded                504  a dependency timed out (408 for "http.request_timeout",
//                                          the client itself was too slow)
//   unavailable                      503
//   internal                         500  reason "internal", message "internal error": the real
//                                          status never reaches the client; log it yourself
//   ok (a bug: not an error)         500  as internal
#pragma once

#include <string_view>

#include "lunal/common/status.h"
#include "lunal/net/http.h"

namespace lunal::net {

// The HTTP status for a code, by the table above (ignoring reason-specific refinements).
int HttpStatusFor(Code code);

// The HTTP status for a status: the table plus the reason refinements (405, 408, 429, 431).
int HttpStatusFor(const Status& status);

// The JSON error response for a non-OK status. Internal (and OK, which is a caller bug) statuses
// become a generic 500 with reason "internal": callers log the original before calling this.
HttpResponse ErrorResponse(const Status& status);

// The code a bare HTTP status suggests, for error responses that do not carry Lunal's JSON body
// (a proxy's 502, a plain-text 404). 2xx and 3xx give kInternal: they are not errors.
Code CodeForHttpStatus(int http_status);

// The client side of the mapping: the Status a non-2xx response stands for. When `body` is
// Lunal's JSON error shape, code, reason and message come from it (an unknown code name falls
// back to CodeForHttpStatus); otherwise the code comes from CodeForHttpStatus, the reason is
// "net.http_error" and the message quotes the status and the start of the body. Never OK: a 2xx
// status gives InvalidArgument "net.not_an_error".
//
// (A Status rather than Result<Status>: Result forbids holding a Status, and every outcome of this
// function is a Status anyway.)
Status StatusFromErrorBody(int http_status, std::string_view body);

}  // namespace lunal::net
