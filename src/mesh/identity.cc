// ParseMeshCertificate: the profile of profile.h, checked field by field. Each extension value is
// decoded from its DER (RFC 5280 §4.2) by der.h; nothing is inferred from OpenSSL's leniency.
#include "lunal/mesh/identity.h"

#include <algorithm>
#include <set>

#include "der.h"
#include "lunal/crypto/keys.h"
#include "lunal/mesh/profile.h"

namespace lunal::mesh {
namespace {

using internal::DerReader;
using internal::ReadWhole;

constexpr std::string_view kOidBasicConstraints = "2.5.29.19";
constexpr std::string_view kOidKeyUsage = "2.5.29.15";
constexpr std::string_view kOidExtKeyUsage = "2.5.29.37";
constexpr std::string_view kOidSubjectAltName = "2.5.29.17";
constexpr std::string_view kOidServerAuth = "1.3.6.1.5.5.7.3.1";  // RFC 5280 §4.2.1.12
constexpr std::string_view kOidClientAuth = "1.3.6.1.5.5.7.3.2";
constexpr std::size_t kMaxSegment = 64;

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

Result<Bytes> RequireExtension(const crypto::Certificate& cert, std::string_view oid, bool critical,
                               const std::string& reason) {
  std::optional<Bytes> value = cert.Extension(oid);
  if (!value) return Malformed(reason, "extension {} is missing", oid);
  if (cert.IsExtensionCritical(oid).value_or(false) != critical) {
    return Malformed(reason, "extension {} must be {}", oid,
                     critical ? "critical" : "non-critical");
  }
  return std::move(*value);
}

// RFC 5280 §4.2.1.9: cA FALSE is the DEFAULT, so DER (X.690 §11.5) encodes it as an empty
// SEQUENCE; a pathLenConstraint is meaningless for an end entity.
Status CheckBasicConstraints(const crypto::Certificate& cert) {
  const std::string reason = "mesh.cert.basic_constraints";
  LUNAL_ASSIGN_OR_RETURN(Bytes value, RequireExtension(cert, kOidBasicConstraints, true, reason));
  LUNAL_ASSIGN_OR_RETURN(ByteSpan contents,
                         ReadWhole(value, internal::kTagSequence, reason, "basicConstraints"));
  if (!contents.empty()) return Malformed(reason, "basicConstraints must be exactly cA FALSE");
  return Status::Ok();
}

// RFC 5280 §4.2.1.3: digitalSignature is bit 0; DER drops trailing zero bits (X.690 §11.2.2), so
// the only encoding is 03 02 07 80.
Status CheckKeyUsage(const crypto::Certificate& cert) {
  const std::string reason = "mesh.cert.key_usage";
  LUNAL_ASSIGN_OR_RETURN(Bytes value, RequireExtension(cert, kOidKeyUsage, true, reason));
  LUNAL_ASSIGN_OR_RETURN(ByteSpan bits,
                         ReadWhole(value, internal::kTagBitString, reason, "keyUsage"));
  if (bits.size() != 2 || bits[0] != 0x07 || bits[1] != 0x80) {
    return Malformed(reason, "keyUsage must be exactly digitalSignature");
  }
  return Status::Ok();
}

// RFC 5280 §4.2.1.12: a SEQUENCE of KeyPurposeId; the profile wants serverAuth and clientAuth.
Status CheckExtendedKeyUsage(const crypto::Certificate& cert) {
  const std::string reason = "mesh.cert.extended_key_usage";
  LUNAL_ASSIGN_OR_RETURN(Bytes value, RequireExtension(cert, kOidExtKeyUsage, false, reason));
  LUNAL_ASSIGN_OR_RETURN(ByteSpan seq,
                         ReadWhole(value, internal::kTagSequence, reason, "extKeyUsage"));
  DerReader reader(seq, reason);
  std::set<std::string> purposes;
  while (!reader.empty()) {
    LUNAL_ASSIGN_OR_RETURN(ByteSpan oid, reader.Expect(internal::kTagOid, "KeyPurposeId"));
    LUNAL_ASSIGN_OR_RETURN(std::string dotted, internal::OidToString(oid, reason));
    if (!purposes.insert(dotted).second) return Malformed(reason, "{} appears twice", dotted);
  }
  if (purposes != std::set<std::string>{std::string(kOidServerAuth), std::string(kOidClientAuth)}) {
    return Malformed(reason, "extKeyUsage must be exactly serverAuth and clientAuth");
  }
  return Status::Ok();
}

// RFC 5280 §4.2.1.6: GeneralNames; exactly one name, a uniformResourceIdentifier (IA5String).
Result<std::string> ReadSanUri(const crypto::Certificate& cert) {
  const std::string reason = "mesh.cert.san";
  LUNAL_ASSIGN_OR_RETURN(Bytes value, RequireExtension(cert, kOidSubjectAltName, false, reason));
  LUNAL_ASSIGN_OR_RETURN(ByteSpan names,
                         ReadWhole(value, internal::kTagSequence, reason, "subjectAltName"));
  DerReader reader(names, reason);
  LUNAL_ASSIGN_OR_RETURN(internal::Tlv name, reader.Next());
  if (name.tag != internal::kTagUri) {
    return Malformed(reason, "subjectAltName must hold one URI, found tag 0x{:02x}", name.tag);
  }
  if (!reader.empty()) return Malformed(reason, "subjectAltName must hold exactly one name");
  std::string_view uri = AsStringView(name.value);
  if (!std::all_of(uri.begin(), uri.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
    return Malformed("mesh.cert.uri", "the URI has characters outside printable ASCII");
  }
  return std::string(uri);
}

struct UriParts {
  std::string tenant, deployment, instance;
};

Result<UriParts> SplitUri(std::string_view uri) {
  const std::string prefix = std::string(kUriScheme) + "://";
  if (!uri.starts_with(prefix)) {
    return Malformed("mesh.cert.uri", "URI must start with {}", prefix);
  }
  std::string_view rest = uri.substr(prefix.size());
  std::vector<std::string_view> parts;
  while (true) {
    std::size_t slash = rest.find('/');
    parts.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (parts.size() != 3) {
    return Malformed("mesh.cert.uri", "URI must be {}<tenant>/<deployment>/<instance>", prefix);
  }
  for (std::string_view part : parts) {
    if (!IsSafeSegment(part)) {
      return Malformed("mesh.cert.uri", "unsafe URI segment '{}'", part.substr(0, 80));
    }
  }
  return UriParts{std::string(parts[0]), std::string(parts[1]), std::string(parts[2])};
}

// A profile extension: non-critical, its value one UTF8String.
Result<std::string> ReadUtf8Extension(const crypto::Certificate& cert, std::string_view oid,
                                      const std::string& reason) {
  LUNAL_ASSIGN_OR_RETURN(Bytes value, RequireExtension(cert, oid, false, reason));
  LUNAL_ASSIGN_OR_RETURN(ByteSpan text, ReadWhole(value, internal::kTagUtf8String, reason, oid));
  return ToString(text);
}

Status CheckBuildHash(std::string_view hash) {
  if (hash.size() != 7 + 64 || !hash.starts_with("sha256:") ||
      !std::all_of(hash.begin() + 7, hash.end(), IsLowerHex)) {
    return Malformed("mesh.cert.build_hash", "build hash must be sha256:<64 lowercase hex>");
  }
  return Status::Ok();
}

// Extensions the profile knows, and which of them are critical.
Status CheckExtensionSet(const crypto::Certificate& cert) {
  std::vector<std::string> oids = cert.ExtensionOids();
  std::set<std::string> seen;
  for (const std::string& oid : oids) {
    if (!seen.insert(oid).second) {
      return Malformed("mesh.cert.duplicate_extension", "extension {} appears twice", oid);
    }
    bool critical = cert.IsExtensionCritical(oid).value_or(true);
    bool may_be_critical = oid == kOidBasicConstraints || oid == kOidKeyUsage;
    if (critical && !may_be_critical) {
      return Malformed("mesh.cert.critical_extension", "extension {} must not be critical", oid);
    }
  }
  return Status::Ok();
}

}  // namespace

std::string MeshIdentity::Uri() const {
  return std::string(kUriScheme) + "://" + tenant + "/" + deployment + "/" + instance;
}

bool IsSafeSegment(std::string_view segment) {
  return !segment.empty() && segment.size() <= kMaxSegment && segment != "." && segment != ".." &&
         std::all_of(segment.begin(), segment.end(), IsUnreserved);
}

Result<std::string> MeshUri(std::string_view tenant, std::string_view deployment,
                            std::string_view instance) {
  for (std::string_view part : {tenant, deployment, instance}) {
    if (!IsSafeSegment(part)) {
      return InvalidArgument("mesh.cert.uri", "unsafe URI segment '{}'", part.substr(0, 80));
    }
  }
  return std::string(kUriScheme) + "://" + std::string(tenant) + "/" + std::string(deployment) +
         "/" + std::string(instance);
}

Result<MeshIdentity> ParseMeshCertificate(const crypto::Certificate& cert) {
  MeshIdentity id;
  // 1. Key: ECDSA P-256 (the instance key bound in REPORT_DATA).
  Result<crypto::PublicKey> key = cert.PublicKey();
  if (!key || key->Type() != crypto::KeyType::kEcP256) {
    return Malformed("mesh.cert.key_type", "the subject key must be ECDSA P-256");
  }
  Result<Bytes> spki = key->ToSpkiDer();
  if (!spki) return Malformed("mesh.cert.key_type", "cannot encode the subject key");
  id.spki = std::move(*spki);
  // 2. Validity.
  id.not_before = cert.NotBefore();
  id.not_after = cert.NotAfter();
  if (id.not_before >= id.not_after) {
    return Malformed("mesh.cert.validity", "notBefore is not before notAfter");
  }
  // 3. The extension set, then each extension the profile defines.
  LUNAL_RETURN_IF_ERROR(CheckExtensionSet(cert));
  LUNAL_RETURN_IF_ERROR(CheckBasicConstraints(cert));
  LUNAL_RETURN_IF_ERROR(CheckKeyUsage(cert));
  LUNAL_RETURN_IF_ERROR(CheckExtendedKeyUsage(cert));
  // 4. Names: one URI SAN lunal://t/d/i, and CN = instance.
  LUNAL_ASSIGN_OR_RETURN(std::string uri, ReadSanUri(cert));
  LUNAL_ASSIGN_OR_RETURN(UriParts parts, SplitUri(uri));
  id.tenant = std::move(parts.tenant);
  id.deployment = std::move(parts.deployment);
  id.instance = std::move(parts.instance);
  if (cert.SubjectCommonName() != id.instance) {
    return Malformed("mesh.cert.common_name", "subject CN must equal the instance '{}'",
                     id.instance);
  }
  // 5. Lunal extensions: build hash, TEE type, simulated.
  LUNAL_ASSIGN_OR_RETURN(id.build_hash,
                         ReadUtf8Extension(cert, kOidBuildHash, "mesh.cert.build_hash"));
  LUNAL_RETURN_IF_ERROR(CheckBuildHash(id.build_hash));
  LUNAL_ASSIGN_OR_RETURN(id.tee, ReadUtf8Extension(cert, kOidTeeType, "mesh.cert.tee_type"));
  if (id.tee != kTeeTdx && id.tee != kTeeSevSnp) {
    return Malformed("mesh.cert.tee_type", "TEE type must be tdx or sev-snp");
  }
  if (cert.Extension(kOidSimulated)) {
    const std::string reason = "mesh.cert.simulated";
    LUNAL_ASSIGN_OR_RETURN(Bytes value, RequireExtension(cert, kOidSimulated, false, reason));
    LUNAL_ASSIGN_OR_RETURN(ByteSpan flag,
                           ReadWhole(value, internal::kTagBoolean, reason, "simulated"));
    // Present only when true; DER TRUE is 0xff (X.690 §11.1).
    if (flag.size() != 1 || flag[0] != 0xff) {
      return Malformed(reason, "simulated must be BOOLEAN TRUE when present");
    }
    id.simulated = true;
  }
  id.serial_hex = cert.SerialHex();
  return id;
}

Result<MeshIdentity> ParseMeshCertificateDer(ByteSpan der) {
  Result<crypto::Certificate> cert = crypto::Certificate::FromDer(der);
  if (!cert) return Malformed("mesh.cert.parse_failed", "{}", cert.error().message());
  return ParseMeshCertificate(*cert);
}

Result<MeshIdentity> ParseMeshCertificatePem(std::string_view pem) {
  Result<crypto::Certificate> cert = crypto::Certificate::FromPem(pem);
  if (!cert) return Malformed("mesh.cert.parse_failed", "{}", cert.error().message());
  return ParseMeshCertificate(*cert);
}

}  // namespace lunal::mesh
