// The CDS's HTTP API (docs/protocols/cds.md, docs/api/openapi.yaml "cds"): routes over a Cds.
//
//   POST /v1/cds/challenge                 → {"nonce", "expires_at"}
//   POST /v1/cds/certificates              {evidence, csr, nonce, tenant, deployment, instance}
//                                          → {"certificate", "ca", "serial", "not_before",
//                                             "not_after", "uri", "build_hash", "tee", "simulated"}
//   PUT  /v1/cds/manifest                  the operator-signed DSSE envelope → {"version"}
//   GET  /v1/cds/manifest                  {"active", "previous", "cds_key_id"}
//   GET  /v1/cds/ca                        {"certificate": PEM}
//   PUT  /v1/cds/secrets/{name}            tenant owner's bearer token;
//                                          {"value": base64, "policy": {"build_hashes", …}}
//   POST /v1/cds/secrets/{name}/release    {evidence, nonce, tenant, deployment, public_key}
//                                          → {"ephemeral_public_key", "nonce", "ciphertext",
//                                             "algorithm"}
//   POST /v1/cds/beacon                    → {"time", "signature"}
//   POST /v1/cds/replica/master-key        {evidence, nonce, public_key} → the master key
//                                          sealed to an attested CDS replica (as a release)
//   GET  /v1/cds/registry                  operator's bearer token → {"identities": […]}
//   GET  /healthz                          {"status": "ok"}
//
// Instances authenticate by evidence, not tokens: challenge, certificates, release and beacon are
// open (a request without valid evidence gets nothing). Manifest PUTs are authenticated by the
// operator's signature. Errors are net::ErrorResponse bodies; request-shape errors are
// cds.request.bad_field (400), bearer-token failures auth.missing_token / auth.bad_scheme /
// auth.invalid_token (401).
//
// Thread-safety: the router borrows `cds`, which must outlive it; handlers run concurrently.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lunal/cds/cds.h"
#include "lunal/common/result.h"
#include "lunal/net/server.h"

namespace lunal::cds {

using TokenDigest = std::array<std::uint8_t, 32>;  // SHA-256 of a bearer token

struct HttpOptions {
  std::vector<TokenDigest> operator_tokens = {};                       // GET /v1/cds/registry
  std::map<std::string, std::vector<TokenDigest>> tenant_tokens = {};  // tenant → owners' tokens
  std::size_t max_evidence_bytes = std::size_t{256} << 10;
};

Result<net::Router> MakeRouter(Cds& cds, HttpOptions options);

}  // namespace lunal::cds
