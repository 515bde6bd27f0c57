#include "pod/materialise.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

std::string expand_home(const std::string& path, const std::string& home) {
    return path.rfind("~/", 0) == 0 ? home + path.substr(1) : path;
}

// Creates <name> below `root` (its folders 0700) and writes the value with the entry's mode.
Status write_secret_file(int root, const Entry& entry) {
    for (std::size_t slash = entry.name.find('/'); slash != std::string::npos; slash = entry.name.find('/', slash + 1)) {
        std::string dir = entry.name.substr(0, slash);
        if (::mkdirat(root, dir.c_str(), 0700) != 0 && errno != EEXIST) return sys_error("mkdir $GHOSTPOD_DIR/" + dir);
    }
    UniqueFd fd(::openat(root, entry.name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid()) return sys_error("create $GHOSTPOD_DIR/" + entry.name);
    GP_TRY(write_all(fd.get(), entry.value(), "write $GHOSTPOD_DIR/" + entry.name));
    if (::fchmod(fd.get(), entry.mode & 0777) != 0) return sys_error("chmod $GHOSTPOD_DIR/" + entry.name);
    return {};
}

}  // namespace

Result<Materialised> materialise(sandbox::Ghost& ghost, const std::string& ghost_dir, const Vault& vault,
                                 const Config& config, const std::string& home) {
    Materialised out;
    for (const auto& entry : vault.entries()) {
        out.bytes += entry.length;
        if (out.bytes > config.session.ram_limit_bytes)
            return make_error(ErrorCode::runtime, "materialise secrets",
                              "they exceed the RAM limit of " + std::to_string(config.session.ram_limit_bytes >> 20) + " MiB",
                              "raise session.ram_limit_mib in the config (ramfs itself has no limit)");
        GP_TRY(write_secret_file(ghost.root_dir.get(), entry));
        out.secrets.push_back(entry.name);
        auto mapping = mapping_for(config, entry.name);
        if (!mapping) continue;
        std::string inside = ghost_dir + "/" + entry.name;
        std::string target = mapping->path.empty() ? inside : expand_home(mapping->path, home);
        if (!mapping->path.empty()) {
            GP_TRY(sandbox::place_in_ghost(ghost, inside, target));
            out.placements.push_back({entry.name, target});
        }
        if (!mapping->env.empty()) out.env.push_back({entry.name, mapping->env, mapping->env_value ? inside : target, mapping->env_value});
    }
    return out;
}

}  // namespace ghostpod
