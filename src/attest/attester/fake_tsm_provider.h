// A fake configfs-tsm provider for tests: a thread that turns a plain directory into something
// that behaves like /sys/kernel/config/tsm/report for one client at a time.
//
// Real configfs creates an entry's attributes when the directory is made, and generates the
// report synchronously when `outblob` is read. The fake gets close to both:
//   - it polls the root (every millisecond) for new directories and fills each with regular
//     files `inblob`, `provider`, `auxblob` (when configured), a FIFO `outblob` and, last,
//     `generation` (the attester waits for that one: ConfigfsTsmOptions::attribute_wait);
//   - a FIFO's reader blocks until the fake serves it, so the read of `outblob` is answered at
//     the moment it is made: the fake takes what the client wrote to `inblob`, counts that write
//     in `generation` (as the kernel's write_generation does; the file is replaced atomically
//     before any outblob byte is written, so the client cannot read it early), and returns the
//     template evidence with REPORT_DATA replaced by the inblob. Each entry's outblob is served
//     once, as each of our entries is read once.
// Race injection: while serving `outblob`, the fake can bump the generation once more, as if a
// second writer had changed the request (for the first entry only, or for every entry).
// Bounded: after `lifetime` it stops producing reports and answers outblob readers with end of
// file, so a test never hangs; the destructor stops the thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "lunal/common/bytes.h"

namespace lunal::attest::testing {

struct FakeTsmOptions {
  std::string provider = "tdx_guest";
  Bytes evidence;                           // a real quote or report
  std::size_t report_data_offset = 0;       // where its 64 REPORT_DATA bytes are
  bool patch_report_data = true;            // false: serve `evidence` unchanged
  std::optional<Bytes> auxblob;             // served when set; else no auxblob attribute
  std::optional<std::size_t> outblob_size;  // resize the served outblob (zero-filled)
  enum class Race { kNone, kOnce, kAlways } race = Race::kNone;
  // Generation of a new entry: not 0 stands for a writer that got to the entry before the client.
  std::uint64_t initial_generation = 0;
  std::chrono::milliseconds lifetime{10000};
};

class FakeTsmProvider {
 public:
  FakeTsmProvider(std::filesystem::path root, FakeTsmOptions options);
  ~FakeTsmProvider();
  FakeTsmProvider(const FakeTsmProvider&) = delete;
  FakeTsmProvider& operator=(const FakeTsmProvider&) = delete;

  int entries_seen() const { return entries_seen_; }
  int reports_served() const { return reports_served_; }
  int races_injected() const { return races_injected_; }

 private:
  struct EntryState {
    std::uint64_t generation = 0;  // set from options_.initial_generation
    bool served = false;
  };

  void Run();
  void SetUp(const std::filesystem::path& entry);
  // Serves `entry`'s outblob if a reader is waiting on it.
  void ServeIfWaiting(const std::filesystem::path& entry, EntryState& state, bool live);
  // Reads inblob, updates generation, returns the outblob.
  Bytes MakeReport(const std::filesystem::path& entry, EntryState& state);

  std::filesystem::path root_;
  FakeTsmOptions options_;
  std::map<std::filesystem::path, EntryState> entries_;
  std::atomic<bool> stop_{false};
  std::atomic<int> entries_seen_{0};
  std::atomic<int> reports_served_{0};
  std::atomic<int> races_injected_{0};
  std::thread thread_;
};

}  // namespace lunal::attest::testing
