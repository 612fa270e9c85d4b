// Simulated collateral (simulation_root.h): TDX TCB Info v3 and TD_QE identity v2 signed by the
// simulated TCB signing key, empty CRLs of the root and the PCK Platform CA, and the issuer
// chains, in the exact forms Intel's PCS v4 serves (docs/formats/tdx-collateral.md):
//   {"tcbInfo":<object>,"signature":"<r‖s hex>"}, the signature over the object's exact bytes.
// Members are written in the order Intel serves them (nlohmann::ordered_json, compact).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "lunal/attest/sim/platform.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/attest/tdx/tcb_status.h"
#include "lunal/common/encoding.h"
#include "lunal/common/files.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/signature.h"
#include "lunal/crypto/x509_builder.h"
#include "sim_pki.h"

namespace lunal::attest::sim {
namespace {

using OrderedJson = nlohmann::ordered_json;

std::string UpperHex(ByteSpan bytes) {
  std::string hex = HexEncode(bytes);
  for (char& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return hex;
}

std::string Zeros(std::size_t bytes) { return std::string(2 * bytes, '0'); }

OrderedJson Components(std::span<const std::uint8_t, 16> svns) {
  OrderedJson out = OrderedJson::array();
  for (std::uint8_t svn : svns) out.push_back(OrderedJson{{"svn", svn}});
  return out;
}

OrderedJson UpToDateLevel(OrderedJson tcb) {
  return OrderedJson{{"tcb", std::move(tcb)},
                     {"tcbDate", kTcbDate},
                     {"tcbStatus", tdx::TcbStatusName(tdx::TcbStatus::kUpToDate)}};
}

// TDX TCB Info v3 [PCS "Get TDX TCB Information"]: one UpToDate level that the simulated PCK's
// SGX TCB and the quotes' TEE_TCB_SVN meet; the module identity "TDX_%02X" of TEE_TCB_SVN[1]
// with one UpToDate level at TEE_TCB_SVN[0]; module signer zero (MR_SIGNER_SEAM of the quotes).
OrderedJson TcbInfo(const std::string& issue, const std::string& next) {
  OrderedJson module = {
      {"mrsigner", Zeros(48)}, {"attributes", Zeros(8)}, {"attributesMask", std::string(16, 'F')}};
  OrderedJson identity = {{"id", fmt::format("TDX_{:02X}", kTeeTcbSvn[1])}};
  identity.update(module);
  identity["tcbLevels"] = OrderedJson::array({UpToDateLevel({{"isvsvn", kTeeTcbSvn[0]}})});
  OrderedJson level_tcb = {{"sgxtcbcomponents", Components(kSgxTcbComponents)},
                           {"pcesvn", kPceSvn},
                           {"tdxtcbcomponents", Components(kTeeTcbSvn)}};
  return OrderedJson{{"id", tdx::kTcbInfoIdTdx},
                     {"version", tdx::kTcbInfoVersion},
                     {"issueDate", issue},
                     {"nextUpdate", next},
                     {"fmspc", HexEncode(kFmspc)},
                     {"pceId", HexEncode(kPceId)},
                     {"tcbType", 0},
                     {"tcbEvaluationDataNumber", kTcbEvaluationDataNumber},
                     {"tdxModule", std::move(module)},
                     {"tdxModuleIdentities", OrderedJson::array({std::move(identity)})},
                     {"tcbLevels", OrderedJson::array({UpToDateLevel(std::move(level_tcb))})}};
}

// TD_QE identity v2 [PCS "Get TD QE Identity"], for the simulated QE: Intel's masks, the
// simulated MRSIGNER, one UpToDate level at the simulated QE's ISVSVN.
OrderedJson QeIdentity(const std::string& issue, const std::string& next) {
  const auto mrsigner = crypto::Sha256(AsBytes(kQeMrSignerSeed));
  std::array<std::uint8_t, 16> attributes{};
  std::copy_n(kQeAttributes.begin(), 8, attributes.begin());  // XFRM (bytes 8..15) is masked
  return OrderedJson{{"id", tdx::kQeIdentityIdTdQe},
                     {"version", tdx::kQeIdentityVersion},
                     {"issueDate", issue},
                     {"nextUpdate", next},
                     {"tcbEvaluationDataNumber", kTcbEvaluationDataNumber},
                     {"miscselect", Zeros(4)},
                     {"miscselectMask", std::string(8, 'F')},
                     {"attributes", UpperHex(attributes)},
                     {"attributesMask", "FBFFFFFFFFFFFFFF0000000000000000"},
                     {"mrsigner", UpperHex(mrsigner)},
                     {"isvprodid", kQeIsvProdId},
                     {"tcbLevels", OrderedJson::array({UpToDateLevel({{"isvsvn", kQeIsvSvn}})})}};
}

Bytes Text(std::string_view text) { return Bytes(text.begin(), text.end()); }
Bytes Copy(ByteSpan bytes) { return Bytes(bytes.begin(), bytes.end()); }

}  // namespace

Result<std::vector<tdx::PoolInput>> SimulationRoot::Collateral(Timestamp now) const {
  const auto issued = ToSeconds(now);
  const auto next = issued + kCollateralValidity;
  const std::string issue_text = FormatRfc3339(FromSeconds(issued));
  const std::string next_text = FormatRfc3339(FromSeconds(next));

  // The signed documents: the signature covers exactly the bytes of the inner object.
  auto signed_document = [&](std::string_view member,
                             const OrderedJson& body) -> Result<std::string> {
    const std::string inner = body.dump();
    LUNAL_ASSIGN_OR_RETURN(
        Bytes signature,
        crypto::SignEcdsaRaw(keys_->tcb, crypto::DigestAlgorithm::kSha256, AsBytes(inner)));
    return fmt::format("{{\"{}\":{},\"signature\":\"{}\"}}", member, inner, HexEncode(signature));
  };
  LUNAL_ASSIGN_OR_RETURN(std::string tcb_info,
                         signed_document("tcbInfo", TcbInfo(issue_text, next_text)));
  LUNAL_ASSIGN_OR_RETURN(std::string qe_identity,
                         signed_document("enclaveIdentity", QeIdentity(issue_text, next_text)));
  LUNAL_ASSIGN_OR_RETURN(crypto::Crl root_crl,
                         crypto::CrlBuilder().Updates(issued, next).Sign(root_cert_, keys_->root));
  LUNAL_ASSIGN_OR_RETURN(crypto::Crl pck_crl,
                         crypto::CrlBuilder().Updates(issued, next).Sign(ca_cert_, keys_->ca));

  std::vector<tdx::PoolInput> files;
  files.push_back({.name = "sim_tcb_info.json", .bytes = Text(tcb_info)});
  files.push_back({.name = "sim_qe_identity.json", .bytes = Text(qe_identity)});
  files.push_back(
      {.name = "sim_tcb_signing_chain.pem", .bytes = Text(tcb_cert_.ToPem() + root_cert_.ToPem())});
  files.push_back({.name = "sim_root_ca_crl.der", .bytes = Copy(root_crl.Der())});
  files.push_back({.name = "sim_pck_platform_ca_crl.der", .bytes = Copy(pck_crl.Der())});
  files.push_back({.name = "sim_pck_crl_issuer_chain.pem",
                   .bytes = Text(ca_cert_.ToPem() + root_cert_.ToPem())});
  return files;
}

Status SimulationRoot::WriteCollateral(const std::filesystem::path& dir, Timestamp now) const {
  LUNAL_ASSIGN_OR_RETURN(std::vector<tdx::PoolInput> files, Collateral(now));
  // lunal/common/files.h errors are published as sim.state.io (simulation_root.h).
  auto state_io = [](const Status& s) {
    return s.ok() ? s : Unavailable("sim.state.io", s.message());
  };
  LUNAL_RETURN_IF_ERROR(state_io(EnsureDirectory(dir, 0755)));
  for (const tdx::PoolInput& file : files) {
    LUNAL_RETURN_IF_ERROR(
        state_io(WriteFileAtomically(dir / file.name, AsStringView(file.bytes), 0644)));
  }
  return Status::Ok();
}

}  // namespace lunal::attest::sim
