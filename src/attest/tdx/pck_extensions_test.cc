#include "lunal/attest/tdx/pck_extensions.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "lunal/attest/tdx/evidence_input.h"
#include "lunal/attest/tdx/quote.h"
#include "lunal/common/encoding.h"
#include "test_quotes.h"

namespace lunal::attest::tdx {
namespace {

// ---- A tiny DER writer for synthetic extensions ----

Bytes Tlv(std::uint8_t tag, const Bytes& value) {
  Bytes out{tag};
  std::size_t n = value.size();
  if (n < 0x80) {
    out.push_back(static_cast<std::uint8_t>(n));
  } else if (n < 0x100) {
    out.insert(out.end(), {0x81, static_cast<std::uint8_t>(n)});
  } else {
    out.insert(out.end(), {0x82, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)});
  }
  out.insert(out.end(), value.begin(), value.end());
  return out;
}
Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
// OID 1.2.840.113741.1.13.1[.a[.b]]
Bytes Oid(std::initializer_list<std::uint8_t> arcs) {
  Bytes v = {0x2A, 0x86, 0x48, 0x86, 0xF8, 0x4D, 0x01, 0x0D, 0x01};
  v.insert(v.end(), arcs);
  return Tlv(0x06, v);
}
Bytes Entry(const Bytes& oid, const Bytes& value) { return Tlv(0x30, Cat({oid, value})); }
Bytes Int(std::uint8_t v) { return v < 0x80 ? Tlv(0x02, {v}) : Tlv(0x02, {0x00, v}); }
Bytes Octets(std::size_t n, std::uint8_t fill) { return Tlv(0x04, Bytes(n, fill)); }

struct Parts {
  Bytes ppid = Entry(Oid({1}), Octets(16, 0xAA));
  std::vector<Bytes> tcb;
  Bytes pce_id = Entry(Oid({3}), Octets(2, 0x00));
  Bytes fmspc = Entry(Oid({4}), Tlv(0x04, {0x90, 0xC0, 0x6F, 0x00, 0x00, 0x00}));
  Bytes sgx_type = Entry(Oid({5}), Tlv(0x0A, {0x00}));
  Bytes extra;
  bool tcb_as_integer = false;

  Parts() {
    for (std::uint8_t i = 1; i <= 16; ++i) tcb.push_back(Entry(Oid({2, i}), Int(i)));
    tcb.push_back(Entry(Oid({2, 17}), Tlv(0x02, {0x00, 0xFF})));  // PCESVN 255
    tcb.push_back(Entry(Oid({2, 18}), Octets(16, 0x01)));
  }
  Bytes Tcb() const {
    if (tcb_as_integer) return Entry(Oid({2}), Int(1));
    Bytes all;
    for (const Bytes& t : tcb) all = Cat({all, t});
    return Entry(Oid({2}), Tlv(0x30, all));
  }
  Bytes Der() const { return Tlv(0x30, Cat({ppid, Tcb(), pce_id, fmspc, sgx_type, extra})); }
};

TEST(PckExtensions, SyntheticProcessorCaExtension) {
  auto ext = ParsePckExtensions(Parts().Der());
  ASSERT_TRUE(ext.ok()) << ext.error();
  EXPECT_EQ(HexEncode(ext->sgx_tcb_components), "0102030405060708090a0b0c0d0e0f10");
  EXPECT_EQ(ext->pce_svn, 255);
  EXPECT_EQ(ext->FmspcHex(), "90c06f000000");
  EXPECT_EQ(ext->sgx_type, SgxType::kStandard);
  EXPECT_EQ(ext->ppid,
            (std::array<std::uint8_t, 16>{0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA,
                                          0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA}));
  EXPECT_FALSE(ext->platform_instance_id.has_value());
  EXPECT_FALSE(ext->smt_enabled.has_value());
}

TEST(PckExtensions, UnknownEntriesAreSkipped) {
  Parts p;
  p.extra = Cat({Entry(Oid({9}), Tlv(0x05, {})), Entry(Oid({2, 1, 1}), Int(1))});
  p.tcb.push_back(Entry(Oid({2, 19}), Tlv(0x0C, {'x'})));
  EXPECT_TRUE(ParsePckExtensions(p.Der()).ok());
}

TEST(PckExtensions, ConfigurationAndPlatformInstance) {
  Parts p;
  p.extra = Cat({Entry(Oid({6}), Octets(16, 0x02)),
                 Entry(Oid({7}), Tlv(0x30, Cat({Entry(Oid({7, 1}), Tlv(0x01, {0xFF})),
                                                Entry(Oid({7, 3}), Tlv(0x01, {0x00}))})))});
  auto ext = ParsePckExtensions(p.Der());
  ASSERT_TRUE(ext.ok()) << ext.error();
  ASSERT_TRUE(ext->platform_instance_id.has_value());
  EXPECT_EQ(ext->dynamic_platform, std::optional<bool>(true));
  EXPECT_EQ(ext->cached_keys, std::nullopt);
  EXPECT_EQ(ext->smt_enabled, std::optional<bool>(false));
}

struct Bad {
  const char* name;
  Bytes der;
  std::string_view reason;
};

std::vector<Bad> BadExtensions() {
  std::vector<Bad> out;
  auto with = [&](const char* name, auto edit, std::string_view reason) {
    Parts p;
    edit(p);
    out.push_back({name, p.Der(), reason});
  };
  with(
      "no_fmspc", [](Parts& p) { p.fmspc.clear(); }, "tdx.pck_ext.missing");
  with(
      "no_ppid", [](Parts& p) { p.ppid.clear(); }, "tdx.pck_ext.missing");
  with(
      "no_pcesvn", [](Parts& p) { p.tcb.erase(p.tcb.begin() + 16); }, "tdx.pck_ext.missing");
  with(
      "no_comp7", [](Parts& p) { p.tcb.erase(p.tcb.begin() + 6); }, "tdx.pck_ext.missing");
  with(
      "duplicate_fmspc", [](Parts& p) { p.extra = p.fmspc; }, "tdx.pck_ext.duplicate");
  with(
      "duplicate_comp", [](Parts& p) { p.tcb.push_back(p.tcb[0]); }, "tdx.pck_ext.duplicate");
  with(
      "fmspc_5_bytes", [](Parts& p) { p.fmspc = Entry(Oid({4}), Octets(5, 0)); },
      "tdx.pck_ext.bad_size");
  with(
      "ppid_17_bytes", [](Parts& p) { p.ppid = Entry(Oid({1}), Octets(17, 0)); },
      "tdx.pck_ext.bad_size");
  with(
      "fmspc_integer", [](Parts& p) { p.fmspc = Entry(Oid({4}), Int(5)); }, "tdx.pck_ext.bad_tag");
  with(
      "sgx_type_3", [](Parts& p) { p.sgx_type = Entry(Oid({5}), Tlv(0x0A, {3})); },
      "tdx.pck_ext.bad_sgx_type");
  with(
      "sgx_type_integer", [](Parts& p) { p.sgx_type = Entry(Oid({5}), Int(0)); },
      "tdx.pck_ext.bad_tag");
  with(
      "svn_256",
      [](Parts& p) {
        p.tcb[0] = Entry(Oid({2, 1}), Tlv(0x02, {0x01, 0x00}));
      },
      "tdx.pck_ext.out_of_range");
  with(
      "pcesvn_65536",
      [](Parts& p) {
        p.tcb[16] = Entry(Oid({2, 17}), Tlv(0x02, {0x01, 0x00, 0x00}));
      },
      "tdx.pck_ext.out_of_range");
  with(
      "negative_svn",
      [](Parts& p) {
        p.tcb[0] = Entry(Oid({2, 1}), Tlv(0x02, {0xFF}));
      },
      "tdx.pck_ext.bad_integer");
  with(
      "non_minimal_svn",
      [](Parts& p) {
        p.tcb[0] = Entry(Oid({2, 1}), Tlv(0x02, {0x00, 0x05}));
      },
      "tdx.pck_ext.bad_integer");
  with(
      "empty_svn",
      [](Parts& p) {
        p.tcb[0] = Entry(Oid({2, 1}), Tlv(0x02, {}));
      },
      "tdx.pck_ext.bad_integer");
  with(
      "cpusvn_15",
      [](Parts& p) {
        p.tcb[17] = Entry(Oid({2, 18}), Octets(15, 0));
      },
      "tdx.pck_ext.bad_size");
  with(
      "empty_tcb", [](Parts& p) { p.tcb.clear(); }, "tdx.pck_ext.missing");
  with(
      "tcb_not_sequence", [](Parts& p) { p.tcb_as_integer = true; }, "tdx.pck_ext.bad_tag");
  with(
      "bool_01",
      [](Parts& p) {
        p.extra = Entry(Oid({7}), Tlv(0x30, Entry(Oid({7, 2}), Tlv(0x01, {0x01}))));
      },
      "tdx.pck_ext.bad_boolean");
  with(
      "entry_with_three_elements",
      [](Parts& p) {
        p.pce_id = Tlv(0x30, Cat({Oid({3}), Octets(2, 0), Int(1)}));
      },
      "tdx.pck_ext.trailing_bytes");
  with(
      "entry_without_oid", [](Parts& p) { p.pce_id = Tlv(0x30, Octets(2, 0)); },
      "tdx.pck_ext.bad_tag");
  with(
      "oid_non_minimal",
      [](Parts& p) {
        p.extra = Entry(Tlv(0x06, {0x2A, 0x80, 0x01}), Int(1));
      },
      "tdx.pck_ext.bad_oid");
  with(
      "oid_truncated",
      [](Parts& p) {
        p.extra = Entry(Tlv(0x06, {0x2A, 0x86}), Int(1));
      },
      "tdx.pck_ext.bad_oid");
  with(
      "high_tag", [](Parts& p) { p.extra = Tlv(0x1F, {0x01}); }, "tdx.pck_ext.bad_tag");
  Bytes good = Parts().Der();
  Bytes trailing = good;
  trailing.push_back(0x00);
  out.push_back({"trailing_after_sequence", trailing, "tdx.pck_ext.trailing_bytes"});
  Bytes long_form = good;  // 30 82 hi lo -> 30 83 00 hi lo: non-minimal length
  EXPECT_EQ(long_form[1], 0x82);
  long_form.insert(long_form.begin() + 1, 0x83);
  long_form[2] = 0x00;
  out.push_back({"non_minimal_length", long_form, "tdx.pck_ext.bad_length"});
  Bytes indefinite = {0x30, 0x80, 0x00, 0x00};
  out.push_back({"indefinite_length", indefinite, "tdx.pck_ext.bad_length"});
  Bytes short_long = {0x30, 0x81, 0x05, 0x02, 0x01, 0x00, 0x02, 0x00};
  out.push_back({"long_form_for_short_length", short_long, "tdx.pck_ext.bad_length"});
  out.push_back({"not_a_sequence", Int(1), "tdx.pck_ext.bad_tag"});
  out.push_back({"empty", {}, "tdx.pck_ext.truncated"});
  return out;
}

TEST(PckExtensions, MalformedExtensionsAreRefused) {
  for (const Bad& bad : BadExtensions()) {
    auto r = ParsePckExtensions(bad.der);
    ASSERT_FALSE(r.ok()) << bad.name;
    EXPECT_EQ(r.error().code(), Code::kMalformed) << bad.name;
    EXPECT_EQ(r.error().reason(), bad.reason) << bad.name << ": " << r.error();
  }
}

TEST(PckExtensions, EveryTruncationIsRefused) {
  Bytes der = Parts().Der();
  for (std::size_t n = 0; n < der.size(); ++n) {
    auto r = ParsePckExtensions(ByteSpan(der).first(n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_TRUE(r.error().reason().starts_with("tdx.pck_ext.")) << r.error();
  }
}

// ---- Real PCK certificates (extension located without X.509 parsing; the crypto-based tests
// in tcb_evidence_test.cc check it is exactly what crypto::Certificate::Extension returns) ----

Bytes FirstCertificateDer(std::string_view pem) {
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  std::size_t begin = pem.find(kBegin) + kBegin.size();
  std::size_t end = pem.find("-----END CERTIFICATE-----", begin);
  auto der = Base64Decode(pem.substr(begin, end - begin), {.ignore_whitespace = true});
  EXPECT_TRUE(der.ok());
  return der.ok() ? *der : Bytes{};
}

Bytes SgxExtensionOf(const Bytes& cert) {
  const Bytes oid = {0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF8, 0x4D, 0x01, 0x0D, 0x01};
  auto at = std::search(cert.begin(), cert.end(), oid.begin(), oid.end());
  EXPECT_NE(at, cert.end());
  std::size_t i = static_cast<std::size_t>(at - cert.begin()) + oid.size();
  EXPECT_EQ(cert.at(i), 0x04);  // extnValue OCTET STRING (no "critical" flag in Intel's)
  EXPECT_EQ(cert.at(i + 1), 0x82);
  std::size_t n = static_cast<std::size_t>(cert.at(i + 2)) << 8 | cert.at(i + 3);
  return Bytes(cert.begin() + static_cast<std::ptrdiff_t>(i + 4),
               cert.begin() + static_cast<std::ptrdiff_t>(i + 4 + n));
}

TEST(PckExtensions, RealPlatformCaCertificate) {
  Bytes file = testing::ReadEvidence(testing::Quote4Path());
  auto quote = ParseQuote(file);
  ASSERT_TRUE(quote.ok()) << quote.error();
  auto ext = ParsePckExtensions(SgxExtensionOf(FirstCertificateDer(quote->pck_cert_chain_pem)));
  ASSERT_TRUE(ext.ok()) << ext.error();
  EXPECT_EQ(ext->FmspcHex(), "50806f000000");
  EXPECT_EQ(HexEncode(ext->sgx_tcb_components), "05050d02030100030000000000000000");
  EXPECT_EQ(ext->cpu_svn, ext->sgx_tcb_components);
  EXPECT_EQ(ext->pce_svn, 11);
  EXPECT_EQ(ext->pce_id, (std::array<std::uint8_t, 2>{0, 0}));
  EXPECT_EQ(ext->sgx_type, SgxType::kScalable);
  EXPECT_EQ(HexEncode(*ext->platform_instance_id), "021ac64d355ba904e2d5948d228d5482");
  EXPECT_EQ(ext->dynamic_platform, std::optional<bool>(true));
  EXPECT_EQ(ext->cached_keys, std::optional<bool>(true));
  EXPECT_EQ(ext->smt_enabled, std::optional<bool>(true));
}

TEST(PckExtensions, EveryEvidenceQuoteHasAParsableExtension) {
  for (const testing::EvidenceQuote& q : testing::EvidenceQuotes()) {
    auto decoded = DecodeQuoteContainer(testing::ReadEvidence(q.path));
    ASSERT_TRUE(decoded.ok()) << q.path;
    auto quote = ParseQuote(decoded->quote, {.trailing = ParseOptions::Trailing::kIgnore});
    ASSERT_TRUE(quote.ok()) << q.path;
    auto ext = ParsePckExtensions(SgxExtensionOf(FirstCertificateDer(quote->pck_cert_chain_pem)));
    ASSERT_TRUE(ext.ok()) << q.path << ": " << ext.error();
    EXPECT_EQ(ext->cpu_svn, ext->sgx_tcb_components) << q.path;
  }
}

TEST(PckCa, FromIssuerName) {
  EXPECT_EQ(*PckCaFromIssuerName(
                "CN=Intel SGX PCK Platform CA,O=Intel Corporation,L=Santa Clara,ST=CA,C=US"),
            PckCa::kPlatform);
  EXPECT_EQ(*PckCaFromIssuerName("C=US,O=Intel Corporation,CN=Intel SGX PCK Processor CA"),
            PckCa::kProcessor);
  // The simulated TDX backend's CA plays the Platform CA's role (trust comes from the pin only).
  EXPECT_EQ(*PckCaFromIssuerName("CN=Lunal Simulated PCK Platform CA,O=Lunal"), PckCa::kPlatform);
  for (std::string_view bad :
       {"CN=Intel SGX Root CA,O=Intel Corporation", "CN=Intel SGX PCK Platform CA2",
        "O=Intel SGX PCK Platform CA", "CN=Intel SGX PCK Platform CA\\,x",
        "CN=Intel SGX PCK Platform CA,CN=Intel SGX PCK Processor CA",
        "CN=Lunal Simulated PCK Platform CA,CN=Intel SGX PCK Platform CA", ""}) {
    auto r = PckCaFromIssuerName(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().reason(), "tdx.pck.unknown_issuer");
  }
  EXPECT_EQ(PckCaName(PckCa::kPlatform), "Intel SGX PCK Platform CA");
}

}  // namespace
}  // namespace lunal::attest::tdx
