// Intel SGX PCK certificate extension parser. OIDs and types: Intel "SGX PCK Certificate and
// Certificate Revocation List Profile Specification" §1.3.5 (see pck_extensions.h).
#include "lunal/attest/tdx/pck_extensions.h"

#include <charconv>
#include <utility>
#include <vector>

#include "der_reader.h"
#include "lunal/common/encoding.h"

namespace lunal::attest::tdx {
namespace {

using internal::DerElement;
using internal::DerReader;
namespace der_tag = internal::der_tag;

constexpr std::string_view kPrefix = "tdx.pck_ext";
constexpr std::string_view kTcbArc = "1.2.840.113741.1.13.1.2";
constexpr std::string_view kConfigurationArc = "1.2.840.113741.1.13.1.7";

// n when `oid` is exactly "<arc>.<n>" with 1 <= n <= 31; nullopt for anything else.
std::optional<unsigned> ChildArc(std::string_view oid, std::string_view arc) {
  if (oid.size() <= arc.size() + 1 || !oid.starts_with(arc) || oid[arc.size()] != '.') {
    return std::nullopt;
  }
  std::string_view rest = oid.substr(arc.size() + 1);
  unsigned n = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
  if (ec != std::errc() || end != rest.data() + rest.size() || n < 1 || n > 31) return std::nullopt;
  return n;
}

// One SEQUENCE { OBJECT IDENTIFIER, value } of the extension.
struct Entry {
  std::string oid;
  DerElement value;
};

Result<Entry> ReadEntry(DerReader& list, std::string_view what) {
  LUNAL_ASSIGN_OR_RETURN(DerReader entry, list.Sequence(what));
  LUNAL_ASSIGN_OR_RETURN(DerElement oid, entry.Next(der_tag::kOid, what));
  Entry out;
  LUNAL_ASSIGN_OR_RETURN(out.oid, entry.Oid(oid, what));
  LUNAL_ASSIGN_OR_RETURN(out.value, entry.Next(what));
  LUNAL_RETURN_IF_ERROR(entry.ExpectEnd(what));
  return out;
}

// Marks entry n as seen; a second sighting is an error.
Status MarkSeen(const DerReader& r, std::uint32_t& seen, unsigned n, const std::string& oid) {
  std::uint32_t bit = 1u << n;
  if ((seen & bit) != 0) return r.Error("duplicate", fmt::format("{} appears twice", oid));
  seen |= bit;
  return Status::Ok();
}

template <std::size_t N>
Result<std::array<std::uint8_t, N>> Octets(const DerReader& r, const DerElement& e,
                                           std::string_view what) {
  if (e.tag != der_tag::kOctetString) {
    return r.Error("bad_tag",
                   fmt::format("{}: expected an OCTET STRING, found tag 0x{:02x}", what, e.tag));
  }
  if (e.value.size() != N) {
    return r.Error("bad_size",
                   fmt::format("{}: expected {} bytes, got {}", what, N, e.value.size()));
  }
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = e.value[i];
  return out;
}

Result<std::uint64_t> Integer(const DerReader& r, const DerElement& e, std::uint8_t tag,
                              std::uint64_t max, std::string_view what) {
  if (e.tag != tag) {
    return r.Error("bad_tag",
                   fmt::format("{}: expected tag 0x{:02x}, found 0x{:02x}", what, tag, e.tag));
  }
  return r.Unsigned(e, max, what);
}

// .2: SEQUENCE OF { OID .2.n, value }, n = 1..16 component SVNs, 17 PCESVN, 18 CPUSVN.
Status ReadTcb(DerReader tcb, PckExtensions& out) {
  std::uint32_t seen = 0;
  while (!tcb.empty()) {
    LUNAL_ASSIGN_OR_RETURN(Entry e, ReadEntry(tcb, "TCB entry"));
    std::optional<unsigned> n = ChildArc(e.oid, kTcbArc);
    if (!n || *n > 18) continue;  // not defined by the profile: skipped
    LUNAL_RETURN_IF_ERROR(MarkSeen(tcb, seen, *n, e.oid));
    if (*n <= 16) {
      LUNAL_ASSIGN_OR_RETURN(std::uint64_t svn,
                             Integer(tcb, e.value, der_tag::kInteger, 0xFF, e.oid));
      out.sgx_tcb_components[*n - 1] = static_cast<std::uint8_t>(svn);
    } else if (*n == 17) {
      LUNAL_ASSIGN_OR_RETURN(std::uint64_t svn,
                             Integer(tcb, e.value, der_tag::kInteger, 0xFFFF, e.oid));
      out.pce_svn = static_cast<std::uint16_t>(svn);
    } else {
      LUNAL_ASSIGN_OR_RETURN(out.cpu_svn, Octets<16>(tcb, e.value, e.oid));
    }
  }
  for (unsigned n = 1; n <= 18; ++n) {
    if ((seen & (1u << n)) == 0) {
      return tcb.Error("missing", fmt::format("TCB entry {}.{} is missing", kTcbArc, n));
    }
  }
  return Status::Ok();
}

// .7: SEQUENCE OF { OID .7.n, BOOLEAN }, each optional.
Status ReadConfiguration(DerReader config, PckExtensions& out) {
  std::uint32_t seen = 0;
  std::optional<bool>* fields[] = {&out.dynamic_platform, &out.cached_keys, &out.smt_enabled};
  while (!config.empty()) {
    LUNAL_ASSIGN_OR_RETURN(Entry e, ReadEntry(config, "configuration entry"));
    std::optional<unsigned> n = ChildArc(e.oid, kConfigurationArc);
    if (!n || *n > 3) continue;
    LUNAL_RETURN_IF_ERROR(MarkSeen(config, seen, *n, e.oid));
    if (e.value.tag != der_tag::kBoolean) {
      return config.Error("bad_tag", fmt::format("{}: expected a BOOLEAN", e.oid));
    }
    LUNAL_ASSIGN_OR_RETURN(bool value, config.Boolean(e.value, e.oid));
    *fields[*n - 1] = value;
  }
  return Status::Ok();
}

// One top-level entry .n of the SGX extension.
Status ReadTopLevel(const DerReader& list, unsigned n, const Entry& e, PckExtensions& out) {
  switch (n) {
    case 1: {
      LUNAL_ASSIGN_OR_RETURN(out.ppid, Octets<16>(list, e.value, "PPID"));
      return Status::Ok();
    }
    case 2: {
      LUNAL_ASSIGN_OR_RETURN(DerReader tcb, list.Enter(e.value, "TCB"));
      return ReadTcb(tcb, out);
    }
    case 3: {
      LUNAL_ASSIGN_OR_RETURN(out.pce_id, Octets<2>(list, e.value, "PCE-ID"));
      return Status::Ok();
    }
    case 4: {
      LUNAL_ASSIGN_OR_RETURN(out.fmspc, Octets<6>(list, e.value, "FMSPC"));
      return Status::Ok();
    }
    case 5: {
      LUNAL_ASSIGN_OR_RETURN(std::uint64_t type,
                             Integer(list, e.value, der_tag::kEnumerated, UINT64_MAX, "SGX Type"));
      if (type > 2) {
        return list.Error("bad_sgx_type", fmt::format("SGX Type {} is not 0, 1 or 2", type));
      }
      out.sgx_type = static_cast<SgxType>(type);
      return Status::Ok();
    }
    case 6: {
      LUNAL_ASSIGN_OR_RETURN(out.platform_instance_id,
                             Octets<16>(list, e.value, "PlatformInstanceID"));
      return Status::Ok();
    }
    case 7: {
      LUNAL_ASSIGN_OR_RETURN(DerReader config, list.Enter(e.value, "Configuration"));
      return ReadConfiguration(config, out);
    }
    default:
      return Status::Ok();  // not defined by the profile: skipped
  }
}

}  // namespace

std::string PckExtensions::FmspcHex() const { return HexEncode(fmspc); }

Result<PckExtensions> ParsePckExtensions(ByteSpan der) {
  DerReader top(der, kPrefix);
  LUNAL_ASSIGN_OR_RETURN(DerReader list, top.Sequence("SGX extensions"));
  LUNAL_RETURN_IF_ERROR(top.ExpectEnd("SGX extensions"));
  PckExtensions out{};
  std::uint32_t seen = 0;
  while (!list.empty()) {
    LUNAL_ASSIGN_OR_RETURN(Entry e, ReadEntry(list, "SGX extension entry"));
    std::optional<unsigned> n = ChildArc(e.oid, kSgxExtensionOid);
    if (!n) continue;
    LUNAL_RETURN_IF_ERROR(MarkSeen(list, seen, *n, e.oid));
    LUNAL_RETURN_IF_ERROR(ReadTopLevel(list, *n, e, out));
  }
  constexpr std::string_view kNames[] = {"", "PPID", "TCB", "PCE-ID", "FMSPC", "SGX Type"};
  for (unsigned n = 1; n <= 5; ++n) {
    if ((seen & (1u << n)) == 0) {
      return Malformed("tdx.pck_ext.missing", "{} ({}.{}) is missing", kNames[n], kSgxExtensionOid,
                       n);
    }
  }
  return out;
}

Result<PckCa> PckCaFromIssuerName(std::string_view issuer) {
  // RFC 2253 §2.4: attribute values escape ',' '+' '"' '\' '<' '>' ';' with a backslash, so an
  // unescaped ',' or '+' separates attributes.
  std::vector<std::string> common_names;
  std::string current;
  for (std::size_t i = 0; i <= issuer.size(); ++i) {
    if (i == issuer.size() || issuer[i] == ',' || issuer[i] == '+') {
      if (current.starts_with("CN=")) common_names.push_back(current.substr(3));
      current.clear();
      continue;
    }
    if (issuer[i] == '\\' && i + 1 < issuer.size()) ++i;  // keep the escaped character
    current.push_back(issuer[i]);
  }
  if (common_names.size() == 1) {
    if (common_names[0] == kPckPlatformCaName) return PckCa::kPlatform;
    if (common_names[0] == kSimPckPlatformCaName) return PckCa::kPlatform;
    if (common_names[0] == kPckProcessorCaName) return PckCa::kProcessor;
  }
  return VerificationFailed("tdx.pck.unknown_issuer",
                            "PCK certificate issuer \"{}\" is neither \"{}\" nor \"{}\"", issuer,
                            kPckPlatformCaName, kPckProcessorCaName);
}

std::string_view PckCaName(PckCa ca) {
  return ca == PckCa::kPlatform ? kPckPlatformCaName : kPckProcessorCaName;
}

}  // namespace lunal::attest::tdx
