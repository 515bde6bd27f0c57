// Every single-byte change and every truncation of a small vault must be refused with exit 3,
// and nothing stored may appear in the output.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "tests/support/vault_fixture.hpp"

using namespace ghostpod::test;

namespace {

struct Outcome {
    std::size_t position;
    int exit_code;
    bool leaked;
};

// Runs `ghostpod secret get` against `variants` two at a time (the machine has two cores).
std::vector<Outcome> try_variants(const VaultFixture& v, const std::vector<std::string>& variants,
                                  const std::vector<std::string>& values) {
    std::vector<Outcome> outcomes(variants.size());
    std::atomic<std::size_t> next{0};
    auto worker = [&](int id) {
        std::string path = v.dir / ("variant-" + std::to_string(id));
        for (std::size_t i = next++; i < variants.size(); i = next++) {
            write_text(path, variants[i]);
            auto r = run(gp(path, {"secret", "get", "first"}), v.options());
            bool leaked = false;
            for (const auto& value : values) leaked = leaked || contains(r.out + r.err, value);
            outcomes[i] = {i, r.exit_code, leaked};
        }
    };
    std::thread a(worker, 0), b(worker, 1);
    a.join();
    b.join();
    return outcomes;
}

struct Tally {
    std::size_t accepted = 0;  // variants that did not exit 3
    std::size_t leaks = 0;     // variants whose output held a stored value
};

Tally tally(const std::vector<Outcome>& outcomes, const char* what) {
    Tally t;
    for (const auto& o : outcomes) {
        if (o.exit_code != 3) {
            ++t.accepted;
            UNSCOPED_INFO(what << " " << o.position << ": exit " << o.exit_code);
        }
        if (o.leaked) ++t.leaks;
    }
    return t;
}

struct SmallVault {
    VaultFixture v;
    std::vector<std::string> values{random_marker("first-"), random_marker("second-")};
    std::string bytes;
    SmallVault() {
        REQUIRE(v.set("first", values[0]).exit_code == 0);
        REQUIRE(v.set("second", values[1]).exit_code == 0);
        bytes = read_text(v.vault);
        auto sanity = try_variants(v, {bytes}, {});
        REQUIRE(sanity[0].exit_code == 0);
    }
};

}  // namespace

TEST_CASE("a flipped bit in any byte of the vault is rejected with exit 3", "[tamper]") {
    SmallVault s;
    std::vector<std::string> variants;
    for (std::size_t i = 0; i < s.bytes.size(); ++i) {
        std::string flipped = s.bytes;
        flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
        variants.push_back(flipped);
    }
    auto outcomes = try_variants(s.v, variants, s.values);
    auto t = tally(outcomes, "flipped byte");
    CHECK(outcomes.size() == s.bytes.size());
    CHECK(t.accepted == 0);
    CHECK(t.leaks == 0);
}

TEST_CASE("a vault truncated to any shorter length is rejected with exit 3", "[tamper]") {
    SmallVault s;
    std::vector<std::string> variants;
    for (std::size_t len = 0; len < s.bytes.size(); ++len) variants.push_back(s.bytes.substr(0, len));
    variants.push_back(s.bytes + std::string(1, '\0'));  // and one byte appended
    auto outcomes = try_variants(s.v, variants, s.values);
    auto t = tally(outcomes, "truncated to length");
    CHECK(t.accepted == 0);
    CHECK(t.leaks == 0);
}

TEST_CASE("a damaged vault's error says what is wrong and how to recover", "[tamper]") {
    SmallVault s;
    std::string damaged = s.bytes;
    damaged[damaged.size() - 5] = static_cast<char>(damaged[damaged.size() - 5] ^ 0x80);
    write_text(s.v.vault, damaged);
    auto r = s.v.get("first");
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("damaged payload") != std::string::npos);
    CHECK(r.err.find(".bak") != std::string::npos);
    write_text(s.v.vault, "just some text, not a vault at all");
    auto foreign = s.v.get("first");
    CHECK(foreign.exit_code == 3);
    CHECK(foreign.err.find("not a ghostpod vault") != std::string::npos);
}
