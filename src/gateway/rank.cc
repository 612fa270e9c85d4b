// Rendezvous (highest-random-weight) hashing, docs/protocols/gateway.md "Stickiness".
#include <algorithm>
#include <string>

#include "lunal/common/bytes.h"
#include "lunal/crypto/digest.h"
#include "lunal/gateway/gateway.h"

namespace lunal::gateway {

namespace {

// SHA-256 over client_key ‖ 0x00 ‖ instance_id (the 0x00 separates the two so that ("ab", "c")
// and ("a", "bc") never collide), first 8 bytes read big-endian. `input` holds client_key ‖ 0x00
// on entry and is restored to that before returning, so one buffer serves every instance.
std::uint64_t ScoreWithPrefix(std::string& input, std::string_view instance_id) {
  const std::size_t prefix = input.size();
  input.append(instance_id);
  const auto digest = crypto::Sha256(AsBytes(input));
  input.resize(prefix);
  std::uint64_t score = 0;
  for (std::size_t i = 0; i < 8; ++i) score = (score << 8) | digest[i];
  return score;
}

std::string Prefix(std::string_view client_key, std::size_t room) {
  std::string input;
  input.reserve(client_key.size() + 1 + room);
  input.append(client_key);
  input.push_back('\0');
  return input;
}

}  // namespace

std::uint64_t RendezvousScore(std::string_view client_key, std::string_view instance_id) {
  std::string input = Prefix(client_key, instance_id.size());
  return ScoreWithPrefix(input, instance_id);
}

std::vector<std::size_t> RankBackends(std::string_view client_key,
                                      const std::vector<Backend>& backends) {
  struct Scored {
    std::uint64_t score;
    std::size_t index;
  };
  std::vector<Scored> scored;
  scored.reserve(backends.size());
  std::size_t longest = 0;
  for (const Backend& b : backends) longest = std::max(longest, b.instance_id.size());
  std::string input = Prefix(client_key, longest);
  for (std::size_t i = 0; i < backends.size(); ++i) {
    scored.push_back({ScoreWithPrefix(input, backends[i].instance_id), i});
  }
  std::sort(scored.begin(), scored.end(), [&](const Scored& a, const Scored& b) {
    if (a.score != b.score) return a.score > b.score;
    const std::string& ia = backends[a.index].instance_id;
    const std::string& ib = backends[b.index].instance_id;
    if (ia != ib) return ia < ib;
    return a.index < b.index;
  });
  std::vector<std::size_t> order;
  order.reserve(scored.size());
  for (const Scored& s : scored) order.push_back(s.index);
  return order;
}

}  // namespace lunal::gateway
