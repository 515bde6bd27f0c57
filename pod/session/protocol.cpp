// The session protocol's encoders and decoders (see protocol.hpp), and narrowing to a profile.
#include "pod/session/protocol.hpp"

#include <algorithm>
#include <iterator>

#include "sandbox/messages.hpp"

namespace ghostpod {

SessionView narrow_view(const SessionView& full, const std::vector<std::string>& allowed) {
    auto permitted = [&](const std::string& secret) { return std::find(allowed.begin(), allowed.end(), secret) != allowed.end(); };
    SessionView v;
    v.ghost_dir = full.ghost_dir;
    for (const auto& s : full.secrets)
        if (permitted(s)) v.secrets.push_back(s);
    for (const auto& p : full.placements)
        if (permitted(p.secret)) v.placements.push_back(p);
    for (const auto& e : full.env)
        if (permitted(e.secret)) v.env.push_back(e);
    return v;
}

sandbox::ProfileView profile_mounts(const SessionView& narrowed) {
    sandbox::ProfileView m{narrowed.ghost_dir, narrowed.secrets, {}};
    for (const auto& p : narrowed.placements) m.placements.push_back({p.secret, p.target});
    return m;
}

namespace protocol {
namespace {

void put_view(wire::Writer& w, const SessionView& v) {
    w.str(v.ghost_dir);
    w.strings(v.secrets);
    w.u32(static_cast<std::uint32_t>(v.placements.size()));
    for (const auto& p : v.placements) {
        w.str(p.secret);
        w.str(p.target);
    }
    w.u32(static_cast<std::uint32_t>(v.env.size()));
    for (const auto& e : v.env) {
        w.str(e.secret);
        w.str(e.name);
        w.str(e.path);
        w.boolean(e.value_from_file);
    }
}

bool get_view(wire::Reader& r, SessionView& v) {
    std::size_t n = 0;
    if (!r.str(v.ghost_dir) || !r.strings(v.secrets) || !r.count(n, 8)) return false;
    for (std::size_t i = 0; i < n; ++i) {
        Placement p;
        if (!r.str(p.secret) || !r.str(p.target)) return false;
        v.placements.push_back(std::move(p));
    }
    if (!r.count(n, 13)) return false;
    for (std::size_t i = 0; i < n; ++i) {
        GhostEnv e{};
        if (!r.str(e.secret) || !r.str(e.name) || !r.str(e.path) || !r.boolean(e.value_from_file)) return false;
        v.env.push_back(std::move(e));
    }
    return true;
}

wire::Frame frame(Kind kind, wire::Writer&& w) { return {static_cast<std::uint16_t>(kind), w.take()}; }
wire::Frame frame(Kind kind) { return {static_cast<std::uint16_t>(kind), {}}; }

struct RequestEncoder {
    wire::Frame operator()(const AttachRequest&) const { return frame(Kind::attach); }
    wire::Frame operator()(const StatusRequest& m) const {
        if (m.profile.empty()) return frame(Kind::status);
        wire::Writer w;
        w.str(m.profile);
        return frame(Kind::status, std::move(w));
    }
    wire::Frame operator()(const NoticeRequest& m) const {
        wire::Writer w;
        w.str(m.text);
        return frame(Kind::notice, std::move(w));
    }
    wire::Frame operator()(const LockRequest& m) const {
        wire::Writer w;
        w.boolean(m.discard);
        w.boolean(m.save);
        return frame(Kind::lock, std::move(w));
    }
    wire::Frame operator()(const SaveRequest& m) const {
        wire::Writer w;
        w.boolean(m.force);
        return frame(Kind::save, std::move(w));
    }
    wire::Frame operator()(const CertsRequest&) const { return frame(Kind::certs); }
    wire::Frame operator()(const PullRequest& m) const {
        wire::Writer w;
        w.str(m.settings_json);
        return frame(Kind::pull, std::move(w));
    }
    wire::Frame operator()(const SpawnRequest& m) const {
        wire::Writer w;
        w.str(m.profile);
        w.strings(m.allowed);
        return frame(Kind::spawn, std::move(w));
    }
    wire::Frame operator()(const RegisterRequest& m) const {
        wire::Writer w;
        w.str(m.profile);
        w.strings(m.allowed);
        return frame(Kind::register_profile, std::move(w));
    }
    wire::Frame operator()(const ExportRequest& m) const {
        wire::Writer w;
        w.boolean(m.profile.has_value());
        if (m.profile) w.strings(*m.profile);
        return frame(Kind::export_values, std::move(w));
    }
};

struct ReplyEncoder {
    wire::Frame operator()(const Attached& m) const {
        wire::Writer w;
        w.u8(static_cast<std::uint8_t>(m.place));
        w.str(m.profile);
        put_view(w, m.view);
        w.bytes(m.seccomp);
        w.strings(m.pass_env);
        w.boolean(m.prompt);
        return frame(Kind::attached, std::move(w));
    }
    wire::Frame operator()(const StatusReply& m) const {
        wire::Writer w;
        w.str(m.json);
        return frame(Kind::status_reply, std::move(w));
    }
    wire::Frame operator()(const Locked&) const { return frame(Kind::locked); }
    wire::Frame operator()(const Saved& m) const {
        wire::Writer w;
        w.str(m.json);
        return frame(Kind::saved, std::move(w));
    }
    wire::Frame operator()(const CertsReply& m) const {
        wire::Writer w;
        w.str(m.json);
        return frame(Kind::certs_reply, std::move(w));
    }
    wire::Frame operator()(const Progress& m) const {
        wire::Writer w;
        w.str(m.text);
        return frame(Kind::progress, std::move(w));
    }
    wire::Frame operator()(const Pulled& m) const {
        wire::Writer w;
        w.u64(m.secrets);
        w.str(m.source);
        w.u64(m.fetched);
        w.strings(m.warnings);
        w.strings(m.added);
        w.strings(m.changed);
        w.strings(m.removed);
        return frame(Kind::pulled, std::move(w));
    }
    wire::Frame operator()(const Spawned&) const { return frame(Kind::spawned); }
    wire::Frame operator()(const Registered&) const { return frame(Kind::registered); }
    wire::Frame operator()(const Started&) const { return frame(Kind::started); }
    wire::Frame operator()(const Exported& m) const {
        wire::Writer w;
        w.strings(m.skipped);
        w.u64(m.parts);
        return frame(Kind::exported, std::move(w));
    }
    wire::Frame operator()(const NoticeReply& m) const {
        wire::Writer w;
        w.boolean(m.first);
        return frame(Kind::notice_reply, std::move(w));
    }
    wire::Frame operator()(const Unsaved& m) const {
        wire::Writer w;
        w.str(m.json);
        return frame(Kind::unsaved, std::move(w));
    }
    wire::Frame operator()(const Error& e) const { return {sandbox::kErrorKind, sandbox::encode_error(e)}; }
};

Error bad(const char* what) { return wire::malformed(what); }

}  // namespace

const char* request_name(const Request& request) {
    static const char* const kNames[] = {"attach", "status", "lock", "save", "certs", "pull", "spawn", "register", "export", "notice"};
    static_assert(std::size(kNames) == std::variant_size_v<Request>);
    return kNames[request.index()];
}

wire::Frame encode(const Request& request) { return std::visit(RequestEncoder{}, request); }
wire::Frame encode(const Reply& reply) { return std::visit(ReplyEncoder{}, reply); }

Result<Request> decode_request(const wire::Frame& f) {
    wire::Reader r(f.payload);
    switch (static_cast<Kind>(f.kind)) {
    case Kind::attach:
        if (r.done()) return Request(AttachRequest{});
        break;
    case Kind::status: {
        StatusRequest m;
        if (r.done() || (r.str(m.profile) && !m.profile.empty() && r.done())) return Request(std::move(m));
        break;
    }
    case Kind::notice: {
        NoticeRequest m;
        if (r.str(m.text) && r.done()) return Request(std::move(m));
        break;
    }
    case Kind::lock: {
        LockRequest m;
        if (r.boolean(m.discard) && r.boolean(m.save) && r.done()) return Request(m);
        break;
    }
    case Kind::save: {
        SaveRequest m;
        if (r.boolean(m.force) && r.done()) return Request(m);
        break;
    }
    case Kind::certs:
        if (r.done()) return Request(CertsRequest{});
        break;
    case Kind::pull: {
        PullRequest m;
        if (r.str(m.settings_json) && r.done()) return Request(std::move(m));
        break;
    }
    case Kind::spawn: {
        SpawnRequest m;
        if (r.str(m.profile) && r.strings(m.allowed) && r.done()) return Request(std::move(m));
        break;
    }
    case Kind::register_profile: {
        RegisterRequest m;
        if (r.str(m.profile) && r.strings(m.allowed) && r.done()) return Request(std::move(m));
        break;
    }
    case Kind::export_values: {
        ExportRequest m;
        bool narrowed = false;
        if (!r.boolean(narrowed)) break;
        if (narrowed && !r.strings(m.profile.emplace())) break;
        if (r.done()) return Request(std::move(m));
        break;
    }
    default:
        break;
    }
    return bad("a request to the session");
}

Result<Reply> decode_reply(const wire::Frame& f) {
    wire::Reader r(f.payload);
    if (f.kind == sandbox::kErrorKind) {
        Error e;
        if (sandbox::decode_error(f.payload, e)) return Reply(std::move(e));
        return bad("the session's answer");
    }
    switch (static_cast<Kind>(f.kind)) {
    case Kind::attached: {
        Attached m;
        std::uint8_t place = 0;
        std::span<const std::uint8_t> seccomp;
        if (!r.u8(place) || place < 1 || place > 3 || !r.str(m.profile) || !get_view(r, m.view) || !r.bytes(seccomp) ||
            !r.strings(m.pass_env) || !r.boolean(m.prompt) || !r.done())
            break;
        m.place = static_cast<Place>(place);
        m.seccomp.assign(seccomp.begin(), seccomp.end());
        return Reply(std::move(m));
    }
    case Kind::status_reply: {
        StatusReply m;
        if (r.str(m.json, wire::kMaxFrameBytes) && r.done()) return Reply(std::move(m));
        break;
    }
    case Kind::locked:
        if (r.done()) return Reply(Locked{});
        break;
    case Kind::saved: {
        Saved m;
        if (r.str(m.json, wire::kMaxFrameBytes) && r.done()) return Reply(std::move(m));
        break;
    }
    case Kind::certs_reply: {
        CertsReply m;
        if (r.str(m.json, wire::kMaxFrameBytes) && r.done()) return Reply(std::move(m));
        break;
    }
    case Kind::progress: {
        Progress m;
        if (r.str(m.text) && r.done()) return Reply(std::move(m));
        break;
    }
    case Kind::pulled: {
        Pulled m;
        if (r.u64(m.secrets) && r.str(m.source) && r.u64(m.fetched) && r.strings(m.warnings) && r.strings(m.added) &&
            r.strings(m.changed) && r.strings(m.removed) && r.done())
            return Reply(std::move(m));
        break;
    }
    case Kind::spawned:
        if (r.done()) return Reply(Spawned{});
        break;
    case Kind::registered:
        if (r.done()) return Reply(Registered{});
        break;
    case Kind::started:
        if (r.done()) return Reply(Started{});
        break;
    case Kind::exported: {
        Exported m;
        if (r.strings(m.skipped) && r.u64(m.parts) && r.done()) return Reply(std::move(m));
        break;
    }
    case Kind::notice_reply: {
        NoticeReply m;
        if (r.boolean(m.first) && r.done()) return Reply(m);
        break;
    }
    case Kind::unsaved: {
        Unsaved m;
        if (r.str(m.json, wire::kMaxFrameBytes) && r.done()) return Reply(std::move(m));
        break;
    }
    default:
        break;
    }
    return bad("the session's answer");
}

Status send(int socket, const Request& request, const std::vector<int>& fds) {
    auto f = encode(request);
    if (f.payload.size() > kMaxRequestBytes) return make_error(ErrorCode::runtime, "send a request to the session", "it is too large");
    return wire::send_frame(socket, f.kind, f.payload, fds);
}

Status send(int socket, const Reply& reply, const std::vector<int>& fds) {
    auto f = encode(reply);
    return wire::send_frame(socket, f.kind, f.payload, fds);
}

Result<std::optional<Request>> receive_request(int socket, std::vector<UniqueFd>* fds) {
    auto f = wire::receive_frame(socket, fds, kMaxRequestBytes);
    if (!f) return std::move(f).error();
    if (!*f) return std::optional<Request>{};
    auto decoded = decode_request(**f);
    if (!decoded) return std::move(decoded).error();
    return std::optional<Request>(std::move(*decoded));
}

Result<std::optional<Reply>> receive_reply(int socket, std::vector<UniqueFd>* fds) {
    auto f = wire::receive_frame(socket, fds);
    if (!f) return std::move(f).error();
    if (!*f) return std::optional<Reply>{};
    auto decoded = decode_reply(**f);
    if (!decoded) return std::move(decoded).error();
    return std::optional<Reply>(std::move(*decoded));
}

Status write_reply(int fd, const Reply& reply) {
    auto f = encode(reply);
    return wire::write_frame(fd, f.kind, f.payload);
}

Result<std::optional<Reply>> read_reply(int fd) {
    auto f = wire::read_frame(fd, 1u << 20);
    if (!f) return std::move(f).error();
    if (!*f) return std::optional<Reply>{};
    auto decoded = decode_reply(**f);
    if (!decoded) return std::move(decoded).error();
    return std::optional<Reply>(std::move(*decoded));
}

}  // namespace protocol
}  // namespace ghostpod
