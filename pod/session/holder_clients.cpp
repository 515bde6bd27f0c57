// The holder's side of who asks what: a peer recognised by its namespaces (sandbox/peer.hpp),
// each request authorised for it, and the profile views whose processes it recognises, built
// by ghost init for a spawn or by a client outside the ghost that registered one.
#include <fcntl.h>
#include <sched.h>

#include "pod/session/holder_state.hpp"
#include "sandbox/peer.hpp"
#include "sandbox/spawn.hpp"

namespace ghostpod {
namespace {

Asker asker_of(const Holder& h, const sandbox::Peer& peer) {
    switch (peer.place) {
    case sandbox::PeerPlace::outside: return {protocol::Place::outside, nullptr, true};
    case sandbox::PeerPlace::ghost: return {protocol::Place::ghost, nullptr, true};
    case sandbox::PeerPlace::nested: break;
    }
    if (peer.mnt.valid())
        for (const auto& c : h.clients)
            if (c.profile && c.profile->id == peer.mnt) return {protocol::Place::profile, &*c.profile, true};
    return {};
}

// The profile view behind a spawn or register request, held by the connection that asked.
Result<ProfileRegistration> registration(const Holder& h, const std::string& name, const std::vector<std::string>& allowed,
                                         UniqueFd mnt_ns) {
    sandbox::NsId id = sandbox::namespace_id(mnt_ns.get(), CLONE_NEWNS);
    UniqueFd own(::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC));
    if (!id.valid() || id == sandbox::namespace_id(h.ghost.ns_mnt.get(), CLONE_NEWNS) ||
        (own.valid() && id == sandbox::namespace_id(own.get(), CLONE_NEWNS)))
        return make_error(ErrorCode::session, "register profile " + name, "not a mount namespace of a profile's own");
    for (const auto& c : h.clients)
        if (c.profile && c.profile->id == id) return make_error(ErrorCode::session, "register profile " + name, "already registered");
    return ProfileRegistration{name, allowed, std::move(mnt_ns), id};
}

}  // namespace

SessionView full_view(const Holder& h) { return {h.paths.ghost_dir, h.layout.secrets, h.layout.placements, h.layout.env}; }

Result<Asker> identify_asker(const Holder& h, int conn) {
    auto peer = sandbox::identify_peer(conn, h.ghost.ns_pid.get(), h.ghost.ns_mnt.get());
    if (!peer) return std::move(peer).error();
    return asker_of(h, *peer);
}

Error refused(const std::string& what, const Asker& who) {
    if (!who.known)
        return make_error(ErrorCode::session, what + " in the session",
                          "refused: this process runs in namespaces of its own below the session's (not the ghost, nor a profile of it)",
                          "run ghostpod from a shell of the session or outside the ghost");
    if (who.profile)
        return make_error(ErrorCode::session, what + " in the session",
                          "refused: this process runs in profile " + who.profile->name + "'s view, which sees only its own secrets",
                          "run it from a shell of the full session, or outside the ghost");
    return make_error(ErrorCode::session, what + " in the session", "refused: only a client outside the ghost registers a view it built");
}

// Who may ask what. Outside the ghost (the user's own processes, which the threat model does not
// keep out) and the full ghost: everything, though only a client outside can register a view it
// built. A profile's process: its own part of attach and status, nothing of the whole session.
// Anything else below us: nothing.
bool authorise(const protocol::Request& request, const Asker& who) {
    if (!who.known) return false;
    if (who.place == protocol::Place::profile)
        return std::holds_alternative<protocol::AttachRequest>(request) || std::holds_alternative<protocol::StatusRequest>(request);
    if (std::holds_alternative<protocol::RegisterRequest>(request)) return who.place == protocol::Place::outside;
    return true;
}

// A spawn or register request on an attached connection; false detaches it.
bool serve_attached(Holder& h, SessionClient& client) {
    int conn = client.conn.get();
    std::vector<UniqueFd> fds;
    auto request = protocol::receive_request(conn, &fds);
    if (!request || !*request || client.profile) return false;
    auto asker = identify_asker(h, conn);
    if (!asker) return false;
    const Asker& who = *asker;
    if (auto* spawn = std::get_if<protocol::SpawnRequest>(&**request)) {
        if (!authorise(**request, who)) return answer(conn, refused("start a command in profile " + spawn->profile, who)), true;
        if (fds.size() != sandbox::kSpawnFds) return answer(conn, wire::malformed("a spawn request")), true;
        std::vector<int> raw;
        for (const auto& fd : fds) raw.push_back(fd.get());
        auto view = narrow_view(full_view(h), spawn->allowed);
        auto mnt = sandbox::spawn_in_ghost(h.ghost, profile_mounts(view), raw);
        auto reg = mnt ? registration(h, spawn->profile, spawn->allowed, std::move(*mnt)) : Result<ProfileRegistration>(mnt.error());
        if (!reg) return answer(conn, reg.error()), true;
        client.profile = std::move(*reg);
        answer(conn, protocol::Spawned{});
        return true;
    }
    if (auto* reg = std::get_if<protocol::RegisterRequest>(&**request)) {
        if (!authorise(**request, who)) return answer(conn, refused("register profile " + reg->profile, who)), true;
        if (fds.size() != 1) return answer(conn, wire::malformed("a register request")), true;
        auto made = registration(h, reg->profile, reg->allowed, std::move(fds[0]));
        if (!made) return answer(conn, made.error()), true;
        client.profile = std::move(*made);
        answer(conn, protocol::Registered{});
        return true;
    }
    return false;
}

}  // namespace ghostpod
