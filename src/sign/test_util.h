// Helpers shared by the sign tests: SSH wire building and armoring.
#pragma once

#include <string>
#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/encoding.h"
#include "ssh_wire.h"

namespace lunal::sign::test {

inline Bytes Str(std::string_view s) {
  Bytes out;
  internal::AppendString(out, s);
  return out;
}

inline Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

inline Bytes StrB(ByteSpan b) {
  Bytes out;
  internal::AppendString(out, b);
  return out;
}

// PROTOCOL.sshsig §2: base64 in lines of 70 between the BEGIN and END lines.
inline std::string Armor(ByteSpan blob) {
  std::string b64 = Base64Encode(blob);
  std::string out = "-----BEGIN SSH SIGNATURE-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 70) out += b64.substr(i, 70) + "\n";
  return out + "-----END SSH SIGNATURE-----\n";
}

}  // namespace lunal::sign::test
