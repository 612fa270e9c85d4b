// cds::Enroll (enroll.h): the client side of docs/protocols/cds.md §1 (challenge) and §2
// (certificates), over net::HttpClient.
#include "lunal/cds/enroll.h"

#include <chrono>
#include <functional>
#include <memory>
#include <string_view>
#include <utility>

#include "lunal/attest/report_data.h"
#include "lunal/cds/instance.h"
#include "lunal/crypto/csr.h"
#include "lunal/net/client.h"

namespace lunal::cds {
namespace {

std::string TrimSlash(std::string_view url) {
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  return std::string(url);
}

Result<std::string> StringMember(const Json& doc, std::string_view name) {
  if (!doc.is_object() || !doc.contains(std::string(name)) || !doc[std::string(name)].is_string() ||
      doc[std::string(name)].get<std::string>().empty()) {
    return Malformed("cds.enroll.bad_response", "the CDS answer has no string \"{}\"", name);
  }
  return doc[std::string(name)].get<std::string>();
}

}  // namespace

Result<Enrolment> Enroll(const EnrollOptions& options) {
  if (options.attester == nullptr || options.key == nullptr ||
      (options.cds_url.empty() && !options.post)) {
    return InvalidArgument("cds.enroll.bad_options",
                           "cds_url (or post), attester and key are required");
  }
  EnrollOptions::PostFn post = options.post;
  if (!post) {
    auto client = std::make_shared<net::HttpClient>(
        net::ClientOptions{.connect_timeout = std::chrono::seconds(5),
                           .request_timeout = std::chrono::seconds(30),
                           .max_response_bytes = std::size_t{1} << 20,
                           .tls = {}});
    post = [client, base = TrimSlash(options.cds_url)](std::string_view path, const Json& body) {
      return client->SendJson("POST", base + std::string(path), body);
    };
  }

  // §1: a single-use nonce.
  LUNAL_ASSIGN_OR_RETURN(Json challenge, post("/v1/cds/challenge", Json::object()));
  LUNAL_ASSIGN_OR_RETURN(std::string nonce, StringMember(challenge, "nonce"));

  // §2: REPORT_DATA binds the key, the nonce and the build hash (report-data.md, "instance").
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey public_key, options.key->PublicKey());
  LUNAL_ASSIGN_OR_RETURN(Bytes spki, public_key.ToSpkiDer());
  LUNAL_ASSIGN_OR_RETURN(
      attest::ReportData report_data,
      attest::ReportDataFor(
          {.key_spki_der = std::move(spki), .nonce = nonce, .build_hash = options.build_hash}));
  LUNAL_ASSIGN_OR_RETURN(attest::Evidence evidence, options.attester->Attest(report_data));
  Json envelope = EvidenceEnvelope(evidence);
  LUNAL_ASSIGN_OR_RETURN(std::string csr, crypto::BuildCsrPem(*options.key, options.instance));

  const Json request = {{"evidence", envelope},
                        {"csr", csr},
                        {"nonce", nonce},
                        {"tenant", options.tenant},
                        {"deployment", options.deployment},
                        {"instance", options.instance}};
  LUNAL_ASSIGN_OR_RETURN(Json issued, post("/v1/cds/certificates", request));
  LUNAL_ASSIGN_OR_RETURN(std::string leaf, StringMember(issued, "certificate"));
  LUNAL_ASSIGN_OR_RETURN(std::string ca, StringMember(issued, "ca"));
  LUNAL_ASSIGN_OR_RETURN(std::string key_pem, options.key->ToPkcs8Pem());

  if (!leaf.empty() && leaf.back() != '\n') leaf.push_back('\n');
  return Enrolment{.certificate_pem = leaf + ca,
                   .ca_pem = std::move(ca),
                   .key_pem = std::move(key_pem),
                   .nonce = std::move(nonce),
                   .evidence = std::move(envelope)};
}

}  // namespace lunal::cds
