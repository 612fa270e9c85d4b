#include "store.h"

#include <chrono>

namespace lunal::cds::internal {
namespace {

const std::vector<db::Migration>& Schema() {
  static const auto* schema = new std::vector<db::Migration>{
      {1,
       "CREATE TABLE kv (name TEXT PRIMARY KEY, value BLOB NOT NULL);"
       "CREATE TABLE nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL,"
       "  used INTEGER NOT NULL DEFAULT 0);"
       "CREATE INDEX nonces_expiry ON nonces (expires_at);"
       "CREATE TABLE manifests (version INTEGER PRIMARY KEY, envelope TEXT NOT NULL,"
       "  payload TEXT NOT NULL, installed_at INTEGER NOT NULL);"
       "CREATE TABLE secrets (tenant TEXT NOT NULL, name TEXT NOT NULL,"
       "  aead_nonce BLOB NOT NULL, ciphertext BLOB NOT NULL, policy TEXT NOT NULL,"
       "  updated_at INTEGER NOT NULL, PRIMARY KEY (tenant, name));"
       "CREATE TABLE identities (serial TEXT PRIMARY KEY, tenant TEXT NOT NULL,"
       "  deployment TEXT NOT NULL, instance TEXT NOT NULL, build_hash TEXT NOT NULL,"
       "  tee TEXT NOT NULL, simulated INTEGER NOT NULL, tcb_status TEXT NOT NULL,"
       "  issued_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, summary TEXT NOT NULL);"
       "CREATE INDEX identities_issued ON identities (issued_at);"},
  };
  return *schema;
}

std::int64_t Micros(Timestamp t) { return t.time_since_epoch().count(); }
Timestamp FromMicros(std::int64_t v) { return Timestamp(std::chrono::microseconds(v)); }

// Used nonces are kept this long after they expire so a replay still reads "replayed", then
// swept (an expired-and-swept nonce reads "unknown", which refuses it just the same).
constexpr std::chrono::hours kNonceRetention{24};

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::filesystem::path& file) {
  LUNAL_ASSIGN_OR_RETURN(db::Database db, db::Database::Open(file));
  LUNAL_RETURN_IF_ERROR(db::Migrate(db, Schema()));
  return std::unique_ptr<Store>(new Store(std::move(db)));
}

Result<std::optional<Bytes>> Store::GetKv(std::string_view name) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(db::Statement st, db_.Prepare("SELECT value FROM kv WHERE name = ?1"));
  LUNAL_RETURN_IF_ERROR(st.Bind(1, name));
  LUNAL_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<Bytes>();
  LUNAL_ASSIGN_OR_RETURN(Bytes value, st.ColumnBlob(0));
  return std::optional<Bytes>(std::move(value));
}

Status Store::InsertKv(std::string_view name, ByteSpan value) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(db::Statement st, db_.Prepare("INSERT INTO kv VALUES (?1, ?2)"));
  LUNAL_RETURN_IF_ERROR(st.BindAll(name, value));
  return st.Run();
}

Status Store::InsertNonce(std::string_view nonce, Timestamp expires_at, Timestamp now) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(db::Transaction tx, db::Transaction::Begin(db_));
  LUNAL_ASSIGN_OR_RETURN(db::Statement sweep,
                         db_.Prepare("DELETE FROM nonces WHERE expires_at < ?1"));
  LUNAL_RETURN_IF_ERROR(sweep.Bind(1, Micros(now - kNonceRetention)));
  LUNAL_RETURN_IF_ERROR(sweep.Run());
  LUNAL_ASSIGN_OR_RETURN(db::Statement st,
                         db_.Prepare("INSERT INTO nonces (nonce, expires_at) VALUES (?1, ?2)"));
  LUNAL_RETURN_IF_ERROR(st.BindAll(nonce, Micros(expires_at)));
  LUNAL_RETURN_IF_ERROR(st.Run());
  return tx.Commit();
}

Result<NonceState> Store::ConsumeNonce(std::string_view nonce, Timestamp now) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(db::Transaction tx, db::Transaction::Begin(db_));
  LUNAL_ASSIGN_OR_RETURN(db::Statement get,
                         db_.Prepare("SELECT expires_at, used FROM nonces WHERE nonce = ?1"));
  LUNAL_RETURN_IF_ERROR(get.Bind(1, nonce));
  LUNAL_ASSIGN_OR_RETURN(bool row, get.Step());
  if (!row) return NonceState::kUnknown;
  LUNAL_ASSIGN_OR_RETURN(std::int64_t expires_at, get.ColumnInt(0));
  LUNAL_ASSIGN_OR_RETURN(std::int64_t used, get.ColumnInt(1));
  get.Reset();
  if (used != 0) return NonceState::kReplayed;
  LUNAL_ASSIGN_OR_RETURN(db::Statement mark,
                         db_.Prepare("UPDATE nonces SET used = 1 WHERE nonce = ?1"));
  LUNAL_RETURN_IF_ERROR(mark.Bind(1, nonce));
  LUNAL_RETURN_IF_ERROR(mark.Run());
  LUNAL_RETURN_IF_ERROR(tx.Commit());
  return Micros(now) > expires_at ? NonceState::kExpired : NonceState::kFresh;
}

Status Store::PutManifest(std::int64_t version, std::string_view envelope, std::string_view payload,
                          Timestamp now) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(db::Transaction tx, db::Transaction::Begin(db_));
  LUNAL_ASSIGN_OR_RETURN(db::Statement max,
                         db_.Prepare("SELECT COALESCE(MAX(version), 0) FROM manifests"));
  LUNAL_ASSIGN_OR_RETURN(bool row, max.Step());
  LUNAL_ASSIGN_OR_RETURN(std::int64_t active, row ? max.ColumnInt(0) : Result<std::int64_t>(0));
  max.Reset();
  if (version <= active) {
    return Conflict("cds.manifest.rollback",
                    "manifest version {} is not above the active version {}", version, active);
  }
  LUNAL_ASSIGN_OR_RETURN(db::Statement st,
                         db_.Prepare("INSERT INTO manifests VALUES (?1, ?2, ?3, ?4)"));
  LUNAL_RETURN_IF_ERROR(st.BindAll(version, envelope, payload, Micros(now)));
  LUNAL_RETURN_IF_ERROR(st.Run());
  return tx.Commit();
}

Result<std::vector<StoredManifest>> Store::LatestManifests(int count) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(
      db::Statement st,
      db_.Prepare("SELECT version, envelope, payload FROM manifests ORDER BY version DESC "
                  "LIMIT ?1"));
  LUNAL_RETURN_IF_ERROR(st.Bind(1, count));
  std::vector<StoredManifest> out;
  while (true) {
    LUNAL_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    StoredManifest m;
    LUNAL_ASSIGN_OR_RETURN(m.version, st.ColumnInt(0));
    LUNAL_ASSIGN_OR_RETURN(m.envelope, st.ColumnText(1));
    LUNAL_ASSIGN_OR_RETURN(m.payload, st.ColumnText(2));
    out.push_back(std::move(m));
  }
  return out;
}

Status Store::PutSecret(std::string_view tenant, std::string_view name, ByteSpan aead_nonce,
                        ByteSpan ciphertext, std::string_view policy_json, Timestamp now) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(db::Statement st,
                         db_.Prepare("INSERT OR REPLACE INTO secrets VALUES (?1, ?2, ?3, ?4, ?5, "
                                     "?6)"));
  LUNAL_RETURN_IF_ERROR(st.BindAll(tenant, name, aead_nonce, ciphertext, policy_json, Micros(now)));
  return st.Run();
}

Result<std::optional<StoredSecret>> Store::GetSecret(std::string_view tenant,
                                                     std::string_view name) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(db::Statement st,
                         db_.Prepare("SELECT aead_nonce, ciphertext, policy FROM secrets "
                                     "WHERE tenant = ?1 AND name = ?2"));
  LUNAL_RETURN_IF_ERROR(st.BindAll(tenant, name));
  LUNAL_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<StoredSecret>();
  StoredSecret s;
  LUNAL_ASSIGN_OR_RETURN(s.aead_nonce, st.ColumnBlob(0));
  LUNAL_ASSIGN_OR_RETURN(s.ciphertext, st.ColumnBlob(1));
  LUNAL_ASSIGN_OR_RETURN(s.policy_json, st.ColumnText(2));
  return std::optional<StoredSecret>(std::move(s));
}

Status Store::InsertIdentity(const Identity& id) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(
      db::Statement st,
      db_.Prepare("INSERT INTO identities VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
  LUNAL_RETURN_IF_ERROR(st.BindAll(id.serial, id.tenant, id.deployment, id.instance, id.build_hash,
                                   id.tee, id.simulated ? 1 : 0, id.tcb_status,
                                   Micros(id.issued_at), Micros(id.expires_at), id.summary_json));
  return st.Run();
}

Result<std::vector<Identity>> Store::Identities(std::size_t limit) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(
      db::Statement st, db_.Prepare("SELECT serial, tenant, deployment, instance, build_hash, tee, "
                                    "simulated, tcb_status, issued_at, expires_at, summary FROM "
                                    "identities ORDER BY issued_at DESC, serial LIMIT ?1"));
  LUNAL_RETURN_IF_ERROR(st.Bind(1, static_cast<std::int64_t>(limit)));
  std::vector<Identity> out;
  while (true) {
    LUNAL_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    Identity id;
    LUNAL_ASSIGN_OR_RETURN(id.serial, st.ColumnText(0));
    LUNAL_ASSIGN_OR_RETURN(id.tenant, st.ColumnText(1));
    LUNAL_ASSIGN_OR_RETURN(id.deployment, st.ColumnText(2));
    LUNAL_ASSIGN_OR_RETURN(id.instance, st.ColumnText(3));
    LUNAL_ASSIGN_OR_RETURN(id.build_hash, st.ColumnText(4));
    LUNAL_ASSIGN_OR_RETURN(id.tee, st.ColumnText(5));
    LUNAL_ASSIGN_OR_RETURN(std::int64_t simulated, st.ColumnInt(6));
    id.simulated = simulated != 0;
    LUNAL_ASSIGN_OR_RETURN(id.tcb_status, st.ColumnText(7));
    LUNAL_ASSIGN_OR_RETURN(std::int64_t issued, st.ColumnInt(8));
    LUNAL_ASSIGN_OR_RETURN(std::int64_t expires, st.ColumnInt(9));
    id.issued_at = FromMicros(issued);
    id.expires_at = FromMicros(expires);
    LUNAL_ASSIGN_OR_RETURN(id.summary_json, st.ColumnText(10));
    out.push_back(std::move(id));
  }
  return out;
}

}  // namespace lunal::cds::internal
