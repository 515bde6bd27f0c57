// The client side of the control socket: connecting, attaching, one-shot requests, pulls.
#include "pod/session/client.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>

#include "sandbox/seccomp.hpp"

namespace ghostpod {

namespace {
constexpr const char* kNoSession = "no session is running for this vault";
}  // namespace

bool no_session_running(const Error& e) { return e.code == ErrorCode::session && e.what == kNoSession; }

Result<UniqueFd> connect_session(const SessionPaths& paths) {
    auto fd = make_session_socket();
    if (!fd) return fd;
    auto addr = session_address(paths.socket);
    if (::connect(fd->get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        if (errno == ENOENT || errno == ECONNREFUSED)
            return make_error(ErrorCode::session, kNoSession, "",
                              "start one with 'ghostpod shell' or 'ghostpod run -- CMD'");
        return sys_error("connect to " + paths.socket);
    }
    return fd;
}

void Attachment::narrow(const SessionView& v) {
    ghost_dir = v.ghost_dir;
    secrets = v.secrets;
    placements = v.placements;
    env = v.env;
}

namespace {

// Connects, sends `what` and receives the first reply. A holder that is ending keeps its socket
// until it is done (so that no new session can start while it tears down) but serves no one:
// the connections waiting for it are reset or closed unanswered. Then this waits (up to 30 s)
// for the socket to go and reports what a moment later is true: no session is running.
Result<UniqueFd> first_exchange(const SessionPaths& paths, const protocol::Request& what, protocol::Reply& reply,
                                std::vector<UniqueFd>* fds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
        auto conn = connect_session(paths);
        if (!conn) return conn;
        Status sent = protocol::send(conn->get(), what);
        Result<std::optional<protocol::Reply>> got = std::optional<protocol::Reply>{};
        if (sent) got = protocol::receive_reply(conn->get(), fds);
        const Error* failed = !sent ? &sent.error() : !got ? &got.error() : nullptr;
        bool ending = failed ? failed->errnum == ECONNRESET || failed->errnum == EPIPE : !got->has_value();
        if (!ending) {
            if (failed) return *failed;
            reply = std::move(**got);
            return conn;
        }
        if (std::chrono::steady_clock::now() > deadline)
            return make_error(ErrorCode::session, std::string(protocol::request_name(what)) + " in the session", "the holder closed the connection unanswered",
                              "the session is ending; run the command again");
        if (fds) fds->clear();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

template <class T>
Result<T> expect(protocol::Reply&& reply, const std::string& what) {
    if (auto* e = std::get_if<Error>(&reply)) return std::move(*e);
    if (auto* t = std::get_if<T>(&reply)) return std::move(*t);
    return make_error(ErrorCode::session, what, "unexpected answer from the holder");
}

}  // namespace

Result<Attachment> attach(const SessionPaths& paths) {
    protocol::Reply reply;
    std::vector<UniqueFd> fds;
    auto conn = first_exchange(paths, protocol::AttachRequest{}, reply, &fds);
    if (!conn) return std::move(conn).error();
    auto attached = expect<protocol::Attached>(std::move(reply), "attach to the session");
    if (!attached) return std::move(attached).error();
    bool full = attached->place != protocol::Place::profile;
    if (full && fds.size() < 3) return make_error(ErrorCode::session, "attach to the session", "the holder refused");
    // The filter every command started from here runs under: the holder's (which the client
    // trusts as it trusts the namespaces it hands over), checked for shape before it is kept.
    GP_TRY(sandbox::use_seccomp_program(std::move(attached->seccomp)));
    Attachment a;
    a.connection = std::move(*conn);
    a.place = attached->place;
    a.profile = attached->profile;
    a.pass_env = std::move(attached->pass_env);
    a.prompt = attached->prompt;
    if (full) {
        a.ns_mnt = std::move(fds[0]);
        a.ns_pid = std::move(fds[1]);
        a.ns_ipc = std::move(fds[2]);
        if (fds.size() > 3) a.ns_user = std::move(fds[3]);
    }
    a.narrow(attached->view);
    for (const auto& e : a.env) a.mapped_names.push_back(e.name);
    return a;
}

Result<UniqueFd> exchange(const SessionPaths& paths, const protocol::Request& what, protocol::Reply& reply) {
    return first_exchange(paths, what, reply, nullptr);
}

template <class T>
Result<T> request(const SessionPaths& paths, const protocol::Request& what) {
    protocol::Reply reply;
    auto conn = first_exchange(paths, what, reply, nullptr);
    if (!conn) return std::move(conn).error();
    return expect<T>(std::move(reply), std::string(protocol::request_name(what)) + " in the session");
}

template Result<protocol::StatusReply> request(const SessionPaths&, const protocol::Request&);
template Result<protocol::Locked> request(const SessionPaths&, const protocol::Request&);
template Result<protocol::Saved> request(const SessionPaths&, const protocol::Request&);
template Result<protocol::CertsReply> request(const SessionPaths&, const protocol::Request&);
template Result<protocol::NoticeReply> request(const SessionPaths&, const protocol::Request&);

Result<protocol::Pulled> request_pull(const SessionPaths& paths, const std::string& settings_json,
                                      const std::function<void(const std::string&)>& on_progress) {
    protocol::Reply reply;
    auto conn = first_exchange(paths, protocol::PullRequest{settings_json}, reply, nullptr);
    if (!conn) return std::move(conn).error();
    for (;;) {
        if (auto* p = std::get_if<protocol::Progress>(&reply)) {
            on_progress(p->text);
        } else {
            return expect<protocol::Pulled>(std::move(reply), "pull in the session");
        }
        auto next = protocol::receive_reply(conn->get());
        if (!next) return std::move(next).error();
        if (!*next)
            return make_error(ErrorCode::session, "pull in the session", "the holder ended the connection",
                              "the session may have ended; run 'ghostpod pull' again");
        reply = std::move(**next);
    }
}

namespace {

template <class T>
Status ask_on_attachment(Attachment& a, const protocol::Request& what, const std::vector<int>& fds, const std::string& step) {
    GP_TRY(protocol::send(a.connection.get(), what, fds));
    auto reply = protocol::receive_reply(a.connection.get());
    if (!reply) return std::move(reply).error();
    if (!*reply) return make_error(ErrorCode::session, step, "the holder ended the connection", "the session may have ended");
    auto answer = expect<T>(std::move(**reply), step);
    if (!answer) return std::move(answer).error();
    return {};
}

}  // namespace

Status register_profile(Attachment& a, const std::string& name, const std::vector<std::string>& allowed, int mnt_ns) {
    return ask_on_attachment<protocol::Registered>(a, protocol::RegisterRequest{name, allowed}, {mnt_ns}, "register profile " + name);
}

Status spawn_in_profile(Attachment& a, const std::string& name, const std::vector<std::string>& allowed,
                        const std::vector<int>& fds) {
    return ask_on_attachment<protocol::Spawned>(a, protocol::SpawnRequest{name, allowed}, fds, "start a command in profile " + name);
}

}  // namespace ghostpod
