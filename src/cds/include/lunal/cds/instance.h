// The instance's side of the CDS protocol (docs/protocols/cds.md): what an attested instance (or
// a test standing in for one) computes to request a certificate, receive a secret, or check a
// freshness beacon. Pure functions; thread-safe.
//
// Errors: binding.* (from lunal::attest), crypto.* (keys, AEAD: crypto.aead.auth_failed when a
// sealed secret was not sealed to this key for this tenant and name), cds.beacon.* below.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "lunal/attest/attester.h"
#include "lunal/attest/report_data.h"
#include "lunal/cds/cds.h"
#include "lunal/common/bytes.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/crypto/keys.h"

namespace lunal::cds {

// The Lunal evidence envelope for attester output: {"platform", "quote"|"report", "event_log"?}.
Json EvidenceEnvelope(const attest::Evidence& evidence);

// purpose "secret-release": {"build_hash", "key": KeyDigest(X25519 SPKI), "name", "nonce",
// "tenant"}.
Result<attest::ReportData> SecretReleaseReportData(ByteSpan x25519_spki_der, std::string_view nonce,
                                                   std::string_view build_hash,
                                                   std::string_view tenant, std::string_view name);

// Opens a SealedSecret with the instance's ephemeral private key.
Result<Bytes> OpenSealedSecret(const crypto::PrivateKey& instance_key, const SealedSecret& sealed,
                               std::string_view tenant, std::string_view name);

// The CDS's half of the release (used by Cds::ReleaseSecret; public so the construction is
// written once): ChaCha20-Poly1305 under HKDF-SHA256(X25519(cds_ephemeral, instance_key),
// salt = cds_pub ‖ instance_pub, info = "lunal/cds/secret-release/v1" ‖ 0 ‖ tenant ‖ 0 ‖ name),
// with the same info as AAD.
Result<Bytes> SealToInstance(const crypto::PrivateKey& cds_ephemeral,
                             const crypto::PublicKey& instance_key, ByteSpan cds_pub,
                             ByteSpan instance_pub, ByteSpan aead_nonce, ByteSpan plaintext,
                             std::string_view tenant, std::string_view name);

// The bytes a beacon signature covers: "lunal/cds/beacon/v1" ‖ 0x00 ‖ time.
Bytes BeaconMessage(std::string_view time);

// Checks the beacon's signature under the CDS CA certificate's key and that its time is within
// [now - max_age, now + 60 s]. Errors: cds.beacon.bad_signature (kVerificationFailed),
// cds.beacon.stale (kVerificationFailed), cds.beacon.bad_time (kMalformed).
Status VerifyBeacon(const crypto::Certificate& cds_ca, const Beacon& beacon, Timestamp now,
                    std::chrono::seconds max_age);

// purpose "beacon": {"key": KeyDigest(instance SPKI), "signature": base64url(beacon signature),
// "time": beacon time}: an instance binds a beacon it received, so a client that checks the beacon
// knows the evidence is no older than the beacon.
Result<attest::ReportData> BeaconReportData(const Beacon& beacon, ByteSpan instance_spki_der);

}  // namespace lunal::cds
