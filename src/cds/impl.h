// Cds::Impl, shared by cds.cc (bootstrap, certificates, manifests, beacons, registry) and
// secrets.cc. Private to src/cds.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "lunal/attest/report_data.h"
#include "lunal/cds/cds.h"
#include "lunal/crypto/keys.h"
#include "lunal/crypto/x509.h"
#include "store.h"

namespace lunal::cds {

// What an appraisal established about a requester (docs/protocols/cds.md "Appraisal").
struct Appraised {
  AllowListEntry entry;
  std::string build_hash;  // "sha256:…" from the replayed event log (TDX) or HOST_DATA (SNP)
  std::string tee;         // "tdx" | "sev-snp"
  bool simulated = false;
  std::string tcb_status;  // Intel's status name, "" for SNP
  Json essentials;         // the engine's summary, kept in the registry
};

// REPORT_DATA the requester must have bound, given the build hash its evidence carries.
using ExpectedReportData = std::function<Result<attest::ReportData>(const std::string& build_hash)>;

struct Cds::Impl {
  CdsOptions options;
  const Clock* clock = nullptr;
  crypto::PublicKey operator_key;
  std::unique_ptr<internal::Store> store;
  Bytes master_key;  // 32 bytes
  crypto::Certificate ca_cert;
  crypto::PrivateKey ca_key;
  std::string ca_pem;
  std::string ca_key_id;  // KeyDigest(CA SPKI): the DSSE keyid of countersignatures

  mutable std::mutex mu;            // guards `active`
  std::optional<AllowList> active;  // the newest installed allow-list

  // The numbered pipeline shared by certificates and secret release (cds.h lists the reasons).
  Result<Appraised> Appraise(ByteSpan evidence, std::string_view nonce, std::string_view tenant,
                             std::string_view deployment, const ExpectedReportData& expected);

  // AEAD under the master key (ChaCha20-Poly1305, random 12-byte nonce; `label` is bound as AAD).
  Result<Bytes> Wrap(std::string_view label, ByteSpan plaintext) const;  // nonce ‖ sealed
  Result<Bytes> Unwrap(std::string_view label, ByteSpan wrapped) const;

  Impl(CdsOptions o, crypto::PublicKey op, crypto::Certificate cert, crypto::PrivateKey key)
      : options(std::move(o)),
        operator_key(std::move(op)),
        ca_cert(std::move(cert)),
        ca_key(std::move(key)) {}
};

// AEAD under a master key (ChaCha20-Poly1305, random 12-byte nonce, "lunal/cds/wrap/v1" ‖ 0 ‖
// label as AAD): the stored form is nonce ‖ ciphertext ‖ tag.
Result<Bytes> WrapUnder(ByteSpan master_key, std::string_view label, ByteSpan plaintext);
Result<Bytes> UnwrapUnder(ByteSpan master_key, std::string_view label, ByteSpan wrapped);

// Request-member check shared by the handlers: a valid name or cds.request.bad_field.
Status CheckName(std::string_view field, std::string_view value);

}  // namespace lunal::cds
