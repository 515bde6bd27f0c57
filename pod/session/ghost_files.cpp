#include "pod/session/ghost_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include <sodium.h>

#include "sandbox/beneath.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

constexpr const char* kNewSuffix = ".ghostpod-new";
constexpr const char* kRetiredDir = ".ghostpod-retired";  // replaced files, emptied, kept as mount points

std::string expand_home(const std::string& path, const std::string& home) {
    return path.rfind("~/", 0) == 0 ? home + path.substr(1) : path;
}

// Every path the holder opens in the RAM mount resolves beneath its root with no link and no
// other mount on the way (sandbox/beneath.hpp): any process in the ghost may have replaced a
// directory there with a link to a disk directory, and the holder must write nothing through it.
Error in_the_way(Error e) {
    if (sandbox::blocked_by_link(e)) {
        e.why = "a symbolic link or a mount is in the way (something in the ghost replaced part of $GHOSTPOD_DIR); "
                "nothing was written through it";
        e.hint = "see what changed there with 'ghostpod run -- ls -la \"$GHOSTPOD_DIR\"'; 'ghostpod lock' ends the session";
    }
    return e;
}

Status make_parents(int root, const std::string& name) {
    if (auto made = sandbox::make_parents_beneath(root, name); !made) {
        Error e = made.error();
        e.what = "mkdir the directories of $GHOSTPOD_DIR/" + name;
        return in_the_way(e);
    }
    return {};
}

// Unlinks `name` below `root` (its directory resolved beneath the root).
Status remove_entry(int root, const std::string& name) {
    std::string leaf;
    auto parent = sandbox::open_parent_beneath(root, name, leaf);
    if (!parent) return in_the_way(sys_error("remove $GHOSTPOD_DIR/" + name, parent.error().errnum));
    if (::unlinkat(parent->get(), leaf.c_str(), 0) != 0 && errno != ENOENT) return sys_error("remove $GHOSTPOD_DIR/" + name);
    return {};
}

// Creates `name` below `root` exclusively and writes the value with the mode; a file that could
// not be written whole is removed again.
// The file is created with its mode (the descriptor that creates it may write it whatever the
// mode says); only bits the umask took off need an fchmod: one system call less for each of
// 10,000 pulled files (0400 and 0600 pass ghostpod's umask of 077).
Status create_file(int root, const std::string& name, std::span<const std::uint8_t> value, std::uint16_t mode) {
    static const mode_t umask_bits = [] {
        mode_t old = ::umask(077);
        ::umask(old);
        return old;
    }();
    mode_t wanted = mode & 0777;
    auto fd = sandbox::open_beneath(root, name, O_WRONLY | O_CREAT | O_EXCL, wanted);
    if (!fd) return in_the_way(sys_error("create $GHOSTPOD_DIR/" + name, fd.error().errnum));
    Status written = write_all(fd->get(), value, "write $GHOSTPOD_DIR/" + name);
    if (written && (wanted & umask_bits) != 0 && ::fchmod(fd->get(), wanted) != 0)
        written = sys_error("chmod $GHOSTPOD_DIR/" + name);
    if (!written) {
        (void)!::ftruncate(fd->get(), 0);
        (void)remove_entry(root, name);
    }
    return written;
}

}  // namespace

std::array<std::uint8_t, 32> ghost_digest(std::span<const std::uint8_t> value) {
    static std::array<std::uint8_t, crypto_generichash_KEYBYTES> key = [] {
        std::array<std::uint8_t, crypto_generichash_KEYBYTES> k{};
        randombytes_buf(k.data(), k.size());
        return k;
    }();
    std::array<std::uint8_t, 32> out{};
    crypto_generichash(out.data(), out.size(), value.data(), value.size(), key.data(), key.size());
    return out;
}

namespace {

// Opens the file about to be replaced for writing, so its bytes can be wiped after the rename.
UniqueFd open_for_wipe(int root, const std::string& name) {
    std::string leaf;
    auto parent = sandbox::open_parent_beneath(root, name, leaf);
    if (!parent) return {};
    (void)!::fchmodat(parent->get(), leaf.c_str(), 0600, AT_SYMLINK_NOFOLLOW);
    auto fd = sandbox::open_beneath(root, name, O_WRONLY | O_NONBLOCK);
    return fd ? std::move(*fd) : UniqueFd{};
}

// Swaps the fresh file in under `name` in one step, then moves the old one aside instead of
// unlinking it: the old file is the mount point of the new bind on its mapped path, and the
// kernel detaches mounts from a mount point that is unlinked.
Status retire_and_replace(int root, const std::string& fresh, const std::string& name) {
    static std::uint64_t retired = 0;
    std::string leaf, fresh_leaf = fresh.substr(fresh.rfind('/') + 1);
    auto parent = sandbox::open_parent_beneath(root, name, leaf);
    if (!parent) return in_the_way(sys_error("replace $GHOSTPOD_DIR/" + name, parent.error().errnum));
    if (::renameat2(parent->get(), fresh_leaf.c_str(), parent->get(), leaf.c_str(), RENAME_EXCHANGE) != 0)
        return sys_error("replace $GHOSTPOD_DIR/" + name);
    // From here `fresh` names the old file: wiped and removed if it cannot be moved aside.
    auto drop_old = [&](Error e) {
        if (UniqueFd old = open_for_wipe(root, fresh); old.valid()) (void)!::ftruncate(old.get(), 0);
        (void)::unlinkat(parent->get(), fresh_leaf.c_str(), 0);
        return in_the_way(e);
    };
    if (::mkdirat(root, kRetiredDir, 0700) != 0 && errno != EEXIST) return drop_old(sys_error(std::string("mkdir $GHOSTPOD_DIR/") + kRetiredDir));
    auto aside = sandbox::open_beneath(root, kRetiredDir, O_PATH | O_DIRECTORY);
    if (!aside) return drop_old(sys_error(std::string("open $GHOSTPOD_DIR/") + kRetiredDir, aside.error().errnum));
    std::string slot = std::to_string(++retired);
    if (::renameat(parent->get(), fresh_leaf.c_str(), aside->get(), slot.c_str()) != 0)
        return drop_old(sys_error("move the old $GHOSTPOD_DIR/" + name + " aside"));
    return {};
}

void forget(Materialised& layout, const std::string& name) {
    std::erase(layout.secrets, name);
    std::erase_if(layout.placements, [&](const Placement& p) { return p.secret == name; });
    std::erase_if(layout.env, [&](const GhostEnv& e) { return e.secret == name; });
    if (auto it = layout.facts.find(name); it != layout.facts.end()) {
        layout.bytes -= it->second.size;
        layout.facts.erase(it);
    }
}

}  // namespace

Status write_ghost_files(const GhostWriter& w, const std::vector<GhostFile>& files, Materialised& layout,
                         std::vector<std::string>* changed) {
    std::uint64_t total = layout.bytes;
    for (const auto& f : files) total = total - (layout.facts.count(f.name) ? layout.facts[f.name].size : 0) + f.value.size();
    if (total > w.ram_limit)
        return make_error(ErrorCode::runtime, "write secrets into the ghost",
                          "they need " + std::to_string(total >> 20) + " MiB, more than the RAM limit of " +
                              std::to_string(w.ram_limit >> 20) + " MiB",
                          "raise session.ram_limit_mib in the config");
    int root = w.ghost.root_dir.get();
    std::set<std::string> made_dirs;
    for (const auto& f : files) {
        std::string inside = w.ghost_dir + "/" + f.name;
        bool exists = layout.facts.count(f.name) != 0;
        auto digest = ghost_digest(f.value);
        if (exists && layout.facts[f.name].digest == digest) continue;
        // A mapping's "mode" (0600: a tool edits its config in place) wins over the entry's own.
        std::uint16_t mode = f.mapping && f.mapping->mode ? *f.mapping->mode : f.mode;
        if (f.name.find('/') != std::string::npos && !made_dirs.count(f.name.substr(0, f.name.rfind('/')))) {
            GP_TRY(make_parents(root, f.name));
            made_dirs.insert(f.name.substr(0, f.name.rfind('/')));
        }
        if (exists) {
            std::string fresh = f.name + kNewSuffix;
            GP_TRY(remove_entry(root, fresh));
            GP_TRY(create_file(root, fresh, f.value, mode));
            // The mapped path shows the old file through its bind: put the new one over it while
            // the old one is still linked (the kernel refuses to mount on a deleted file). The
            // fresh file goes again if that fails: no temporary file outlives an error.
            for (const auto& p : layout.placements) {
                if (p.secret != f.name) continue;
                if (auto placed = sandbox::place_in_ghost(w.ghost, inside + kNewSuffix, p.target); !placed) {
                    (void)remove_entry(root, fresh);
                    return placed;
                }
            }
            UniqueFd old = open_for_wipe(root, f.name);
            if (auto replaced = retire_and_replace(root, fresh, f.name); !replaced) {
                (void)remove_entry(root, fresh);  // still the fresh file unless the exchange happened
                return replaced;
            }
            if (old.valid()) (void)!::ftruncate(old.get(), 0);
            layout.bytes = layout.bytes - layout.facts[f.name].size + f.value.size();
            layout.facts[f.name] = {f.value.size(), digest};
        } else {
            GP_TRY(create_file(root, f.name, f.value, mode));
            layout.secrets.push_back(f.name);
            layout.facts[f.name] = {f.value.size(), digest};
            layout.bytes += f.value.size();
            if (f.mapping) {
                std::string target = f.mapping->path.empty() ? inside : expand_home(f.mapping->path, w.home);
                if (!f.mapping->path.empty()) {
                    GP_TRY(sandbox::place_in_ghost(w.ghost, inside, target));
                    layout.placements.push_back({f.name, target});
                }
                if (!f.mapping->env.empty()) {
                    // One variable, one source: a later mapping (a pull) replaces an earlier one.
                    std::erase_if(layout.env, [&](const GhostEnv& e) { return e.name == f.mapping->env; });
                    layout.env.push_back({f.name, f.mapping->env, f.mapping->env_value ? inside : target, f.mapping->env_value});
                }
            }
        }
        if (changed) changed->push_back(f.name);
    }
    return {};
}

Status remove_ghost_files(const GhostWriter& w, const std::vector<std::string>& names, Materialised& layout) {
    int root = w.ghost.root_dir.get();
    for (const auto& name : names) {
        if (!layout.facts.count(name)) continue;
        for (const auto& p : layout.placements)
            if (p.secret == name) GP_TRY(sandbox::unplace_in_ghost(w.ghost, p.target));
        UniqueFd old = open_for_wipe(root, name);
        if (old.valid()) (void)!::ftruncate(old.get(), 0);
        GP_TRY(remove_entry(root, name));
        forget(layout, name);
    }
    return {};
}

std::vector<GhostFile> vault_files(const Vault& vault, const Config& config) {
    std::vector<GhostFile> files;
    for (const auto& entry : vault.entries()) {
        if (entry.kind == EntryKind::identity || entry.kind == EntryKind::token_cache) continue;
        files.push_back({entry.name, entry.value(), entry.mode, boxed(mapping_for(config, entry.name))});
    }
    return files;
}

namespace {

constexpr const char* kInternalPrefix = ".ghostpod-";  // write_ghost_files' temp files and retired dir
constexpr std::size_t kMaxGhostFiles = 100000;
constexpr int kMaxDepth = 32;

}  // namespace

Status read_ghost_tree(int dir, const std::string& prefix, int depth, const GhostFileVisitor& visit, std::size_t& count,
                       std::vector<std::string>& unreadable) {
    if (depth > kMaxDepth) return make_error(ErrorCode::runtime, "read $GHOSTPOD_DIR/" + prefix, "directories nest too deep");
    UniqueFd own(::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!own.valid()) return sys_error("open $GHOSTPOD_DIR/" + prefix);
    DIR* listing = ::fdopendir(own.get());
    if (listing == nullptr) return sys_error("list $GHOSTPOD_DIR/" + prefix);
    (void)own.release();  // closedir closes it
    std::vector<std::string> names;
    while (dirent* d = ::readdir(listing)) {
        std::string n = d->d_name;
        if (n == "." || n == ".." || n.rfind(kInternalPrefix, 0) == 0 || n.find(kInternalPrefix) != std::string::npos) continue;
        names.push_back(n);
    }
    ::closedir(listing);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
        std::string name = prefix + n;
        struct stat st {};
        if (::fstatat(dir, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone meanwhile
        // Opened beneath `dir`: neither a link nor a mount (another file system bound in) is
        // followed, whatever replaced the entry since fstatat looked.
        if (S_ISDIR(st.st_mode)) {
            auto sub = sandbox::open_beneath(dir, n, O_RDONLY | O_DIRECTORY);
            if (!sub) {
                unreadable.push_back(name + "/");
                continue;
            }
            GP_TRY(read_ghost_tree(sub->get(), name + "/", depth + 1, visit, count, unreadable));
            continue;
        }
        if (!S_ISREG(st.st_mode)) continue;
        if (count >= kMaxGhostFiles)
            return make_error(ErrorCode::runtime, "read $GHOSTPOD_DIR", "more than " + std::to_string(kMaxGhostFiles) + " files");
        auto fd = sandbox::open_beneath(dir, n, O_RDONLY | O_NONBLOCK);
        if (!fd) {
            unreadable.push_back(name);
            continue;
        }
        auto value = SecretBuffer::read_fd(fd->get(), kMaxValueBytes, "read $GHOSTPOD_DIR/" + name);
        if (!value) return std::move(value).error();
        ++count;
        GP_TRY(visit({name, std::move(*value), static_cast<std::uint16_t>(st.st_mode & 0777)}));
    }
    return {};
}


}  // namespace ghostpod
