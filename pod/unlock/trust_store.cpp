#include "pod/unlock/trust_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "pod/unlock/locate.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

constexpr std::size_t kMaxRecordBytes = 64 * 1024;
constexpr const char* kRecordSuffix = ".json";

std::string record_file(const std::string& path) { return trust_store_dir() + "/" + sha256_hex(text_bytes(path)) + kRecordSuffix; }

Error store_error(const std::string& dir, const std::string& why) {
    return make_error(ErrorCode::runtime, "use the allowed-files store " + dir, why,
                      "it must be a directory of yours that no one else can write: fix or remove it, then allow again");
}

// The store directory, created 0700 when missing, and refused when another user could write it.
Status check_store(bool create) {
    std::string dir = trust_store_dir();
    if (create) {
        if (!make_parent_dirs(dir)) return sys_error("create the directory for " + dir);
        if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return sys_error("mkdir " + dir);
    }
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) return errno == ENOENT && !create ? Status{} : Status{sys_error("stat " + dir)};
    if (!S_ISDIR(st.st_mode)) return store_error(dir, "it is not a directory");
    if (st.st_uid != ::geteuid()) return store_error(dir, "it belongs to another user");
    if ((st.st_mode & 022) != 0) return store_error(dir, "others can write to it");
    return {};
}

Result<TrustRecord> parse_record(std::span<const std::uint8_t> bytes, const std::string& file) {
    auto j = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
    TrustRecord r;
    std::string kind = j.is_object() ? j.value("kind", "") : "";
    if (kind == "config") r.kind = TrustedKind::config;
    else if (kind == "infisical.json") r.kind = TrustedKind::infisical_json;
    else if (kind == "vault link") r.kind = TrustedKind::vault_link;
    else return make_error(ErrorCode::runtime, "read " + file, "not an allowed-file record", "remove it and allow again");
    r.path = j.value("path", "");
    r.sha256 = j.value("sha256", "");
    r.target = j.value("target", "");
    r.allowed_at = j.value("allowed_at", std::uint64_t{0});
    return r;
}

Result<std::optional<TrustRecord>> read_record(const std::string& file) {
    auto bytes = read_file(file, kMaxRecordBytes);
    if (!bytes) {
        if (bytes.error().errnum == ENOENT) return std::optional<TrustRecord>{};
        return std::move(bytes).error();
    }
    auto record = parse_record(*bytes, file);
    if (!record) return std::move(record).error();
    return std::optional<TrustRecord>(std::move(*record));
}

}  // namespace

const char* trusted_kind_name(TrustedKind kind) {
    switch (kind) {
        case TrustedKind::config: return "config";
        case TrustedKind::infisical_json: return "infisical.json";
        case TrustedKind::vault_link: return "vault link";
    }
    return "?";
}

std::string trust_store_dir() {
    const char* state = std::getenv("XDG_STATE_HOME");
    // The XDG base directory spec: a relative value is invalid and ignored.
    if (state && state[0] == '/') return std::string(state) + "/ghostpod/allowed";
    const char* home = std::getenv("HOME");
    std::string base = home && *home ? home : "/";
    if (base.size() > 1 && base.back() == '/') base.pop_back();
    return (base == "/" ? "" : base) + "/.local/state/ghostpod/allowed";
}

std::string sha256_hex(std::span<const std::uint8_t> bytes) {
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, bytes.data(), bytes.size());
    char hex[sizeof digest * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    return hex;
}

Result<std::optional<TrustRecord>> find_trust_record(const std::string& path) {
    GP_TRY(check_store(false));
    auto record = read_record(record_file(path));
    if (!record) return record;
    // A record under another path's name (copied by hand) does not count.
    if (*record && (*record)->path != path) return std::optional<TrustRecord>{};
    return record;
}

Status save_trust_record(const TrustRecord& r) {
    GP_TRY(check_store(true));
    nlohmann::json j = {{"kind", trusted_kind_name(r.kind)}, {"path", r.path}, {"allowed_at", r.allowed_at}};
    if (r.kind == TrustedKind::vault_link) j["target"] = r.target;
    else j["sha256"] = r.sha256;
    std::string text = j.dump(2) + "\n";
    std::string file = record_file(r.path);
    std::string temp = file + ".tmp-" + std::to_string(::getpid());
    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) return sys_error("create " + temp);
    Status written = write_all(fd.get(), text_bytes(text), "write " + temp);
    if (written && ::fsync(fd.get()) != 0) written = sys_error("fsync " + temp);
    fd.reset();
    if (written && ::rename(temp.c_str(), file.c_str()) != 0) written = sys_error("rename " + temp + " to " + file);
    if (!written) {
        ::unlink(temp.c_str());
        return written;
    }
    UniqueFd dir(::open(trust_store_dir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid() || ::fsync(dir.get()) != 0) return sys_error("fsync " + trust_store_dir());
    return {};
}

Result<bool> remove_trust_record(const std::string& path) {
    GP_TRY(check_store(false));
    auto record = find_trust_record(path);
    if (!record) return std::move(record).error();
    if (!*record) return false;
    std::string file = record_file(path);
    if (::unlink(file.c_str()) != 0) return sys_error("remove " + file);
    return true;
}

Result<std::vector<TrustRecord>> list_trust_records() {
    GP_TRY(check_store(false));
    std::vector<TrustRecord> out;
    std::string dir = trust_store_dir();
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return errno == ENOENT ? Result<std::vector<TrustRecord>>(out) : Result<std::vector<TrustRecord>>(sys_error("list " + dir));
    while (dirent* ent = ::readdir(d)) {
        std::string name = ent->d_name;
        if (!name.ends_with(kRecordSuffix)) continue;
        auto record = read_record(dir + "/" + name);
        if (record && *record) out.push_back(std::move(**record));
    }
    ::closedir(d);
    std::sort(out.begin(), out.end(), [](const TrustRecord& a, const TrustRecord& b) { return a.path < b.path; });
    return out;
}

}  // namespace ghostpod
