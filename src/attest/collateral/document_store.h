// The on-disk cache of fetched collateral (docs/formats/collateral-cache.md): one folder per
// service (<cache_dir>/pcs, <cache_dir>/kds), each with
//   index.json           what is cached: kind, key, files, SHA-256s, URL, fetched/issued/nextUpdate
//   docs/<sha256>.<ext>  the documents (and issuer chains) exactly as served, named by content
//   lock                 flock(2) held while the folder is written
// A document is written first (content-addressed, atomic), then the index (atomic), then files
// the index no longer names are removed: a crash leaves the old index or the new one, each naming
// complete files. Nothing read back is trusted: the sources re-verify every document (signatures
// to the pinned roots) before using it, and an entry whose file is missing or whose SHA-256
// differs is dropped (and fetched again).
//
// Private to attest/collateral. Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"

namespace lunal::attest::collateral::internal {

struct StoredDocument {
  std::string kind;          // DocumentInfo::kind: "tdx_tcb_info", "snp_vcek", ...
  std::string key;           // DocumentInfo::key: "fmspc=50806f000000", "Milan/<hwid>/<tcb>", ...
  Bytes body;                // as served
  std::string issuer_chain;  // PEM from the response header (PCS), or empty
  std::string url;
  Timestamp fetched;
  std::optional<Timestamp> issued;       // issueDate / thisUpdate / notBefore
  std::optional<Timestamp> next_update;  // nextUpdate / notAfter

  std::string Id() const { return kind + "/" + key; }
};

class DocumentStore {
 public:
  // Creates `dir` (mode 0700) when missing and loads index.json. A missing index is an empty
  // store; an unreadable or malformed one, or a damaged entry, is logged and ignored (what it
  // named is fetched again). Errors: collateral.cache.io (kUnavailable) when `dir` cannot be
  // created.
  static Result<std::unique_ptr<DocumentStore>> Open(const std::filesystem::path& dir);

  std::optional<StoredDocument> Get(const std::string& id) const;
  // Only the validity window of a document, without copying it (the per-verification path).
  struct Window {
    std::optional<Timestamp> issued;
    std::optional<Timestamp> next_update;
  };
  std::optional<Window> WindowOf(const std::string& id) const;
  std::vector<StoredDocument> All() const;
  // Bumped by every Put (after the map changed): callers rebuild what they derive from the store
  // when it changes. Lock-free.
  std::uint64_t generation() const;

  // Writes the document, then the index (merged with what other processes wrote meanwhile), then
  // removes files no entry names. Errors: collateral.cache.io (kUnavailable; the in-memory store
  // is updated anyway, so this process keeps serving what it fetched).
  Status Put(StoredDocument document);

  const std::filesystem::path& dir() const { return dir_; }

 private:
  explicit DocumentStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
  Status Write(const StoredDocument& document);

  const std::filesystem::path dir_;
  std::mutex write_mu_;    // one writer of the folder at a time (held across fsyncs)
  mutable std::mutex mu_;  // the in-memory map, never held across I/O
  std::map<std::string, StoredDocument> documents_;  // by Id()
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace lunal::attest::collateral::internal
