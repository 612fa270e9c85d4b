#include "store.h"

#include <chrono>

namespace lunal::control::internal {
namespace {

// The schema, by version. Deployment names are the primary key: they are unique across tenants
// (the gateway routes by them).
const std::vector<db::Migration>& Schema() {
  static const auto* schema = new std::vector<db::Migration>{
      {1,
       "CREATE TABLE tenants (name TEXT PRIMARY KEY, admin INTEGER NOT NULL,"
       "  created_at INTEGER NOT NULL);"
       "CREATE TABLE tokens (sha256 TEXT PRIMARY KEY, tenant TEXT NOT NULL REFERENCES tenants);"
       "CREATE TABLE uploads (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, path TEXT NOT NULL,"
       "  sha256 TEXT NOT NULL, bytes INTEGER NOT NULL);"
       "CREATE TABLE deployments (name TEXT PRIMARY KEY, tenant TEXT NOT NULL,"
       "  state TEXT NOT NULL, reason TEXT NOT NULL, message TEXT NOT NULL,"
       "  environment TEXT NOT NULL, branch TEXT NOT NULL, source TEXT NOT NULL,"
       "  build_hash TEXT NOT NULL, manifest_json TEXT NOT NULL, build_dir TEXT NOT NULL,"
       "  config_json TEXT NOT NULL, instances_desired INTEGER NOT NULL,"
       "  instances_explicit INTEGER NOT NULL, revision INTEGER NOT NULL,"
       "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
       "CREATE INDEX deployments_tenant ON deployments (tenant, name);"
       "CREATE TABLE instances (id TEXT PRIMARY KEY, deployment TEXT NOT NULL,"
       "  state TEXT NOT NULL, address TEXT NOT NULL, build_hash TEXT NOT NULL,"
       "  started_at INTEGER NOT NULL, reason TEXT NOT NULL);"
       "CREATE INDEX instances_deployment ON instances (deployment, started_at);"
       "CREATE TABLE attestations (id TEXT PRIMARY KEY, deployment TEXT NOT NULL,"
       "  instance_id TEXT NOT NULL, bundle TEXT NOT NULL, created_at INTEGER NOT NULL);"
       "CREATE INDEX attestations_deployment ON attestations (deployment, created_at);"
       "CREATE TABLE signatures (deployment TEXT NOT NULL, build_hash TEXT NOT NULL,"
       "  signature TEXT NOT NULL, message TEXT NOT NULL, developer_id TEXT NOT NULL,"
       "  key_id TEXT NOT NULL, created_at INTEGER NOT NULL);"
       "CREATE INDEX signatures_deployment ON signatures (deployment, build_hash);"
       "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, deployment TEXT NOT NULL,"
       "  time INTEGER NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL, data TEXT NOT NULL);"
       "CREATE INDEX events_deployment ON events (deployment, seq);"
       "CREATE TABLE logs (seq INTEGER PRIMARY KEY AUTOINCREMENT, deployment TEXT NOT NULL,"
       "  instance_id TEXT NOT NULL, time INTEGER NOT NULL, stream TEXT NOT NULL,"
       "  line TEXT NOT NULL);"
       "CREATE INDEX logs_deployment ON logs (deployment, seq);"},
      // Version 2: projects, a tenant's grouping of deployments (names unique per tenant); a
      // deployment names at most one ("" = none).
      {2,
       "CREATE TABLE projects (tenant TEXT NOT NULL, name TEXT NOT NULL,"
       "  description TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (tenant, name));"
       "ALTER TABLE deployments ADD COLUMN project TEXT NOT NULL DEFAULT '';"
       "CREATE INDEX deployments_project ON deployments (tenant, project);"},
  };
  return *schema;
}

std::int64_t Micros(Timestamp t) { return t.time_since_epoch().count(); }
Timestamp FromMicros(std::int64_t v) { return Timestamp(std::chrono::microseconds(v)); }

constexpr std::string_view kDeploymentColumns =
    "tenant, name, state, reason, message, environment, branch, source, build_hash, "
    "manifest_json, build_dir, config_json, instances_desired, instances_explicit, revision, "
    "created_at, updated_at, project";

Result<DeploymentRow> ReadDeployment(db::Statement& st) {
  DeploymentRow d;
  LUNAL_ASSIGN_OR_RETURN(d.tenant, st.ColumnText(0));
  LUNAL_ASSIGN_OR_RETURN(d.name, st.ColumnText(1));
  LUNAL_ASSIGN_OR_RETURN(d.state, st.ColumnText(2));
  LUNAL_ASSIGN_OR_RETURN(d.reason, st.ColumnText(3));
  LUNAL_ASSIGN_OR_RETURN(d.message, st.ColumnText(4));
  LUNAL_ASSIGN_OR_RETURN(d.environment, st.ColumnText(5));
  LUNAL_ASSIGN_OR_RETURN(d.branch, st.ColumnText(6));
  LUNAL_ASSIGN_OR_RETURN(d.source_json, st.ColumnText(7));
  LUNAL_ASSIGN_OR_RETURN(d.build_hash, st.ColumnText(8));
  LUNAL_ASSIGN_OR_RETURN(d.manifest_json, st.ColumnText(9));
  LUNAL_ASSIGN_OR_RETURN(d.build_dir, st.ColumnText(10));
  LUNAL_ASSIGN_OR_RETURN(d.config_json, st.ColumnText(11));
  LUNAL_ASSIGN_OR_RETURN(d.instances_desired, st.ColumnInt(12));
  LUNAL_ASSIGN_OR_RETURN(std::int64_t explicit_count, st.ColumnInt(13));
  d.instances_explicit = explicit_count != 0;
  LUNAL_ASSIGN_OR_RETURN(d.revision, st.ColumnInt(14));
  LUNAL_ASSIGN_OR_RETURN(std::int64_t created, st.ColumnInt(15));
  LUNAL_ASSIGN_OR_RETURN(std::int64_t updated, st.ColumnInt(16));
  d.created_at = FromMicros(created);
  d.updated_at = FromMicros(updated);
  LUNAL_ASSIGN_OR_RETURN(d.project, st.ColumnText(17));
  return d;
}

Result<InstanceRow> ReadInstance(db::Statement& st) {
  InstanceRow r;
  LUNAL_ASSIGN_OR_RETURN(r.id, st.ColumnText(0));
  LUNAL_ASSIGN_OR_RETURN(r.deployment, st.ColumnText(1));
  LUNAL_ASSIGN_OR_RETURN(r.state, st.ColumnText(2));
  LUNAL_ASSIGN_OR_RETURN(r.address, st.ColumnText(3));
  LUNAL_ASSIGN_OR_RETURN(r.build_hash, st.ColumnText(4));
  LUNAL_ASSIGN_OR_RETURN(std::int64_t started, st.ColumnInt(5));
  r.started_at = FromMicros(started);
  LUNAL_ASSIGN_OR_RETURN(r.reason, st.ColumnText(6));
  return r;
}

Result<std::optional<TenantRow>> ReadTenant(db::Statement& st) {
  LUNAL_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<TenantRow>();
  TenantRow t;
  LUNAL_ASSIGN_OR_RETURN(t.name, st.ColumnText(0));
  LUNAL_ASSIGN_OR_RETURN(std::int64_t admin, st.ColumnInt(1));
  t.admin = admin != 0;
  return std::optional<TenantRow>(std::move(t));
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::filesystem::path& file) {
  LUNAL_ASSIGN_OR_RETURN(db::Database db, db::Database::Open(file));
  LUNAL_RETURN_IF_ERROR(db::Migrate(db, Schema()));
  return std::unique_ptr<Store>(new Store(std::move(db)));
}

Status Store::CreateTenant(const TenantRow& tenant, std::string_view token_sha256_hex,
                           Timestamp now) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(db::Transaction tx, db::Transaction::Begin(db_));
  LUNAL_ASSIGN_OR_RETURN(db::Statement get, db_.Prepare("SELECT 1 FROM tenants WHERE name = ?1"));
  LUNAL_RETURN_IF_ERROR(get.Bind(1, tenant.name));
  LUNAL_ASSIGN_OR_RETURN(bool exists, get.Step());
  get.Reset();
  if (exists) return Conflict("control.tenant.exists", "tenant {} already exists", tenant.name);
  LUNAL_ASSIGN_OR_RETURN(db::Statement put, db_.Prepare("INSERT INTO tenants VALUES (?1, ?2, ?3)"));
  LUNAL_RETURN_IF_ERROR(put.BindAll(tenant.name, tenant.admin ? 1 : 0, Micros(now)));
  LUNAL_RETURN_IF_ERROR(put.Run());
  LUNAL_ASSIGN_OR_RETURN(db::Statement tok, db_.Prepare("INSERT INTO tokens VALUES (?1, ?2)"));
  LUNAL_RETURN_IF_ERROR(tok.BindAll(token_sha256_hex, tenant.name));
  LUNAL_RETURN_IF_ERROR(tok.Run());
  return tx.Commit();
}

Status Store::AddToken(std::string_view token_sha256_hex, std::string_view tenant) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(db::Statement st, db_.Prepare("INSERT INTO tokens VALUES (?1, ?2)"));
  LUNAL_RETURN_IF_ERROR(st.BindAll(token_sha256_hex, tenant));
  return st.Run();
}

Result<std::optional<TenantRow>> Store::TenantForToken(std::string_view token_sha256_hex) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(db::Statement st,
                         db_.Prepare("SELECT t.name, t.admin FROM tokens k JOIN tenants t "
                                     "ON t.name = k.tenant WHERE k.sha256 = ?1"));
  LUNAL_RETURN_IF_ERROR(st.Bind(1, token_sha256_hex));
  return ReadTenant(st);
}

Result<std::optional<TenantRow>> Store::GetTenant(std::string_view name) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(db::Statement st,
                         db_.Prepare("SELECT name, admin FROM tenants WHERE name = ?1"));
  LUNAL_RETURN_IF_ERROR(st.Bind(1, name));
  return ReadTenant(st);
}

Status Store::InsertUpload(const UploadRow& u) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(db::Statement st,
                         db_.Prepare("INSERT INTO uploads VALUES (?1, ?2, ?3, ?4, ?5)"));
  LUNAL_RETURN_IF_ERROR(st.BindAll(u.id, u.tenant, u.path, u.sha256, u.bytes));
  return st.Run();
}

Result<std::optional<UploadRow>> Store::GetUpload(std::string_view id) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(
      db::Statement st,
      db_.Prepare("SELECT id, tenant, path, sha256, bytes FROM uploads WHERE id = ?1"));
  LUNAL_RETURN_IF_ERROR(st.Bind(1, id));
  LUNAL_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<UploadRow>();
  UploadRow u;
  LUNAL_ASSIGN_OR_RETURN(u.id, st.ColumnText(0));
  LUNAL_ASSIGN_OR_RETURN(u.tenant, st.ColumnText(1));
  LUNAL_ASSIGN_OR_RETURN(u.path, st.ColumnText(2));
  LUNAL_ASSIGN_OR_RETURN(u.sha256, st.ColumnText(3));
  LUNAL_ASSIGN_OR_RETURN(u.bytes, st.ColumnInt(4));
  return std::optional<UploadRow>(std::move(u));
}

Result<std::optional<DeploymentRow>> Store::GetDeployment(std::string_view name) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(
      db::Statement st,
      db_.Prepare(fmt::format("SELECT {} FROM deployments WHERE name = ?1", kDeploymentColumns)));
  LUNAL_RETURN_IF_ERROR(st.Bind(1, name));
  LUNAL_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<DeploymentRow>();
  LUNAL_ASSIGN_OR_RETURN(DeploymentRow d, ReadDeployment(st));
  return std::optional<DeploymentRow>(std::move(d));
}

Result<std::vector<DeploymentRow>> Store::ListDeployments(std::optional<std::string_view> tenant) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(
      db::Statement st,
      db_.Prepare(fmt::format("SELECT {} FROM deployments WHERE ?1 IS NULL OR tenant = ?1 "
                              "ORDER BY name",
                              kDeploymentColumns)));
  if (tenant) {
    LUNAL_RETURN_IF_ERROR(st.Bind(1, *tenant));
  } else {
    LUNAL_RETURN_IF_ERROR(st.BindNull(1));
  }
  std::vector<DeploymentRow> out;
  while (true) {
    LUNAL_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    LUNAL_ASSIGN_OR_RETURN(DeploymentRow d, ReadDeployment(st));
    out.push_back(std::move(d));
  }
  return out;
}

Status Store::PutDeployment(const DeploymentRow& d) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(
      db::Statement st,
      db_.Prepare(fmt::format("INSERT OR REPLACE INTO deployments ({}) VALUES (?1, ?2, ?3, ?4, "
                              "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
                              kDeploymentColumns)));
  LUNAL_RETURN_IF_ERROR(st.BindAll(d.tenant, d.name, d.state, d.reason, d.message, d.environment,
                                   d.branch, d.source_json, d.build_hash, d.manifest_json,
                                   d.build_dir, d.config_json, d.instances_desired,
                                   d.instances_explicit ? 1 : 0, d.revision, Micros(d.created_at),
                                   Micros(d.updated_at), d.project));
  return st.Run();
}

Status Store::InsertProject(const ProjectRow& p) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(db::Statement st,
                         db_.Prepare("INSERT OR IGNORE INTO projects (tenant, name, description, "
                                     "created_at) VALUES (?1, ?2, ?3, ?4)"));
  LUNAL_RETURN_IF_ERROR(st.BindAll(p.tenant, p.name, p.description, Micros(p.created_at)));
  LUNAL_RETURN_IF_ERROR(st.Run());
  if (db_.Changes() == 0) {
    return Conflict("control.project.exists", "project {} already exists", p.name);
  }
  return Status::Ok();
}

Result<std::vector<ProjectRow>> Store::Projects(std::string_view tenant,
                                                std::optional<std::string_view> name) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(
      db::Statement st,
      db_.Prepare("SELECT tenant, name, description, created_at FROM projects "
                  "WHERE tenant = ?1 AND (?2 IS NULL OR name = ?2) ORDER BY name"));
  LUNAL_RETURN_IF_ERROR(st.Bind(1, tenant));
  if (name) {
    LUNAL_RETURN_IF_ERROR(st.Bind(2, *name));
  } else {
    LUNAL_RETURN_IF_ERROR(st.BindNull(2));
  }
  std::vector<ProjectRow> out;
  while (true) {
    LUNAL_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    ProjectRow p;
    LUNAL_ASSIGN_OR_RETURN(p.tenant, st.ColumnText(0));
    LUNAL_ASSIGN_OR_RETURN(p.name, st.ColumnText(1));
    LUNAL_ASSIGN_OR_RETURN(p.description, st.ColumnText(2));
    LUNAL_ASSIGN_OR_RETURN(std::int64_t created, st.ColumnInt(3));
    p.created_at = FromMicros(created);
    out.push_back(std::move(p));
  }
  return out;
}

Result<bool> Store::DeleteProject(std::string_view tenant, std::string_view name) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(db::Statement st,
                         db_.Prepare("DELETE FROM projects WHERE tenant = ?1 AND name = ?2"));
  LUNAL_RETURN_IF_ERROR(st.BindAll(tenant, name));
  LUNAL_RETURN_IF_ERROR(st.Run());
  return db_.Changes() > 0;
}

Result<std::vector<InstanceRow>> Store::Instances(std::string_view deployment) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(
      db::Statement st,
      db_.Prepare("SELECT id, deployment, state, address, build_hash, started_at, reason FROM "
                  "instances WHERE deployment = ?1 ORDER BY started_at, id"));
  LUNAL_RETURN_IF_ERROR(st.Bind(1, deployment));
  std::vector<InstanceRow> out;
  while (true) {
    LUNAL_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    LUNAL_ASSIGN_OR_RETURN(InstanceRow r, ReadInstance(st));
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::optional<InstanceRow>> Store::GetInstance(std::string_view id) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(
      db::Statement st,
      db_.Prepare("SELECT id, deployment, state, address, build_hash, started_at, reason FROM "
                  "instances WHERE id = ?1"));
  LUNAL_RETURN_IF_ERROR(st.Bind(1, id));
  LUNAL_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<InstanceRow>();
  LUNAL_ASSIGN_OR_RETURN(InstanceRow r, ReadInstance(st));
  return std::optional<InstanceRow>(std::move(r));
}

Status Store::PutInstance(const InstanceRow& r) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(
      db::Statement st,
      db_.Prepare("INSERT OR REPLACE INTO instances VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  LUNAL_RETURN_IF_ERROR(st.BindAll(r.id, r.deployment, r.state, r.address, r.build_hash,
                                   Micros(r.started_at), r.reason));
  return st.Run();
}

Result<std::int64_t> Store::AddEvent(EventRow e) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(db::Statement st,
                         db_.Prepare("INSERT INTO events (deployment, time, kind, message, data) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5)"));
  LUNAL_RETURN_IF_ERROR(st.BindAll(e.deployment, Micros(e.time), e.kind, e.message, e.data_json));
  LUNAL_RETURN_IF_ERROR(st.Run());
  return db_.LastInsertRowId();
}

Result<std::vector<EventRow>> Store::Events(std::string_view deployment, std::int64_t after,
                                            std::int64_t limit) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(
      db::Statement st, db_.Prepare("SELECT seq, deployment, time, kind, message, data FROM events "
                                    "WHERE deployment = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"));
  LUNAL_RETURN_IF_ERROR(st.BindAll(deployment, after, limit));
  std::vector<EventRow> out;
  while (true) {
    LUNAL_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    EventRow e;
    LUNAL_ASSIGN_OR_RETURN(e.seq, st.ColumnInt(0));
    LUNAL_ASSIGN_OR_RETURN(e.deployment, st.ColumnText(1));
    LUNAL_ASSIGN_OR_RETURN(std::int64_t t, st.ColumnInt(2));
    e.time = FromMicros(t);
    LUNAL_ASSIGN_OR_RETURN(e.kind, st.ColumnText(3));
    LUNAL_ASSIGN_OR_RETURN(e.message, st.ColumnText(4));
    LUNAL_ASSIGN_OR_RETURN(e.data_json, st.ColumnText(5));
    out.push_back(std::move(e));
  }
  return out;
}

Status Store::AddLogs(const std::vector<LogRow>& rows) {
  if (rows.empty()) return Status::Ok();
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(db::Transaction tx, db::Transaction::Begin(db_));
  LUNAL_ASSIGN_OR_RETURN(db::Statement st,
                         db_.Prepare("INSERT INTO logs (deployment, instance_id, time, stream, "
                                     "line) VALUES (?1, ?2, ?3, ?4, ?5)"));
  for (const LogRow& l : rows) {
    LUNAL_RETURN_IF_ERROR(
        st.BindAll(l.deployment, l.instance_id, Micros(l.time), l.stream, l.line));
    LUNAL_RETURN_IF_ERROR(st.Run());
  }
  return tx.Commit();
}

Result<std::vector<LogRow>> Store::Logs(std::string_view deployment, std::int64_t after,
                                        std::string_view instance_id, std::int64_t limit) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(
      db::Statement st,
      db_.Prepare("SELECT seq, deployment, instance_id, time, stream, line FROM logs "
                  "WHERE deployment = ?1 AND seq > ?2 AND (?3 = '' OR instance_id = ?3) "
                  "ORDER BY seq LIMIT ?4"));
  LUNAL_RETURN_IF_ERROR(st.BindAll(deployment, after, instance_id, limit));
  std::vector<LogRow> out;
  while (true) {
    LUNAL_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    LogRow l;
    LUNAL_ASSIGN_OR_RETURN(l.seq, st.ColumnInt(0));
    LUNAL_ASSIGN_OR_RETURN(l.deployment, st.ColumnText(1));
    LUNAL_ASSIGN_OR_RETURN(l.instance_id, st.ColumnText(2));
    LUNAL_ASSIGN_OR_RETURN(std::int64_t t, st.ColumnInt(3));
    l.time = FromMicros(t);
    LUNAL_ASSIGN_OR_RETURN(l.stream, st.ColumnText(4));
    LUNAL_ASSIGN_OR_RETURN(l.line, st.ColumnText(5));
    out.push_back(std::move(l));
  }
  return out;
}

Status Store::PutAttestation(const AttestationRow& a) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(db::Statement st,
                         db_.Prepare("INSERT INTO attestations VALUES (?1, ?2, ?3, ?4, ?5)"));
  LUNAL_RETURN_IF_ERROR(
      st.BindAll(a.id, a.deployment, a.instance_id, a.bundle_json, Micros(a.created_at)));
  return st.Run();
}

Result<std::optional<AttestationRow>> Store::LatestAttestation(std::string_view deployment) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(
      db::Statement st,
      db_.Prepare("SELECT id, deployment, instance_id, bundle, created_at FROM attestations "
                  "WHERE deployment = ?1 ORDER BY created_at DESC, rowid DESC LIMIT 1"));
  LUNAL_RETURN_IF_ERROR(st.Bind(1, deployment));
  LUNAL_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<AttestationRow>();
  AttestationRow a;
  LUNAL_ASSIGN_OR_RETURN(a.id, st.ColumnText(0));
  LUNAL_ASSIGN_OR_RETURN(a.deployment, st.ColumnText(1));
  LUNAL_ASSIGN_OR_RETURN(a.instance_id, st.ColumnText(2));
  LUNAL_ASSIGN_OR_RETURN(a.bundle_json, st.ColumnText(3));
  LUNAL_ASSIGN_OR_RETURN(std::int64_t t, st.ColumnInt(4));
  a.created_at = FromMicros(t);
  return std::optional<AttestationRow>(std::move(a));
}

Status Store::PutSignature(const SignatureRow& s) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(db::Statement st,
                         db_.Prepare("INSERT INTO signatures VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  LUNAL_RETURN_IF_ERROR(st.BindAll(s.deployment, s.build_hash, s.signature, s.message,
                                   s.developer_id, s.key_id, Micros(s.created_at)));
  return st.Run();
}

Result<std::optional<SignatureRow>> Store::LatestSignature(std::string_view deployment,
                                                           std::string_view build_hash) {
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(
      db::Statement st,
      db_.Prepare("SELECT deployment, build_hash, signature, message, developer_id, key_id, "
                  "created_at FROM signatures WHERE deployment = ?1 AND build_hash = ?2 "
                  "ORDER BY created_at DESC, rowid DESC LIMIT 1"));
  LUNAL_RETURN_IF_ERROR(st.BindAll(deployment, build_hash));
  LUNAL_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<SignatureRow>();
  SignatureRow s;
  LUNAL_ASSIGN_OR_RETURN(s.deployment, st.ColumnText(0));
  LUNAL_ASSIGN_OR_RETURN(s.build_hash, st.ColumnText(1));
  LUNAL_ASSIGN_OR_RETURN(s.signature, st.ColumnText(2));
  LUNAL_ASSIGN_OR_RETURN(s.message, st.ColumnText(3));
  LUNAL_ASSIGN_OR_RETURN(s.developer_id, st.ColumnText(4));
  LUNAL_ASSIGN_OR_RETURN(s.key_id, st.ColumnText(5));
  LUNAL_ASSIGN_OR_RETURN(std::int64_t t, st.ColumnInt(6));
  s.created_at = FromMicros(t);
  return std::optional<SignatureRow>(std::move(s));
}

}  // namespace lunal::control::internal
