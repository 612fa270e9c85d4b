// Signature creation and verification: ECDSA (FIPS 186-5 §6), RSASSA-PSS and RSASSA-PKCS1-v1_5
// (RFC 8017 §8.1, §8.2), Ed25519 (RFC 8032 §5.1).
//
// Every Verify* returns OK only for a valid signature. Errors:
//   crypto.signature.invalid (kVerificationFailed)     the signature does not verify
//   crypto.key.wrong_type (kInvalidArgument)           e.g. an RSA key given to VerifyEcdsaRaw
//   crypto.ecdsa.bad_signature_length (kMalformed)     raw r‖s not 2 × the curve size
//   crypto.ecdsa.nonzero_padding (kMalformed)          SNP little-endian fields with high bytes set
//   crypto.rsa.bad_signature_length (kMalformed)       not the modulus size
//   crypto.rsa.bad_salt_length (kInvalidArgument)
//   crypto.ed25519.bad_signature_length (kMalformed)   not 64 bytes
// `message` is the data that was signed; these functions hash it with the given digest.
// Thread-safe: keys are immutable.
#pragma once

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/common/status.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/keys.h"

namespace lunal::crypto {

// ---- ECDSA (P-256, P-384) ----

// `r_s_big_endian` is r ‖ s, each CoordinateSize(curve) bytes (the form in TDX quotes and JWS
// ES256/ES384, RFC 7518 §3.4).
Status VerifyEcdsaRaw(const PublicKey& key, DigestAlgorithm digest, ByteSpan message,
                      ByteSpan r_s_big_endian);
// r and s little-endian, each at least CoordinateSize(curve) bytes with zero high bytes (AMD
// SEV-SNP ABI, the 72-byte fields of the report's SIGNATURE).
Status VerifyEcdsaRawLittleEndian(const PublicKey& key, DigestAlgorithm digest, ByteSpan message,
                                  ByteSpan r_le, ByteSpan s_le);
// DER Ecdsa-Sig-Value (RFC 3279 §2.2.3), as in X.509 and TLS. Non-canonical DER is refused.
Status VerifyEcdsaDer(const PublicKey& key, DigestAlgorithm digest, ByteSpan message,
                      ByteSpan der_signature);

// r ‖ s big-endian, fixed width.
Result<Bytes> SignEcdsaRaw(const PrivateKey& key, DigestAlgorithm digest, ByteSpan message);
Result<Bytes> SignEcdsaDer(const PrivateKey& key, DigestAlgorithm digest, ByteSpan message);

// ---- RSA ----

// RSASSA-PSS with MGF1 over the same digest and the given salt length in bytes (AMD's ARK/ASK/
// VCEK: SHA-384, salt 48).
Status VerifyRsaPss(const PublicKey& key, DigestAlgorithm digest, ByteSpan message,
                    ByteSpan signature, int salt_length);
// RSASSA-PKCS1-v1_5 (Azure vTPM attestation keys: SHA-256).
Status VerifyRsaPkcs1(const PublicKey& key, DigestAlgorithm digest, ByteSpan message,
                      ByteSpan signature);

// ---- Ed25519 (pure, no context: RFC 8032 §5.1) ----

Result<Bytes> SignEd25519(const PrivateKey& key, ByteSpan message);
Status VerifyEd25519(const PublicKey& key, ByteSpan message, ByteSpan signature);

}  // namespace lunal::crypto
