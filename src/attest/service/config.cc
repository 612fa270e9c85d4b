// ParseServiceConfig: the `attestation:` section of lunald's YAML file (schema in config.h and
// docs/protocols/attestation-service.md "Configuration").
#include "lunal/attest/service/config.h"

#include <fmt/format.h>

#include <array>
#include <fstream>
#include <sstream>

#include "lunal/yaml/reader.h"

namespace lunal::attest::service {
namespace {

namespace fs = std::filesystem;
using ConfigReader = yaml::Reader;  // the shared strict reader, reasons "config.*"

constexpr std::array<std::string_view, 9> kTopKeys = {
    "listen",   "threads", "auth",   "collateral", "trust_simulation_root",
    "attester", "token",   "limits", "verify"};

struct Parser {
  const ConfigReader& r;
  fs::path base;  // relative paths are taken from here
  ServiceConfig& config;

  Result<fs::path> Path(const YAML::Node& node, const std::string& field) const {
    LUNAL_ASSIGN_OR_RETURN(std::string text, r.String(node, field));
    fs::path path(text);
    return path.is_absolute() ? path : (base / path).lexically_normal();
  }

  Status Listen(const YAML::Node& node, const std::string& field) {
    // Kept inside its Result (not moved out): GCC 12 at -O2 reports a false "maybe-uninitialized"
    // on the moved-to string otherwise.
    const Result<std::string> listen = r.String(node, field);
    if (!listen.ok()) return listen.error();
    const std::string& text = *listen;
    // "host:port" or "[v6]:port"; the host is an IP literal (no name lookup, like the server).
    std::string host, port;
    if (text.starts_with('[')) {
      const std::size_t close = text.find("]:");
      if (close == std::string::npos) {
        return r.Error("config.bad_value", node, field, "expected \"[address]:port\"");
      }
      host = text.substr(1, close - 1);
      port = text.substr(close + 2);
    } else {
      const std::size_t colon = text.rfind(':');
      if (colon == std::string::npos || text.find(':') != colon) {
        return r.Error("config.bad_value", node, field,
                       "expected \"address:port\" (IPv6: \"[address]:port\")");
      }
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
    }
    unsigned value = 0;
    const bool digits = !port.empty() && port.size() <= 5 &&
                        port.find_first_not_of("0123456789") == std::string::npos;
    if (digits) value = static_cast<unsigned>(std::stoul(port));
    if (host.empty() || !digits || value > 65535) {
      return r.Error("config.bad_value", node, field,
                     fmt::format("\"{}\": expected an IP address and a port 0-65535", text));
    }
    config.bind_address = host;
    config.port = static_cast<std::uint16_t>(value);
    return Status();
  }

  Status Auth(const YAML::Node& node, const std::string& field) {
    static constexpr std::array<std::string_view, 1> kKeys = {"token_sha256"};
    return r.ForEachEntry(
        node, field, kKeys, [&](std::string_view, const YAML::Node& list, const std::string& f) {
          return r.ForEachElement(list, f, [&](const YAML::Node& item, const std::string& fi) {
            LUNAL_ASSIGN_OR_RETURN(Bytes digest, r.Hex(item, fi, 32));
            std::array<std::uint8_t, 32> d{};
            std::copy(digest.begin(), digest.end(), d.begin());
            config.token_sha256.push_back(d);
            return Status();
          });
        });
  }

  Status Collateral(const YAML::Node& node, const std::string& field) {
    static constexpr std::array<std::string_view, 3> kKeys = {"folders", "pcs", "kds"};
    static constexpr std::array<std::string_view, 2> kServiceKeys = {"base_url", "cache_dir"};
    CollateralConfig& c = config.collateral;
    return r.ForEachEntry(
        node, field, kKeys, [&](std::string_view key, const YAML::Node& v, const std::string& f) {
          if (key == "folders") {
            return r.ForEachElement(v, f, [&](const YAML::Node& item, const std::string& fi) {
              LUNAL_ASSIGN_OR_RETURN(fs::path p, Path(item, fi));
              c.folders.push_back(std::move(p));
              return Status();
            });
          }
          const bool pcs = key == "pcs";
          static constexpr std::array<std::string_view, 3> kPcsKeys = {"base_url", "cache_dir",
                                                                       "root_ca_crl_url"};
          std::string base_url, crl_url;
          fs::path cache_dir;
          LUNAL_RETURN_IF_ERROR(r.ForEachEntry(
              v, f, pcs ? std::span<const std::string_view>(kPcsKeys) : kServiceKeys,
              [&](std::string_view k, const YAML::Node& value, const std::string& fk) -> Status {
                if (k == "base_url") {
                  LUNAL_ASSIGN_OR_RETURN(base_url, r.String(value, fk));
                } else if (k == "root_ca_crl_url") {
                  LUNAL_ASSIGN_OR_RETURN(crl_url, r.String(value, fk));
                } else {
                  LUNAL_ASSIGN_OR_RETURN(cache_dir, Path(value, fk));
                }
                return Status();
              }));
          if (cache_dir.empty()) {
            return r.Error(
                "config.bad_value", v, f,
                fmt::format("{} needs cache_dir: fetched collateral is kept there", key));
          }
          if (pcs) {
            c.pcs = PcsConfig{.base_url = base_url.empty() ? PcsConfig{}.base_url : base_url,
                              .root_ca_crl_url = crl_url,
                              .cache_dir = cache_dir};
          } else {
            c.kds = KdsConfig{.base_url = base_url.empty() ? KdsConfig{}.base_url : base_url,
                              .cache_dir = cache_dir};
          }
          return Status();
        });
  }

  Status Attester(const YAML::Node& node, const std::string& field) {
    static constexpr std::array<std::string_view, 4> kKeys = {"type", "state_dir", "mr_td",
                                                              "configfs_root"};
    AttesterConfig& a = config.attester;
    bool typed = false;
    LUNAL_RETURN_IF_ERROR(r.ForEachEntry(
        node, field, kKeys,
        [&](std::string_view key, const YAML::Node& v, const std::string& f) -> Status {
          if (key == "type") {
            LUNAL_ASSIGN_OR_RETURN(std::string type, r.String(v, f));
            if (type == "none") {
              a.kind = AttesterKind::kNone;
            } else if (type == "configfs") {
              a.kind = AttesterKind::kConfigfs;
            } else if (type == "sim-tdx") {
              a.kind = AttesterKind::kSimTdx;
            } else {
              return r.Error("config.bad_value", v, f,
                             fmt::format("\"{}\": expected none, configfs or sim-tdx", type));
            }
            typed = true;
          } else if (key == "state_dir") {
            LUNAL_ASSIGN_OR_RETURN(a.state_dir, Path(v, f));
          } else if (key == "mr_td") {
            LUNAL_ASSIGN_OR_RETURN(a.mr_td, r.Hex(v, f, 48));
          } else {
            LUNAL_ASSIGN_OR_RETURN(a.configfs_root, Path(v, f));
          }
          return Status();
        }));
    if (!typed) return r.Error("config.bad_value", node, field, "needs type");
    const bool sim = a.kind == AttesterKind::kSimTdx;
    if (sim && a.state_dir.empty()) {
      return r.Error("config.bad_value", node, field, "type sim-tdx needs state_dir");
    }
    if (!sim && (!a.state_dir.empty() || !a.mr_td.empty())) {
      return r.Error("config.bad_value", node, field, "state_dir and mr_td are for type sim-tdx");
    }
    if (a.kind != AttesterKind::kConfigfs && !a.configfs_root.empty()) {
      return r.Error("config.bad_value", node, field, "configfs_root is for type configfs");
    }
    return Status();
  }

  Status Token(const YAML::Node& node, const std::string& field) {
    static constexpr std::array<std::string_view, 4> kKeys = {
        "issuer", "key_dir", "lifetime_seconds", "max_lifetime_seconds"};
    TokenConfig& t = config.token;
    LUNAL_RETURN_IF_ERROR(r.ForEachEntry(
        node, field, kKeys,
        [&](std::string_view key, const YAML::Node& v, const std::string& f) -> Status {
          if (key == "issuer") {
            LUNAL_ASSIGN_OR_RETURN(t.issuer, r.String(v, f));
          } else if (key == "key_dir") {
            LUNAL_ASSIGN_OR_RETURN(t.key_dir, Path(v, f));
          } else {
            LUNAL_ASSIGN_OR_RETURN(std::uint64_t s, r.UintInRange(v, f, 1, 7 * 24 * 3600));
            (key == "lifetime_seconds" ? t.lifetime : t.max_lifetime) =
                std::chrono::seconds(static_cast<std::int64_t>(s));
          }
          return Status();
        }));
    if (t.lifetime > t.max_lifetime) {
      return r.Error("config.bad_value", node, field,
                     "lifetime_seconds is longer than max_lifetime_seconds");
    }
    return Status();
  }

  Status Limits(const YAML::Node& node, const std::string& field) {
    static constexpr std::array<std::string_view, 4> kKeys = {
        "max_body_bytes", "max_evidence_bytes", "max_event_log_bytes", "max_certs"};
    ServiceLimits& l = config.limits;
    return r.ForEachEntry(
        node, field, kKeys,
        [&](std::string_view key, const YAML::Node& v, const std::string& f) -> Status {
          if (key == "max_certs") {
            LUNAL_ASSIGN_OR_RETURN(std::uint64_t n, r.UintInRange(v, f, 1, 16));
            l.max_certs = static_cast<std::size_t>(n);
            return Status();
          }
          LUNAL_ASSIGN_OR_RETURN(std::uint64_t n,
                                 r.UintInRange(v, f, 1024, std::uint64_t{256} << 20));
          (key == "max_body_bytes"       ? l.max_body_bytes
           : key == "max_evidence_bytes" ? l.max_evidence_bytes
                                         : l.max_event_log_bytes) = static_cast<std::size_t>(n);
          return Status();
        });
  }

  Status Verify(const YAML::Node& node, const std::string& field) {
    static constexpr std::array<std::string_view, 2> kKeys = {"allow_request_time", "policy"};
    return r.ForEachEntry(
        node, field, kKeys,
        [&](std::string_view key, const YAML::Node& v, const std::string& f) -> Status {
          if (key == "allow_request_time") {
            LUNAL_ASSIGN_OR_RETURN(config.allow_request_time, r.Bool(v, f));
          } else {
            LUNAL_ASSIGN_OR_RETURN(config.policy, Path(v, f));
          }
          return Status();
        });
  }

  Status Section(const YAML::Node& node) {
    return r.ForEachEntry(
        node, "attestation", kTopKeys,
        [&](std::string_view key, const YAML::Node& v, const std::string& f) -> Status {
          if (key == "listen") return Listen(v, f);
          if (key == "threads") {
            LUNAL_ASSIGN_OR_RETURN(std::uint64_t n, r.UintInRange(v, f, 1, 256));
            config.threads = static_cast<int>(n);
            return Status();
          }
          if (key == "auth") return Auth(v, f);
          if (key == "collateral") return Collateral(v, f);
          if (key == "trust_simulation_root") {
            LUNAL_ASSIGN_OR_RETURN(config.trust_simulation_root, Path(v, f));
            return Status();
          }
          if (key == "attester") return Attester(v, f);
          if (key == "token") return Token(v, f);
          if (key == "limits") return Limits(v, f);
          return Verify(v, f);
        });
  }
};

}  // namespace

Result<ServiceConfig> ParseServiceConfig(std::string_view yaml, const fs::path& source) {
  ServiceConfig config;
  config.source = source.string();
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return InvalidArgument("config.yaml_syntax", "{}:{}:{}: {}", config.source, e.mark.line + 1,
                           e.mark.column + 1, e.msg);
  }
  if (root.IsNull()) return config;
  ConfigReader reader(config.source, "config");
  if (!root.IsMap()) {
    return reader.Error("config.wrong_type", root, "(file)", "the file must be a mapping of roles");
  }
  YAML::Node section;
  for (const auto& entry : root) {
    if (entry.first.IsScalar() && entry.first.Scalar() == "attestation") section = entry.second;
  }
  if (!section.IsDefined() || section.IsNull()) return config;
  std::error_code ec;
  fs::path base = fs::absolute(source, ec).parent_path();
  Parser parser{reader, base, config};
  LUNAL_RETURN_IF_ERROR(parser.Section(section));
  return config;
}

Result<ServiceConfig> LoadServiceConfig(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return Unavailable("config.read_failed", "--config {}: cannot read the file", file.string());
  }
  std::ostringstream text;
  text << in.rdbuf();
  return ParseServiceConfig(text.str(), file);
}

}  // namespace lunal::attest::service
