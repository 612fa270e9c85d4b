#include <utility>

#include "lunal/attest/report_data.h"
#include "lunal/build/provenance.h"
#include "lunal/common/files.h"

namespace lunal::build {
namespace {

Status MapFileError(const Status& status) {
  if (status.code() == Code::kPermissionDenied) {
    return PermissionDenied("provenance.key_permissions", "{} (chmod 600 the builder key)",
                            status.message());
  }
  return Unavailable("provenance.key_io", "builder key: {}", status.message());
}

}  // namespace

Result<BuilderKey> BuilderKey::FromPrivateKey(crypto::PrivateKey key) {
  if (key.Type() != crypto::KeyType::kEcP256) {
    return Unsupported("provenance.key_type", "builder key: expected ECDSA P-256, got {}",
                       crypto::KeyTypeName(key.Type()));
  }
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey pub, key.PublicKey());
  LUNAL_ASSIGN_OR_RETURN(Bytes spki, pub.ToSpkiDer());
  LUNAL_ASSIGN_OR_RETURN(std::string pem, pub.ToPem());
  std::string key_id = attest::KeyDigest(spki);
  return BuilderKey(std::move(key), std::move(spki), std::move(pem), std::move(key_id));
}

Result<BuilderKey> BuilderKey::Generate() {
  LUNAL_ASSIGN_OR_RETURN(crypto::PrivateKey key,
                         crypto::PrivateKey::Generate(crypto::KeyType::kEcP256));
  return FromPrivateKey(std::move(key));
}

Result<BuilderKey> BuilderKey::LoadOrCreate(const std::filesystem::path& pem_file) {
  if (pem_file.has_parent_path()) {
    if (Status s = EnsureDirectory(pem_file.parent_path(), 0700); !s.ok()) return MapFileError(s);
  }
  // Two builders starting at once must not each generate a key and race to write it.
  std::filesystem::path lock_path = pem_file;
  lock_path += ".lock";
  Result<FileLock> lock = FileLock::Acquire(lock_path);
  if (!lock.ok()) return MapFileError(lock.error());

  Result<std::optional<std::string>> existing =
      ReadFileIfExists(pem_file, {.max_bytes = 64 * 1024, .require_private = true});
  if (!existing.ok()) return MapFileError(existing.error());
  if (existing->has_value()) {
    Result<crypto::PrivateKey> key = crypto::PrivateKey::FromPem(**existing);
    if (!key.ok()) {
      return Malformed("provenance.bad_key", "builder key {}: {}", pem_file.string(),
                       key.error().message());
    }
    return FromPrivateKey(std::move(*key));
  }
  LUNAL_ASSIGN_OR_RETURN(BuilderKey key, Generate());
  LUNAL_ASSIGN_OR_RETURN(std::string pem, key.private_key().ToPkcs8Pem());
  if (Status s = WriteFileAtomically(pem_file, pem, 0600); !s.ok()) return MapFileError(s);
  return key;
}

}  // namespace lunal::build
