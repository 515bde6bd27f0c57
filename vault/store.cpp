#include "vault/store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "vault/fault.hpp"

namespace ghostpod {
namespace {

std::string dir_of(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

std::string base_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string temp_prefix(const std::string& path) { return "." + base_of(path) + ".tmp-"; }

// Temp files left by a writer that was killed hold only ciphertext, but they are clutter.
void remove_stale_temps(const std::string& path) {
    std::string dir = dir_of(path), prefix = temp_prefix(path);
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return;
    while (dirent* ent = ::readdir(d)) {
        std::string name = ent->d_name;
        if (name.rfind(prefix, 0) == 0) ::unlinkat(::dirfd(d), name.c_str(), 0);
    }
    ::closedir(d);
}

Status fsync_dir(const std::string& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) return sys_error("open directory " + dir);
    if (GP_FAULT("vault.fsync_dir", EIO) || ::fsync(fd.get()) != 0) return sys_error("fsync directory " + dir);
    return {};
}

Status write_new_file(const std::string& path, std::span<const std::uint8_t> bytes) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd.valid()) return sys_error("create " + path);
    GP_TRY(write_all(fd.get(), bytes, "write " + path));
    if (::fsync(fd.get()) != 0) return sys_error("fsync " + path);
    if (::close(fd.release()) != 0) return sys_error("close " + path);
    return {};
}

// The previous generation becomes <vault>.bak: a hard link where the filesystem allows it
// (no data copied), else a copy. Either way it appears atomically by rename.
Status keep_previous_generation(const std::string& path, const std::string& staging) {
    if (!file_exists(path)) return {};
    ::unlink(staging.c_str());
    if (::link(path.c_str(), staging.c_str()) != 0) {
        if (errno != EPERM && errno != EXDEV && errno != ENOTSUP && errno != EMLINK && errno != ENOSYS)
            return sys_error("link " + path + " to " + staging);
        auto old = read_file(path, kMaxVaultFileBytes);
        if (!old) return std::move(old).error();
        GP_TRY(write_new_file(staging, *old));
    }
    if (GP_FAULT("vault.backup_rename", EIO) || ::rename(staging.c_str(), backup_path(path).c_str()) != 0) return sys_error("rename " + staging + " to " + backup_path(path));
    // When the .bak already is a link to the vault (a save failed after this step), rename()
    // of one link onto another does nothing and leaves the staging name behind.
    ::unlink(staging.c_str());
    return {};
}

}  // namespace

Result<VaultLock> VaultLock::acquire(const std::string& vault_path) {
    std::string lock_path = vault_path + ".lock";
    UniqueFd fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) return sys_error("open lock file " + lock_path);
    while (::flock(fd.get(), LOCK_EX) != 0) {
        if (errno != EINTR) return sys_error("lock " + lock_path);
    }
    return VaultLock(std::move(fd));
}

std::string resolve_vault_path(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
        char resolved[PATH_MAX];
        if (::realpath(path.c_str(), resolved) != nullptr) return resolved;
    }
    return path;
}

std::string backup_path(const std::string& vault_path) { return vault_path + ".bak"; }

bool file_exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

Result<std::vector<std::uint8_t>> read_vault_file(const std::string& path) {
    auto bytes = read_file(path, kMaxVaultFileBytes);
    if (!bytes && bytes.error().errnum == ENOENT) {
        Error e = std::move(bytes).error();
        e.what = "no vault at " + path;
        e.why = "it does not exist";
        e.hint = "create one with 'ghostpod init', or point --vault / GHOSTPOD_VAULT at it";
        return e;
    }
    return bytes;
}

Status replace_backup_with_current(const std::string& path) {
    std::string staging = dir_of(path) + "/" + temp_prefix(path) + "backup";
    if (auto kept = keep_previous_generation(path, staging); !kept) {
        ::unlink(staging.c_str());
        return kept;
    }
    return fsync_dir(dir_of(path));
}

Status replace_vault_file(const std::string& path, std::span<const std::uint8_t> bytes) {
    remove_stale_temps(path);
    std::string dir = dir_of(path);
    std::string temp = dir + "/" + temp_prefix(path) + "XXXXXX";
    UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));
    if (!fd.valid()) return sys_error("create a temporary file in " + dir);
    auto fail = [&](Error e) {
        ::unlink(temp.c_str());
        ::unlink((temp + ".bak").c_str());
        return e;
    };
    if (GP_FAULT("vault.write", ENOSPC)) return fail(sys_error("write " + temp));
    if (auto w = write_all(fd.get(), bytes, "write " + temp); !w) return fail(std::move(w).error());
    if (GP_FAULT("vault.fsync", EIO) || ::fsync(fd.get()) != 0) return fail(sys_error("fsync " + temp));
    if (::close(fd.release()) != 0) return fail(sys_error("close " + temp));
    if (auto b = keep_previous_generation(path, temp + ".bak"); !b) return fail(std::move(b).error());
    if (GP_FAULT("vault.rename", EIO) || ::rename(temp.c_str(), path.c_str()) != 0) return fail(sys_error("rename " + temp + " to " + path));
    if (auto synced = fsync_dir(dir); !synced) {
        Error e = std::move(synced).error();
        e.hint = "the new vault is in place and complete, but a crash now may bring back the previous one; check the disk";
        return e;
    }
    return {};
}

}  // namespace ghostpod
