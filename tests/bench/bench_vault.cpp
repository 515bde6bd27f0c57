// bench_vault: what unlocking and saving a vault costs, each figure next to a peer or a floor
// measured in the same run. Part A: unlock per KDF profile against PBKDF2-HMAC-SHA256 100k
// (what TazPod used) and libsodium's Argon2id with the same parameters. Part B: a 10,000-entry,
// 10 MB vault's save and load against plain file I/O and bare secretstream crypto.
//   bench_vault [--quick]     --quick: 3/3/1 unlock runs instead of 5/5/3
#include <fcntl.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "vault/kdf.hpp"
#include "vault/payload.hpp"
#include "vault/recovery_key.hpp"
#include "vault/store.hpp"
#include "vault/vault.hpp"

namespace gp = ghostpod;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint64_t kNow = 1'700'000'000;
constexpr std::string_view kPassphrase = "correct horse battery staple";
constexpr int kPbkdf2Iterations = 100'000;  // TazPod's PBKDF2-HMAC-SHA256 setting
constexpr std::size_t kEntryCount = 10'000;
constexpr std::size_t kValueBytes = 1'000;
constexpr int kSaveLoadRuns = 5;

std::span<const std::uint8_t> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string g_temp_dir;  // removed on every exit path

[[noreturn]] void die(const std::string& step, const std::string& why) {
    std::fprintf(stderr, "bench_vault: %s: %s\n", step.c_str(), why.c_str());
    std::error_code ignored;
    if (!g_temp_dir.empty()) std::filesystem::remove_all(g_temp_dir, ignored);
    std::exit(1);
}

template <class T>
T must(gp::Result<T> result, const std::string& step) {
    if (!result) die(step, result.error().describe());
    return std::move(result).value();
}

void must(gp::Status status, const std::string& step) {
    if (!status) die(step, status.error().describe());
}

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> samples) {
    std::sort(samples.begin(), samples.end());
    std::size_t n = samples.size();
    return n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

std::string format(const char* fmt, double value) {
    char buf[64];
    std::snprintf(buf, sizeof buf, fmt, value);
    return buf;
}
std::string ms(double value) { return format("%.1f ms", value); }
std::string ratio(double a, double b) { return format("%.2fx", a / b); }
std::string mib(double bytes) { return format("%.1f MiB", bytes / (1024.0 * 1024.0)); }

// Aligned text table: first column left-aligned, the rest right-aligned.
class Table {
public:
    explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    void print() const {
        std::vector<std::size_t> width(rows_[0].size(), 0);
        for (const auto& row : rows_)
            for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
        for (std::size_t r = 0; r < rows_.size(); ++r) {
            std::string line;
            for (std::size_t c = 0; c < rows_[r].size(); ++c) {
                std::string pad(width[c] - rows_[r][c].size(), ' ');
                line += c == 0 ? rows_[r][c] + pad : "  " + pad + rows_[r][c];
            }
            std::printf("%s\n", line.c_str());
            if (r == 0) {
                std::size_t total = 0;
                for (auto w : width) total += w + 2;
                std::printf("%s\n", std::string(total - 2, '-').c_str());
            }
        }
    }

private:
    std::vector<std::vector<std::string>> rows_;
};

double pbkdf2_100k_ms() {
    std::uint8_t salt[gp::kSaltBytes], out[gp::kKeyBytes];
    randombytes_buf(salt, sizeof salt);
    auto start = Clock::now();
    if (PKCS5_PBKDF2_HMAC(kPassphrase.data(), static_cast<int>(kPassphrase.size()), salt, sizeof salt,
                          kPbkdf2Iterations, EVP_sha256(), sizeof out, out) != 1)
        die("PKCS5_PBKDF2_HMAC", "failed");
    return ms_since(start);
}

// libsodium's Argon2id always runs with one lane and one thread.
double libsodium_argon2id_ms(const gp::Argon2Params& params) {
    std::uint8_t salt[crypto_pwhash_SALTBYTES], out[gp::kKeyBytes];
    randombytes_buf(salt, sizeof salt);
    auto start = Clock::now();
    if (crypto_pwhash(out, sizeof out, kPassphrase.data(), kPassphrase.size(), salt, params.t_cost,
                      std::size_t{params.m_cost_kib} * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0)
        die("crypto_pwhash", "out of memory");
    return ms_since(start);
}

const gp::Credential& passphrase_credential() {
    static const gp::Credential credential{gp::SlotType::passphrase, as_bytes(kPassphrase)};
    return credential;
}

std::vector<std::uint8_t> empty_vault_file(gp::KdfProfile profile) {
    auto recovery = must(gp::generate_recovery_key(), "generate recovery key");
    auto vault = must(gp::Vault::create(as_bytes(kPassphrase), profile, recovery.bytes(), kNow), "create vault");
    return must(vault.serialise(kNow), "serialise vault");
}

double open_ms(std::span<const std::uint8_t> file) {
    auto start = Clock::now();
    auto vault = must(gp::Vault::open(file, passphrase_credential()), "open vault");
    return ms_since(start);
}

Table unlock_table(bool quick) {
    struct Row {
        gp::KdfProfile profile;
        int runs;
    };
    const Row rows[] = {{gp::KdfProfile::interactive, quick ? 3 : 5},
                        {gp::KdfProfile::moderate, quick ? 3 : 5},
                        {gp::KdfProfile::sensitive, quick ? 1 : 3}};
    Table table({"profile", "memory", "passes", "lanes", "runs", "ghostpod unlock", "PBKDF2-100k",
                 "unlock/PBKDF2", "libsodium (1 lane)", "unlock/libsodium"});
    for (const auto& row : rows) {
        auto params = gp::params_for(row.profile);
        auto file = empty_vault_file(row.profile);
        std::vector<double> unlock, pbkdf2, sodium;
        // Interleaved so drift (thermal, noisy neighbours) hits all three alike.
        for (int i = 0; i < row.runs; ++i) {
            unlock.push_back(open_ms(file));
            pbkdf2.push_back(pbkdf2_100k_ms());
            sodium.push_back(libsodium_argon2id_ms(params));
        }
        double u = median(unlock), p = median(pbkdf2), s = median(sodium);
        table.add({gp::profile_name(row.profile), mib(double(params.m_cost_kib) * 1024), std::to_string(params.t_cost),
                   std::to_string(params.parallelism) + " vs 1", std::to_string(row.runs), ms(u), ms(p), ratio(u, p),
                   ms(s), ratio(u, s)});
    }
    return table;
}

std::string entry_name(std::size_t i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "app/secret-%05zu", i + 1);
    return buf;
}

gp::Entry make_entry(std::size_t i) {
    gp::Entry entry;
    entry.name = entry_name(i);
    entry.kind = gp::EntryKind::file;
    entry.updated = kNow;
    entry.source = "stdin";
    return entry;
}

// The I/O floor for save: the same bytes, written, fsynced and renamed into place.
double write_fsync_rename_ms(const std::string& dir, std::span<const std::uint8_t> bytes) {
    std::string temp = dir + "/floor.tmp", final_path = dir + "/floor";
    auto start = Clock::now();
    gp::UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd.valid()) die("create " + temp, std::strerror(errno));
    must(gp::write_all(fd.get(), bytes, "write " + temp), "floor write");
    if (::fsync(fd.get()) != 0) die("fsync " + temp, std::strerror(errno));
    if (::close(fd.release()) != 0) die("close " + temp, std::strerror(errno));
    if (::rename(temp.c_str(), final_path.c_str()) != 0) die("rename " + temp, std::strerror(errno));
    return ms_since(start);
}

// The I/O floor for load: open, one sized read, close.
double read_file_ms(const std::string& path) {
    auto start = Clock::now();
    gp::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!fd.valid() || ::fstat(fd.get(), &st) != 0) die("open " + path, std::strerror(errno));
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(st.st_size));
    for (std::size_t done = 0; done < bytes.size();) {
        ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
        if (n <= 0) die("read " + path, n == 0 ? "short file" : std::strerror(errno));
        done += static_cast<std::size_t>(n);
    }
    return ms_since(start);
}

// The crypto floor: secretstream over the same number of bytes in the vault's chunk size, into
// buffers allocated and touched beforehand, so only the cipher and MAC are timed.
class SecretstreamFloor {
public:
    explicit SecretstreamFloor(std::size_t total)
        : total_(total), chunks_((total + gp::kChunkBytes - 1) / gp::kChunkBytes), plain_(total),
          sealed_(kHeader + total + chunks_ * kTag), key_(crypto_secretstream_xchacha20poly1305_KEYBYTES) {
        randombytes_buf(plain_.data(), plain_.size());
        crypto_secretstream_xchacha20poly1305_keygen(key_.data());
    }
    double seal_ms() {
        auto start = Clock::now();
        crypto_secretstream_xchacha20poly1305_init_push(&state_, sealed_.data(), key_.data());
        for (std::size_t i = 0; i < chunks_; ++i) {
            std::size_t n = std::min(gp::kChunkBytes, total_ - i * gp::kChunkBytes);
            auto tag = i + 1 == chunks_ ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0;
            crypto_secretstream_xchacha20poly1305_push(&state_, sealed_.data() + kHeader + i * (gp::kChunkBytes + kTag),
                                                       nullptr, plain_.data() + i * gp::kChunkBytes, n, nullptr, 0,
                                                       static_cast<std::uint8_t>(tag));
        }
        return ms_since(start);
    }
    double open_ms() {
        auto start = Clock::now();
        crypto_secretstream_xchacha20poly1305_init_pull(&state_, sealed_.data(), key_.data());
        for (std::size_t i = 0; i < chunks_; ++i) {
            std::size_t n = std::min(gp::kChunkBytes, total_ - i * gp::kChunkBytes);
            if (crypto_secretstream_xchacha20poly1305_pull(&state_, plain_.data() + i * gp::kChunkBytes, nullptr,
                                                           nullptr, sealed_.data() + kHeader + i * (gp::kChunkBytes + kTag),
                                                           n + kTag, nullptr, 0) != 0)
                die("secretstream floor", "pull failed");
        }
        return ms_since(start);
    }

private:
    static constexpr std::size_t kHeader = crypto_secretstream_xchacha20poly1305_HEADERBYTES;
    static constexpr std::size_t kTag = crypto_secretstream_xchacha20poly1305_ABYTES;
    std::size_t total_, chunks_;
    std::vector<std::uint8_t> plain_, sealed_, key_;
    crypto_secretstream_xchacha20poly1305_state state_{};
};

std::size_t mapping_count() {
    std::ifstream maps("/proc/self/maps");
    std::size_t lines = 0;
    for (std::string line; std::getline(maps, line);) ++lines;
    return lines;
}

std::size_t max_map_count() {
    std::size_t value = 0;
    std::ifstream("/proc/sys/vm/max_map_count") >> value;
    return value;
}

double peak_rss_bytes() {
    struct rusage usage {};
    ::getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_maxrss) * 1024;  // ru_maxrss is in KiB on Linux
}

struct LargeVaultResults { Table io, memory; };

LargeVaultResults large_vault_tables() {
    char dir_template[] = "/tmp/ghostpod-bench-XXXXXX";
    if (::mkdtemp(dir_template) == nullptr) die("mkdtemp /tmp/ghostpod-bench-XXXXXX", std::strerror(errno));
    const std::string dir = g_temp_dir = dir_template, vault_path = dir + "/vault";

    std::vector<std::uint8_t> values(kEntryCount * kValueBytes);
    randombytes_buf(values.data(), values.size());
    auto value_of = [&](std::size_t i) { return std::span<const std::uint8_t>(values).subspan(i * kValueBytes, kValueBytes); };

    // put() floor first and freed before the build, so the build's mapping count is its own.
    double copy_floor_ms = 0;
    {
        std::vector<gp::SecretBuffer> copies;
        copies.reserve(kEntryCount);
        auto start = Clock::now();
        for (std::size_t i = 0; i < kEntryCount; ++i) copies.push_back(must(gp::SecretBuffer::copy_of(value_of(i)), "copy_of"));
        copy_floor_ms = ms_since(start);
    }

    auto recovery = must(gp::generate_recovery_key(), "generate recovery key");
    auto vault = must(gp::Vault::create(as_bytes(kPassphrase), gp::KdfProfile::interactive, recovery.bytes(), kNow),
                      "create vault");
    std::size_t mappings_before = mapping_count();
    auto start = Clock::now();
    for (std::size_t i = 0; i < kEntryCount; ++i) must(vault.put(make_entry(i), value_of(i)), "put " + entry_name(i));
    double build_ms = ms_since(start);
    std::size_t mappings_added = mapping_count() - mappings_before;

    auto empty_file = empty_vault_file(gp::KdfProfile::interactive);
    std::vector<double> save, serialise, replace, write_floor, load, read_floor, kdf, seal_floor, open_floor;
    std::size_t file_bytes = 0;
    SecretstreamFloor stream(kEntryCount * kValueBytes);
    for (int run = 0; run < kSaveLoadRuns; ++run) {
        // A changed entry, so every save re-seals the whole payload as 'ghostpod secret set' does.
        must(vault.put(make_entry(std::size_t(run) % kEntryCount), value_of(kEntryCount - 1 - std::size_t(run))), "put");
        auto t0 = Clock::now();
        auto bytes = must(vault.serialise(kNow + std::uint64_t(run)), "serialise");
        auto t1 = Clock::now();
        must(gp::replace_vault_file(vault_path, bytes), "replace_vault_file " + vault_path);
        double total = ms_since(t0);
        save.push_back(total);
        serialise.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        replace.push_back(total - serialise.back());
        file_bytes = bytes.size();
        write_floor.push_back(write_fsync_rename_ms(dir, bytes));

        t0 = Clock::now();
        auto file = must(gp::read_vault_file(vault_path), "read_vault_file " + vault_path);
        auto opened = must(gp::Vault::open(file, passphrase_credential()), "open large vault");
        load.push_back(ms_since(t0));
        if (opened.entries().size() != kEntryCount) die("open large vault", "wrong entry count");
        read_floor.push_back(read_file_ms(vault_path));
        kdf.push_back(open_ms(empty_file));
        seal_floor.push_back(stream.seal_ms());
        open_floor.push_back(stream.open_ms());
    }
    double rss_after = peak_rss_bytes();

    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    g_temp_dir.clear();

    double m_save = median(save), m_ser = median(serialise), m_rep = median(replace), m_wf = median(write_floor);
    double m_load = median(load), m_rf = median(read_floor), m_kdf = median(kdf), decrypt_parse = m_load - m_kdf;
    double m_seal = median(seal_floor), m_open = median(open_floor);
    Table io({"operation (10,000 x 1,000 B)", "ghostpod", "compared with", "that", "ratio"});
    io.add({"save = serialise + replace_vault_file", ms(m_save), "write+fsync+rename, same bytes", ms(m_wf), ratio(m_save, m_wf)});
    io.add({"  serialise (re-seal payload)", ms(m_ser), "bare secretstream seal, 10 MB", ms(m_seal), ratio(m_ser, m_seal)});
    io.add({"  replace_vault_file (fsyncs, .bak)", ms(m_rep), "write+fsync+rename, same bytes", ms(m_wf), ratio(m_rep, m_wf)});
    io.add({"load = read_vault_file + Vault::open", ms(m_load), "read the file", ms(m_rf), ratio(m_load, m_rf)});
    io.add({"  KDF (open of empty interactive vault)", ms(m_kdf), "share of load", ms(m_load), ratio(m_kdf, m_load)});
    io.add({"  decrypt+parse (load - KDF)", ms(decrypt_parse), "read the file", ms(m_rf), ratio(decrypt_parse, m_rf)});
    io.add({"  decrypt+parse (load - KDF)", ms(decrypt_parse), "bare secretstream open, 10 MB", ms(m_open), ratio(decrypt_parse, m_open)});
    io.add({"build: put() x 10,000 (once)", ms(build_ms), "SecretBuffer::copy_of x 10,000", ms(copy_floor_ms),
            ratio(build_ms, copy_floor_ms)});

    double plaintext = double(kEntryCount * kValueBytes);
    Table memory({"measure", "ghostpod", "compared with", "that", "ratio"});
    memory.add({"vault file size", std::to_string(file_bytes) + " B", "secret values", format("%.0f B", plaintext),
                ratio(double(file_bytes), plaintext)});
    memory.add({"peak RSS after part B", mib(rss_after), "secret values", mib(plaintext), ratio(rss_after, plaintext)});
    memory.add({"mappings added by 10,000 put()", std::to_string(mappings_added), "vm.max_map_count",
                std::to_string(max_map_count()), ratio(double(mappings_added), double(max_map_count()))});
    return {std::move(io), std::move(memory)};
}

}  // namespace

int main(int argc, char** argv) {
    bool quick = argc == 2 && std::string_view(argv[1]) == "--quick";
    if (argc > 2 || (argc == 2 && !quick)) {
        std::fprintf(stderr, "usage: bench_vault [--quick]\n");
        return 2;
    }
    if (sodium_init() < 0) die("sodium_init", "failed");

    // Part B runs first so its peak RSS is not masked by the sensitive profile's 1 GiB.
    std::fprintf(stderr, "bench_vault: part B (10,000-entry vault)...\n");
    auto large = large_vault_tables();
    std::fprintf(stderr, "bench_vault: part A (unlock per KDF profile)...\n");
    auto unlock = unlock_table(quick);
    double rss_end = peak_rss_bytes();

    std::printf("A. Unlock per KDF profile (median; ghostpod = Argon2id via libargon2 + unwrap + MAC + payload)\n\n");
    unlock.print();
    std::printf("\nlanes: ghostpod's lanes/threads vs libsodium crypto_pwhash, which always uses 1 lane.\n");
    std::printf("PBKDF2-100k: OpenSSL PKCS5_PBKDF2_HMAC, SHA-256, 100,000 iterations, 32 bytes (TazPod).\n");
    std::printf("\nB. 10,000 entries, 10 MB of values, interactive profile (median of %d; temp dir under /tmp)\n\n",
                kSaveLoadRuns);
    large.io.print();
    std::printf("\n");
    auto sensitive = gp::params_for(gp::KdfProfile::sensitive);
    large.memory.add({"peak RSS at exit (after part A)", mib(rss_end), "sensitive Argon2 memory",
                      mib(double(sensitive.m_cost_kib) * 1024), ratio(rss_end, double(sensitive.m_cost_kib) * 1024)});
    large.memory.print();
    std::printf("\nRSS after B includes the 64 MiB interactive Argon2 area; put() values share one growing secret region.\n");
    return 0;
}
