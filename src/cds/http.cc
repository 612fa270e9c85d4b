// HTTP handlers of the CDS (docs/protocols/cds.md "HTTP API"). Status → HTTP mapping is
// net::ErrorResponse's, the one place it happens.
#include "lunal/cds/http.h"

#include <memory>
#include <optional>
#include <string>

#include "lunal/common/encoding.h"
#include "lunal/common/log.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/random.h"
#include "lunal/net/errors.h"

namespace lunal::cds {
namespace {

using net::HttpRequest;
using net::HttpResponse;

Status BadField(std::string_view field, std::string_view what) {
  return InvalidArgument("cds.request.bad_field", "{}: {}", field, what);
}

HttpResponse Error(const HttpRequest& req, const Status& status) {
  if (status.code() == Code::kInternal) {
    log::Error("cds.internal_error", {{"path", req.path}, {"status", status.ToString()}});
  }
  return net::ErrorResponse(status);
}

Result<Json> Body(const HttpRequest& req) {
  auto doc = ParseJson(req.body);
  if (!doc.ok()) return BadField("body", doc.error().message());
  if (!doc->is_object()) return BadField("body", "expected a JSON object");
  return doc;
}

Result<std::string> Str(const Json& doc, std::string_view key) {
  auto v = JsonString(doc, key);
  if (!v.ok()) return BadField(key, v.error().message());
  return v;
}

// The envelope as an object, or any container the engine reads as base64 text.
Result<Bytes> EvidenceOf(const Json& doc, std::size_t limit) {
  if (!doc.contains("evidence")) return BadField("evidence", "missing");
  const Json& e = doc["evidence"];
  Bytes out;
  if (e.is_object()) {
    out = ToBytes(e.dump());
  } else if (e.is_string()) {
    auto raw = Base64Decode(e.get<std::string>(), {.ignore_whitespace = true});
    if (!raw.ok()) return BadField("evidence", raw.error().message());
    out = std::move(*raw);
  } else {
    return BadField("evidence", "expected an envelope object or base64 text");
  }
  if (out.size() > limit) {
    return ResourceExhausted("cds.request.too_large", "evidence: {} bytes, limit {}", out.size(),
                             limit);
  }
  return out;
}

Result<Bytes> B64(const Json& doc, std::string_view key) {
  LUNAL_ASSIGN_OR_RETURN(std::string text, Str(doc, key));
  auto raw = Base64Decode(text);
  if (!raw.ok()) return BadField(key, raw.error().message());
  return raw;
}

// RFC 6750 §2.1 bearer token → its SHA-256, compared with every configured digest.
Result<TokenDigest> Bearer(const HttpRequest& req) {
  auto header = req.Header("Authorization");
  if (!header) return Unauthenticated("auth.missing_token", "an Authorization header is required");
  std::string_view h = *header;
  if (h.size() < 8 || !net::EqualsIgnoreCase(h.substr(0, 7), "Bearer ") ||
      h.find_first_of(" \t", 7) != std::string_view::npos) {
    return Unauthenticated("auth.bad_scheme", "expected \"Authorization: Bearer <token>\"");
  }
  return crypto::Sha256(AsBytes(h.substr(7)));
}

bool Matches(const TokenDigest& presented, const std::vector<TokenDigest>& accepted) {
  bool found = false;
  for (const TokenDigest& d : accepted) found = ConstantTimeEqual(presented, d) || found;
  return found;
}

Result<std::vector<std::string>> Strings(const Json& doc, std::string_view key,
                                         std::string_view path) {
  std::vector<std::string> out;
  if (!doc.contains(key)) return out;
  const Json& arr = doc[std::string(key)];
  if (!arr.is_array()) return BadField(JsonPath(path, key), "expected an array of strings");
  for (const Json& v : arr) {
    if (!v.is_string()) return BadField(JsonPath(path, key), "expected an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

class Handlers {
 public:
  Handlers(Cds& cds, HttpOptions options) : cds_(cds), options_(std::move(options)) {}

  Result<Json> Challenge(HttpRequest&) {
    LUNAL_ASSIGN_OR_RETURN(cds::Challenge c, cds_.NewChallenge());
    return Json{{"nonce", c.nonce}, {"expires_at", FormatRfc3339(c.expires_at)}};
  }

  Result<Json> Certificates(HttpRequest& req) {
    LUNAL_ASSIGN_OR_RETURN(Json doc, Body(req));
    CertificateRequest r;
    LUNAL_ASSIGN_OR_RETURN(r.evidence, EvidenceOf(doc, options_.max_evidence_bytes));
    LUNAL_ASSIGN_OR_RETURN(r.csr_pem, Str(doc, "csr"));
    LUNAL_ASSIGN_OR_RETURN(r.nonce, Str(doc, "nonce"));
    LUNAL_ASSIGN_OR_RETURN(r.tenant, Str(doc, "tenant"));
    LUNAL_ASSIGN_OR_RETURN(r.deployment, Str(doc, "deployment"));
    LUNAL_ASSIGN_OR_RETURN(r.instance, Str(doc, "instance"));
    LUNAL_ASSIGN_OR_RETURN(IssuedCertificate c, cds_.IssueCertificate(r));
    return Json{{"certificate", c.certificate_pem},
                {"ca", c.ca_pem},
                {"serial", c.serial_hex},
                {"not_before", FormatRfc3339(c.not_before)},
                {"not_after", FormatRfc3339(c.not_after)},
                {"uri", c.uri},
                {"build_hash", c.build_hash},
                {"tee", c.tee},
                {"simulated", c.simulated}};
  }

  Result<Json> PutManifest(HttpRequest& req) {
    LUNAL_RETURN_IF_ERROR(cds_.PutManifest(req.body));
    auto active = cds_.ActiveAllowList();
    return Json{{"version", active ? active->version : 0}};
  }

  Result<Json> GetManifest(HttpRequest&) { return cds_.ManifestDocument(); }

  Result<Json> Ca(HttpRequest&) { return Json{{"certificate", cds_.ca_certificate().ToPem()}}; }

  Result<Json> PutSecret(HttpRequest& req) {
    LUNAL_ASSIGN_OR_RETURN(TokenDigest token, Bearer(req));
    std::optional<std::string> tenant;
    for (const auto& [name, digests] : options_.tenant_tokens) {
      if (Matches(token, digests)) tenant = name;
    }
    if (!tenant) return Unauthenticated("auth.invalid_token", "the token is not a tenant owner's");
    LUNAL_ASSIGN_OR_RETURN(Json doc, Body(req));
    for (const auto& [key, value] : doc.items()) {
      if (key != "value" && key != "policy") return BadField(key, "unknown member");
    }
    LUNAL_ASSIGN_OR_RETURN(Bytes value, B64(doc, "value"));
    if (!doc.contains("policy") || !doc["policy"].is_object()) {
      return BadField("policy", "expected an object");
    }
    const Json& p = doc["policy"];
    SecretPolicy policy;
    LUNAL_ASSIGN_OR_RETURN(policy.build_hashes, Strings(p, "build_hashes", "policy"));
    if (p.contains("measurements")) {
      if (!p["measurements"].is_object()) return BadField("policy.measurements", "an object");
      for (const auto& [name, values] : p["measurements"].items()) {
        LUNAL_ASSIGN_OR_RETURN(policy.measurements[name],
                               Strings(p["measurements"], name, "policy.measurements"));
      }
    }
    Status s = cds_.PutSecret(*tenant, req.PathParam("name"), value, policy);
    crypto::SecureZero(value);
    LUNAL_RETURN_IF_ERROR(s);
    return Json{{"tenant", *tenant}, {"name", req.PathParam("name")}};
  }

  // A secret (or the master key) sealed to the requester (docs/protocols/cds.md "Secrets").
  static Json SealedJson(const SealedSecret& s) {
    return Json{{"algorithm", "X25519-HKDF-SHA256-ChaCha20Poly1305"},
                {"ephemeral_public_key", Base64Encode(s.ephemeral_public)},
                {"nonce", Base64Encode(s.aead_nonce)},
                {"ciphertext", Base64Encode(s.ciphertext)}};
  }

  Result<Json> Release(HttpRequest& req) {
    LUNAL_ASSIGN_OR_RETURN(Json doc, Body(req));
    ReleaseRequest r;
    r.name = std::string(req.PathParam("name"));
    LUNAL_ASSIGN_OR_RETURN(r.evidence, EvidenceOf(doc, options_.max_evidence_bytes));
    LUNAL_ASSIGN_OR_RETURN(r.nonce, Str(doc, "nonce"));
    LUNAL_ASSIGN_OR_RETURN(r.tenant, Str(doc, "tenant"));
    LUNAL_ASSIGN_OR_RETURN(r.deployment, Str(doc, "deployment"));
    LUNAL_ASSIGN_OR_RETURN(r.x25519_public, B64(doc, "public_key"));
    LUNAL_ASSIGN_OR_RETURN(SealedSecret s, cds_.ReleaseSecret(r));
    return SealedJson(s);
  }

  Result<Json> ReplicaMasterKey(HttpRequest& req) {
    LUNAL_ASSIGN_OR_RETURN(Json doc, Body(req));
    ReplicaRequest r;
    LUNAL_ASSIGN_OR_RETURN(r.evidence, EvidenceOf(doc, options_.max_evidence_bytes));
    LUNAL_ASSIGN_OR_RETURN(r.nonce, Str(doc, "nonce"));
    LUNAL_ASSIGN_OR_RETURN(r.x25519_public, B64(doc, "public_key"));
    LUNAL_ASSIGN_OR_RETURN(SealedSecret s, cds_.ReleaseMasterKey(r));
    return SealedJson(s);
  }

  Result<Json> NewBeacon(HttpRequest&) {
    LUNAL_ASSIGN_OR_RETURN(Beacon b, cds_.NewBeacon());
    return Json{{"time", b.time}, {"signature", Base64Encode(b.signature)}};
  }

  Result<Json> Registry(HttpRequest& req) {
    LUNAL_ASSIGN_OR_RETURN(TokenDigest token, Bearer(req));
    if (!Matches(token, options_.operator_tokens)) {
      return Unauthenticated("auth.invalid_token", "the token is not an operator's");
    }
    return cds_.Registry();
  }

 private:
  Cds& cds_;
  HttpOptions options_;
};

}  // namespace

Result<net::Router> MakeRouter(Cds& cds, HttpOptions options) {
  auto handlers = std::make_shared<Handlers>(cds, std::move(options));
  net::Router router;
  using Method = Result<Json> (Handlers::*)(HttpRequest&);
  auto add = [&](std::string method, std::string_view pattern, Method m) -> Status {
    return router.Add(std::move(method), pattern, [handlers, m](HttpRequest& req) {
      Result<Json> out = ((*handlers).*m)(req);
      if (!out.ok()) return Error(req, out.error());
      return HttpResponse::Json(200, *out);
    });
  };
  LUNAL_RETURN_IF_ERROR(add("POST", "/v1/cds/challenge", &Handlers::Challenge));
  LUNAL_RETURN_IF_ERROR(add("POST", "/v1/cds/certificates", &Handlers::Certificates));
  LUNAL_RETURN_IF_ERROR(add("PUT", "/v1/cds/manifest", &Handlers::PutManifest));
  LUNAL_RETURN_IF_ERROR(add("GET", "/v1/cds/manifest", &Handlers::GetManifest));
  LUNAL_RETURN_IF_ERROR(add("GET", "/v1/cds/ca", &Handlers::Ca));
  LUNAL_RETURN_IF_ERROR(add("PUT", "/v1/cds/secrets/{name}", &Handlers::PutSecret));
  LUNAL_RETURN_IF_ERROR(add("POST", "/v1/cds/secrets/{name}/release", &Handlers::Release));
  LUNAL_RETURN_IF_ERROR(add("POST", "/v1/cds/beacon", &Handlers::NewBeacon));
  LUNAL_RETURN_IF_ERROR(add("POST", "/v1/cds/replica/master-key", &Handlers::ReplicaMasterKey));
  LUNAL_RETURN_IF_ERROR(add("GET", "/v1/cds/registry", &Handlers::Registry));
  LUNAL_RETURN_IF_ERROR(router.Add("GET", "/healthz", [](HttpRequest&) {
    return HttpResponse::Json(200, {{"status", "ok"}});
  }));
  return router;
}

}  // namespace lunal::cds
