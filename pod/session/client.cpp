// The client side of the control socket: connecting, attaching, one-shot requests, pulls.
#include "pod/session/client.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "sandbox/fdpass.hpp"

namespace ghostpod {

Result<UniqueFd> connect_session(const SessionPaths& paths) {
    auto fd = make_session_socket();
    if (!fd) return fd;
    auto addr = session_address(paths.socket);
    if (::connect(fd->get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        if (errno == ENOENT || errno == ECONNREFUSED)
            return make_error(ErrorCode::session, "no session is running for this vault", "",
                              "start one with 'ghostpod shell' or 'ghostpod run -- CMD'");
        return sys_error("connect to " + paths.socket);
    }
    return fd;
}

Error error_from_reply(const std::string& text) {
    auto nl1 = text.find('\n'), nl2 = text.find('\n', nl1 + 1);
    Error e;
    e.code = static_cast<ErrorCode>(std::atoi(text.substr(0, nl1).c_str()));
    e.what = text.substr(nl1 + 1, nl2 - nl1 - 1);
    e.hint = nl2 == std::string::npos ? "" : text.substr(nl2 + 1);
    return e;
}

namespace {

// Connects, sends `what` and receives the first reply. A holder that is ending keeps its socket
// until it is done (so that no new session can start while it tears down) but serves no one:
// the connections waiting for it are reset or closed unanswered. Then this waits (up to 30 s)
// for the socket to go and reports what a moment later is true: no session is running.
Result<UniqueFd> first_exchange(const SessionPaths& paths, const std::string& what, std::string& reply,
                                std::vector<UniqueFd>* fds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
        auto conn = connect_session(paths);
        if (!conn) return conn;
        Status done = sandbox::send_message(conn->get(), what);
        if (done) done = sandbox::receive_message(conn->get(), reply, fds);
        bool ending = done ? reply.empty() : done.error().errnum == ECONNRESET || done.error().errnum == EPIPE;
        if (!ending) {
            if (!done) return std::move(done).error();
            return conn;
        }
        if (std::chrono::steady_clock::now() > deadline)
            return make_error(ErrorCode::session, what.substr(0, what.find('\n')) + " in the session", "the holder closed the connection unanswered",
                              "the session is ending; run the command again");
        if (fds) fds->clear();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

}  // namespace

Result<Attachment> attach(const SessionPaths& paths) {
    std::string reply;
    std::vector<UniqueFd> fds;
    auto conn = first_exchange(paths, "attach", reply, &fds);
    if (!conn) return std::move(conn).error();
    if (reply.rfind("attached\t", 0) != 0 || fds.size() < 3)
        return make_error(ErrorCode::session, "attach to the session", "the holder refused");
    std::size_t parts = std::strtoul(reply.c_str() + 9, nullptr, 10);
    reply = "attached\n";
    for (std::size_t i = 0; i < parts; ++i) {
        std::string part;
        GP_TRY(sandbox::receive_message(conn->get(), part));
        reply += part;
    }
    Attachment a;
    a.connection = std::move(*conn);
    a.ns_mnt = std::move(fds[0]);
    a.ns_pid = std::move(fds[1]);
    a.ns_ipc = std::move(fds[2]);
    if (fds.size() > 3) a.ns_user = std::move(fds[3]);
    std::size_t pos = reply.find('\n') + 1;
    while (pos < reply.size()) {
        std::size_t end = reply.find('\n', pos);
        std::string line = reply.substr(pos, end - pos);
        pos = end == std::string::npos ? reply.size() : end + 1;
        std::vector<std::string> f;
        for (std::size_t start = 0;;) {
            std::size_t tab = line.find('\t', start);
            f.push_back(line.substr(start, tab - start));
            if (tab == std::string::npos) break;
            start = tab + 1;
        }
        if (f[0] == "dir" && f.size() == 2) a.ghost_dir = f[1];
        else if (f[0] == "secret" && f.size() == 2) a.secrets.push_back(f[1]);
        else if (f[0] == "place" && f.size() == 3) a.placements.push_back({f[1], f[2]});
        else if (f[0] == "env" && f.size() == 5) a.env.push_back({f[1], f[2], f[3], f[4] == "1"});
    }
    return a;
}

Result<std::string> request_pull(const SessionPaths& paths, const std::string& settings_json,
                                 const std::function<void(const std::string&)>& on_progress) {
    std::string reply;
    auto conn = first_exchange(paths, "pull\n" + settings_json, reply, nullptr);
    if (!conn) return std::move(conn).error();
    for (bool first = true;; first = false) {
        if (!first) GP_TRY(sandbox::receive_message(conn->get(), reply));
        if (reply.rfind("progress\t", 0) == 0) {
            on_progress(reply.substr(9));
        } else if (reply.rfind("pulled\n", 0) == 0) {
            return reply.substr(7);
        } else if (reply.rfind("error\n", 0) == 0) {
            return error_from_reply(reply.substr(6));
        } else {
            return make_error(ErrorCode::session, "pull in the session", "the holder ended the connection",
                              "the session may have ended; run 'ghostpod pull' again");
        }
    }
}

Result<std::string> request(const SessionPaths& paths, const std::string& what) {
    std::string reply;
    auto conn = first_exchange(paths, what, reply, nullptr);
    if (!conn) return std::move(conn).error();
    return reply;
}


}  // namespace ghostpod
