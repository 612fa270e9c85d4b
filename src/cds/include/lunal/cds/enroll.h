// Enrolling at the CDS over HTTP (docs/protocols/cds.md, "Certificates"): what an instance
// agent, a gateway or any attested component runs to obtain its mesh certificate.
//
//   auto key = crypto::PrivateKey::GenerateP256();
//   LUNAL_ASSIGN_OR_RETURN(Enrolment e, Enroll({.cds_url = url, .attester = &attester,
//                                               .key = &*key, .tenant = "acme", …}));
//   auto creds = mesh::MeshCredentials::Load(e.certificate_pem, e.key_pem);
//
// Steps: POST /v1/cds/challenge → nonce; REPORT_DATA = ReportDataFor({SPKI of key, nonce,
// build_hash}) (attest/report_data.h); attester->Attest(REPORT_DATA); a CSR signed by key;
// POST /v1/cds/certificates {evidence envelope, csr, nonce, tenant, deployment, instance}.
// Errors: the CDS's own reasons (cds.*, tdx.*, …) as it answered them, net.* for transport,
// the attester's.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "lunal/attest/attester.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/crypto/keys.h"

namespace lunal::cds {

struct EnrollOptions {
  std::string cds_url = {};  // http(s)://host:port
  // When set, the two POSTs (path "/v1/cds/challenge" or "/v1/cds/certificates", JSON body →
  // the CDS's JSON answer, its errors as net::StatusFromErrorBody gives them) go through this
  // instead of HTTP to cds_url: an instance agent in its own network namespace has the node relay
  // them over the device socket (node/device.h).
  using PostFn = std::function<Result<Json>(std::string_view path, const Json& body)>;
  PostFn post = {};
  attest::Attester* attester = nullptr;
  const crypto::PrivateKey* key = nullptr;  // the identity key (P-256)
  std::string tenant = {};
  std::string deployment = {};
  std::string instance = {};
  std::string build_hash = {};
};

struct Enrolment {
  std::string certificate_pem = {};  // leaf then CA
  std::string ca_pem = {};
  std::string key_pem = {};  // options.key, PKCS#8 PEM
  std::string nonce = {};
  Json evidence = nullptr;  // the envelope sent
};

Result<Enrolment> Enroll(const EnrollOptions& options);

}  // namespace lunal::cds
