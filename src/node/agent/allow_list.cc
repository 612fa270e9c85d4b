// The allow-list a node holds (node.h step 3; docs/formats/allow-list.md): the operator-signed
// DSSE envelope, verified against the pinned operator key, never older than the newest version
// this node has accepted (persisted, so a restart cannot be rolled back either).
#include <algorithm>
#include <charconv>

#include "internal.h"
#include "lunal/common/files.h"

namespace lunal::node::internal {

AllowListHolder::AllowListHolder(crypto::PublicKey operator_key, std::filesystem::path version_file,
                                 std::function<Result<std::string>()> source,
                                 std::int64_t highest_seen)
    : operator_key_(std::move(operator_key)),
      version_file_(std::move(version_file)),
      source_(std::move(source)),
      highest_seen_(highest_seen) {}

Result<std::int64_t> AllowListHolder::LoadHighestVersion(const std::filesystem::path& file) {
  auto text = ReadFileIfExists(file, {.max_bytes = 64, .no_follow = true});
  if (!text.ok()) {
    return Unavailable("node.state.io", "{}: {}", file.string(), text.error().message());
  }
  if (!text->has_value()) return std::int64_t{0};
  std::string_view s = **text;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  std::int64_t version = -1;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), version);
  if (ec != std::errc() || end != s.data() + s.size() || version < 0) {
    return Malformed("node.state.bad_version", "{}: {:?} is not a non-negative integer",
                     file.string(), s);
  }
  return version;
}

bool AllowListHolder::ListedLocked(std::string_view tenant, std::string_view deployment,
                                   std::string_view build_hash) const {
  if (!held_) return false;
  const cds::AllowListEntry* entry = held_->Find(tenant, deployment);
  if (entry == nullptr) return false;
  return std::find(entry->build_hashes.begin(), entry->build_hashes.end(), build_hash) !=
         entry->build_hashes.end();
}

Status AllowListHolder::RefreshLocked() {
  if (!source_) {
    return Unavailable("node.allow_list.unavailable", "the node has no allow-list source");
  }
  Result<std::string> text = source_();
  if (!text.ok()) {
    return Unavailable("node.allow_list.unavailable", "fetching the allow-list: {}",
                       text.error().ToString());
  }
  auto verified = cds::VerifyManifestEnvelope(*text, operator_key_);
  if (!verified.ok()) {
    // A list the pinned operator key did not sign (or that does not parse) is never held: the
    // one that was held stays in force.
    return PolicyViolation("node.allow_list.bad_signature",
                           "the allow-list offered to this node is refused: {}",
                           verified.error().ToString());
  }
  const std::int64_t version = verified->list.version;
  if (version < highest_seen_) {
    return PolicyViolation("node.allow_list.rollback",
                           "the allow-list offered has version {}, this node has accepted {}",
                           version, highest_seen_);
  }
  if (version > highest_seen_) {
    // Persisted before it is used: a crash after this point cannot forget the version.
    if (Status s = WriteFileAtomically(version_file_, std::to_string(version) + "\n", 0600);
        !s.ok()) {
      return Unavailable("node.state.io", "recording allow-list version {}: {}", version,
                         s.message());
    }
    highest_seen_ = version;
  }
  held_ = std::move(verified->list);
  return Status::Ok();
}

Status AllowListHolder::Check(std::string_view tenant, std::string_view deployment,
                              std::string_view build_hash) {
  std::lock_guard lock(mu_);
  if (ListedLocked(tenant, deployment, build_hash)) return Status::Ok();
  LUNAL_RETURN_IF_ERROR(RefreshLocked());
  if (ListedLocked(tenant, deployment, build_hash)) return Status::Ok();
  return PolicyViolation("node.allow_list.not_listed",
                         "allow-list version {} does not name {} for tenant {}, deployment {}",
                         held_ ? held_->version : 0, build_hash, tenant, deployment);
}

}  // namespace lunal::node::internal
