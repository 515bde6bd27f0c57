// Which session errors mean "none is running": only those may lead a command to start a session
// or to read the vault instead (export, certs); a refusal or an ending session must not.
#include <catch2/catch.hpp>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "pod/session/client.hpp"
#include "tests/support/temp_dir.hpp"

using namespace ghostpod;
using ghostpod::test::TempDir;

TEST_CASE("a socket path with nothing behind it is no session running", "[session][client]") {
    TempDir dir;
    SessionPaths paths{dir.path(), dir / "absent.sock", ""};
    auto conn = connect_session(paths);
    REQUIRE_FALSE(conn);
    CHECK(conn.error().code == ErrorCode::session);
    CHECK(no_session_running(conn.error()));

    // A socket file left by a holder that died: connect is refused, which is the same answer.
    int fd = ::socket(AF_UNIX, SOCK_SEQPACKET, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string stale = dir / "stale.sock";
    stale.copy(addr.sun_path, sizeof addr.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    ::close(fd);
    paths.socket = stale;
    auto refused = connect_session(paths);
    REQUIRE_FALSE(refused);
    CHECK(no_session_running(refused.error()));
}

TEST_CASE("a holder's refusal or an ending session is not taken for no session running", "[session][client]") {
    CHECK_FALSE(no_session_running(make_error(ErrorCode::session, "export in the session",
                                              "refused: a profile's command asks for its own view only")));
    CHECK_FALSE(no_session_running(make_error(ErrorCode::session, "status in the session", "the holder closed the connection unanswered")));
    // The same words with another code are some other failure.
    CHECK_FALSE(no_session_running(make_error(ErrorCode::runtime, "no session is running for this vault", "")));
}
