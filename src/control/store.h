// The control plane's SQLite store (private): one connection (lunal::db), WAL, a schema migrated
// at open, every method serialised behind one mutex. Rows are plain values; times are
// microseconds since the Unix epoch. Tenant scoping is the caller's job (api.cc): the store
// answers what it is asked.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/common/result.h"
#include "lunal/common/status.h"
#include "lunal/common/time.h"
#include "lunal/db/sqlite.h"

namespace lunal::control::internal {

struct TenantRow {
  std::string name = {};
  bool admin = false;
};

struct UploadRow {
  std::string id = {};
  std::string tenant = {};
  std::string path = {};
  std::string sha256 = {};
  std::int64_t bytes = 0;
};

struct DeploymentRow {
  std::string tenant = {};
  std::string name = {};
  std::string state = {};
  std::string reason = {};   // "" = null
  std::string message = {};  // "" = null
  std::string environment = "production";
  std::string branch = {};       // "" = null
  std::string source_json = {};  // the request's "source" object
  std::string build_hash = {};   // "" until built
  std::string manifest_json = {};
  std::string build_dir = {};
  std::string config_json = {};  // the effective lunal.config.yaml as JSON
  std::int64_t instances_desired = 1;
  bool instances_explicit = false;  // the request named "instances" (else the config decides)
  std::int64_t revision = 0;
  Timestamp created_at = {};
  Timestamp updated_at = {};
  std::string project = {};  // "" = none
};

struct ProjectRow {
  std::string tenant = {};
  std::string name = {};
  std::string description = {};
  Timestamp created_at = {};
};

struct InstanceRow {
  std::string id = {};
  std::string deployment = {};
  std::string state = {};  // starting | running | exited | stopped | failed
  std::string address = {};
  std::string build_hash = {};
  Timestamp started_at = {};
  std::string reason = {};
};

struct EventRow {
  std::int64_t seq = 0;
  std::string deployment = {};
  Timestamp time = {};
  std::string kind = {};
  std::string message = {};
  std::string data_json = "{}";
};

struct LogRow {
  std::int64_t seq = 0;
  std::string deployment = {};
  std::string instance_id = {};
  Timestamp time = {};
  std::string stream = {};
  std::string line = {};
};

struct AttestationRow {
  std::string id = {};
  std::string deployment = {};
  std::string instance_id = {};
  std::string bundle_json = {};
  Timestamp created_at = {};
};

struct SignatureRow {
  std::string deployment = {};
  std::string build_hash = {};
  std::string signature = {};
  std::string message = {};
  std::string developer_id = {};
  std::string key_id = {};
  Timestamp created_at = {};
};

class Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const std::filesystem::path& file);

  // Conflict control.tenant.exists.
  Status CreateTenant(const TenantRow& tenant, std::string_view token_sha256_hex, Timestamp now);
  Status AddToken(std::string_view token_sha256_hex, std::string_view tenant);
  Result<std::optional<TenantRow>> TenantForToken(std::string_view token_sha256_hex);
  Result<std::optional<TenantRow>> GetTenant(std::string_view name);

  Status InsertUpload(const UploadRow& upload);

  // Projects are per tenant. InsertProject: Conflict control.project.exists. Projects: the
  // tenant's (one, when `name` is given), by name. DeleteProject: whether one was deleted.
  Status InsertProject(const ProjectRow& project);
  Result<std::vector<ProjectRow>> Projects(std::string_view tenant,
                                           std::optional<std::string_view> name = std::nullopt);
  Result<bool> DeleteProject(std::string_view tenant, std::string_view name);
  Result<std::optional<UploadRow>> GetUpload(std::string_view id);

  Result<std::optional<DeploymentRow>> GetDeployment(std::string_view name);
  Result<std::vector<DeploymentRow>> ListDeployments(std::optional<std::string_view> tenant);
  // Insert, or replace every column of the row with this name.
  Status PutDeployment(const DeploymentRow& row);

  Result<std::vector<InstanceRow>> Instances(std::string_view deployment);
  Result<std::optional<InstanceRow>> GetInstance(std::string_view id);
  Status PutInstance(const InstanceRow& row);

  Result<std::int64_t> AddEvent(EventRow row);
  Result<std::vector<EventRow>> Events(std::string_view deployment, std::int64_t after,
                                       std::int64_t limit);
  // One transaction for the whole batch.
  Status AddLogs(const std::vector<LogRow>& rows);
  Result<std::vector<LogRow>> Logs(std::string_view deployment, std::int64_t after,
                                   std::string_view instance_id, std::int64_t limit);

  Status PutAttestation(const AttestationRow& row);
  Result<std::optional<AttestationRow>> LatestAttestation(std::string_view deployment);

  Status PutSignature(const SignatureRow& row);
  Result<std::optional<SignatureRow>> LatestSignature(std::string_view deployment,
                                                      std::string_view build_hash);

 private:
  explicit Store(db::Database db) : db_(std::move(db)) {}
  std::mutex mu_;
  db::Database db_;
};

}  // namespace lunal::control::internal
