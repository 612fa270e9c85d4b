// An instance's threads (node_impl.h): its output readers, its waiter, and its end.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "lunal/node/instance.h"
#include "node_impl.h"

namespace lunal::node {
namespace {

constexpr std::size_t kMaxLogLine = std::size_t{16} << 10;  // longer lines are cut
constexpr std::size_t kStderrTail = 20;                     // lines kept for failure messages

}  // namespace

std::string DescribeExit(int wstatus) {
  if (WIFEXITED(wstatus)) return fmt::format("exit status {}", WEXITSTATUS(wstatus));
  if (WIFSIGNALED(wstatus)) return fmt::format("killed by signal {}", WTERMSIG(wstatus));
  return "ended";
}

void NodeAgent::Impl::ReadStream(const std::shared_ptr<Instance>& in, int fd, std::string stream) {
  std::string line;
  bool cut = false;  // the current line passed kMaxLogLine: drop the rest of it
  auto emit = [&](std::string text) {
    NodeEvent event{.kind = NodeEvent::Kind::kLog, .instance = {}, .stream = stream, .line = {}};
    {
      std::lock_guard lock(in->mu);
      if (stream == "stderr") {
        in->stderr_tail.push_back(text);
        if (in->stderr_tail.size() > kStderrTail) in->stderr_tail.pop_front();
      }
      // The instance's names only: the evidence and certificate are not copied per line.
      event.instance = InstanceStatus{.instance_id = in->status.instance_id,
                                      .tenant = in->status.tenant,
                                      .deployment = in->status.deployment,
                                      .build_hash = in->status.build_hash,
                                      .state = in->status.state,
                                      .pid = in->status.pid};
    }
    event.line = std::move(text);
    if (options.on_event) options.on_event(event);
  };
  char buf[8192];
  while (true) {
    const ssize_t got = ::read(fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    for (std::string_view chunk(buf, static_cast<std::size_t>(got)); !chunk.empty();) {
      const std::size_t nl = chunk.find('\n');
      const std::string_view part = chunk.substr(0, nl);
      if (!cut) line.append(part.substr(0, kMaxLogLine - std::min(kMaxLogLine, line.size())));
      if (!cut && line.size() >= kMaxLogLine && nl == std::string_view::npos) {
        emit(std::exchange(line, {}));
        cut = true;
      }
      if (nl == std::string_view::npos) break;
      if (!cut) emit(std::exchange(line, {}));
      cut = false;
      chunk.remove_prefix(nl + 1);
    }
  }
  if (!line.empty() && !cut) emit(std::move(line));
  ::close(fd);
}

void NodeAgent::Impl::Wait(const std::shared_ptr<Instance>& in) {
  int wstatus = 0;
  while (::waitpid(in->pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  // The PID namespace ended with bwrap, so the pipes reach EOF.
  if (in->out_reader.joinable()) in->out_reader.join();
  if (in->err_reader.joinable()) in->err_reader.join();
  bool clean_here = false;
  InstanceStatus snapshot;
  {
    std::lock_guard lock(in->mu);
    in->exited = true;
    in->wait_status = wstatus;
    if (in->ready && !in->stop_requested) {
      in->waiter_cleans = clean_here = true;
      in->status.state = InstanceState::kExited;
      if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == kInstanceExitUnhealthy) {
        in->status.reason = "node.instance.unhealthy";
        in->status.message =
            "the app stopped answering its liveness check; the instance agent "
            "stopped it";
      } else {
        in->status.reason = "node.instance.exited";
        in->status.message = "the instance ended: " + DescribeExit(wstatus);
      }
      snapshot = in->status;
    }
  }
  in->cv.notify_all();
  if (clean_here) {
    log::Warn("node.instance.exited",
              {{"instance", snapshot.instance_id}, {"status", DescribeExit(wstatus)}});
    Cleanup(in);
    Emit(NodeEvent::Kind::kExited, std::move(snapshot));
  }
}

void NodeAgent::Impl::Terminate(const std::shared_ptr<Instance>& in,
                                std::chrono::milliseconds grace) {
  std::unique_lock lock(in->mu);
  if (in->pid <= 0 || in->exited) return;
  if (grace.count() > 0) {
    // SIGTERM to the instance agent itself, which drains and stops the app (instance.h step 8);
    // bwrap forwards no signal, and a SIGTERM to bwrap would end the sandbox at once.
    const pid_t agent = internal::FindDescendant(in->pid, kAgentInSandbox);
    ::kill(agent > 0 ? agent : -in->pid, SIGTERM);
    in->cv.wait_for(lock, grace, [&] { return in->exited; });
  }
  if (!in->exited) {
    // bwrap's group; --die-with-parent then kills the whole sandbox.
    ::kill(-in->pid, SIGKILL);
    in->cv.wait_for(lock, std::chrono::seconds(30), [&] { return in->exited; });
  }
}

void NodeAgent::Impl::Cleanup(const std::shared_ptr<Instance>& in) {
  std::lock_guard cleanup(in->cleanup_mu);
  if (in->cleaned) return;
  in->cleaned = true;
  const bool self = in->waiter.joinable() && in->waiter.get_id() == std::this_thread::get_id();
  if (in->waiter.joinable() && !self) in->waiter.join();
  if (in->device) in->device->Stop();
  if (!in->dir.empty()) internal::RemoveTree(in->dir);
  std::lock_guard lock(mu);
  auto it = instances.find(in->status.instance_id);
  if (it != instances.end() && it->second == in) instances.erase(it);
  if (self) graveyard.push_back(in);
}

void NodeAgent::Impl::ReapGraveyard() {
  std::vector<std::shared_ptr<Instance>> done;
  {
    std::lock_guard lock(mu);
    auto keep = graveyard.begin();
    for (auto& in : graveyard) {
      if (in->waiter.joinable() && in->waiter.get_id() == std::this_thread::get_id()) {
        *keep++ = std::move(in);
      } else {
        done.push_back(std::move(in));
      }
    }
    graveyard.erase(keep, graveyard.end());
  }
  for (auto& in : done) {
    if (in->waiter.joinable()) in->waiter.join();
  }
}

}  // namespace lunal::node
