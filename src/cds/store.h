// The CDS's SQLite state (schema below; docs/protocols/cds.md "State"). Private to src/cds.
//
//   kv          name → blob: ca_cert (PEM), ca_key (wrapped: nonce ‖ ChaCha20-Poly1305)
//   nonces      challenge nonces: expires_at (µs), used
//   manifests   version (primary key, so a version is installed once), countersigned envelope
//   secrets     (tenant, name) → AEAD nonce, ciphertext, release policy (JSON)
//   identities  the registry: one row per issued certificate
//
// Thread-safety: every method takes the store's mutex; each is one transaction.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "lunal/common/bytes.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"
#include "lunal/db/sqlite.h"

namespace lunal::cds::internal {

enum class NonceState { kFresh, kUnknown, kReplayed, kExpired };

struct StoredManifest {
  std::int64_t version = 0;
  std::string envelope;  // countersigned DSSE JSON
  std::string payload;
};

struct StoredSecret {
  Bytes aead_nonce;
  Bytes ciphertext;
  std::string policy_json;
};

struct Identity {
  std::string serial;
  std::string tenant, deployment, instance;
  std::string build_hash, tee;
  bool simulated = false;
  std::string tcb_status;
  Timestamp issued_at, expires_at;
  std::string summary_json;
};

class Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const std::filesystem::path& file);

  Result<std::optional<Bytes>> GetKv(std::string_view name);
  // Inserts only when absent (bootstrap races between processes lose cleanly: db.constraint).
  Status InsertKv(std::string_view name, ByteSpan value);

  Status InsertNonce(std::string_view nonce, Timestamp expires_at, Timestamp now);
  // Marks the nonce used when it was fresh; reports what it was.
  Result<NonceState> ConsumeNonce(std::string_view nonce, Timestamp now);

  // Fails with cds.manifest.rollback unless `version` is above every stored version (checked in
  // the same transaction as the insert).
  Status PutManifest(std::int64_t version, std::string_view envelope, std::string_view payload,
                     Timestamp now);
  Result<std::vector<StoredManifest>> LatestManifests(int count);

  Status PutSecret(std::string_view tenant, std::string_view name, ByteSpan aead_nonce,
                   ByteSpan ciphertext, std::string_view policy_json, Timestamp now);
  Result<std::optional<StoredSecret>> GetSecret(std::string_view tenant, std::string_view name);

  Status InsertIdentity(const Identity& identity);
  Result<std::vector<Identity>> Identities(std::size_t limit);

 private:
  explicit Store(db::Database db) : db_(std::move(db)) {}
  std::mutex mu_;
  db::Database db_;
};

}  // namespace lunal::cds::internal
