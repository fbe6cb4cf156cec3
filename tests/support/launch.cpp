#include "support/launch.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace llmc::test {
namespace {

using Clock = std::chrono::steady_clock;

void reap(RankProcess& p, int status) {
  p.finished = true;
  if (WIFEXITED(status)) p.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) p.signal = WTERMSIG(status);
  p.seconds = std::chrono::duration<double>(Clock::now() - p.started).count();
}

}  // namespace

std::string RankProcess::stderr_text() const {
  std::ifstream in(stderr_path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("free_port: socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("free_port: bind() failed");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::vector<RankProcess> launch_ranks(const std::string& program, const std::vector<std::string>& args,
                                      int world, const std::filesystem::path& log_dir,
                                      const std::map<std::string, std::string>& env) {
  std::filesystem::create_directories(log_dir);
  const int port = free_port();
  std::vector<RankProcess> processes;
  for (int rank = 0; rank < world; ++rank) {
    std::map<std::string, std::string> vars = env;
    vars["RANK"] = std::to_string(rank);
    vars["WORLD_SIZE"] = std::to_string(world);
    vars["LOCAL_RANK"] = std::to_string(rank);
    vars["MASTER_ADDR"] = "127.0.0.1";
    vars["MASTER_PORT"] = std::to_string(port);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry = *e;
      if (vars.count(entry.substr(0, entry.find('='))) == 0) env_strings.push_back(entry);
    }
    for (const auto& [k, v] : vars) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp, argv;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> arg_strings{program};
    for (std::string arg : args) {
      for (size_t at = arg.find("{rank}"); at != std::string::npos; at = arg.find("{rank}")) {
        arg.replace(at, 6, std::to_string(rank));
      }
      arg_strings.push_back(arg);
    }
    for (auto& s : arg_strings) argv.push_back(s.data());
    argv.push_back(nullptr);

    RankProcess p;
    p.rank = rank;
    p.stderr_path = log_dir / ("rank" + std::to_string(rank) + ".stderr");
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("launch_ranks: fork() failed");
    if (pid == 0) {
      const int fd = ::open(p.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 2);
        ::dup2(fd, 1);
        ::close(fd);
      }
      ::execve(program.c_str(), argv.data(), envp.data());
      ::_exit(127);
    }
    p.pid = pid;
    p.started = Clock::now();
    processes.push_back(p);
  }
  return processes;
}

void wait_ranks(std::vector<RankProcess>& processes, std::chrono::seconds timeout,
                const std::vector<int>& ranks) {
  const auto deadline = Clock::now() + timeout;
  const auto wanted = [&](const RankProcess& p) {
    if (ranks.empty()) return true;
    for (int r : ranks) {
      if (r == p.rank) return true;
    }
    return false;
  };
  for (;;) {
    bool pending = false;
    for (auto& p : processes) {
      if (p.finished) continue;
      int status = 0;
      if (::waitpid(p.pid, &status, WNOHANG) == p.pid) {
        reap(p, status);
      } else if (wanted(p)) {
        pending = true;
      }
    }
    if (!pending) return;
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& p : processes) {
    if (p.finished || !wanted(p)) continue;
    ::kill(p.pid, SIGKILL);
    int status = 0;
    ::waitpid(p.pid, &status, 0);
    reap(p, status);
    p.killed_by_us = true;
  }
}

std::string describe(const std::vector<RankProcess>& processes) {
  std::ostringstream out;
  for (const auto& p : processes) {
    out << "rank " << p.rank << ": ";
    if (!p.finished) {
      out << "still running";
    } else if (p.signal != 0) {
      out << "signal " << p.signal << (p.killed_by_us ? " (killed by the test)" : "");
    } else {
      out << "exit " << p.exit_code;
    }
    out << " after " << p.seconds << " s\n" << p.stderr_text() << "\n";
  }
  return out.str();
}

}  // namespace llmc::test
