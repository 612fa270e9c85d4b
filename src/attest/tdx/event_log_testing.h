// Test support for the event log tests: the real CCELs in ../shared/evidence and helpers that
// read quotes' RTMRs and edit log bytes (offsets come from parsed events, never typed by hand).
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>

#include "lunal/attest/tdx/event_log.h"
#include "lunal/attest/tdx/quote.h"
#include "test_quotes.h"

namespace lunal::attest::tdx::testing {

// A real CCEL: the log region as captured (with its padding), what it holds, and the quote it
// replays to (empty when none in ../shared pairs with it).
struct RealLog {
  std::string path;      // relative to ../shared/evidence
  std::size_t events;    // TCG_PCR_EVENT2 records
  std::size_t log_size;  // bytes through the last record
  std::uint8_t fill;     // padding byte
  std::uint32_t header_mr_index;
  std::string vendor_info;
  std::string quote;          // the quote whose RTMRs it reproduces ("" if none)
  std::array<bool, 4> match;  // per RTMR, against `quote`
};
inline void PrintTo(const RealLog& log, std::ostream* os) { *os << log.path; }

inline constexpr char kCosLog[] = "go-tdx-guest/testing/testdata/ccel/ccel_data.dat";
inline constexpr char kCosQuote[] = "go-tdx-guest/testing/testdata/ccel/cos-113-tdx-quote.dat";
inline constexpr char kLiveQuote[] =
    "lunal-attestation-rs/crates/attestation/test_data/tdx_quote_live.dat";

// Found with `find ../shared/evidence -iname '*ccel*'`; sizes and counts checked against an
// independent reading (and, for td-shim's log, trustee's parse_tdx_claims_expected.json).
inline const std::array<RealLog, 6>& RealLogs() {
  static const std::array<RealLog, 6> logs = {{
      {kCosLog, 43, 18101, 0xFF, 1, "", kCosQuote, {true, true, true, true}},
      {"lunal-attestation-rs/crates/attestation/test_data/tdx_ccel_live2.dat",
       20,
       2120,
       0xFF,
       1,
       "",
       kLiveQuote,
       {true, true, true, true}},
      // The README's negative pairing: same boot, RTMR2 differs.
      {"lunal-attestation-rs/crates/attestation/test_data/tdx_ccel_live.bin",
       20,
       2120,
       0xFF,
       1,
       "",
       kLiveQuote,
       {true, true, false, true}},
      {"lunal-attestation-rs/crates/attestation/test_data/CCEL_data",
       5,
       9822,
       0x00,
       0,
       "td-shim",
       "",
       {}},
      {"trustee/deps/verifier/test_data/CCEL_data", 5, 9822, 0x00, 0, "td-shim", "", {}},
      {"trustee/deps/verifier/test_data/CCEL_data_ovmf", 20, 2120, 0xFF, 1, "", "", {}},
  }};
  return logs;
}

inline std::array<Bytes, 4> QuoteRtmrs(std::string_view quote_path) {
  Bytes quote = ReadEvidence(quote_path);
  auto view = ParseQuote(quote);
  EXPECT_TRUE(view.ok()) << view.error();
  std::array<Bytes, 4> out;
  if (!view.ok()) return out;
  for (std::size_t i = 0; i < 4; ++i) {
    out[i].assign(view->body.rtmr[i].begin(), view->body.rtmr[i].end());
  }
  return out;
}

inline EventLog MustParse(ByteSpan bytes) {
  auto log = ParseEventLog(bytes);
  EXPECT_TRUE(log.ok()) << log.error();
  return log.ok() ? *std::move(log) : EventLog{};
}

// Offsets within a record of a single-algorithm (SHA-384) log.
inline constexpr std::size_t kDigestCountAt = 8;
inline constexpr std::size_t kAlgIdAt = 12;
inline constexpr std::size_t kDigestAt = 14;
inline constexpr std::size_t kEventSizeAt = kDigestAt + 48;
inline constexpr std::size_t kDataAt = kEventSizeAt + 4;

}  // namespace lunal::attest::tdx::testing
