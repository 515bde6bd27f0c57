#include "pod/session/client.hpp"

#include <fcntl.h>
#include <malloc.h>
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
#include <cstring>
#include <ctime>
#include <thread>
#include <nlohmann/json.hpp>

#include "pod/session/holder.hpp"
#include "pod/session/holder_state.hpp"
#include "pod/session/ghost_files.hpp"
#include "pod/session/protocol.hpp"
#include "sandbox/ghost.hpp"
#include "sandbox/seccomp.hpp"
#include "vault/fault.hpp"

namespace ghostpod {
namespace {

constexpr std::size_t kMaxPending = 64;
constexpr std::size_t kMaxNotices = 256;

// ---- the holder ------------------------------------------------------------------------

nlohmann::json status_json(const Holder& h, const ProfileRegistration* profile, const StatusScope& scope) {
    std::uint64_t secrets = h.layout.secrets.size(), bytes = h.layout.bytes;
    if (!scope.profile.empty()) {
        secrets = scope.view.secrets.size();
        bytes = 0;
        for (const auto& s : scope.view.secrets)
            if (auto it = h.layout.facts.find(s); it != h.layout.facts.end()) bytes += it->second.size;
    }
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
                        {"secrets", secrets},
                        {"bytes", bytes},
                        {"kept", h.keep}};
    j["view"] = scope.profile.empty() ? "*" : scope.profile;
    j["exposed"] = exposure_json(scope.view, scope.profiles);
    j["profiles"] = nlohmann::json::array();
    for (const auto& [name, allowed] : scope.profiles) j["profiles"].push_back(name);
    // A profile's process learns its own part only: not where the rest came from.
    if (profile) {
        j["profile"] = profile->name;
        return j;
    }
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
    if (h.refresh_every) {
        j["refresh"] = {{"every", h.refresh_every}, {"refreshes", h.refreshes}, {"failures", h.refresh_failures}};
        if (!h.refresh_error.empty()) j["refresh"]["last_error"] = h.refresh_error;
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
    return j;
}

// Serves the first request of a connection; returns true to keep it (attached).
bool serve(Holder& h, UniqueFd& conn_fd, bool& shutdown) {
    int conn = conn_fd.get();
    // Any other uid is served nothing, not even an error (SO_PEERCRED, checked again in /proc).
    auto asker = identify_asker(h, conn);
    if (!asker) return false;
    const Asker& who = *asker;
    auto request = protocol::receive_request(conn);
    if (!request) return answer(conn, request.error()), false;
    if (!*request) return false;
    const protocol::Request& req = **request;
    if (!authorise(req, who)) return answer(conn, refused(protocol::request_name(req), who)), false;
    if (std::holds_alternative<protocol::AttachRequest>(req)) {
        protocol::Attached a{who.place, who.profile ? who.profile->name : "", full_view(h), sandbox::seccomp_program(),
                             h.settings.pass_env, h.settings.prompt};
        std::vector<int> fds;
        if (who.profile) {
            a.view = narrow_view(a.view, who.profile->allowed);
        } else {
            fds = {h.ghost.ns_mnt.get(), h.ghost.ns_pid.get(), h.ghost.ns_ipc.get()};
            if (h.ghost.ns_user.valid()) fds.push_back(h.ghost.ns_user.get());
        }
        return protocol::send(conn, a, fds).ok();
    }
    if (auto* status = std::get_if<protocol::StatusRequest>(&req)) {
        auto scope = status_scope(h, who, status->profile);
        if (!scope) answer(conn, scope.error());
        else answer(conn, protocol::StatusReply{status_json(h, who.profile, *scope).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
        // The JSON of a large session (~2 MiB at 10,000 secrets, several times that as a tree)
        // is freed: give its pages back rather than hold them until the next pull.
        ::malloc_trim(0);
    }
    if (auto* notice = std::get_if<protocol::NoticeRequest>(&req)) {
        // Bounded: past the bound, warnings show again rather than the holder growing.
        bool first = h.notices_shown.size() >= kMaxNotices || h.notices_shown.insert(notice->text).second;
        answer(conn, protocol::NoticeReply{first});
    }
    if (auto* pull = std::get_if<protocol::PullRequest>(&req)) {
        // Each retry's wait shows on the pulling command's status line, not as silence.
        RetryListener retries([conn](const std::string& text) { send_progress(conn, text); });
        serve_pull(h, conn, pull->settings_json);
    }
    if (auto* save = std::get_if<protocol::SaveRequest>(&req)) serve_save(h, conn, save->force);
    if (std::holds_alternative<protocol::CertsRequest>(req)) serve_certs(h, conn);
    if (auto* exp = std::get_if<protocol::ExportRequest>(&req)) serve_export(h, conn, *exp, who);
    if (std::holds_alternative<protocol::SpawnRequest>(req) || std::holds_alternative<protocol::RegisterRequest>(req))
        answer(conn, make_error(ErrorCode::session, std::string(protocol::request_name(req)) + " in the session", "only on an attached connection"));
    if (auto* lock = std::get_if<protocol::LockRequest>(&req)) {
        if (!lock_may_proceed(h, conn, *lock)) return false;  // answered: what it would lose, or why not
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
                                   {h.ghost.channel.get(), POLLIN, 0}, {h.renew_timer.get(), POLLIN, 0},
                                   {h.refresh_timer.get(), POLLIN, 0}};
        constexpr std::size_t kFixed = 7;
        for (auto& c : h.clients) fds.push_back({c.conn.get(), POLLIN, 0});
        for (auto& p : h.pending) fds.push_back({p.get(), POLLIN, 0});
        if (::poll(fds.data(), fds.size(), -1) < 0) continue;
        if (fds[1].revents || fds[2].revents || fds[3].revents || fds[4].revents) break;  // signal, TTL, idle, ghost gone
        if (fds[5].revents) {
            std::uint64_t expirations = 0;
            (void)!::read(h.renew_timer.get(), &expirations, sizeof expirations);
            renew_token(h);
        }
        if (fds[6].revents) {
            std::uint64_t expirations = 0;
            (void)!::read(h.refresh_timer.get(), &expirations, sizeof expirations);
            refresh_on_timer(h);
        }
        // A client's connection closing (or anything on it but one spawn or register request)
        // means it detached. Only the clients and pending connections that were polled have an
        // entry in fds: handle them (from the back) before accepting new ones.
        const std::size_t polled_clients = h.clients.size(), polled_pending = h.pending.size();
        for (std::size_t i = polled_pending; i-- > 0;) {
            if (!fds[kFixed + polled_clients + i].revents) continue;
            UniqueFd conn = std::move(h.pending[i]);
            h.pending.erase(h.pending.begin() + static_cast<long>(i));
            if (serve(h, conn, shutdown)) {
                h.clients.push_back({std::move(conn), std::nullopt});
                disarm_timer(h.idle_timer.get());
            }
            if (shutdown) break;
        }
        if (shutdown) break;
        for (std::size_t i = polled_clients; i-- > 0;) {
            if (!fds[kFixed + i].revents) continue;
            if ((fds[kFixed + i].revents & POLLIN) && serve_attached(h, h.clients[i])) continue;
            h.clients.erase(h.clients.begin() + static_cast<long>(i));
            if (h.clients.empty() && !h.keep) arm_timer(h.idle_timer.get(), h.settings.linger_seconds);
        }
        // A request is read only once it has arrived, so a connection that says nothing cannot
        // stall the holder; the oldest silent ones are let go past a bound.
        if (fds[0].revents & POLLIN) {
            UniqueFd conn(::accept4(h.listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (conn.valid()) {
                // A client that stops reading an answer cannot stall the holder either.
                struct timeval limit {5, 0};
                ::setsockopt(conn.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
                h.pending.push_back(std::move(conn));
                if (h.pending.size() > kMaxPending) h.pending.erase(h.pending.begin());
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
    if (h.lock_requester.valid()) answer(h.lock_requester.get(), protocol::Locked{});
}

// The credential message, launcher to holder: per field a 4-byte little-endian length and the
// bytes (slot type, unlock secret, client id, client secret, token). Built and read in secret
// memory only.
constexpr std::size_t kMaxCredentialMessage = 64 * 1024;
constexpr std::uint8_t kSendCredentials = 'C';  // holder to launcher: the ghost is ready
constexpr std::uint8_t kReport = 'R';           // holder to launcher: the reply follows

Status append_field(SecretBuffer& out, std::span<const std::uint8_t> field) {
    std::uint8_t length[4];
    for (int i = 0; i < 4; ++i) length[i] = static_cast<std::uint8_t>(field.size() >> (8 * i));
    GP_TRY(out.append(length));
    return out.append(field);
}

Status send_credentials(int fd, const SessionCredentials& c) {
    auto message = SecretBuffer::allocate(0);
    if (!message) return std::move(message).error();
    std::uint8_t type = static_cast<std::uint8_t>(c.unlock.type);
    GP_TRY(append_field(*message, {&type, 1}));
    for (const SecretBuffer* field : {&c.unlock.secret, &c.client_id, &c.client_secret, &c.token})
        GP_TRY(append_field(*message, field->bytes()));
    // send(MSG_NOSIGNAL): a holder that died meanwhile is an error here, not a SIGPIPE.
    for (std::span<const std::uint8_t> rest = message->bytes(); !rest.empty();) {
        ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return sys_error("hand the credential to the session holder");
        rest = rest.subspan(static_cast<std::size_t>(n));
    }
    if (::shutdown(fd, SHUT_WR) != 0) return sys_error("hand the credential to the session holder");
    return {};
}

Result<SessionCredentials> receive_credentials(int fd) {
    Error broken = make_error(ErrorCode::runtime, "receive the credential from the launcher", "the message is malformed");
    if (::write(fd, &kSendCredentials, 1) != 1) return sys_error("ask the launcher for the credential");
    auto message = SecretBuffer::read_fd(fd, kMaxCredentialMessage, "receive the credential from the launcher");
    if (!message) return std::move(message).error();
    std::span<const std::uint8_t> rest = message->bytes();
    auto next = [&](SecretBuffer& into) -> Status {
        if (rest.size() < 4) return broken;
        std::size_t length = 0;
        for (int i = 0; i < 4; ++i) length |= static_cast<std::size_t>(rest[i]) << (8 * i);
        if (rest.size() - 4 < length) return broken;
        auto copy = SecretBuffer::copy_of(rest.subspan(4, length));
        if (!copy) return std::move(copy).error();
        into = std::move(*copy);
        rest = rest.subspan(4 + length);
        return {};
    };
    SessionCredentials c;
    SecretBuffer type;
    GP_TRY(next(type));
    if (type.size() != 1) return broken;
    c.unlock.type = static_cast<SlotType>(type.data()[0]);
    for (SecretBuffer* field : {&c.unlock.secret, &c.client_id, &c.client_secret, &c.token}) GP_TRY(next(*field));
    if (!rest.empty()) return broken;
    return c;
}

// Everything the holder does before it can serve: listen, ghost, credential, unlock, materialise.
Status prepare_holder(Holder& h, const std::string& vault_path, const std::string& config_path, int launcher) {
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

    // Ghost init is cloned from this process while it holds no secret: the launcher's buffers
    // read as zeros in this fork (MADV_WIPEONFORK) and it took the INFISICAL_* values out of
    // the environment before forking. Secrets arrive below, after the clone.
    // The commands' seccomp program, compiled once for the whole session: ghost init inherits it
    // (for the commands it starts in a profile's view), clients receive it when they attach.
    auto program = sandbox::compile_seccomp_filter();
    if (!program) return std::move(program).error();
    GP_TRY(sandbox::use_seccomp_program(std::move(*program)));
    sandbox::GhostSpec spec{h.paths.ghost_dir, ::getuid(), ::getgid(), ::geteuid() == 0, h.settings.ram_limit_bytes};
    auto ghost = sandbox::start_ghost(spec);
    if (!ghost) return std::move(ghost).error();
    h.ghost = std::move(*ghost);

    auto credentials = receive_credentials(launcher);
    if (!credentials) return std::move(credentials).error();
    h.env_client_id = std::move(credentials->client_id);
    h.env_client_secret = std::move(credentials->client_secret);
    h.env_token = std::move(credentials->token);
    auto vault = open_vault(vault_path, credentials->unlock);
    credentials->unlock.secret = SecretBuffer{};  // wiped: the holder keeps no passphrase
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
    if (::write(fd, &kReport, 1) != 1) return;
    (void)protocol::write_reply(fd, status ? protocol::Reply(protocol::Started{}) : protocol::Reply(status.error()));
}

[[noreturn]] void holder_main(const std::string& vault_path, const std::string& config_path, const SessionSettings& settings,
                              const SessionPaths& paths, const std::string& trusted_pull, int ready) {
    ::setsid();
    ::prctl(PR_SET_NAME, "ghostpod-holder");
    // Keep nothing of the launcher's but its socket: an inherited lock or pipe would
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
    if (!trusted_pull.empty()) {
        if (auto trusted = parse_pull_settings(trusted_pull)) h.trusted_pull = std::move(*trusted);
    }
    h.signals.reset(::signalfd(-1, &mask, SFD_CLOEXEC));
    h.ttl_timer.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
    h.idle_timer.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
    h.renew_timer.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
    h.refresh_timer.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
    Status prepared = prepare_holder(h, vault_path, config_path, ready);
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

namespace {

// Copies a variable's value into secret memory and zeroes it where the environment keeps it.
SecretBuffer take_from_env(const char* name) {
    char* value = std::getenv(name);
    if (!value || !*value) return {};
    std::size_t length = std::strlen(value);
    auto copy = SecretBuffer::copy_of({reinterpret_cast<const std::uint8_t*>(value), length});
    sodium_memzero(value, length);
    ::unsetenv(name);
    return copy ? std::move(*copy) : SecretBuffer{};
}

}  // namespace

void take_infisical_environment(SessionCredentials& into) {
    into.client_id = take_from_env("INFISICAL_UNIVERSAL_AUTH_CLIENT_ID");
    into.client_secret = take_from_env("INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET");
    into.token = take_from_env("INFISICAL_TOKEN");
    if (into.token.empty()) into.token = take_from_env("INFISICAL_UNIVERSAL_AUTH_ACCESS_TOKEN");
    else (void)take_from_env("INFISICAL_UNIVERSAL_AUTH_ACCESS_TOKEN");
}

Status start_session(const std::string& vault_path, const std::string& config_path, SessionCredentials credentials,
                     const SessionSettings& settings, const SessionPaths& paths, const std::string& trusted_pull) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return sys_error("socketpair for the session holder");
    UniqueFd ours(pair[0]), theirs(pair[1]);
    // Forked twice so the holder is nobody's child here: it outlives this command when the
    // session should, and its end is nobody's zombie. The credentials are not passed down the
    // fork (the child sees their buffers wiped): they are sent once the holder asks.
    pid_t pid = ::fork();
    if (pid < 0) return sys_error("fork the session holder");
    if (pid == 0) {
        ours.reset();
        pid_t holder = ::fork();
        if (holder != 0) ::_exit(holder < 0 ? 1 : 0);
        holder_main(vault_path, config_path, settings, paths, trusted_pull, theirs.release());
    }
    theirs.reset();
    ::waitpid(pid, nullptr, 0);
    // The holder asks for the credentials once its ghost is ready ('C'), then reports ('R' and
    // the reply); or reports at once the error that stopped it before.
    auto marker = [&]() {
        std::uint8_t byte = 0;
        ssize_t got;
        while ((got = ::read(ours.get(), &byte, 1)) < 0 && errno == EINTR) {
        }
        return got == 1 ? static_cast<int>(byte) : -1;
    };
    int first = marker();
    Status sent;
    if (first == kSendCredentials) {
        sent = send_credentials(ours.get(), credentials);
        first = marker();
    }
    credentials = SessionCredentials{};  // wiped: from here on only the holder has them
    if (first != kReport) {
        if (!sent) return sent;
        return make_error(ErrorCode::runtime, "start the session", "the holder ended without an answer");
    }
    auto answer = protocol::read_reply(ours.get());
    if (!answer) return std::move(answer).error();
    if (!*answer) return make_error(ErrorCode::runtime, "start the session", "the holder ended without an answer");
    if (auto* e = std::get_if<Error>(&**answer)) return std::move(*e);
    if (!std::holds_alternative<protocol::Started>(**answer)) return make_error(ErrorCode::runtime, "start the session", "unexpected answer from the holder");
    return {};
}

}  // namespace ghostpod
