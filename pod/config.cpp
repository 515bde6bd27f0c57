#include "pod/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>
#include <span>

#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

constexpr std::size_t kMaxConfigBytes = 1u << 20;

Status write_if_missing(const std::string& path, const std::string& text) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd.valid()) return errno == EEXIST ? Status{} : Status{sys_error("create " + path)};
    // Meant to be committed and read by collaborators: 0644 whatever the process umask.
    if (::fchmod(fd.get(), 0644) != 0) return sys_error("chmod " + path);
    GP_TRY(write_all(fd.get(), std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()), "write " + path));
    if (::fsync(fd.get()) != 0) return sys_error("fsync " + path);
    return {};
}

}  // namespace

Result<Config> load_config(const std::string& path) {
    Config config;
    auto bytes = read_file(path, kMaxConfigBytes);
    if (!bytes) {
        if (bytes.error().errnum == ENOENT) return config;
        return std::move(bytes).error();
    }
    config.found = true;
    auto json = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
    if (json.is_discarded() || !json.is_object())
        return make_error(ErrorCode::usage, "read config " + path, "not a JSON object", "fix the file; see ghostpod-config(5)");
    if (auto v = json.find("version"); v != json.end()) {
        if (!v->is_number_integer() || v->get<int>() != kConfigVersion)
            return make_error(ErrorCode::usage, "read config " + path,
                              "unsupported \"version\" (this ghostpod reads version " + std::to_string(kConfigVersion) + ")",
                              "see ghostpod-config(5)");
    }
    return config;
}

Status write_project_scaffold(const std::string& dir) {
    GP_TRY(write_if_missing(dir + "/config.json", "{\n  \"version\": 1\n}\n"));
    // The vault is encrypted, but it has no business in Git history: a leaked passphrase would
    // then unlock every copy ever pushed.
    return write_if_missing(dir + "/.gitignore",
                            "# written by 'ghostpod init': keep the vault and its by-products out of Git\n"
                            "vault\nvault.bak\nvault.lock\n.vault.tmp-*\n");
}

}  // namespace ghostpod
