// run --mask's matcher on real pipes: values replaced whole, also across reads; a held start of
// a value comes out as it was when the rest does not follow; short values are left alone.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "pod/session/output_mask.hpp"

using namespace ghostpod;

namespace {

struct Pipe {
    int r = -1, w = -1;
    Pipe() {
        int fds[2];
        REQUIRE(::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
        r = fds[0];
        w = fds[1];
    }
    ~Pipe() {
        ::close(r);
        ::close(w);
    }
    void put(const std::string& text) const { REQUIRE(::write(w, text.data(), text.size()) == static_cast<ssize_t>(text.size())); }
    std::string take() const {
        std::string out;
        char buffer[4096];
        for (ssize_t n; (n = ::read(r, buffer, sizeof buffer)) > 0;) out.append(buffer, static_cast<std::size_t>(n));
        return out;
    }
};

std::span<const std::uint8_t> bytes(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

// Feeds `pieces` one read each through a stream and returns what came out (held bytes flushed
// at the end when `flush`).
std::string masked(const MaskValues& values, const std::vector<std::string>& pieces, bool flush = true) {
    Pipe in, out;
    auto stream = MaskedStream::make(values, out.w);
    REQUIRE(stream);
    for (const auto& piece : pieces) {
        in.put(piece);
        REQUIRE(stream->relay_from(in.r) == static_cast<ssize_t>(piece.size()));
    }
    if (flush) stream->flush();
    return out.take();
}

}  // namespace

TEST_CASE("a value is concealed whole, also when it comes in two reads", "[mask]") {
    MaskValues values;
    REQUIRE(values.add(bytes("abcd\n")));  // the trailing newline is not part of what is looked for
    CHECK(masked(values, {"x abcd y"}) == "x <concealed by ghostpod> y");
    CHECK(masked(values, {"x ab", "cd y"}) == "x <concealed by ghostpod> y");
    CHECK(masked(values, {"a", "b", "c", "d", "abcd"}) == "<concealed by ghostpod><concealed by ghostpod>");
    CHECK(masked(values, {"abcd\n"}) == "<concealed by ghostpod>\n");
}

TEST_CASE("the start of a value is held until the rest comes or the stream ends", "[mask]") {
    MaskValues values;
    REQUIRE(values.add(bytes("secret")));
    CHECK(masked(values, {"x sec"}, false) == "x ");
    CHECK(masked(values, {"x sec"}) == "x sec");
    CHECK(masked(values, {"x sec", "ond"}) == "x second");
}

TEST_CASE("the longest value wins where one begins another, and short values are not masked", "[mask]") {
    MaskValues values;
    REQUIRE(values.add(bytes("token")));
    REQUIRE(values.add(bytes("token-long")));
    REQUIRE(values.add(bytes("abc")));
    CHECK(masked(values, {"token-long token abc"}) == "<concealed by ghostpod> <concealed by ghostpod> abc");
    CHECK(masked(values, {"token-lo", "ng"}) == "<concealed by ghostpod>");
    CHECK(masked(values, {"token-lo"}) == "<concealed by ghostpod>-lo");
}
