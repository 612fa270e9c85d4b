// The per-installation "Lunal Simulation Root CA" and the simulated Intel PKI under it
// (DESIGN.md "The simulated TEE"; docs/formats/sim-tdx.md).
//
//   LUNAL_ASSIGN_OR_RETURN(auto root, SimulationRoot::Open(".lunal/sim-tdx", clock));
//   auto pool = tdx::CollateralPool::Build(*root->Collateral(clock.Now()), root->PoolOptions());
//   tdx::Verifier verifier(pool, {tdx::IntelSgxRootCaAnchor()}, {root->Anchor()});  // opt in
//
// Open() generates on first start, and loads thereafter, from the state directory:
//   root-ca.key.pem / root-ca.pem                  "Lunal Simulation Root CA" (self-signed)
//   pck-platform-ca.key.pem / pck-platform-ca.pem  "Lunal Simulated PCK Platform CA"
//   pck.key.pem / pck.pem                          "Lunal Simulated PCK Certificate" (the
//                                                  platform's PCK, with Intel's SGX extension)
//   tcb-signing.key.pem / tcb-signing.pem          "Lunal Simulated TCB Signing" (collateral)
//   attestation.key.pem                            the simulated QE's attestation key
// Keys are ECDSA P-256, unencrypted PKCS#8 PEM, mode 0600, written atomically (temporary file,
// fsync, rename, fsync of the directory); certificates are PEM. Every certificate has O "Lunal
// (SIMULATION — no hardware protection)" and is valid for 10 years from generation. A missing
// certificate whose key exists is re-issued; a missing key whose certificate exists, a file that
// does not parse, a key that does not match its certificate or a certificate its issuer did not
// sign is an error naming the file (remove the directory to start over: every verifier then has
// to trust the new root). Concurrent Open() calls on one directory serialise on an flock(2) of
// "<dir>/lock".
//
// Errors (stable reasons; messages name the file):
//   sim.state.io (kUnavailable)            the directory or a file cannot be created/read/written
//   sim.state.bad_key (kMalformed)         not an unencrypted P-256 PKCS#8/SEC1 PEM key
//   sim.state.key_permissions (kPermissionDenied)  a key file readable by group or others
//   sim.state.bad_certificate (kMalformed) not exactly one PEM certificate
//   sim.state.missing_key (kMalformed)     a certificate without its key
//   sim.state.key_mismatch (kMalformed)    the certificate is for another key
//   sim.state.wrong_issuer (kMalformed)    not signed by its issuer in this directory
//   crypto.* from key generation and certificate building (kInternal)
//
// Thread-safety: a SimulationRoot is immutable after Open(); share the shared_ptr freely.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/attest/tdx/collateral_pool.h"
#include "lunal/attest/tdx/pck_extensions.h"
#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"
#include "lunal/crypto/chain.h"
#include "lunal/crypto/keys.h"
#include "lunal/crypto/x509.h"

namespace lunal::attest::sim {

inline constexpr std::string_view kRootCommonName = "Lunal Simulation Root CA";
inline constexpr std::string_view kOrganization = "Lunal (SIMULATION — no hardware protection)";
inline constexpr std::string_view kPckPlatformCaCommonName = tdx::kSimPckPlatformCaName;
inline constexpr std::string_view kPckCommonName = "Lunal Simulated PCK Certificate";
inline constexpr std::string_view kTcbSigningCommonName = "Lunal Simulated TCB Signing";

// How long generated certificates are valid, and how long generated collateral is.
inline constexpr std::chrono::seconds kCertificateValidity{std::chrono::hours(24 * 3653)};
inline constexpr std::chrono::seconds kCollateralValidity{std::chrono::hours(24 * 30)};

class SimulationRoot {
 public:
  // Loads `state_dir`, creating it (mode 0700) and whatever is missing in it. `clock` dates
  // newly issued certificates (notBefore one hour before now, to absorb clock skew).
  static Result<std::shared_ptr<const SimulationRoot>> Open(const std::filesystem::path& state_dir,
                                                            const Clock& clock);

  const std::filesystem::path& state_dir() const { return state_dir_; }

  // The root to pin, labelled kRootCommonName. Give it to tdx::Verifier as a simulated anchor
  // and in PoolOptions().anchors; nowhere else.
  crypto::TrustAnchor Anchor() const;
  // SHA-256 of the root certificate's DER, 64 lowercase hex digits (what operators compare).
  std::string FingerprintHex() const;

  const crypto::Certificate& root_certificate() const { return root_cert_; }
  const crypto::Certificate& pck_platform_ca() const { return ca_cert_; }
  const crypto::Certificate& pck_certificate() const { return pck_cert_; }
  const crypto::Certificate& tcb_signing_certificate() const { return tcb_cert_; }
  // The PCK certificate's SGX extension, as tdx::ParsePckExtensions reads it.
  const tdx::PckExtensions& pck_extensions() const { return pck_extensions_; }
  // Certification data type 5 as Intel's QE writes it: PCK leaf, PCK Platform CA, root, in PEM,
  // followed by one NUL byte.
  const std::string& pck_chain_data() const { return pck_chain_data_; }
  // The attestation key's public point x‖y (64 bytes, big-endian), as a TDX quote carries it.
  const Bytes& attestation_public_key() const { return attestation_point_; }

  // ECDSA P-256 / SHA-256, raw r‖s: the QE report by the PCK key, and the quote's signed region
  // by the attestation key.
  Result<Bytes> SignQeReport(ByteSpan qe_report) const;
  Result<Bytes> SignQuote(ByteSpan signed_region) const;

  // Simulated collateral in the forms Intel's PCS serves, issued at `now` and valid for
  // kCollateralValidity (TCB Info and QE identity: issueDate/nextUpdate; CRLs: thisUpdate/
  // nextUpdate). Regenerate before nextUpdate; nothing is cached. Files, in this order:
  //   sim_tcb_info.json             {"tcbInfo":{…},"signature":"<hex>"}  TDX TCB Info v3
  //   sim_qe_identity.json          {"enclaveIdentity":{…},"signature":"<hex>"}  TD_QE v2
  //   sim_tcb_signing_chain.pem     TCB Info issuer chain: TCB signing, root
  //   sim_root_ca_crl.der           the root's CRL (empty)
  //   sim_pck_platform_ca_crl.der   the PCK Platform CA's CRL (empty)
  //   sim_pck_crl_issuer_chain.pem  PCK CRL issuer chain: PCK Platform CA, root
  Result<std::vector<tdx::PoolInput>> Collateral(Timestamp now) const;
  // The same files written (atomically, mode 0644) into `dir`, which is created if missing, for
  // tdx::CollateralPool::LoadDirectory.
  Status WriteCollateral(const std::filesystem::path& dir, Timestamp now) const;
  // Pool options that accept exactly this collateral: anchors {Anchor()}, TCB signer common name
  // kTcbSigningCommonName.
  tdx::PoolOptions PoolOptions() const;

  struct Keys;  // private; defined in simulation_root.cc
  SimulationRoot(std::filesystem::path state_dir, std::unique_ptr<const Keys> keys,
                 crypto::Certificate root, crypto::Certificate ca, crypto::Certificate pck,
                 crypto::Certificate tcb, tdx::PckExtensions extensions, Bytes attestation_point);
  ~SimulationRoot();
  SimulationRoot(const SimulationRoot&) = delete;
  SimulationRoot& operator=(const SimulationRoot&) = delete;

 private:
  std::filesystem::path state_dir_;
  std::unique_ptr<const Keys> keys_;
  crypto::Certificate root_cert_, ca_cert_, pck_cert_, tcb_cert_;
  tdx::PckExtensions pck_extensions_;
  std::string pck_chain_data_;
  Bytes attestation_point_;
};

}  // namespace lunal::attest::sim
