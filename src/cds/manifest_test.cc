#include "lunal/cds/manifest.h"

#include <gtest/gtest.h>

#include <functional>

#include "test_support.h"

namespace lunal::cds {
namespace {

using testing::BuildHash;

Json Good() {
  return Json{{"version", 4},
              {"issued_at", "2026-11-21T12:00:00Z"},
              {"entries",
               {{{"tenant", "acme"},
                 {"deployment", "api"},
                 {"build_hashes", {BuildHash('a')}},
                 {"measurements", {{"mr_td", {std::string(96, 'f')}}}},
                 {"allow_simulated", true},
                 {"min_tcb",
                  {{"tdx", {{"tee_tcb_svn", std::string(32, '0')}, {"pce_svn", 13}}},
                   {"snp", {{"microcode", 115}}}}}}}}};
}

TEST(AllowList, ParsesEveryField) {
  auto list = ParseAllowList(Good().dump());
  ASSERT_TRUE(list.ok()) << list.error();
  EXPECT_EQ(list->version, 4);
  const AllowListEntry* e = list->Find("acme", "api");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->build_hashes, std::vector<std::string>{BuildHash('a')});
  EXPECT_EQ(e->measurements.at("mr_td").size(), 1u);
  EXPECT_TRUE(e->allow_simulated);
  EXPECT_EQ(e->min_tcb.tdx_tee_tcb_svn->size(), 16u);
  EXPECT_EQ(*e->min_tcb.tdx_pce_svn, 13);
  EXPECT_EQ(*e->min_tcb.snp_microcode, 115);
  EXPECT_EQ(list->Find("acme", "web"), nullptr);
}

TEST(AllowList, RefusesMalformedFieldsByPath) {
  struct Case {
    const char* name;
    std::function<void(Json&)> mutate;
    const char* in_message;
  };
  const Case cases[] = {
      {"unknown top", [](Json& j) { j["extra"] = 1; }, "extra"},
      {"version 0", [](Json& j) { j["version"] = 0; }, "version"},
      {"bad time", [](Json& j) { j["issued_at"] = "yesterday"; }, "issued_at"},
      {"unknown entry member", [](Json& j) { j["entries"][0]["x"] = 1; }, "entries[0].x"},
      {"bad hash", [](Json& j) { j["entries"][0]["build_hashes"][0] = "sha256:ABC"; },
       "build_hashes[0]"},
      {"bad tenant", [](Json& j) { j["entries"][0]["tenant"] = "Acme Corp"; }, "tenant"},
      {"short mr_td", [](Json& j) { j["entries"][0]["measurements"]["mr_td"][0] = "ff"; },
       "mr_td[0]"},
      {"unknown measurement",
       [](Json& j) { j["entries"][0]["measurements"]["pcr7"] = Json::array(); }, "pcr7"},
      {"duplicate pair", [](Json& j) { j["entries"].push_back(j["entries"][0]); }, "entries[1]"},
      {"svn range", [](Json& j) { j["entries"][0]["min_tcb"]["snp"]["tee"] = 256; }, "tee"},
  };
  for (const Case& c : cases) {
    Json doc = Good();
    c.mutate(doc);
    auto list = ParseAllowList(doc.dump());
    ASSERT_FALSE(list.ok()) << c.name;
    EXPECT_EQ(list.error().reason(), "cds.manifest.bad_field") << c.name;
    EXPECT_NE(list.error().message().find(c.in_message), std::string::npos)
        << c.name << ": " << list.error().message();
  }
}

TEST(AllowList, EnvelopeNeedsTheRightTypeAndSigner) {
  auto op = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  auto other = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  const std::string good = testing::SignManifest(*op, 1, Good()["entries"]);
  EXPECT_TRUE(VerifyManifestEnvelope(good, *op->PublicKey()).ok());
  EXPECT_EQ(testing::ReasonOf(VerifyManifestEnvelope(good, *other->PublicKey())),
            "cds.manifest.bad_signature");
  crypto::DsseEnvelope env{
      .payload_type = "application/json", .payload = ToBytes(Good().dump()), .signatures = {}};
  env.signatures.push_back(*crypto::SignDsse(env, *op, ""));
  EXPECT_EQ(testing::ReasonOf(VerifyManifestEnvelope(crypto::SerializeDsse(env), *op->PublicKey())),
            "cds.manifest.bad_type");
}

TEST(Names, FollowDnsLabels) {
  EXPECT_TRUE(IsValidName("a"));
  EXPECT_TRUE(IsValidName("api-2"));
  EXPECT_FALSE(IsValidName(""));
  EXPECT_FALSE(IsValidName("-a"));
  EXPECT_FALSE(IsValidName("A"));
  EXPECT_FALSE(IsValidName("a/b"));
  EXPECT_FALSE(IsValidName(std::string(64, 'a')));
}

}  // namespace
}  // namespace lunal::cds
