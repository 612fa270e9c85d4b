#include "fake_tsm_provider.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fstream>
#include <iterator>
#include <system_error>

namespace lunal::attest::testing {

namespace fs = std::filesystem;

namespace {

void WriteWhole(const fs::path& path, ByteSpan bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

// Replaces `path` in one step (a reader sees the old or the new contents, never a partial file).
void ReplaceFile(const fs::path& path, std::string_view text) {
  fs::path temp = path;
  temp += ".fake-tmp";
  WriteWhole(temp, AsBytes(text));
  std::error_code ec;
  fs::rename(temp, path, ec);
}

}  // namespace

FakeTsmProvider::FakeTsmProvider(fs::path root, FakeTsmOptions options)
    : root_(std::move(root)), options_(std::move(options)) {
  thread_ = std::thread([this] { Run(); });
}

FakeTsmProvider::~FakeTsmProvider() {
  stop_ = true;
  thread_.join();
}

void FakeTsmProvider::Run() {
  // A client that stops reading an oversized outblob closes its end: the write must fail with
  // EPIPE here, not kill the test process.
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);

  auto deadline = std::chrono::steady_clock::now() + options_.lifetime;
  while (!stop_) {
    bool live = std::chrono::steady_clock::now() < deadline;
    std::error_code ec;
    for (const fs::directory_entry& dir : fs::directory_iterator(root_, ec)) {
      if (!dir.is_directory(ec) || entries_.count(dir.path()) != 0) continue;
      entries_[dir.path()] = EntryState{.generation = options_.initial_generation, .served = false};
      ++entries_seen_;
      SetUp(dir.path());
    }
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (!fs::exists(it->first, ec)) {
        it = entries_.erase(it);
        continue;
      }
      if (!it->second.served) ServeIfWaiting(it->first, it->second, live);
      ++it;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void FakeTsmProvider::SetUp(const fs::path& entry) {
  WriteWhole(entry / "inblob", {});
  WriteWhole(entry / "provider", AsBytes(options_.provider + "\n"));
  if (options_.auxblob) WriteWhole(entry / "auxblob", *options_.auxblob);
  ::mkfifo((entry / "outblob").c_str(), 0600);
  // Last: the client waits for it.
  ReplaceFile(entry / "generation", std::to_string(options_.initial_generation) + "\n");
}

void FakeTsmProvider::ServeIfWaiting(const fs::path& entry, EntryState& state, bool live) {
  // An O_NONBLOCK write-open of a FIFO fails (ENXIO) unless a reader has it open; the reader's
  // open returns now, and its read() waits for the first byte or end of file.
  int fd = ::open((entry / "outblob").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return;
  state.served = true;
  if (live) {
    Bytes content = MakeReport(entry, state);
    ::fcntl(fd, F_SETFL, 0);  // blocking writes: the reader drains the pipe as we fill it
    std::size_t done = 0;
    while (done < content.size()) {
      ssize_t n = ::write(fd, content.data() + done, content.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // EPIPE: the reader gave up (a bounded read)
      done += static_cast<std::size_t>(n);
    }
  }
  ::close(fd);  // the reader sees end of file
}

Bytes FakeTsmProvider::MakeReport(const fs::path& entry, EntryState& state) {
  std::ifstream in(entry / "inblob", std::ios::binary);
  Bytes inblob((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The kernel counts each write to inblob in write_generation.
  if (!inblob.empty()) ++state.generation;
  using Race = FakeTsmOptions::Race;
  if (options_.race == Race::kAlways || (options_.race == Race::kOnce && races_injected_ == 0)) {
    ++state.generation;  // a second writer changed the request
    ++races_injected_;
  }
  ReplaceFile(entry / "generation", std::to_string(state.generation) + "\n");

  Bytes out = options_.evidence;
  if (options_.patch_report_data && inblob.size() == 64 &&
      options_.report_data_offset + 64 <= out.size()) {
    std::copy(inblob.begin(), inblob.end(),
              out.begin() + static_cast<std::ptrdiff_t>(options_.report_data_offset));
  }
  if (options_.outblob_size) out.resize(*options_.outblob_size, 0);
  ++reports_served_;
  return out;
}

}  // namespace lunal::attest::testing
