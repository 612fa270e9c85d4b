#include "collateral_fields.h"

#include <algorithm>
#include <utility>

namespace lunal::attest::tdx::internal {

Status DocFields::Refile(Status status) const {
  constexpr std::string_view kJson = "json.";
  const std::string& reason = status.reason();
  if (status.ok() || !reason.starts_with(kJson)) return status;
  std::string_view what = std::string_view(reason).substr(kJson.size());
  if (what != "missing_field" && what != "wrong_type" && what != "out_of_range") return status;
  return Status(status.code(), fmt::format("{}.{}", prefix_, what), status.message());
}

Status DocFields::Error(Code code, std::string_view what, std::string message) const {
  return Status(code, fmt::format("{}.{}", prefix_, what), std::move(message));
}

Result<std::string> DocFields::String(const Json& object, std::string_view key,
                                      std::string_view path) const {
  auto r = JsonString(object, key, path);
  if (!r.ok()) return Refile(r.error());
  return std::move(r).value();
}

Result<const Json*> DocFields::Object(const Json& object, std::string_view key,
                                      std::string_view path) const {
  auto r = JsonObject(object, key, path);
  if (!r.ok()) return Refile(r.error());
  return *r;
}

Result<const Json*> DocFields::Array(const Json& object, std::string_view key,
                                     std::string_view path) const {
  auto r = JsonArray(object, key, path);
  if (!r.ok()) return Refile(r.error());
  if ((*r)->empty()) {
    return Error(Code::kMalformed, key == "tcbLevels" ? "empty_tcb_levels" : "empty_array",
                 fmt::format("{}: must be a non-empty array", JsonPath(path, key)));
  }
  return *r;
}

Result<std::uint64_t> DocFields::Uint(const Json& object, std::string_view key,
                                      std::string_view path, std::uint64_t max) const {
  auto r = JsonUint(object, key, path);
  if (!r.ok()) return Refile(r.error());
  if (*r > max) {
    return Error(Code::kMalformed, "out_of_range",
                 fmt::format("{}: {} is larger than {}", JsonPath(path, key), *r, max));
  }
  return *r;
}

Result<std::int64_t> DocFields::Int(const Json& object, std::string_view key,
                                    std::string_view path) const {
  auto r = JsonInt(object, key, path);
  if (!r.ok()) return Refile(r.error());
  return *r;
}

Result<Bytes> DocFields::Hex(const Json& object, std::string_view key, std::string_view path,
                             std::size_t n) const {
  LUNAL_ASSIGN_OR_RETURN(std::string text, String(object, key, path));
  if (text.size() != 2 * n) {
    return Error(Code::kMalformed, "bad_length",
                 fmt::format("{}: expected {} hex digits ({} bytes), got {} characters",
                             JsonPath(path, key), 2 * n, n, text.size()));
  }
  auto bytes = HexDecode(text);
  if (!bytes.ok()) {
    return Error(Code::kMalformed, "bad_hex",
                 fmt::format("{}: {}", JsonPath(path, key), bytes.error().message()));
  }
  return std::move(bytes).value();
}

Result<Timestamp> DocFields::Date(const Json& object, std::string_view key,
                                  std::string_view path) const {
  LUNAL_ASSIGN_OR_RETURN(std::string text, String(object, key, path));
  auto t = ParseRfc3339(text);
  if (!t.ok()) {
    return Error(Code::kMalformed, "bad_date",
                 fmt::format("{}: {}", JsonPath(path, key), t.error().message()));
  }
  return *t;
}

Result<TcbStatus> DocFields::StatusField(const Json& object, std::string_view key,
                                         std::string_view path,
                                         std::span<const TcbStatus> allowed) const {
  LUNAL_ASSIGN_OR_RETURN(std::string text, String(object, key, path));
  std::optional<TcbStatus> status = TcbStatusFromName(text);
  if (!status || std::find(allowed.begin(), allowed.end(), *status) == allowed.end()) {
    return Error(Code::kMalformed, "bad_tcb_status",
                 fmt::format("{}: \"{}\" is not a valid status here", JsonPath(path, key), text));
  }
  return *status;
}

Result<std::vector<std::string>> DocFields::AdvisoryIds(const Json& object,
                                                        std::string_view path) const {
  std::vector<std::string> ids;
  auto it = object.find("advisoryIDs");
  if (it == object.end()) return ids;  // optional (PCS API v4 TCB level schema)
  std::string ids_path = JsonPath(path, "advisoryIDs");
  if (!it->is_array()) {
    return Error(Code::kMalformed, "wrong_type",
                 fmt::format("{}: expected array, got {}", ids_path, JsonTypeName(*it)));
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    const Json& id = (*it)[i];
    if (!id.is_string()) {
      return Error(
          Code::kMalformed, "wrong_type",
          fmt::format("{}: expected string, got {}", JsonPath(ids_path, i), JsonTypeName(id)));
    }
    ids.push_back(id.get<std::string>());
  }
  return ids;
}

Result<IsvTcbLevel> DocFields::IsvLevel(const Json& level, std::string_view path,
                                        std::span<const TcbStatus> allowed) const {
  if (!level.is_object()) {
    return Error(Code::kMalformed, "wrong_type",
                 fmt::format("{}: expected object, got {}", path, JsonTypeName(level)));
  }
  IsvTcbLevel out{};
  LUNAL_ASSIGN_OR_RETURN(const Json* tcb, Object(level, "tcb", path));
  LUNAL_ASSIGN_OR_RETURN(std::uint64_t isv_svn,
                         Uint(*tcb, "isvsvn", JsonPath(path, "tcb"), 0xFFFF));
  out.isv_svn = static_cast<std::uint16_t>(isv_svn);
  LUNAL_ASSIGN_OR_RETURN(out.tcb_date, Date(level, "tcbDate", path));
  LUNAL_ASSIGN_OR_RETURN(out.status, StatusField(level, "tcbStatus", path, allowed));
  LUNAL_ASSIGN_OR_RETURN(out.advisory_ids, AdvisoryIds(level, path));
  return out;
}

Result<std::vector<IsvTcbLevel>> DocFields::IsvLevels(const Json& object, std::string_view key,
                                                      std::string_view path,
                                                      std::span<const TcbStatus> allowed) const {
  LUNAL_ASSIGN_OR_RETURN(const Json* array, Array(object, key, path));
  std::string levels_path = JsonPath(path, key);
  std::vector<IsvTcbLevel> levels;
  for (std::size_t i = 0; i < array->size(); ++i) {
    LUNAL_ASSIGN_OR_RETURN(IsvTcbLevel level,
                           IsvLevel((*array)[i], JsonPath(levels_path, i), allowed));
    levels.push_back(std::move(level));
  }
  // QVL keeps these in a std::set ordered by isvsvn, highest first, refusing duplicates
  // (TdxModuleIdentity.cpp); a stable sort gives the same order for a well-formed document.
  std::stable_sort(levels.begin(), levels.end(), [](const IsvTcbLevel& a, const IsvTcbLevel& b) {
    return a.isv_svn > b.isv_svn;
  });
  for (std::size_t i = 1; i < levels.size(); ++i) {
    if (levels[i].isv_svn == levels[i - 1].isv_svn) {
      return Error(Code::kMalformed, "duplicate_tcb_level",
                   fmt::format("{}: two levels with isvsvn {}", levels_path, levels[i].isv_svn));
    }
  }
  return levels;
}

}  // namespace lunal::attest::tdx::internal
