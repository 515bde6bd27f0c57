#include "pod/session/client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <thread>
#include <nlohmann/json.hpp>

#include "pod/session/holder.hpp"
#include "pod/session/holder_state.hpp"
#include "pod/session/ghost_files.hpp"
#include "sandbox/fdpass.hpp"
#include "sandbox/ghost.hpp"
#include "vault/fault.hpp"

namespace ghostpod {
namespace {

// ---- the holder ------------------------------------------------------------------------

// The attach answer can outgrow one socket message (10,000 pulled secrets): the first message
// says how many follow.
std::vector<std::string> attach_messages(const Holder& h) {
    std::string text = "dir\t" + h.paths.ghost_dir + "\n";
    for (const auto& s : h.layout.secrets) text += "secret\t" + s + "\n";
    for (const auto& p : h.layout.placements) text += "place\t" + p.secret + "\t" + p.target + "\n";
    for (const auto& e : h.layout.env)
        text += "env\t" + e.secret + "\t" + e.name + "\t" + e.path + "\t" + (e.value_from_file ? "1" : "0") + "\n";
    std::vector<std::string> parts;
    constexpr std::size_t kPart = sandbox::kMaxMessageBytes - 64;
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t end = pos + kPart >= text.size() ? text.size() : text.rfind('\n', pos + kPart) + 1;
        if (end <= pos) end = std::min(text.size(), pos + kPart);  // a single overlong line
        parts.push_back(text.substr(pos, end - pos));
        pos = end;
    }
    parts.insert(parts.begin(), "attached\t" + std::to_string(parts.size()) + "\n");
    return parts;
}

std::string status_message(const Holder& h) {
    nlohmann::json j = {{"holder_pid", ::getpid()},
                        {"ghost_pid", h.ghost.pid},
                        {"started", h.started},
                        {"age_seconds", now_seconds() - h.started},
                        {"ttl_seconds", h.settings.ttl_seconds},
                        {"expires", h.started + h.settings.ttl_seconds},
                        {"linger_seconds", h.settings.linger_seconds},
                        {"attached", h.clients.size()},
                        {"ram_mount", h.ghost.ram == sandbox::RamKind::ramfs ? "ramfs" : "tmpfs-noswap"},
                        {"ghost_dir", h.paths.ghost_dir},
                        {"secrets", h.layout.secrets.size()},
                        {"bytes", h.layout.bytes},
                        {"kept", h.keep}};
    if (h.pull.active) {
        j["pull"] = {{"host", h.pull.settings.target.base_url},
                     {"project_id", h.pull.settings.target.project_id},
                     {"environment", h.pull.settings.target.environment},
                     {"secrets", h.pull.files.size()},
                     {"fetched", h.pull.last_pull},
                     {"source", h.pull.source},
                     {"renewals", h.pull.renewals}};
        if (h.pull.have_token && h.pull.token.expires_in > 0)
            j["pull"]["token_expires"] = h.pull.token.obtained_at + h.pull.token.expires_in;
    }
    if (h.vault.active) {
        nlohmann::json certificates = nlohmann::json::array();
        for (const auto& c : h.vault.certificates)
            certificates.push_back({{"for", c.target}, {"in", c.chosen}, {"subject", c.subject}, {"not_after", c.not_after}});
        j["vault"] = {{"address", h.vault.settings.target.address},
                      {"namespace", h.vault.settings.name_space},
                      {"secrets", h.vault.files.size()},
                      {"fetched", h.vault.last_pull},
                      {"source", h.vault.source},
                      {"renewals", h.vault.renewals},
                      {"certificates", certificates}};
        if (h.vault.have_token && h.vault.token.lease_seconds > 0)
            j["vault"]["token_expires"] = h.vault.token.obtained_at + h.vault.token.lease_seconds;
    }
    return j.dump();
}

// Serves one request on a fresh connection; returns true to keep the connection (attached).
bool serve(Holder& h, UniqueFd& conn_fd, bool& shutdown) {
    int conn = conn_fd.get();
    struct ucred peer {};
    socklen_t len = sizeof peer;
    if (::getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 || peer.uid != ::getuid()) return false;
    std::string req;
    if (!sandbox::receive_message(conn, req)) return false;
    if (req == "attach") {
        std::vector<int> fds = {h.ghost.ns_mnt.get(), h.ghost.ns_pid.get(), h.ghost.ns_ipc.get()};
        if (h.ghost.ns_user.valid()) fds.push_back(h.ghost.ns_user.get());
        auto parts = attach_messages(h);
        if (!sandbox::send_message(conn, parts[0], fds)) return false;
        for (std::size_t i = 1; i < parts.size(); ++i)
            if (!sandbox::send_message(conn, parts[i])) return false;
        return true;
    }
    if (req == "status") (void)sandbox::send_message(conn, status_message(h));
    if (req.rfind("pull\n", 0) == 0) serve_pull(h, conn, std::string_view(req).substr(5));
    if (req == "save" || req == "save\nforce") serve_save(h, conn, req != "save");
    if (req == "certs") serve_certs(h, conn);
    if (req == "lock" || req == "lock\ndiscard") {
        if (h.settings.save_on_lock && req == "lock") {
            if (auto saved = save_ghost_changes(h, false); !saved) {
                Error e = saved.error();
                e.what = "save the session's changes before locking: " + e.what;
                if (e.code != ErrorCode::conflict) e.hint = "fix that and lock again, or 'ghostpod lock --discard' to end without saving";
                (void)sandbox::send_message(conn, error_reply(e));
                return false;
            }
        }
        h.end_saved = true;  // saved just now, or the caller chose to discard
        shutdown = true;
        h.lock_requester = std::move(conn_fd);
    }
    return false;
}

void run_holder(Holder& h) {
    arm_timer(h.ttl_timer.get(), h.settings.ttl_seconds);
    // Until the first client attaches, allow it time to connect even with no linger.
    arm_timer(h.idle_timer.get(), std::max<std::uint64_t>(h.settings.linger_seconds, 30));
    bool shutdown = false;
    while (!shutdown) {
        std::vector<pollfd> fds = {{h.listener.get(), POLLIN, 0}, {h.signals.get(), POLLIN, 0},
                                   {h.ttl_timer.get(), POLLIN, 0}, {h.idle_timer.get(), POLLIN, 0},
                                   {h.ghost.channel.get(), POLLIN, 0}, {h.renew_timer.get(), POLLIN, 0}};
        constexpr std::size_t kFixed = 6;
        for (auto& c : h.clients) fds.push_back({c.get(), POLLIN, 0});
        if (::poll(fds.data(), fds.size(), -1) < 0) continue;
        if (fds[1].revents || fds[2].revents || fds[3].revents || fds[4].revents) break;  // signal, TTL, idle, ghost gone
        if (fds[5].revents) {
            std::uint64_t expirations = 0;
            (void)!::read(h.renew_timer.get(), &expirations, sizeof expirations);
            renew_token(h);
        }
        // A client's connection closing (or any data on it) means it detached. Only the clients
        // that were polled have an entry in fds: handle them before accepting new ones.
        for (std::size_t i = fds.size() - kFixed; i-- > 0;) {
            if (fds[kFixed + i].revents) {
                h.clients.erase(h.clients.begin() + static_cast<long>(i));
                if (h.clients.empty() && !h.keep) arm_timer(h.idle_timer.get(), h.settings.linger_seconds);
            }
        }
        if (fds[0].revents & POLLIN) {
            UniqueFd conn(::accept4(h.listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (conn.valid() && serve(h, conn, shutdown)) {
                h.clients.push_back(std::move(conn));
                disarm_timer(h.idle_timer.get());
            }
        }
    }
    // Ended by the TTL, the last command or a signal: save what can be saved, or nothing.
    if (h.settings.save_on_lock && !h.end_saved) (void)save_ghost_changes(h, false);
    sandbox::stop_ghost(h.ghost);  // returns once every process in the ghost is gone
    // Our references to the namespaces and the RAM mount go before "locked" is said.
    h.ghost = sandbox::Ghost{};
    // The directory goes while the socket still stands: a new session can only start once the
    // socket is gone, and removing the directory under its RAM mount would detach that mount.
    // Unlinked before it is closed: a connect() in between would be refused while the file still
    // stands, and a new holder started then would have its own socket unlinked by this one.
    ::rmdir(h.paths.ghost_dir.c_str());
    ::unlink(h.paths.socket.c_str());
    h.listener.reset();
    revoke_token(h);  // may wait on the network: after everything local is gone
    if (h.lock_requester.valid()) (void)sandbox::send_message(h.lock_requester.get(), "locked");
}

// Everything the holder does before it can serve: listen, ghost, unlock, materialise.
Status prepare_holder(Holder& h, const std::string& vault_path, const std::string& config_path,
                      HeldCredential& credential) {
    auto config = load_config(config_path);
    if (!config) return std::move(config).error();
    h.config = *config;
    h.vault_path = vault_path;
    auto listener = GP_FAULT("session.socket", EMFILE) ? Result<UniqueFd>(sys_error("create a unix socket")) : make_session_socket();
    if (!listener) return std::move(listener).error();
    ::unlink(h.paths.socket.c_str());
    auto addr = session_address(h.paths.socket);
    if (GP_FAULT("session.bind", EADDRINUSE) || ::bind(listener->get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return sys_error("bind " + h.paths.socket);
    if (GP_FAULT("session.chmod", EPERM) || ::chmod(h.paths.socket.c_str(), 0600) != 0) return sys_error("chmod " + h.paths.socket);
    if (GP_FAULT("session.listen", EADDRINUSE) || ::listen(listener->get(), 16) != 0) return sys_error("listen on " + h.paths.socket);
    h.listener = std::move(*listener);
    if (::mkdir(h.paths.ghost_dir.c_str(), 0700) != 0 && errno != EEXIST) return sys_error("mkdir " + h.paths.ghost_dir);

    sandbox::GhostSpec spec{h.paths.ghost_dir, ::getuid(), ::getgid(), ::geteuid() == 0, h.settings.ram_limit_bytes};
    auto ghost = sandbox::start_ghost(spec);
    if (!ghost) return std::move(ghost).error();
    h.ghost = std::move(*ghost);

    auto vault = open_vault(vault_path, credential);
    credential.secret = SecretBuffer{};  // wiped: the holder keeps no passphrase
    if (!vault) return std::move(vault).error();
    // Kept (in memfd_secret where the kernel has it) to reread the Infisical identity and to
    // save the pull cache without asking for the passphrase again.
    auto key = vault->copy_data_key();
    if (!key) return std::move(key).error();
    h.data_key = std::move(*key);
    h.base_generation = vault->header().generation;
    const char* home = std::getenv("HOME");
    return write_ghost_files(h.writer(home ? home : "/"), vault_files(*vault, *config), h.layout);
}

void report_to_launcher(int fd, const Status& status) {
    std::string text = "0";
    if (!status) {
        const Error& e = status.error();
        text = std::to_string(static_cast<int>(e.code)) + "\n" + e.describe() + "\n" + e.hint;
    }
    (void)write_all(fd, text_bytes(text), "report to launcher");
}

[[noreturn]] void holder_main(const std::string& vault_path, const std::string& config_path, HeldCredential credential,
                              const SessionSettings& settings, const SessionPaths& paths, const std::string& trusted_pull,
                              int ready) {
    ::setsid();
    ::prctl(PR_SET_NAME, "ghostpod-holder");
    // Keep nothing of the launcher's but the ready pipe: an inherited lock or pipe would
    // otherwise stay held for the whole session.
    if (ready != 3) {
        ::dup2(ready, 3);
        ready = 3;
    }
    ::syscall(SYS_close_range, 4, ~0U, 0);
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd : {0, 1, 2}) ::dup2(null, fd);
    if (null > 2) ::close(null);
    sigset_t mask;
    sigemptyset(&mask);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&mask, sig);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    Holder h;
    h.paths = paths;
    h.settings = settings;
    h.started = now_seconds();
    capture_infisical_environment(h);
    if (!trusted_pull.empty()) {
        if (auto trusted = parse_pull_settings(trusted_pull)) h.trusted_pull = std::move(*trusted);
    }
    h.signals.reset(::signalfd(-1, &mask, SFD_CLOEXEC));
    h.ttl_timer.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
    h.idle_timer.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
    h.renew_timer.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
    Status prepared = prepare_holder(h, vault_path, config_path, credential);
    if (!prepared) {
        // Undone before the launcher hears of it: once it exits, no ghost, socket or directory
        // of this attempt is left for the next command to find.
        sandbox::stop_ghost(h.ghost);
        h.ghost = sandbox::Ghost{};
        ::rmdir(paths.ghost_dir.c_str());
        ::unlink(paths.socket.c_str());
        h.listener.reset();
    }
    report_to_launcher(ready, prepared);
    ::close(ready);
    if (!prepared) ::_exit(1);
    run_holder(h);
    ::_exit(0);
}

}  // namespace

void arm_timer(int timer, std::uint64_t seconds) {
    struct itimerspec spec {};
    spec.it_value.tv_sec = static_cast<time_t>(seconds);
    spec.it_value.tv_nsec = seconds == 0 ? 1 : 0;  // zero would disarm; fire at once instead
    ::timerfd_settime(timer, 0, &spec, nullptr);
}

void disarm_timer(int timer) {
    struct itimerspec spec {};
    ::timerfd_settime(timer, 0, &spec, nullptr);
}

Status start_session(const std::string& vault_path, const std::string& config_path, HeldCredential credential,
                     const SessionSettings& settings, const SessionPaths& paths, const std::string& trusted_pull) {
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) return sys_error("pipe");
    UniqueFd read_end(pipefd[0]), write_end(pipefd[1]);
    // Forked twice so the holder is nobody's child here: it outlives this command when the
    // session should, and its end is nobody's zombie.
    pid_t pid = ::fork();
    if (pid < 0) return sys_error("fork the session holder");
    if (pid == 0) {
        read_end.reset();
        pid_t holder = ::fork();
        if (holder != 0) ::_exit(holder < 0 ? 1 : 0);
        holder_main(vault_path, config_path, std::move(credential), settings, paths, trusted_pull, write_end.release());
    }
    write_end.reset();
    credential.secret = SecretBuffer{};
    ::waitpid(pid, nullptr, 0);
    std::vector<std::uint8_t> answer;
    GP_TRY(read_to_end(read_end.get(), answer, 64 * 1024, "read the holder's answer"));
    std::string text(answer.begin(), answer.end());
    if (text == "0") return {};
    if (text.empty()) return make_error(ErrorCode::runtime, "start the session", "the holder ended without an answer");
    return error_from_reply(text);
}

}  // namespace ghostpod
