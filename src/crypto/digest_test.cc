#include "lunal/crypto/digest.h"

#include <gtest/gtest.h>

#include <string>

#include "test_support.h"

namespace lunal::crypto {
namespace {

using testing::Hex;
using testing::ToHex;

// FIPS 180-4 example vectors (NIST CSRC "SHA-2 examples": "abc" and the two-block message).
TEST(CryptoDigest, Sha2OfAbc) {
  EXPECT_EQ(ToHex(Sha256(AsBytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ToHex(Sha384(AsBytes("abc"))),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358"
            "baeca134c825a7");
  EXPECT_EQ(ToHex(Sha512(AsBytes("abc"))),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836"
            "ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

TEST(CryptoDigest, Sha256EmptyAndTwoBlock) {
  EXPECT_EQ(ToHex(Sha256({})), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(Sha256(AsBytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(CryptoDigest, DigestMatchesFixedSizeFunctions) {
  Bytes data = ToBytes("lunal");
  auto sha384 = Sha384(data);
  EXPECT_EQ(Digest(DigestAlgorithm::kSha384, data), Bytes(sha384.begin(), sha384.end()));
  EXPECT_EQ(DigestSize(DigestAlgorithm::kSha512), 64u);
  EXPECT_EQ(DigestAlgorithmName(DigestAlgorithm::kSha256), "SHA-256");
}

TEST(CryptoDigest, HasherInPiecesEqualsOneShotAndResets) {
  const std::string message(1000, 'x');
  for (DigestAlgorithm algorithm :
       {DigestAlgorithm::kSha256, DigestAlgorithm::kSha384, DigestAlgorithm::kSha512}) {
    Hasher hasher(algorithm);
    ByteSpan bytes = AsBytes(message);
    hasher.Update(bytes.first(1));
    hasher.Update(bytes.subspan(1, 500));
    hasher.Update(bytes.subspan(501));
    EXPECT_EQ(hasher.Finish(), Digest(algorithm, bytes));
    // After Finish the hasher starts over.
    hasher.Update(AsBytes("abc"));
    EXPECT_EQ(hasher.Finish(), Digest(algorithm, AsBytes("abc")));
    Hasher moved = std::move(hasher);
    EXPECT_EQ(moved.Finish(), Digest(algorithm, {}));
  }
}

// RFC 4231 §4.2, §4.3 and §4.7 (key longer than the block size).
TEST(CryptoDigest, HmacSha256Rfc4231) {
  EXPECT_EQ(ToHex(HmacSha256(Bytes(20, 0x0b), AsBytes("Hi There"))),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(ToHex(HmacSha256(AsBytes("Jefe"), AsBytes("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(ToHex(HmacSha256(Bytes(131, 0xaa),
                             AsBytes("Test Using Larger Than Block-Size Key - Hash Key First"))),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(CryptoDigest, HmacSha256EmptyKeyEqualsZeroKey) {
  // RFC 2104 §2: keys shorter than the block are zero-padded, so "" and 32 zero bytes agree.
  EXPECT_EQ(HmacSha256({}, AsBytes("data")), HmacSha256(Bytes(32, 0), AsBytes("data")));
  EXPECT_NE(HmacSha256({}, AsBytes("data")), HmacSha256(Bytes(1, 1), AsBytes("data")));
}

}  // namespace
}  // namespace lunal::crypto
