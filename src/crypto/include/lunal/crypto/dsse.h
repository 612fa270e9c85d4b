// DSSE, the Dead Simple Signing Envelope (secure-systems-lab/dsse v1.1.0: protocol.md and
// envelope.md), as in-toto attestations (docs/formats/provenance.md) and the CDS's signed
// allow-list use it.
//
// Protocol (protocol.md "Signature Definition"):
//   SIGNATURE = Sign(PAE(UTF8(PAYLOAD_TYPE), SERIALIZED_BODY))
//   PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
// with SP one 0x20 byte and LEN the byte length in ASCII decimal without leading zeros. Both the
// type and the body are authenticated; KEYID and EXTENSION are not (hints only).
//
// JSON envelope (envelope.md "Standard JSON envelope"):
//   {"payload": Base64(body), "payloadType": type,
//    "signatures": [{"keyid": "...", "sig": Base64(sig), "extension": {"kind": ..., "ext":
//    {...}}}]}
//
// Signature algorithms, chosen by the key's type (agreed out of band, protocol.md; these are the
// ones securesystemslib and sigstore use for the same key types):
//   P-256    ECDSA with SHA-256, DER Ecdsa-Sig-Value (RFC 3279 §2.2.3)
//   P-384    ECDSA with SHA-384, DER
//   Ed25519  pure Ed25519 (RFC 8032 §5.1), 64 bytes
// RSA keys are refused (crypto.dsse.unsupported_key): nothing of ours signs DSSE with RSA.
//
// Parsing (envelope.md "Parsing rules"): payload, payloadType, signatures and each signature's sig
// are required (payload may be empty); keyid is optional and an absent keyid is the empty one;
// members we do not know are ignored, as the spec requires. ParseDsse is stricter than the spec
// in three places, each because two readings of one envelope must never differ: duplicate JSON
// keys are refused (lunal::ParseJson), base64 must be canonical (standard alphabet with padding,
// or URL-safe — envelope.md allows either — but never a mix), and an envelope without signatures
// is refused (it can never verify, so it is almost certainly a mistake).
//
// Errors (Status reasons):
//   crypto.dsse.bad_json (kMalformed)             not JSON, or a duplicate key (json.* message)
//   crypto.dsse.missing_field (kMalformed)        payload, payloadType, signatures or sig absent
//   crypto.dsse.wrong_type (kMalformed)           a member of the wrong JSON type
//   crypto.dsse.bad_base64 (kMalformed)           payload or sig is not canonical base64
//   crypto.dsse.no_signatures (kMalformed)        "signatures": []
//   crypto.dsse.bad_extension (kMalformed)        extension not an object with a string "kind"
//   crypto.dsse.unsupported_key (kUnsupported)    an RSA or X25519 key
//   crypto.dsse.no_matching_signature (kVerificationFailed)  no signature carries the keyid
//   crypto.dsse.signature_invalid (kVerificationFailed)      no signature verifies with the key
//
// Pure functions over values; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lunal/common/bytes.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/common/status.h"
#include "lunal/crypto/keys.h"

namespace lunal::crypto {

// The PAE bytes that are signed (protocol.md "Signature Definition").
Bytes Pae(std::string_view payload_type, ByteSpan payload);

struct DsseSignature {
  std::string keyid = {};  // unauthenticated hint; empty when absent
  Bytes sig = {};
  // envelope.md "Signature Extensions" (experimental in DSSE 1.1.0): {"kind": string, "ext": ...}
  // or null when absent. Unauthenticated: whatever it carries must be verified on its own before
  // it may influence a decision (protocol.md, EXTENSION).
  Json extension = nullptr;
};

struct DsseEnvelope {
  std::string payload_type = {};
  Bytes payload = {};
  std::vector<DsseSignature> signatures = {};
};

// Strict parse (see above). The envelope's signatures are not verified here.
Result<DsseEnvelope> ParseDsse(std::string_view json);

// Compact JSON, members in byte order, standard padded base64; keyid always written (empty when
// unset), extension only when not null.
std::string SerializeDsse(const DsseEnvelope& envelope);

// Signs PAE(payload_type, payload) of `unsigned_env` (its signatures are ignored) with `key`;
// the caller appends the result to the envelope's signatures.
// Errors: crypto.dsse.unsupported_key; crypto.* signing failures (kInternal).
Result<DsseSignature> SignDsse(const DsseEnvelope& unsigned_env, const PrivateKey& key,
                               std::string keyid);

// OK iff some signature verifies over the PAE with `key`. When `keyid` is not empty only the
// signatures whose keyid equals it are tried (a hint narrowing the search, protocol.md: never a
// reason to accept). Errors: crypto.dsse.no_matching_signature, crypto.dsse.signature_invalid,
// crypto.dsse.unsupported_key.
Status VerifyDsse(const DsseEnvelope& envelope, const PublicKey& key, std::string_view keyid = {});

}  // namespace lunal::crypto
