// configfs-tsm: the numbered steps of configfs_tsm.h. ABI facts and their sources:
// docs/formats/configfs-tsm.md ([ABI] Documentation/ABI/testing/configfs-tsm-report, [SRC]
// drivers/virt/coco/guest/report.c, formerly drivers/virt/coco/tsm.c).
#include "lunal/attest/configfs_tsm.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <thread>
#include <utility>

#include "evidence_check.h"
#include "lunal/common/encoding.h"
#include "lunal/common/log.h"
#include "lunal/crypto/random.h"
#include "sysfs_io.h"

namespace lunal::attest {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPrefix = "attest.configfs";

// Every attribute a report entry can hold [ABI]. Only used to empty an entry that is a plain
// directory (not configfs, where rmdir removes the attributes itself).
constexpr std::array<std::string_view, 11> kAttributeNames = {"inblob",
                                                              "outblob",
                                                              "auxblob",
                                                              "manifestblob",
                                                              "provider",
                                                              "generation",
                                                              "privlevel",
                                                              "privlevel_floor",
                                                              "service_provider",
                                                              "service_guid",
                                                              "service_manifest_version"};

Status CheckRoot(const fs::path& root) {
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return Unavailable("attest.configfs.unavailable",
                         "{} does not exist (configfs not mounted at /sys/kernel/config, or a "
                         "kernel without CONFIG_TSM_REPORTS, Linux 6.7+)",
                         root.string());
    }
    return internal::ErrnoStatus(errno, kPrefix, "root", "stat", root);
  }
  if (!S_ISDIR(st.st_mode)) {
    return Unavailable("attest.configfs.unavailable", "{} is not a directory", root.string());
  }
  return Status::Ok();
}

// One report instance: <root>/lunal-<16 hex>, removed when this goes out of scope.
class Entry {
 public:
  explicit Entry(fs::path root) : root_(std::move(root)) {}
  Entry(const Entry&) = delete;
  Entry& operator=(const Entry&) = delete;
  ~Entry() {
    if (!created_) return;
    Status status = Remove();
    if (!status.ok()) {
      log::Warn("attest.configfs.entry_left_behind",
                {{"path", path_.string()}, {"error", status.ToString()}});
    }
  }

  // mkdir with a fresh random name; a name collision (EEXIST) draws another, four times at most.
  Status Create() {
    for (int i = 0; i < 4; ++i) {
      path_ = root_ / ("lunal-" + HexEncode(crypto::RandomBytes(8)));
      if (::mkdir(path_.c_str(), 0700) == 0) {
        created_ = true;
        return Status::Ok();
      }
      if (errno != EEXIST) return internal::ErrnoStatus(errno, kPrefix, "entry", "mkdir", path_);
    }
    return Unavailable("attest.configfs.io", "mkdir in {}: four random names already taken",
                       root_.string());
  }

  // configfs removes an item's attributes with the rmdir [SRC tsm_report_drop_item]. A plain
  // directory (a tree emulated in user space) refuses while it holds files: then the ABI's
  // attribute names, and only those, are unlinked first.
  Status Remove() {
    if (!created_) return Status::Ok();
    if (::rmdir(path_.c_str()) != 0) {
      if (errno != ENOTEMPTY && errno != EEXIST) {
        return internal::ErrnoStatus(errno, kPrefix, "entry", "rmdir", path_);
      }
      for (std::string_view name : kAttributeNames) {
        fs::path file = path_ / name;
        if (::unlink(file.c_str()) != 0 && errno != ENOENT) {
          return internal::ErrnoStatus(errno, kPrefix, "entry", "unlink", file);
        }
      }
      if (::rmdir(path_.c_str()) != 0) {
        return internal::ErrnoStatus(errno, kPrefix, "entry", "rmdir", path_);
      }
    }
    created_ = false;
    return Status::Ok();
  }

  // configfs creates the attributes with the directory; an emulated tree may lag (options).
  Status WaitForAttributes(std::chrono::milliseconds wait) const {
    fs::path generation = path_ / "generation";
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (::access(generation.c_str(), F_OK) != 0) {
      if (errno != ENOENT)
        return internal::ErrnoStatus(errno, kPrefix, "entry", "stat", generation);
      if (std::chrono::steady_clock::now() >= deadline) {
        return Unavailable("attest.configfs.not_tsm_entry",
                           "{} has no generation attribute after mkdir: {} is not a configfs-tsm "
                           "report directory",
                           path_.string(), root_.string());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return Status::Ok();
  }

  Result<std::string> Provider() const {
    return internal::ReadAttribute(path_ / "provider", kPrefix, "provider");
  }

  // [SRC tsm_report_generation_show]: "%lu\n".
  Result<std::uint64_t> Generation() const {
    fs::path file = path_ / "generation";
    LUNAL_ASSIGN_OR_RETURN(std::string text, internal::ReadAttribute(file, kPrefix, "generation"));
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
      return Malformed("attest.configfs.bad_generation", "{}: {:?} is not a decimal number",
                       file.string(), text);
    }
    return value;
  }

  const fs::path& path() const { return path_; }

 private:
  fs::path root_;
  fs::path path_;
  bool created_ = false;
};

struct Blobs {
  std::uint64_t generation_before = 0;
  std::uint64_t generation_after = 0;
  Bytes outblob;
  Bytes auxblob;
};

// Steps 3-6 of configfs_tsm.h in `entry`.
Result<Blobs> RequestReport(const Entry& entry, const ConfigfsTsmOptions& options,
                            std::span<const std::uint8_t, kReportDataSize> report_data) {
  Blobs blobs;
  LUNAL_ASSIGN_OR_RETURN(blobs.generation_before, entry.Generation());
  // [ABI] inblob: up to 64 bytes; we always write exactly 64 in one write. configfs commits a
  // binary attribute when the file is closed and cannot report a failure there: the generation
  // check below is what proves the write took effect.
  LUNAL_RETURN_IF_ERROR(
      internal::WriteExisting(entry.path() / "inblob", report_data, kPrefix, "inblob"));
  // [SRC tsm_report_read]: reading generates the report when the request changed since the last
  // one; EFBIG past the kernel's maximum maps to outblob_too_large.
  LUNAL_ASSIGN_OR_RETURN(
      blobs.outblob,
      internal::ReadBounded(entry.path() / "outblob", options.max_outblob, kPrefix, "outblob"));
  if (blobs.outblob.empty()) {
    return Unavailable("attest.configfs.empty_outblob", "{}: the provider returned no report",
                       (entry.path() / "outblob").string());
  }
  // [ABI] auxblob: optional, its visibility depends on the provider, may be empty.
  LUNAL_ASSIGN_OR_RETURN(std::optional<Bytes> aux,
                         internal::ReadBoundedIfExists(entry.path() / "auxblob",
                                                       options.max_auxblob, kPrefix, "auxblob"));
  if (aux) blobs.auxblob = std::move(*aux);
  LUNAL_ASSIGN_OR_RETURN(blobs.generation_after, entry.Generation());
  return blobs;
}

}  // namespace

Result<TeeType> TeeForProvider(std::string_view provider) {
  if (provider == "tdx_guest") return TeeType::kTdx;
  if (provider == "sev_guest") return TeeType::kSnp;
  return Unsupported("attest.configfs.unknown_provider",
                     "configfs-tsm provider {:?}: Lunal reads tdx_guest and sev_guest reports",
                     std::string(provider));
}

Result<std::unique_ptr<ConfigfsTsmAttester>> ConfigfsTsmAttester::Open(ConfigfsTsmOptions options) {
  LUNAL_RETURN_IF_ERROR(CheckRoot(options.root));
  Entry probe(options.root);
  LUNAL_RETURN_IF_ERROR(probe.Create());
  LUNAL_RETURN_IF_ERROR(probe.WaitForAttributes(options.attribute_wait));
  LUNAL_ASSIGN_OR_RETURN(std::string provider, probe.Provider());
  LUNAL_ASSIGN_OR_RETURN(TeeType tee, TeeForProvider(provider));
  LUNAL_RETURN_IF_ERROR(probe.Remove());
  return std::unique_ptr<ConfigfsTsmAttester>(
      new ConfigfsTsmAttester(std::move(options), tee, std::move(provider)));
}

Result<Evidence> ConfigfsTsmAttester::Attest(
    std::span<const std::uint8_t, kReportDataSize> report_data) {
  std::lock_guard lock(mutex_);
  LUNAL_RETURN_IF_ERROR(CheckRoot(options_.root));
  std::uint64_t seen_before = 0;
  std::uint64_t seen_after = 0;
  int attempts = std::max(options_.max_attempts, 1);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    Entry entry(options_.root);
    LUNAL_RETURN_IF_ERROR(entry.Create());
    LUNAL_RETURN_IF_ERROR(entry.WaitForAttributes(options_.attribute_wait));
    LUNAL_ASSIGN_OR_RETURN(std::string provider, entry.Provider());
    if (provider != provider_) {
      return Unavailable("attest.configfs.provider_changed",
                         "{}: provider is {:?}, was {:?} when the attester was opened",
                         entry.path().string(), provider, provider_);
    }
    LUNAL_ASSIGN_OR_RETURN(Blobs blobs, RequestReport(entry, options_, report_data));
    LUNAL_RETURN_IF_ERROR(entry.Remove());
    // [ABI] generation "increments each time @inblob or any option is written": a new entry
    // starts at 0 [SRC: the state is zero-allocated], and our one write makes it 1. Anything
    // else means someone else wrote to our entry, and the report may not be ours.
    if (blobs.generation_before != 0 || blobs.generation_after != 1) {
      seen_before = blobs.generation_before;
      seen_after = blobs.generation_after;
      log::Warn("attest.configfs.generation_race", {{"attempt", attempt},
                                                    {"generation_before", blobs.generation_before},
                                                    {"generation_after", blobs.generation_after}});
      continue;
    }
    LUNAL_RETURN_IF_ERROR(internal::CheckReportData(tee_, blobs.outblob, report_data, kPrefix,
                                                    "configfs-tsm outblob"));
    Evidence evidence;
    evidence.tee = tee_;
    evidence.quote = std::move(blobs.outblob);
    evidence.aux_blob = std::move(blobs.auxblob);
    evidence.provider = provider_;
    evidence.generation = blobs.generation_after;
    if (tee_ == TeeType::kTdx && !options_.ccel_path.empty()) {
      LUNAL_ASSIGN_OR_RETURN(
          std::optional<Bytes> ccel,
          internal::ReadBoundedIfExists(options_.ccel_path, options_.max_ccel, kPrefix, "ccel"));
      if (ccel) evidence.event_log = std::move(*ccel);
    }
    return evidence;
  }
  return Unavailable("attest.configfs.generation_race",
                     "{}: in each of {} attempts another writer changed the report request "
                     "(generation {} before our write and {} after reading outblob; want 0 and 1)",
                     options_.root.string(), attempts, seen_before, seen_after);
}

Status ConfigfsTsmAttester::ExtendRtmr(int /*index*/, ByteSpan /*digest*/, ByteSpan /*event*/) {
  return Unsupported("attest.rtmr.unsupported",
                     "configfs-tsm: the report ABI cannot extend RTMRs (Linux 6.16's tsm-mr "
                     "attributes can, but Lunal does not yet keep the runtime event log that "
                     "must travel with them)");
}

}  // namespace lunal::attest
