// The on-disk cache (document_store.h): round trip, content-addressed files, replacement and
// cleanup, damaged entries, a damaged index, two writers sharing one folder.
#include "document_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "lunal/common/encoding.h"
#include "lunal/common/files.h"
#include "lunal/common/json.h"
#include "lunal/crypto/digest.h"
#include "lunal/testing/testing.h"
#include "test_rows.h"

namespace lunal::attest::collateral::internal {
namespace {

namespace fs = std::filesystem;
using testing::T;

StoredDocument Doc(std::string key, std::string body, std::string chain = "") {
  return {.kind = "tdx_tcb_info",
          .key = std::move(key),
          .body = ToBytes(body),
          .issuer_chain = std::move(chain),
          .url = "https://pcs.example/tcb",
          .fetched = T("2026-03-31T00:00:00Z"),
          .issued = T("2026-03-16T22:21:30Z"),
          .next_update = T("2026-04-15T22:21:30Z")};
}

std::unique_ptr<DocumentStore> Open(const fs::path& dir) {
  auto store = DocumentStore::Open(dir);
  EXPECT_TRUE(store.ok()) << store.error();
  return store.ok() ? std::move(store).value() : nullptr;
}

std::vector<std::string> DocFiles(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir / "docs")) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

mode_t ModeOf(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 0777;
}

TEST(DocumentStore, RoundTripsEveryField) {
  lunal::testing::TempDir tmp;
  const fs::path dir = tmp / "pcs";
  {
    auto store = Open(dir);
    ASSERT_TRUE(store->Put(Doc("fmspc=50806f000000", "{\"tcbInfo\":1}", "-----BEGIN x")).ok());
    StoredDocument no_dates = Doc("td_qe", "der bytes");
    no_dates.kind = "tdx_qe_identity";
    no_dates.issued.reset();
    no_dates.next_update.reset();
    ASSERT_TRUE(store->Put(no_dates).ok());
    EXPECT_EQ(store->generation(), 2u);
  }
  EXPECT_EQ(ModeOf(dir) & 077, 0u);
  EXPECT_EQ(ModeOf(dir / "index.json"), 0600u);
  auto store = Open(dir);
  auto d = store->Get("tdx_tcb_info/fmspc=50806f000000");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(ToString(d->body), "{\"tcbInfo\":1}");
  EXPECT_EQ(d->issuer_chain, "-----BEGIN x");
  EXPECT_EQ(d->url, "https://pcs.example/tcb");
  EXPECT_EQ(d->fetched, T("2026-03-31T00:00:00Z"));
  EXPECT_EQ(d->issued, T("2026-03-16T22:21:30Z"));
  EXPECT_EQ(d->next_update, T("2026-04-15T22:21:30Z"));
  auto q = store->Get("tdx_qe_identity/td_qe");
  ASSERT_TRUE(q.has_value());
  EXPECT_FALSE(q->issued.has_value());
  EXPECT_EQ(store->All().size(), 2u);

  // Files are named by their SHA-256, with an extension from their content.
  const std::string body_name =
      HexEncode(crypto::Sha256(AsBytes(std::string_view("{\"tcbInfo\":1}")))) + ".json";
  EXPECT_THAT(DocFiles(dir), ::testing::Contains(body_name));
  EXPECT_EQ(DocFiles(dir).size(), 3u);  // two bodies and one chain
  EXPECT_EQ(ModeOf(dir / "docs" / body_name), 0600u);
}

TEST(DocumentStore, ReplacingADocumentRemovesTheOldFile) {
  lunal::testing::TempDir tmp;
  auto store = Open(tmp / "pcs");
  ASSERT_TRUE(store->Put(Doc("fmspc=50806f000000", "{\"v\":1}")).ok());
  const std::vector<std::string> before = DocFiles(tmp / "pcs");
  ASSERT_TRUE(store->Put(Doc("fmspc=50806f000000", "{\"v\":2}")).ok());
  const std::vector<std::string> after = DocFiles(tmp / "pcs");
  ASSERT_EQ(before.size(), 1u);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_NE(before, after);
  EXPECT_EQ(ToString(Open(tmp / "pcs")->Get("tdx_tcb_info/fmspc=50806f000000")->body), "{\"v\":2}");
}

TEST(DocumentStore, DamagedEntriesAreDroppedNotTrusted) {
  lunal::testing::TempDir tmp;
  const fs::path dir = tmp / "pcs";
  {
    auto store = Open(dir);
    ASSERT_TRUE(store->Put(Doc("fmspc=50806f000000", "{\"a\":1}")).ok());
    ASSERT_TRUE(store->Put(Doc("fmspc=90c06f000000", "{\"b\":1}")).ok());
  }
  // One file altered, its entry is dropped; the other is kept.
  const fs::path victim =
      dir / "docs" / (HexEncode(crypto::Sha256(AsBytes(std::string_view("{\"a\":1}")))) + ".json");
  ASSERT_TRUE(WriteFileAtomically(victim, "{\"a\":2}").ok());
  auto store = Open(dir);
  EXPECT_FALSE(store->Get("tdx_tcb_info/fmspc=50806f000000").has_value());
  EXPECT_TRUE(store->Get("tdx_tcb_info/fmspc=90c06f000000").has_value());

  // An index naming a file outside docs/ is not followed.
  auto index = ParseJson(lunal::testing::ReadFileText(dir / "index.json"));
  ASSERT_TRUE(index.ok());
  for (Json& entry : (*index)["documents"]) entry["file"] = "../../etc/passwd";
  ASSERT_TRUE(WriteFileAtomically(dir / "index.json", index->dump()).ok());
  EXPECT_TRUE(Open(dir)->All().empty());
}

TEST(DocumentStore, AMalformedIndexIsAnEmptyCacheThatCanBeWrittenAgain) {
  lunal::testing::TempDir tmp;
  const fs::path dir = tmp / "pcs";
  ASSERT_TRUE(EnsureDirectory(dir).ok());
  for (const char* text : {"not json", "{\"version\": 2, \"documents\": []}", "[]",
                           "{\"version\": 1, \"documents\": {}}"}) {
    SCOPED_TRACE(text);
    ASSERT_TRUE(WriteFileAtomically(dir / "index.json", text).ok());
    auto store = Open(dir);
    ASSERT_NE(store, nullptr);
    EXPECT_TRUE(store->All().empty());
  }
  auto store = Open(dir);
  ASSERT_TRUE(store->Put(Doc("fmspc=50806f000000", "{}")).ok());
  EXPECT_EQ(Open(dir)->All().size(), 1u);
}

TEST(DocumentStore, TwoWritersSharingAFolderKeepEachOthersEntries) {
  lunal::testing::TempDir tmp;
  const fs::path dir = tmp / "pcs";
  auto a = Open(dir);
  auto b = Open(dir);
  ASSERT_TRUE(a->Put(Doc("fmspc=50806f000000", "{\"a\":1}")).ok());
  ASSERT_TRUE(b->Put(Doc("fmspc=90c06f000000", "{\"b\":1}")).ok());
  auto reopened = Open(dir);
  EXPECT_EQ(reopened->All().size(), 2u);
  EXPECT_EQ(DocFiles(dir).size(), 2u);  // b's cleanup kept a's file: the index names it
}

TEST(DocumentStore, AFolderThatCannotBeCreated) {
  lunal::testing::TempDir tmp;
  lunal::testing::WriteFile(tmp / "file", "x");
  auto store = DocumentStore::Open(tmp / "file" / "pcs");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code(), Code::kUnavailable);
  EXPECT_EQ(store.error().reason(), "collateral.cache.io");
}

}  // namespace
}  // namespace lunal::attest::collateral::internal
