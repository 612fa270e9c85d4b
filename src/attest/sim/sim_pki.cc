// Certificate profiles of the simulated Intel PKI (sim_pki.h).
#include "sim_pki.h"

#include <algorithm>
#include <string>
#include <vector>

#include "der_writer.h"
#include "lunal/attest/sim/platform.h"
#include "lunal/attest/tdx/pck_extensions.h"
#include "lunal/crypto/random.h"
#include "lunal/crypto/x509_builder.h"

namespace lunal::attest::sim::internal {
namespace {

using crypto::Certificate;
using crypto::CertificateBuilder;
using crypto::PrivateKey;

std::string Arc(unsigned n) { return std::string(tdx::kSgxExtensionOid) + "." + std::to_string(n); }

// SEQUENCE { OBJECT IDENTIFIER oid, value }: every entry of the SGX extension.
Bytes Entry(const std::string& oid, Bytes value) {
  return der::Sequence({der::Oid(oid), std::move(value)});
}

CertificateBuilder Named(std::string_view common_name) {
  CertificateBuilder builder;
  builder.SubjectCommonName(std::string(common_name))
      .SubjectOrganization(std::string(kOrganization));
  return builder;
}

CertificateBuilder& Dated(CertificateBuilder& builder, Timestamp now,
                          const Certificate* issuer = nullptr) {
  const auto not_before = ToSeconds(now) - std::chrono::hours(1);
  auto not_after = not_before + kCertificateValidity;
  if (issuer != nullptr) not_after = std::min(not_after, issuer->NotAfter());
  return builder.Validity(not_before, not_after);
}

}  // namespace

Bytes SgxExtension(std::span<const std::uint8_t, 16> ppid,
                   std::span<const std::uint8_t, 16> platform_instance_id) {
  const std::string tcb_arc = Arc(2);
  std::vector<Bytes> tcb;
  for (unsigned i = 0; i < kSgxTcbComponents.size(); ++i) {  // .2.1 … .2.16
    tcb.push_back(Entry(tcb_arc + "." + std::to_string(i + 1),
                        der::Unsigned(der::kInteger, kSgxTcbComponents[i])));
  }
  tcb.push_back(Entry(tcb_arc + ".17", der::Unsigned(der::kInteger, kPceSvn)));
  tcb.push_back(Entry(tcb_arc + ".18", der::OctetString(kSgxTcbComponents)));  // CPUSVN

  const std::string config_arc = Arc(7);
  std::vector<Bytes> configuration = {
      Entry(config_arc + ".1", der::Boolean(false)),  // dynamicPlatform
      Entry(config_arc + ".2", der::Boolean(true)),   // cachedKeys
      Entry(config_arc + ".3", der::Boolean(true)),   // SMTEnabled
  };
  return der::Sequence({
      Entry(Arc(1), der::OctetString(ppid)),
      Entry(Arc(2), der::Sequence(tcb)),
      Entry(Arc(3), der::OctetString(kPceId)),
      Entry(Arc(4), der::OctetString(kFmspc)),
      Entry(Arc(5),
            der::Unsigned(der::kEnumerated, static_cast<std::uint64_t>(tdx::SgxType::kScalable))),
      Entry(Arc(6), der::OctetString(platform_instance_id)),
      Entry(Arc(7), der::Sequence(configuration)),
  });
}

Result<Certificate> IssueRoot(const PrivateKey& key, Timestamp now) {
  CertificateBuilder builder = Named(kRootCommonName);
  return Dated(builder, now).Ca(true, 1).SelfSign(key);
}

Result<Certificate> IssuePckPlatformCa(const PrivateKey& key, const Certificate& root,
                                       const PrivateKey& root_key, Timestamp now) {
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey public_key, key.PublicKey());
  CertificateBuilder builder = Named(kPckPlatformCaCommonName);
  return Dated(builder, now, &root).Ca(true, 0).SubjectKey(public_key).SignWith(root, root_key);
}

Result<Certificate> IssuePck(const PrivateKey& key, const Certificate& ca, const PrivateKey& ca_key,
                             Timestamp now) {
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey public_key, key.PublicKey());
  std::array<std::uint8_t, 16> ppid{};
  std::array<std::uint8_t, 16> instance{};
  crypto::RandomFill(ppid);
  crypto::RandomFill(instance);
  CertificateBuilder builder = Named(kPckCommonName);
  return Dated(builder, now, &ca)
      .SubjectKey(public_key)
      .AddExtension(std::string(tdx::kSgxExtensionOid), SgxExtension(ppid, instance), false)
      .SignWith(ca, ca_key);
}

Result<Certificate> IssueTcbSigning(const PrivateKey& key, const Certificate& root,
                                    const PrivateKey& root_key, Timestamp now) {
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey public_key, key.PublicKey());
  CertificateBuilder builder = Named(kTcbSigningCommonName);
  return Dated(builder, now, &root).SubjectKey(public_key).SignWith(root, root_key);
}

}  // namespace lunal::attest::sim::internal
