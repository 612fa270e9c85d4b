#include "verify_mutation_helpers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "lunal/attest/tdx/pck_extensions.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/signature.h"
#include "lunal/crypto/x509_builder.h"
#include "test_quotes.h"

namespace lunal::attest::tdx::testing {

const std::string_view kIntelTestRootCaPem =
    "-----BEGIN CERTIFICATE-----\n"
    "MIICiDCCAi6gAwIBAgIUGlhlAZ0YsE4EWvgtBsCFUOIOtHYwCgYIKoZIzj0EAwIw\n"
    "aDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENv\n"
    "cnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJ\n"
    "BgNVBAYTAlVTMB4XDTIxMDgwNjEzNTUxNFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgG\n"
    "A1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0\n"
    "aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYT\n"
    "AlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEUo779pdFNO/NefmVgVMI42TS\n"
    "Axdx/vJ/jgLroU1eC1XaHKGj3+BabWru3+kPhmc6j1p0QXCBop/hC1mgHup+TqOB\n"
    "tTCBsjAfBgNVHSMEGDAWgBQaWGUBnRiwTgRa+C0GwIVQ4g60djBMBgNVHR8ERTBD\n"
    "MEGgP6A9hjtodHRwOi8vbm9uLWV4aXN0aW5nLWRlYnVnLW9ubHkuaW50ZWwuY29t\n"
    "L0ludGVsU0dYUm9vdENBLmNybDAdBgNVHQ4EFgQUGlhlAZ0YsE4EWvgtBsCFUOIO\n"
    "tHYwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYIKoZIzj0E\n"
    "AwIDSAAwRQIgHnfbrSdN/y7CGKFTiFyaOQlah/DXtba3RY+n8fXplekCIQCSsnz8\n"
    "Ff9FTTfUON/6qL87AQ6X/FpO9Q5A8FALcQuUvw==\n"
    "-----END CERTIFICATE-----\n";

namespace {

constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
constexpr std::string_view kEnd = "-----END CERTIFICATE-----";

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

std::size_t At(ByteSpan field, ByteSpan base) {
  return static_cast<std::size_t>(field.data() - base.data());
}

void Write(Bytes& out, std::size_t at, ByteSpan bytes) {
  ASSERT_LE(at + bytes.size(), out.size());
  std::copy(bytes.begin(), bytes.end(), out.begin() + static_cast<std::ptrdiff_t>(at));
}

// One DER TLV (X.690 §8.1): tag at `offset`, contents [contents, end).
struct Tlv {
  std::uint8_t tag = 0;
  std::size_t offset = 0, contents = 0, end = 0;
};

Tlv ReadTlv(ByteSpan der, std::size_t at) {
  Tlv t{.tag = 0, .offset = at, .contents = at, .end = at};
  if (at + 2 > der.size()) {
    ADD_FAILURE() << "DER TLV header past the end at " << at;
    return t;
  }
  t.tag = der[at];
  std::size_t length = der[at + 1];
  std::size_t header = 2;
  if (length & 0x80) {
    const std::size_t n = length & 0x7f;
    if (n == 0 || n > 4 || at + 2 + n > der.size()) {
      ADD_FAILURE() << "unsupported DER length at " << at;
      return t;
    }
    length = 0;
    for (std::size_t i = 0; i < n; ++i) length = (length << 8) | der[at + 2 + i];
    header += n;
  }
  t.contents = at + header;
  t.end = t.contents + length;
  if (t.end > der.size()) ADD_FAILURE() << "DER value past the end at " << at;
  return t;
}

// The elements of tbsCertificate up to subjectPublicKeyInfo.
struct TbsParts {
  Tlv serial, issuer, spki;
};

TbsParts WalkTbs(ByteSpan der) {
  const Tlv cert = ReadTlv(der, 0);
  const Tlv tbs = ReadTlv(der, cert.contents);
  Tlv t = ReadTlv(der, tbs.contents);
  if (t.tag == 0xa0) t = ReadTlv(der, t.end);  // [0] version
  TbsParts parts;
  parts.serial = t;                                      // serialNumber
  const Tlv signature = ReadTlv(der, parts.serial.end);  // signature AlgorithmIdentifier
  parts.issuer = ReadTlv(der, signature.end);
  const Tlv validity = ReadTlv(der, parts.issuer.end);
  const Tlv subject = ReadTlv(der, validity.end);
  parts.spki = ReadTlv(der, subject.end);
  EXPECT_EQ(parts.serial.tag, 0x02);
  EXPECT_EQ(parts.spki.tag, 0x30);
  return parts;
}

// RFC 2253 "C=US,ST=CA,...,CN=x" (last RDN first) to (short name, value) in encoding order.
std::vector<std::pair<std::string, std::string>> NameAttributes(std::string_view rfc2253) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t start = 0;
  while (start <= rfc2253.size()) {
    std::size_t comma = rfc2253.find(',', start);
    if (comma == std::string_view::npos) comma = rfc2253.size();
    std::string_view item = rfc2253.substr(start, comma - start);
    const std::size_t eq = item.find('=');
    EXPECT_NE(eq, std::string_view::npos) << rfc2253;
    if (eq != std::string_view::npos) {
      out.emplace_back(std::string(item.substr(0, eq)), std::string(item.substr(eq + 1)));
    }
    start = comma + 1;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

crypto::CertificateBuilder Named(
    const std::vector<std::pair<std::string, std::string>>& attributes) {
  crypto::CertificateBuilder b;
  for (const auto& [name, value] : attributes) b.AddSubjectAttribute(name, value);
  return b;
}

}  // namespace

std::vector<PemBlock> PemBlocks(std::string_view pem) {
  std::vector<PemBlock> blocks;
  for (std::size_t pos = pem.find(kBegin); pos != std::string_view::npos;
       pos = pem.find(kBegin, pos + 1)) {
    PemBlock block{.body_begin = pos + kBegin.size(), .body_end = 0, .der = {}};
    block.body_end = pem.find(kEnd, block.body_begin);
    if (block.body_end == std::string_view::npos) {
      ADD_FAILURE() << "PEM block without END line";
      break;
    }
    std::string b64;
    for (char c : pem.substr(block.body_begin, block.body_end - block.body_begin)) {
      if (!IsSpace(c)) b64.push_back(c);
    }
    auto der = Base64Decode(b64);
    EXPECT_TRUE(der.ok()) << der.error();
    if (der.ok()) block.der = *der;
    blocks.push_back(std::move(block));
  }
  return blocks;
}

Bytes ReplaceCertificateInPlace(ByteSpan quote, const QuoteView& view, std::size_t index,
                                ByteSpan der) {
  Bytes out(quote.begin(), quote.end());
  const std::vector<PemBlock> blocks = PemBlocks(view.pck_cert_chain_pem);
  if (index >= blocks.size()) {
    ADD_FAILURE() << "no certificate " << index << " in the chain";
    return out;
  }
  const PemBlock& block = blocks[index];
  EXPECT_EQ(block.der.size(), der.size()) << "in-place replacement needs the same DER length";
  const std::string b64 = Base64Encode(der);
  const std::size_t pem_at = static_cast<std::size_t>(
      reinterpret_cast<const std::uint8_t*>(view.pck_cert_chain_pem.data()) - quote.data());
  std::size_t next = 0;
  for (std::size_t i = block.body_begin; i < block.body_end; ++i) {
    std::uint8_t& c = out.at(pem_at + i);
    if (IsSpace(static_cast<char>(c))) continue;
    if (next < b64.size()) c = static_cast<std::uint8_t>(b64[next]);
    ++next;
  }
  EXPECT_EQ(next, b64.size()) << "base64 length changed";
  return out;
}

Bytes WithPckChainData(ByteSpan quote, const QuoteView& view, std::string_view chain_data) {
  const Offsets o = OffsetsOf(view, quote);
  Bytes out(quote.begin(), quote.begin() + static_cast<std::ptrdiff_t>(o.pem));
  out.insert(out.end(), chain_data.begin(), chain_data.end());
  PutU32(out, o.nested_header + 2, static_cast<std::uint32_t>(chain_data.size()));
  PutU32(out, o.cert_header + 2, static_cast<std::uint32_t>(out.size() - o.qe_report));
  PutU32(out, o.body_end, static_cast<std::uint32_t>(out.size() - o.sig_data));
  return out;
}

std::size_t SerialLastByte(ByteSpan der) { return WalkTbs(der).serial.end - 1; }

std::size_t SubjectKeyLastByte(ByteSpan der) {
  const Tlv spki = WalkTbs(der).spki;
  const Tlv algorithm = ReadTlv(der, spki.contents);
  const Tlv key = ReadTlv(der, algorithm.end);
  EXPECT_EQ(key.tag, 0x03);  // BIT STRING
  return key.end - 1;
}

std::size_t IssuerLastByte(ByteSpan der) { return WalkTbs(der).issuer.end - 1; }

std::optional<std::size_t> FmspcOffset(ByteSpan der, std::span<const std::uint8_t, 6> fmspc) {
  Bytes pattern = {0x04, 0x06};  // OCTET STRING, 6 bytes
  pattern.insert(pattern.end(), fmspc.begin(), fmspc.end());
  auto it = std::search(der.begin(), der.end(), pattern.begin(), pattern.end());
  if (it == der.end()) return std::nullopt;
  return static_cast<std::size_t>(it - der.begin()) + 2;
}

std::string FakeIntelPki::ChainPem() const {
  std::string pem = leaf.ToPem() + ca.ToPem() + root.ToPem();
  pem.push_back('\0');
  return pem;
}

Result<FakeIntelPki> MakeFakeIntelPki(const PckChain& real, Timestamp not_before,
                                      Timestamp not_after, Timestamp leaf_not_after) {
  using crypto::KeyType;
  using crypto::PrivateKey;
  LUNAL_ASSIGN_OR_RETURN(PrivateKey root_key, PrivateKey::Generate(KeyType::kEcP256));
  LUNAL_ASSIGN_OR_RETURN(PrivateKey ca_key, PrivateKey::Generate(KeyType::kEcP256));
  LUNAL_ASSIGN_OR_RETURN(PrivateKey leaf_key, PrivateKey::Generate(KeyType::kEcP256));
  LUNAL_ASSIGN_OR_RETURN(PrivateKey tcb_key, PrivateKey::Generate(KeyType::kEcP256));
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey ca_pub, ca_key.PublicKey());
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey leaf_pub, leaf_key.PublicKey());
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey tcb_pub, tcb_key.PublicKey());
  const auto from = ToSeconds(not_before);
  const auto until = ToSeconds(not_after);

  auto root_name = NameAttributes(real.issuers.back().SubjectName());
  auto tcb_name = root_name;
  for (auto& [name, value] : tcb_name) {
    if (name == "CN") value = "Intel SGX TCB Signing";
  }
  auto sgx_extension = real.leaf.Extension(kSgxExtensionOid);
  if (!sgx_extension) return Internal("test.no_sgx_extension", "the real leaf has none");

  LUNAL_ASSIGN_OR_RETURN(crypto::Certificate root,
                         Named(root_name).Validity(from, until).Ca(true, 1).SelfSign(root_key));
  LUNAL_ASSIGN_OR_RETURN(crypto::Certificate ca, Named(NameAttributes(real.leaf.IssuerName()))
                                                     .Validity(from, until)
                                                     .Ca(true, 0)
                                                     .SubjectKey(ca_pub)
                                                     .SignWith(root, root_key));
  LUNAL_ASSIGN_OR_RETURN(crypto::Certificate leaf,
                         Named(NameAttributes(real.leaf.SubjectName()))
                             .Validity(from, ToSeconds(leaf_not_after))
                             .SubjectKey(leaf_pub)
                             .AddExtension(std::string(kSgxExtensionOid), *sgx_extension, false)
                             .SignWith(ca, ca_key));
  LUNAL_ASSIGN_OR_RETURN(
      crypto::Certificate tcb_signer,
      Named(tcb_name).Validity(from, until).SubjectKey(tcb_pub).SignWith(root, root_key));
  crypto::TrustAnchor anchor{.der_sha256 = root.Sha256OfDer(), .label = "Fake Intel SGX Root CA"};
  return FakeIntelPki{.root_key = std::move(root_key),
                      .ca_key = std::move(ca_key),
                      .leaf_key = std::move(leaf_key),
                      .tcb_key = std::move(tcb_key),
                      .root = root,
                      .ca = ca,
                      .leaf = leaf,
                      .tcb_signer = tcb_signer,
                      .anchor = anchor};
}

Result<Bytes> ForgeQuote(ByteSpan quote, const QuoteView& view, const FakeIntelPki& pki,
                         std::string_view chain_pem) {
  using crypto::DigestAlgorithm;
  // Everything before the chain keeps its offset, so the original view's spans locate it.
  Bytes out = WithPckChainData(quote, view, chain_pem);
  LUNAL_ASSIGN_OR_RETURN(crypto::PrivateKey att_key,
                         crypto::PrivateKey::Generate(crypto::KeyType::kEcP256));
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey att_pub, att_key.PublicKey());
  LUNAL_ASSIGN_OR_RETURN(Bytes point, att_pub.EcPoint());
  Write(out, At(view.attestation_key, quote), point);

  crypto::Hasher hasher(DigestAlgorithm::kSha256);
  hasher.Update(point);
  hasher.Update(view.qe_auth_data);
  Bytes binding = hasher.Finish();
  binding.resize(64, 0);  // report_data[32:64] stays zero
  Write(out, At(view.qe_report.report_data, quote), binding);

  const std::size_t qe_at = At(view.qe_report.raw, quote);
  LUNAL_ASSIGN_OR_RETURN(
      Bytes qe_signature,
      crypto::SignEcdsaRaw(pki.leaf_key, DigestAlgorithm::kSha256,
                           ByteSpan(out).subspan(qe_at, view.qe_report.raw.size())));
  Write(out, At(view.qe_report_signature, quote), qe_signature);

  const std::size_t signed_at = At(view.signed_region, quote);
  LUNAL_ASSIGN_OR_RETURN(
      Bytes quote_signature,
      crypto::SignEcdsaRaw(att_key, DigestAlgorithm::kSha256,
                           ByteSpan(out).subspan(signed_at, view.signed_region.size())));
  Write(out, At(view.signature, quote), quote_signature);
  return out;
}

Result<std::shared_ptr<const CollateralPool>> FakePool(const FakeIntelPki& pki,
                                                       const SelectedCollateral& real,
                                                       Timestamp as_of) {
  using crypto::DigestAlgorithm;
  auto resign = [&](std::string_view member,
                    const std::string& signed_bytes) -> Result<std::string> {
    LUNAL_ASSIGN_OR_RETURN(
        Bytes signature,
        crypto::SignEcdsaRaw(pki.tcb_key, DigestAlgorithm::kSha256, AsBytes(signed_bytes)));
    return "{\"" + std::string(member) + "\":" + signed_bytes + ",\"signature\":\"" +
           HexEncode(signature) + "\"}";
  };
  LUNAL_ASSIGN_OR_RETURN(std::string tcb_info, resign("tcbInfo", real.tcb_info->signed_bytes));
  LUNAL_ASSIGN_OR_RETURN(std::string qe_identity,
                         resign("enclaveIdentity", real.qe_identity->signed_bytes));
  const auto this_update = ToSeconds(as_of) - std::chrono::hours(24);
  const auto next_update = ToSeconds(as_of) + std::chrono::hours(24 * 30);
  LUNAL_ASSIGN_OR_RETURN(
      crypto::Crl root_crl,
      crypto::CrlBuilder().Updates(this_update, next_update).Sign(pki.root, pki.root_key));
  LUNAL_ASSIGN_OR_RETURN(
      crypto::Crl pck_crl,
      crypto::CrlBuilder().Updates(this_update, next_update).Sign(pki.ca, pki.ca_key));
  auto text = [](std::string_view s) { return Bytes(s.begin(), s.end()); };
  std::vector<PoolInput> files;
  files.push_back({.name = "fake_chain.pem",
                   .bytes = text(pki.tcb_signer.ToPem() + pki.ca.ToPem() + pki.root.ToPem())});
  files.push_back({.name = "fake_tcb_info.json", .bytes = text(tcb_info)});
  files.push_back({.name = "fake_qe_identity.json", .bytes = text(qe_identity)});
  ByteSpan root_der = root_crl.Der();
  ByteSpan pck_der = pck_crl.Der();
  files.push_back(
      {.name = "fake_root_ca_crl.der", .bytes = Bytes(root_der.begin(), root_der.end())});
  files.push_back({.name = "fake_pck_crl.der", .bytes = Bytes(pck_der.begin(), pck_der.end())});
  PoolOptions options;
  options.anchors = {pki.anchor};
  return CollateralPool::Build(std::move(files), options);
}

}  // namespace lunal::attest::tdx::testing
