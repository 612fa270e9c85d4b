// The simulated Intel PKI: certificate profiles for the simulation root, the PCK Platform CA, the
// platform's PCK certificate (with Intel's SGX extension) and the TCB signing certificate, and
// the private keys a SimulationRoot holds. Private to attest/sim.
//
// Profiles follow Intel's real certificates (../shared/evidence/anchors/intel_sgx_*.pem; Intel
// "SGX PCK Certificate and CRL Profile Specification" §1.3): ECDSA P-256 with SHA-256, root
// pathLenConstraint 1, PCK CA pathLenConstraint 0, PCK and TCB signing certificates as end
// entities, the SGX extension non-critical. Names differ on purpose: every subject is
// "CN=<Lunal Simulated …>, O=Lunal (SIMULATION — no hardware protection)".
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "lunal/attest/sim/simulation_root.h"
#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"
#include "lunal/crypto/keys.h"
#include "lunal/crypto/x509.h"

namespace lunal::attest::sim {

struct SimulationRoot::Keys {
  crypto::PrivateKey root;
  crypto::PrivateKey ca;
  crypto::PrivateKey pck;
  crypto::PrivateKey tcb;
  crypto::PrivateKey attestation;
};

namespace internal {

// The SGX extension (OID 1.2.840.113741.1.13.1) of the simulated PCK certificate, as Intel's PCK
// profile §1.3.5 lays it out and tdx::ParsePckExtensions reads it: PPID, TCB (the 16 component
// SVNs, PCESVN, CPUSVN), PCE-ID, FMSPC, SGX Type (Scalable, as under Intel's Platform CA),
// PlatformInstanceID, Configuration (dynamicPlatform false, cachedKeys true, SMTEnabled true).
Bytes SgxExtension(std::span<const std::uint8_t, 16> ppid,
                   std::span<const std::uint8_t, 16> platform_instance_id);

// Certificates issued at `now`: notBefore one hour earlier, notAfter kCertificateValidity later
// (never after the issuer's notAfter).
Result<crypto::Certificate> IssueRoot(const crypto::PrivateKey& key, Timestamp now);
Result<crypto::Certificate> IssuePckPlatformCa(const crypto::PrivateKey& key,
                                               const crypto::Certificate& root,
                                               const crypto::PrivateKey& root_key, Timestamp now);
// With a fresh random PPID and PlatformInstanceID.
Result<crypto::Certificate> IssuePck(const crypto::PrivateKey& key, const crypto::Certificate& ca,
                                     const crypto::PrivateKey& ca_key, Timestamp now);
Result<crypto::Certificate> IssueTcbSigning(const crypto::PrivateKey& key,
                                            const crypto::Certificate& root,
                                            const crypto::PrivateKey& root_key, Timestamp now);

}  // namespace internal
}  // namespace lunal::attest::sim
