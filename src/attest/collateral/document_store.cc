#include "document_store.h"

#include <set>
#include <system_error>
#include <utility>

#include "lunal/common/encoding.h"
#include "lunal/common/files.h"
#include "lunal/common/json.h"
#include "lunal/common/log.h"
#include "lunal/crypto/digest.h"

namespace lunal::attest::collateral::internal {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kIndex = "index.json";
constexpr std::string_view kDocs = "docs";
constexpr std::size_t kMaxIndexBytes = std::size_t{16} << 20;
constexpr std::size_t kMaxDocumentBytes = std::size_t{4} << 20;

Status CacheIo(const Status& s) {
  return s.ok() ? s : Unavailable("collateral.cache.io", s.message());
}

std::string Sha256Hex(ByteSpan bytes) { return HexEncode(crypto::Sha256(bytes)); }

// docs/<sha256>.<ext>, the extension from the content (for people listing the folder).
std::string FileNameFor(ByteSpan bytes) {
  std::string_view text = AsStringView(bytes);
  std::string_view ext = text.starts_with("{")            ? ".json"
                         : text.starts_with("-----BEGIN") ? ".pem"
                                                          : ".der";
  return std::string(kDocs) + "/" + Sha256Hex(bytes) + std::string(ext);
}

// A file named by an index entry: "docs/<64 hex>.<ext>", nothing else (no "..", no absolute path).
bool IsDocFileName(std::string_view name) {
  if (!name.starts_with("docs/")) return false;
  name.remove_prefix(5);
  const std::size_t dot = name.find('.');
  if (dot != 64) return false;
  for (char c : name.substr(0, 64)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  const std::string_view ext = name.substr(64);
  return ext == ".json" || ext == ".pem" || ext == ".der";
}

Json OptionalTime(const std::optional<Timestamp>& t) {
  return t ? Json(FormatRfc3339(*t)) : Json(nullptr);
}

Json EntryJson(const StoredDocument& d) {
  Json entry = {{"kind", d.kind},
                {"key", d.key},
                {"file", FileNameFor(d.body)},
                {"sha256", Sha256Hex(d.body)},
                {"url", d.url},
                {"fetched", FormatRfc3339(d.fetched)},
                {"issued", OptionalTime(d.issued)},
                {"next_update", OptionalTime(d.next_update)}};
  if (!d.issuer_chain.empty()) {
    entry["issuer_chain_file"] = FileNameFor(AsBytes(d.issuer_chain));
    entry["issuer_chain_sha256"] = Sha256Hex(AsBytes(d.issuer_chain));
  }
  return entry;
}

Result<std::optional<Timestamp>> ReadOptionalTime(const Json& entry, std::string_view name) {
  auto it = entry.find(name);
  if (it == entry.end() || it->is_null()) return std::optional<Timestamp>();
  if (!it->is_string()) return Malformed("collateral.cache.bad_index", "{} is not a string", name);
  LUNAL_ASSIGN_OR_RETURN(Timestamp t, ParseRfc3339(it->get<std::string>()));
  return std::optional<Timestamp>(t);
}

// Reads docs/<name> and checks its SHA-256 against the index.
Result<Bytes> ReadChecked(const fs::path& dir, const std::string& name, const std::string& sha256) {
  if (!IsDocFileName(name)) {
    return Malformed("collateral.cache.bad_index", "\"{}\" is not a cache file name", name);
  }
  LUNAL_ASSIGN_OR_RETURN(std::string text,
                         ReadFile(dir / name, {.max_bytes = kMaxDocumentBytes, .no_follow = true}));
  Bytes bytes = ToBytes(text);
  if (Sha256Hex(bytes) != sha256) {
    return Malformed("collateral.cache.digest_mismatch", "{}: SHA-256 differs from the index",
                     (dir / name).string());
  }
  return bytes;
}

Result<StoredDocument> ParseEntry(const fs::path& dir, const Json& entry) {
  if (!entry.is_object()) return Malformed("collateral.cache.bad_index", "entry not an object");
  StoredDocument d;
  LUNAL_ASSIGN_OR_RETURN(d.kind, JsonString(entry, "kind"));
  LUNAL_ASSIGN_OR_RETURN(d.key, JsonString(entry, "key"));
  LUNAL_ASSIGN_OR_RETURN(d.url, JsonString(entry, "url"));
  LUNAL_ASSIGN_OR_RETURN(std::string fetched, JsonString(entry, "fetched"));
  LUNAL_ASSIGN_OR_RETURN(d.fetched, ParseRfc3339(fetched));
  LUNAL_ASSIGN_OR_RETURN(d.issued, ReadOptionalTime(entry, "issued"));
  LUNAL_ASSIGN_OR_RETURN(d.next_update, ReadOptionalTime(entry, "next_update"));
  LUNAL_ASSIGN_OR_RETURN(std::string file, JsonString(entry, "file"));
  LUNAL_ASSIGN_OR_RETURN(std::string sha256, JsonString(entry, "sha256"));
  LUNAL_ASSIGN_OR_RETURN(d.body, ReadChecked(dir, file, sha256));
  LUNAL_ASSIGN_OR_RETURN(std::optional<std::string> chain_file,
                         JsonOptionalString(entry, "issuer_chain_file"));
  if (chain_file) {
    LUNAL_ASSIGN_OR_RETURN(std::string chain_sha256, JsonString(entry, "issuer_chain_sha256"));
    LUNAL_ASSIGN_OR_RETURN(Bytes chain, ReadChecked(dir, *chain_file, chain_sha256));
    d.issuer_chain = ToString(chain);
  }
  return d;
}

// The index on disk as a map from entry id to its JSON; empty when absent or unreadable.
std::map<std::string, Json> ReadIndexEntries(const fs::path& dir) {
  std::map<std::string, Json> out;
  auto text = ReadFileIfExists(dir / kIndex, {.max_bytes = kMaxIndexBytes, .no_follow = true});
  if (!text.ok() || !text->has_value()) {
    if (!text.ok()) {
      log::Warn("collateral.cache.index_unreadable",
                {{"path", (dir / kIndex).string()}, {"error", text.error().ToString()}});
    }
    return out;
  }
  auto index = ParseJson(**text);
  const Json* documents = nullptr;
  if (index.ok() && index->is_object() && index->value("version", Json()) == 1) {
    auto it = index->find("documents");
    if (it != index->end() && it->is_array()) documents = &*it;
  }
  if (documents == nullptr) {
    log::Warn("collateral.cache.index_malformed",
              {{"path", (dir / kIndex).string()},
               {"error", index.ok() ? "expected {\"version\": 1, \"documents\": [...]}"
                                    : index.error().ToString()}});
    return out;
  }
  for (const Json& entry : *documents) {
    if (entry.is_object() && entry.contains("kind") && entry["kind"].is_string() &&
        entry.contains("key") && entry["key"].is_string()) {
      out[entry["kind"].get<std::string>() + "/" + entry["key"].get<std::string>()] = entry;
    }
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<DocumentStore>> DocumentStore::Open(const fs::path& dir) {
  LUNAL_RETURN_IF_ERROR(CacheIo(EnsureDirectory(dir, 0700)));
  LUNAL_RETURN_IF_ERROR(CacheIo(EnsureDirectory(dir / kDocs, 0700)));
  std::unique_ptr<DocumentStore> store(new DocumentStore(dir));
  for (const auto& [id, entry] : ReadIndexEntries(dir)) {
    auto document = ParseEntry(dir, entry);
    if (!document.ok()) {
      log::Warn("collateral.cache.entry_dropped",
                {{"path", dir.string()}, {"entry", id}, {"error", document.error().ToString()}});
      continue;
    }
    store->documents_[id] = std::move(document).value();
  }
  return store;
}

std::optional<StoredDocument> DocumentStore::Get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = documents_.find(id);
  if (it == documents_.end()) return std::nullopt;
  return it->second;
}

std::optional<DocumentStore::Window> DocumentStore::WindowOf(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = documents_.find(id);
  if (it == documents_.end()) return std::nullopt;
  return Window{it->second.issued, it->second.next_update};
}

std::vector<StoredDocument> DocumentStore::All() const {
  std::lock_guard lock(mu_);
  std::vector<StoredDocument> out;
  out.reserve(documents_.size());
  for (const auto& [id, d] : documents_) out.push_back(d);
  return out;
}

std::uint64_t DocumentStore::generation() const {
  return generation_.load(std::memory_order_acquire);
}

Status DocumentStore::Put(StoredDocument document) {
  std::lock_guard write(write_mu_);
  Status written = Write(document);
  std::lock_guard lock(mu_);
  documents_[document.Id()] = std::move(document);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return written;
}

Status DocumentStore::Write(const StoredDocument& document) {
  // Other processes sharing the folder write under the same lock.
  LUNAL_ASSIGN_OR_RETURN(FileLock lock, [&]() -> Result<FileLock> {
    auto l = FileLock::Acquire(dir_ / "lock");
    if (!l.ok()) return CacheIo(l.error());
    return l;
  }());
  // 1. The document and its issuer chain, named by content (an existing file is the same bytes).
  auto write_doc = [&](ByteSpan bytes) -> Status {
    const fs::path path = dir_ / FileNameFor(bytes);
    std::error_code ec;
    if (fs::exists(path, ec)) return Status::Ok();
    return CacheIo(WriteFileAtomically(path, AsStringView(bytes), 0600));
  };
  LUNAL_RETURN_IF_ERROR(write_doc(document.body));
  if (!document.issuer_chain.empty()) {
    LUNAL_RETURN_IF_ERROR(write_doc(AsBytes(document.issuer_chain)));
  }
  // 2. The index, with this entry replaced and every other entry as on disk.
  std::map<std::string, Json> entries = ReadIndexEntries(dir_);
  entries[document.Id()] = EntryJson(document);
  Json list = Json::array();
  std::set<std::string> referenced;
  for (auto& [id, entry] : entries) {
    for (const char* field : {"file", "issuer_chain_file"}) {
      if (entry.contains(field) && entry[field].is_string()) referenced.insert(entry[field]);
    }
    list.push_back(std::move(entry));
  }
  Json index = {{"version", 1}, {"documents", std::move(list)}};
  LUNAL_RETURN_IF_ERROR(CacheIo(WriteFileAtomically(dir_ / kIndex, index.dump(2) + "\n", 0600)));
  // 3. Files no entry names (replaced documents, temporary files of a crashed writer).
  std::error_code ec;
  for (fs::directory_iterator it(dir_ / kDocs, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = std::string(kDocs) + "/" + it->path().filename().string();
    if (!referenced.contains(name)) RemoveFile(it->path()).IgnoreError();  // retried next Put
  }
  return Status::Ok();
}

}  // namespace lunal::attest::collateral::internal
