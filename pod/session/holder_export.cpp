// The holder's side of 'export': the session's env-style values (export.hpp says which), read
// from the ghost's files and sent in secret memory, never through a std::string.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "pod/session/export.hpp"
#include "pod/session/holder_state.hpp"
#include "sandbox/beneath.hpp"
#include "sandbox/fdpass.hpp"

namespace ghostpod {
namespace {

// A ghost file, opened beneath the RAM mount's root only: a process in the ghost may have put a
// symlink or a mount where a secret was.
Result<SecretBuffer> read_ghost_file(int root, const std::string& name) {
    auto fd = sandbox::open_beneath(root, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (!fd) return std::move(fd).error();
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0) return sys_error("stat $GHOSTPOD_DIR/" + name);
    if (!S_ISREG(st.st_mode)) return make_error(ErrorCode::session, "read $GHOSTPOD_DIR/" + name, "not a regular file");
    return SecretBuffer::read_fd(fd->get(), kMaxValueBytes, "read $GHOSTPOD_DIR/" + name);
}

Status send_secret_bytes(int conn, std::span<const std::uint8_t> bytes) {
    struct iovec iov {const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
    struct msghdr msg {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    for (;;) {
        if (::sendmsg(conn, &msg, MSG_NOSIGNAL) >= 0) return {};
        if (errno != EINTR) return sys_error("send the exported values");
    }
}

Result<SecretBuffer> export_frames(Holder& h, const std::optional<std::vector<std::string>>& profile,
                                   std::vector<std::string>& skipped) {
    ExportCandidates candidates;
    // The vault says which secrets are env entries; their values are the ghost's (edits included).
    auto vault = reopen_vault(h);
    if (!vault) return std::move(vault).error();
    auto in_ghost = [&](const std::string& name) {
        return std::find(h.layout.secrets.begin(), h.layout.secrets.end(), name) != h.layout.secrets.end();
    };
    for (const auto& e : vault->entries())
        if (e.kind == EntryKind::env && in_ghost(e.name)) candidates.env_entries.push_back(e.name);
    candidates.pulled = h.pull.files;
    for (const auto& e : h.layout.env)
        if (e.value_from_file) candidates.mapped.emplace_back(e.secret, e.name);
    auto picks = pick_exports(candidates, profile, skipped);
    auto frames = SecretBuffer::allocate(0);
    if (!frames) return frames;
    for (const auto& pick : picks) {
        auto value = read_ghost_file(h.ghost.root_dir.get(), pick.secret);
        if (!value) return std::move(value).error();
        GP_TRY(append_export_frame(*frames, pick.variable, value->bytes()));
    }
    return frames;
}

}  // namespace

void serve_export(Holder& h, int conn, const protocol::ExportRequest& request, const Asker& who) {
    std::optional<std::vector<std::string>> profile = request.profile;
    // A profile's process exports its own view only: what it names is narrowed to what the
    // profile lists, and naming nothing is all of that, not all of the session.
    if (who.profile) {
        std::vector<std::string> own;
        for (const auto& secret : who.profile->allowed)
            if (!profile || std::find(profile->begin(), profile->end(), secret) != profile->end()) own.push_back(secret);
        profile = std::move(own);
    }
    std::vector<std::string> skipped;
    auto frames = export_frames(h, profile, skipped);
    if (!frames) return answer(conn, frames.error());
    constexpr std::size_t kPart = sandbox::kMaxMessageBytes;
    std::uint64_t parts = (frames->size() + kPart - 1) / kPart;
    if (parts > kMaxExportParts)
        return answer(conn, make_error(ErrorCode::usage, "export from the session", "the values take more than 32 MiB",
                                       "export a profile with fewer secrets (--profile)"));
    if (!protocol::send(conn, protocol::Exported{std::move(skipped), parts})) return;
    for (std::size_t pos = 0; pos < frames->size(); pos += kPart)
        if (!send_secret_bytes(conn, frames->bytes().subspan(pos, std::min(kPart, frames->size() - pos)))) return;
}

}  // namespace ghostpod
