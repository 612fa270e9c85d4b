// Typed, path-naming field access for the collateral documents (collateral.cc), with every error
// reason under the document's prefix ("tdx.tcb_info", "tdx.qe_identity"). Private to attest/tdx.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/attest/tdx/collateral.h"
#include "lunal/common/encoding.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"

namespace lunal::attest::tdx::internal {

class DocFields {
 public:
  explicit DocFields(std::string_view prefix) : prefix_(prefix) {}

  // Re-files a lunal::Json* accessor error ("json.missing_field") under the prefix
  // ("tdx.tcb_info.missing_field"), keeping code and message. Other statuses pass through.
  Status Refile(Status status) const;
  // An error with reason "<prefix>.<what>".
  Status Error(Code code, std::string_view what, std::string message) const;

  Result<std::string> String(const Json& object, std::string_view key, std::string_view path) const;
  Result<const Json*> Object(const Json& object, std::string_view key, std::string_view path) const;
  // A non-empty array.
  Result<const Json*> Array(const Json& object, std::string_view key, std::string_view path) const;
  // A non-negative JSON integer no greater than `max`.
  Result<std::uint64_t> Uint(const Json& object, std::string_view key, std::string_view path,
                             std::uint64_t max) const;
  Result<std::int64_t> Int(const Json& object, std::string_view key, std::string_view path) const;
  // Exactly 2 * n hex digits (either case).
  Result<Bytes> Hex(const Json& object, std::string_view key, std::string_view path,
                    std::size_t n) const;
  template <std::size_t N>
  Result<std::array<std::uint8_t, N>> HexArray(const Json& object, std::string_view key,
                                               std::string_view path) const {
    LUNAL_ASSIGN_OR_RETURN(Bytes bytes, Hex(object, key, path, N));
    std::array<std::uint8_t, N> out{};
    for (std::size_t i = 0; i < N; ++i) out[i] = bytes[i];
    return out;
  }
  Result<Timestamp> Date(const Json& object, std::string_view key, std::string_view path) const;
  // A tcbStatus string that is one of `allowed`.
  Result<TcbStatus> StatusField(const Json& object, std::string_view key, std::string_view path,
                                std::span<const TcbStatus> allowed) const;
  // Optional "advisoryIDs": an array of strings; empty when absent.
  Result<std::vector<std::string>> AdvisoryIds(const Json& object, std::string_view path) const;
  // An array of {tcb:{isvsvn}, tcbDate, tcbStatus, advisoryIDs?}, sorted highest isvsvn first,
  // duplicates refused.
  Result<std::vector<IsvTcbLevel>> IsvLevels(const Json& object, std::string_view key,
                                             std::string_view path,
                                             std::span<const TcbStatus> allowed) const;

 private:
  Result<IsvTcbLevel> IsvLevel(const Json& level, std::string_view path,
                               std::span<const TcbStatus> allowed) const;

  std::string_view prefix_;
};

}  // namespace lunal::attest::tdx::internal
