#include "pod/session/export.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include "pod/formats/env_export.hpp"
#include "pod/infisical/pull_settings.hpp"
#include "pod/session/client.hpp"
#include "sandbox/fdpass.hpp"

namespace ghostpod {

std::vector<ExportPick> pick_exports(const ExportCandidates& candidates,
                                     const std::optional<std::vector<std::string>>& profile,
                                     std::vector<std::string>& skipped) {
    auto allowed = [&](const std::string& secret) {
        return !profile || std::find(profile->begin(), profile->end(), secret) != profile->end();
    };
    std::map<std::string, std::string> chosen;  // variable → secret; sorted by variable
    for (const auto& name : candidates.env_entries) {
        if (!allowed(name)) continue;
        if (!is_variable_name(name)) {
            skipped.push_back(name);
            continue;
        }
        chosen[name] = name;
    }
    const std::string prefix = kPulledPrefix;
    for (const auto& file : candidates.pulled)
        if (allowed(file) && file.rfind(prefix, 0) == 0 && is_variable_name(file.substr(prefix.size())))
            chosen[file.substr(prefix.size())] = file;
    for (const auto& [secret, variable] : candidates.mapped)
        if (allowed(secret) && is_variable_name(variable)) chosen[variable] = secret;
    std::vector<ExportPick> picks;
    for (auto& [variable, secret] : chosen) picks.push_back({variable, secret});
    return picks;
}

namespace {

Status append_length(SecretBuffer& out, std::size_t length) {
    std::uint8_t le[4];
    for (int i = 0; i < 4; ++i) le[i] = static_cast<std::uint8_t>(length >> (8 * i));
    return out.append({le, sizeof le});
}

bool read_length(std::span<const std::uint8_t> bytes, std::size_t& pos, std::size_t& length) {
    if (bytes.size() - pos < 4) return false;
    length = 0;
    for (int i = 0; i < 4; ++i) length |= static_cast<std::size_t>(bytes[pos + i]) << (8 * i);
    pos += 4;
    return bytes.size() - pos >= length;
}

// One message received straight into secret memory (never through a std::string).
Status receive_secret_message(int socket, SecretBuffer& out) {
    auto part = SecretBuffer::allocate(sandbox::kMaxMessageBytes);
    if (!part) return std::move(part).error();
    struct iovec iov {part->data(), part->size()};
    struct msghdr msg {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    ssize_t n;
    do {
        n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return sys_error("receive the exported values");
    if (n == 0) return make_error(ErrorCode::session, "export from the session", "the holder ended the connection",
                                  "the session may have ended; run the command again");
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) return make_error(ErrorCode::runtime, "receive the exported values", "truncated");
    part->truncate(static_cast<std::size_t>(n));
    return out.append(part->bytes());
}

}  // namespace

Status append_export_frame(SecretBuffer& out, const std::string& name, std::span<const std::uint8_t> value) {
    GP_TRY(append_length(out, name.size()));
    GP_TRY(out.append({reinterpret_cast<const std::uint8_t*>(name.data()), name.size()}));
    GP_TRY(append_length(out, value.size()));
    return out.append(value);
}

Result<ExportedValues> decode_export_frames(SecretBuffer bytes) {
    ExportedValues values;
    values.bytes = std::move(bytes);
    auto all = values.bytes.bytes();
    for (std::size_t pos = 0; pos < all.size();) {
        ExportedValues::Variable v;
        std::size_t name_length = 0;
        if (!read_length(all, pos, name_length))
            return make_error(ErrorCode::session, "export from the session", "malformed answer from the holder");
        v.name.assign(reinterpret_cast<const char*>(all.data() + pos), name_length);
        pos += name_length;
        if (!read_length(all, pos, v.length) || !is_variable_name(v.name))
            return make_error(ErrorCode::session, "export from the session", "malformed answer from the holder");
        v.offset = pos;
        pos += v.length;
        values.variables.push_back(std::move(v));
    }
    return values;
}

Result<ExportedValues> request_export(const SessionPaths& paths, const std::optional<std::vector<std::string>>& profile) {
    protocol::Reply reply;
    auto conn = exchange(paths, protocol::ExportRequest{profile}, reply);
    if (!conn) return std::move(conn).error();
    if (auto* e = std::get_if<Error>(&reply)) return std::move(*e);
    auto* about = std::get_if<protocol::Exported>(&reply);
    if (!about)
        return make_error(ErrorCode::session, "export from the session", "unexpected answer from the holder",
                          "the session may run an older ghostpod; lock it and start a new one");
    if (about->parts > kMaxExportParts) return make_error(ErrorCode::session, "export from the session", "the answer is too large");
    auto bytes = SecretBuffer::allocate(0);
    if (!bytes) return std::move(bytes).error();
    for (std::uint64_t i = 0; i < about->parts; ++i) GP_TRY(receive_secret_message(conn->get(), *bytes));
    auto values = decode_export_frames(std::move(*bytes));
    if (values) values->skipped = std::move(about->skipped);
    return values;
}

}  // namespace ghostpod
