#include <catch2/catch.hpp>
#include <sodium.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "vault/bytes.hpp"
#include "vault/format.hpp"
#include "vault/recovery_key.hpp"
#include "vault/vault.hpp"

using namespace ghostpod;

namespace {

std::span<const std::uint8_t> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string as_string(std::span<const std::uint8_t> b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

const std::string kPass = "correct horse battery staple";

struct Fixture {
    SecretBuffer recovery;
    Vault vault;
};

Fixture make_vault() {
    REQUIRE(sodium_init() >= 0);
    auto recovery = generate_recovery_key();
    REQUIRE(recovery);
    auto vault = Vault::create(as_bytes(kPass), KdfProfile::interactive, recovery->bytes(), 1'700'000'000);
    REQUIRE(vault);
    return {std::move(*recovery), std::move(*vault)};
}

Entry named(std::string name, EntryKind kind = EntryKind::file) {
    Entry e;
    e.name = std::move(name);
    e.kind = kind;
    e.source = "test";
    e.updated = 1'700'000'123;
    return e;
}

Vault reopen(const std::vector<std::uint8_t>& file, std::string_view pass = kPass) {
    auto opened = Vault::open(file, {SlotType::passphrase, as_bytes(pass)});
    REQUIRE(opened);
    return std::move(*opened);
}

const std::string kPem =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBszCCAVmgAwIBAgIUQ3Zl\n"
    "dGVzdA==\n"
    "-----END CERTIFICATE-----\n";

}  // namespace

TEST_CASE("every entry kind round-trips with its bytes, mode, source and time", "[vault]") {
    auto f = make_vault();
    std::string binary;
    for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
    REQUIRE(f.vault.put(named("kube/config"), as_bytes(kPem)));
    Entry env = named("AWS_SECRET_ACCESS_KEY", EntryKind::env);
    env.mode = 0600;
    REQUIRE(f.vault.put(env, as_bytes("wJalrXUtnFEMI/K7MDENG")));
    REQUIRE(f.vault.put(named("infisical.client-secret", EntryKind::identity), as_bytes(binary)));
    REQUIRE(f.vault.put(named("cache", EntryKind::token_cache), as_bytes("")));
    auto file = f.vault.serialise(1'700'000'200);
    REQUIRE(file);

    Vault back = reopen(*file);
    REQUIRE(back.entries().size() == 4);
    CHECK(as_string(back.find("kube/config")->value()) == kPem);
    CHECK(back.find("kube/config")->kind == EntryKind::file);
    CHECK(as_string(back.find("AWS_SECRET_ACCESS_KEY")->value()) == "wJalrXUtnFEMI/K7MDENG");
    CHECK(back.find("AWS_SECRET_ACCESS_KEY")->mode == 0600);
    CHECK(back.find("AWS_SECRET_ACCESS_KEY")->kind == EntryKind::env);
    CHECK(as_string(back.find("infisical.client-secret")->value()) == binary);
    CHECK(back.find("infisical.client-secret")->kind == EntryKind::identity);
    CHECK(back.find("cache")->value().empty());
    CHECK(back.find("cache")->kind == EntryKind::token_cache);
    CHECK(back.find("kube/config")->source == "test");
    CHECK(back.find("kube/config")->updated == 1'700'000'123);
    CHECK(back.header().entry_count == 4);
}

TEST_CASE("values spanning several payload chunks round-trip exactly", "[vault]") {
    auto f = make_vault();
    std::string big(3 * kChunkBytes + 17, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131) % 251);
    REQUIRE(f.vault.put(named("big"), as_bytes(big)));
    auto file = f.vault.serialise(1'700'000'200);
    REQUIRE(file);
    CHECK(as_string(reopen(*file).find("big")->value()) == big);
}

TEST_CASE("a wrong passphrase is refused with the unlock error code", "[vault]") {
    auto f = make_vault();
    auto file = f.vault.serialise(1'700'000'200);
    REQUIRE(file);
    auto opened = Vault::open(*file, {SlotType::passphrase, as_bytes("Correct horse battery staple")});
    REQUIRE_FALSE(opened);
    CHECK(opened.error().code == ErrorCode::unlock);
    CHECK(opened.error().why.find("wrong passphrase") != std::string::npos);
}

TEST_CASE("the recovery key unlocks and the passphrase does not open the recovery slot", "[vault]") {
    auto f = make_vault();
    REQUIRE(f.vault.put(named("a"), as_bytes("alpha")));
    auto file = f.vault.serialise(1'700'000'200);
    REQUIRE(file);
    auto by_recovery = Vault::open(*file, {SlotType::recovery, f.recovery.bytes()});
    REQUIRE(by_recovery);
    CHECK(as_string(by_recovery->find("a")->value()) == "alpha");
    auto other_key = generate_recovery_key();
    REQUIRE(other_key);
    CHECK_FALSE(Vault::open(*file, {SlotType::recovery, other_key->bytes()}));
}

TEST_CASE("changing the passphrase rewraps the key and keeps the payload bytes", "[vault]") {
    auto f = make_vault();
    REQUIRE(f.vault.put(named("a"), as_bytes("alpha")));
    auto before = f.vault.serialise(1'700'000'200);
    REQUIRE(before);
    Vault v = reopen(*before);
    REQUIRE(v.set_passphrase(as_bytes("new passphrase"), KdfProfile::interactive));
    auto after = v.serialise(1'700'000'300);
    REQUIRE(after);
    std::size_t header_len = v.header().length();
    REQUIRE(after->size() == before->size());
    CHECK(std::equal(after->begin() + static_cast<long>(header_len), after->end(), before->begin() + static_cast<long>(header_len)));
    CHECK(v.header().generation == 1);
    CHECK_FALSE(Vault::open(*after, {SlotType::passphrase, as_bytes(kPass)}));
    CHECK(as_string(reopen(*after, "new passphrase").find("a")->value()) == "alpha");
    CHECK(Vault::open(*after, {SlotType::recovery, f.recovery.bytes()}));
}

TEST_CASE("the generation grows only when entries change", "[vault]") {
    auto f = make_vault();
    auto first = f.vault.serialise(1'700'000'200);
    REQUIRE(first);
    CHECK(f.vault.header().generation == 1);
    auto unchanged = f.vault.serialise(1'700'000'300);
    REQUIRE(unchanged);
    CHECK(f.vault.header().generation == 1);
    REQUIRE(f.vault.put(named("a"), as_bytes("x")));
    REQUIRE(f.vault.serialise(1'700'000'400));
    CHECK(f.vault.header().generation == 2);
    CHECK(f.vault.remove("a"));
    CHECK_FALSE(f.vault.remove("a"));
    REQUIRE(f.vault.serialise(1'700'000'500));
    CHECK(f.vault.header().generation == 3);
}

TEST_CASE("a payload from another generation of the same vault is rejected", "[vault]") {
    auto f = make_vault();
    REQUIRE(f.vault.put(named("a"), as_bytes("old")));
    auto old_file = f.vault.serialise(1'700'000'200);
    REQUIRE(old_file);
    REQUIRE(f.vault.put(named("a"), as_bytes("new")));
    auto new_file = f.vault.serialise(1'700'000'300);
    REQUIRE(new_file);
    std::size_t header_len = f.vault.header().length();
    // New header (generation 2, valid MAC) with the old payload sealed under generation 1.
    std::vector<std::uint8_t> spliced(new_file->begin(), new_file->begin() + static_cast<long>(header_len));
    spliced.insert(spliced.end(), old_file->begin() + static_cast<long>(header_len), old_file->end());
    auto opened = Vault::open(spliced, {SlotType::passphrase, as_bytes(kPass)});
    REQUIRE_FALSE(opened);
    CHECK(opened.error().code == ErrorCode::unlock);
}

TEST_CASE("a header asking for absurd Argon2 memory is refused before any derivation", "[vault]") {
    auto f = make_vault();
    auto file = f.vault.serialise(1'700'000'200);
    REQUIRE(file);
    auto hostile = *file;
    put_u32(hostile.data() + kFixedHeaderBytes + 8, 0xffffffffu);  // m_cost of slot 0: 4 TiB
    auto parsed = parse_header(hostile);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::unlock);
    CHECK(parsed.error().why.find("out of bounds") != std::string::npos);
}

TEST_CASE("foreign files and unknown versions are named as such", "[vault]") {
    std::vector<std::uint8_t> text(200, 'x');
    auto foreign = parse_header(text);
    REQUIRE_FALSE(foreign);
    CHECK(foreign.error().why.find("not a ghostpod vault") != std::string::npos);
    auto f = make_vault();
    auto file = f.vault.serialise(1'700'000'200);
    REQUIRE(file);
    put_u16(file->data() + 8, 2);
    auto future = parse_header(*file);
    REQUIRE_FALSE(future);
    CHECK(future.error().why.find("version 2") != std::string::npos);
}

TEST_CASE("entry names that could escape a directory are refused", "[vault]") {
    for (const char* bad : {"", "../x", "a/../b", "/abs", "a//b", "a/", ".", "sp ace", "new\nline", "semi;colon"})
        CHECK_FALSE(validate_entry_name(bad));
    for (const char* good : {"a", "kube/config", "talos/config.yaml", "infisical.client-secret", "AWS_KEY", "me@host+1"})
        CHECK(validate_entry_name(good));
}

TEST_CASE("tens of thousands of puts share one secret region instead of a mapping each", "[vault]") {
    auto count_mappings = [] {
        std::ifstream maps("/proc/self/maps");
        return std::count(std::istreambuf_iterator<char>(maps), std::istreambuf_iterator<char>(), '\n');
    };
    auto f = make_vault();
    auto before = count_mappings();
    std::string value(100, 'v');
    for (int i = 0; i < 30000; ++i) {
        value[0] = static_cast<char>('a' + i % 26);
        REQUIRE(f.vault.put(named("bulk/" + std::to_string(i)), as_bytes(value)));
    }
    CHECK(count_mappings() - before < 100);
    auto file = f.vault.serialise(1'700'000'200);
    REQUIRE(file);
    Vault back = reopen(*file);
    REQUIRE(back.entries().size() == 30000);
    CHECK(as_string(back.find("bulk/29999")->value()).substr(1) == value.substr(1));
    CHECK(back.find("bulk/29999")->value()[0] == static_cast<std::uint8_t>('a' + 29999 % 26));
}
