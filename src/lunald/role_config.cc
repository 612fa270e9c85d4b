#include "role_config.h"

#include <fmt/format.h>

#include <stdexcept>

#include "lunal/common/log.h"
#include "lunal/net/client.h"

namespace lunal::lunald {

sigset_t BlockStopSignals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  return stop_signals;
}

void WaitForStopSignal(const sigset_t& stop_signals, std::string_view role) {
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  log::Info(fmt::format("{}.stopping", role),
            {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
}

Status NeedsConfig(std::string_view role) {
  return InvalidArgument("config.missing_field", "lunald {} needs --config with a `{}:` section",
                         role, role);
}

net::InternalErrorHook LogInternalError(std::string event) {
  return [event = std::move(event)](const net::HttpRequest& request, const Status& status) {
    log::Error(event, {{"path", request.path}, {"status", status.ToString()}});
  };
}

Result<RoleSection> RoleSection::Load(const std::string& file, std::string_view role) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::Exception& e) {
    return InvalidArgument("config.read_failed", "{}: {}", file, e.what());
  }
  YAML::Node section = root.IsMap() ? root[std::string(role)] : YAML::Node();
  if (!section || !section.IsMap()) {
    return InvalidArgument("config.missing_field", "{}: a `{}:` section is required", file, role);
  }
  return RoleSection(file, std::string(role), section);
}

Status RoleSection::Error(const YAML::Node& at, std::string_view field, std::string_view message,
                          std::string reason) const {
  const YAML::Mark m = at.Mark();
  return InvalidArgument(std::move(reason), "{}:{}:{}: {}.{}: {}", file_, m.line + 1, m.column + 1,
                         role_, field, message);
}

Status RoleSection::Missing(std::string_view field) const {
  return Error(node_, field, "required", "config.missing_field");
}

Result<std::uint64_t> RoleSection::Number(const YAML::Node& v, std::string_view field,
                                          std::uint64_t min, std::uint64_t max) const {
  try {
    if (v.IsScalar()) {
      const auto n = v.as<std::uint64_t>();
      if (n >= min && n <= max) return n;
    }
  } catch (const YAML::Exception&) {
  }
  return Error(v, field, fmt::format("expected an integer in [{}, {}]", min, max));
}

Result<std::string> RoleSection::Text(const YAML::Node& v, std::string_view field) const {
  if (!v.IsScalar() || v.Scalar().empty()) {
    return Error(v, field, "expected a non-empty string", "config.wrong_type");
  }
  return v.Scalar();
}

Result<std::filesystem::path> RoleSection::Path(const YAML::Node& v, std::string_view field) const {
  LUNAL_ASSIGN_OR_RETURN(std::string text, Text(v, field));
  return std::filesystem::path(file_).parent_path() / std::filesystem::path(text);
}

Status RoleSection::Url(const YAML::Node& v, std::string_view field, std::string& out) const {
  LUNAL_ASSIGN_OR_RETURN(out, Text(v, field));
  while (!out.empty() && out.back() == '/') out.pop_back();
  if (!net::ParseUrl(out).ok()) return Error(v, field, "expected an http(s) URL");
  return Status::Ok();
}

Status RoleSection::Listen(const YAML::Node& v, std::string_view field, std::string& host,
                           std::uint16_t& port) const {
  if (!v.IsScalar()) return Error(v, field, "expected host:port", "config.wrong_type");
  const std::string s = v.Scalar();
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return Error(v, field, "expected host:port");
  std::string h = s.substr(0, colon);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  try {
    std::size_t used = 0;
    const int p = std::stoi(s.substr(colon + 1), &used);
    if (used != s.size() - colon - 1 || p < 0 || p > 65535) throw std::out_of_range("port");
    port = static_cast<std::uint16_t>(p);
  } catch (const std::exception&) {
    return Error(v, field, "bad port");
  }
  host = std::move(h);
  return Status::Ok();
}

Result<bool> RoleSection::IdentityKey(const YAML::Node& v, std::string_view key,
                                      RoleIdentity& id) const {
  std::string* field = key == "tenant"       ? &id.tenant
                       : key == "deployment" ? &id.deployment
                       : key == "instance"   ? &id.instance
                                             : nullptr;
  if (field == nullptr) return false;
  LUNAL_ASSIGN_OR_RETURN(*field, Text(v, key));
  return true;
}

std::string ServiceUrl(std::string_view scheme, std::string_view host, std::uint16_t port) {
  return host.find(':') != std::string_view::npos ? fmt::format("{}://[{}]:{}", scheme, host, port)
                                                  : fmt::format("{}://{}:{}", scheme, host, port);
}

}  // namespace lunal::lunald
