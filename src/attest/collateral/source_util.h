// Helpers the sources share: naming documents for Describe, reading folders into pool inputs, and
// matching AMD certificates to an SnpNeed. Private to attest/collateral.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "lunal/attest/collateral/source.h"
#include "lunal/attest/snp/signatures.h"
#include "lunal/attest/tdx/collateral_pool.h"
#include "lunal/crypto/x509.h"

namespace lunal::attest::collateral::internal {

// DocumentInfo::kind of a pool file: "tdx_tcb_info", "tdx_qe_identity", "pck_crl",
// "root_ca_crl", "certificates", "unknown" (a CRL whose role the pool could not tell: "crl").
std::string PoolDocumentKind(const tdx::PoolFileReport& report);

// A pool file as Describe shows it; `valid` also requires the pool to have accepted it.
DocumentInfo DescribePoolFile(const tdx::PoolFileReport& report, std::string source, Timestamp now);

// issued <= now < next_update (both known).
bool InDate(const std::optional<Timestamp>& issued, const std::optional<Timestamp>& next_update,
            Timestamp now);

// The regular files directly in `folder`, in name order, as pool inputs named "<folder>/<name>"
// (a file over `max_bytes` is passed with a read_status, so the pool reports it). Errors:
// collateral.folder.unreadable (kUnavailable) when the folder cannot be listed.
Result<std::vector<tdx::PoolInput>> ReadFolder(const std::filesystem::path& folder,
                                               std::size_t max_bytes);

// The hardware id KDS names a VCEK by: CHIP_ID, or its first 8 bytes for Turin.
Bytes HwIdOf(snp::Product product, ByteSpan chip_id);
// The TCB part of a VCEK's cache key: "bl3-tee0-snp8-ucode115" ("fmc1-bl3-…" for Turin).
std::string TcbKey(snp::Product product, const snp::TcbParts& tcb);
// "Milan/<hwid hex>/<TcbKey>".
std::string VcekKey(const SnpNeed& need);

// Whether `cert` is the VCEK (or, for need.vlek, a VLEK) `need` asks for: issued by the
// product's ASK (ASVK), SPL extensions equal to REPORTED_TCB and (VCEK) hwID equal to HwIdOf.
// No validity-time check (the verifier's). Errors: collateral.bad_response (kUnavailable) with
// what differs.
Status CheckCertificateForNeed(const crypto::Certificate& cert, const SnpNeed& need,
                               const snp::AmdCertificates& roots);

}  // namespace lunal::attest::collateral::internal
