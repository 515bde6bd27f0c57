// The session protocol: every request a client (or the launcher) sends the holder and every reply,
// each a struct with one encoder and one decoder over sandbox/wire.* (length-framed: any byte of
// a name, path or message survives), and one error encoding (Error, as sandbox's kErrorKind).
//
//   client -> holder, on the control socket       holder -> client
//   AttachRequest                                  Attached (+ namespace fds for the full view,
//                                                    + the session's seccomp program)
//     then, on the same connection, at most one of:
//     SpawnRequest (+ stdin, stdout, stderr,       Spawned: ghost init built the profile's view
//       control, command)                            and the command is starting
//     RegisterRequest (+ the profile's mount ns)   Registered
//   StatusRequest                                  StatusReply
//   NoticeRequest                                  NoticeReply: whether it is new this session
//   LockRequest                                    Locked (once everything is gone), or
//                                                    Unsaved: changes a lock would lose
//   SaveRequest                                    Saved
//   CertsRequest                                   CertsReply
//   PullRequest                                    Progress..., then Pulled
//   ExportRequest                                  Exported, then `parts` raw messages of
//                                                    values (pod/session/export.hpp), read
//                                                    straight into secret memory
//   holder -> launcher, on the ready pipe: Started, or the Error that stopped it.
// Any request may be answered with an Error. Who may ask what: see authorise() in holder.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "pod/session/ghost_files.hpp"
#include "sandbox/mounts.hpp"
#include "sandbox/wire.hpp"
#include "vault/result.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {

// What a client may see of the session: all of it, or a profile's part.
struct SessionView {
    std::string ghost_dir;
    std::vector<std::string> secrets;   // names in $GHOSTPOD_DIR
    std::vector<Placement> placements;  // mapped paths
    std::vector<GhostEnv> env;          // mapped variables
};

// The part of `full` a profile listing the secrets `allowed` gets.
SessionView narrow_view(const SessionView& full, const std::vector<std::string>& allowed);
// The mounts that make that part a profile's view (sandbox::build_profile_view).
sandbox::ProfileView profile_mounts(const SessionView& narrowed);

namespace protocol {

enum class Kind : std::uint16_t {
    attach = 1, status, lock, save, certs, pull, spawn, register_profile, export_values, notice,
    attached = 101, status_reply, locked, saved, certs_reply, progress, pulled, spawned, registered, started, exported, notice_reply,
    unsaved,
};

// Where the holder found the peer: outside the ghost, in its full view, or in a profile's.
enum class Place : std::uint8_t { outside = 1, ghost, profile };

struct AttachRequest {};
// With `profile`, the session's part that profile sees (a profile's own process may name only
// its own, and gets only its own either way).
struct StatusRequest {
    std::string profile;  // empty: the whole view (the asker's, for a profile's process)
};
struct LockRequest {
    bool discard = false;  // end without saving, losing unsaved changes
    bool save = false;     // save first (the user said yes), then end
};
struct SaveRequest {
    bool force = false;  // write over a vault changed elsewhere
};
struct CertsRequest {};
struct PullRequest {
    std::string settings_json;  // pull_settings_json(): checked against the session's own
};
// A command in profile `profile`'s view, for a caller that cannot build the view itself.
struct SpawnRequest {
    std::string profile;
    std::vector<std::string> allowed;  // the secrets the profile lists
};
// "The mount namespace passed along is profile `profile`'s view" (a client outside the ghost
// that built the view itself); its processes then get only that view.
struct RegisterRequest {
    std::string profile;
    std::vector<std::string> allowed;
};
// The session's env-style values ('ghostpod export'); with `profile`, only the secrets it lists.
// A profile's process gets its own part only, whatever it names.
struct ExportRequest {
    std::optional<std::vector<std::string>> profile;
};
// "Is warning `text` new this session?": the holder remembers what it has answered yes to, so a
// warning (an expiring certificate) is shown once per session, not by every command.
struct NoticeRequest {
    std::string text;
};
using Request = std::variant<AttachRequest, StatusRequest, LockRequest, SaveRequest, CertsRequest, PullRequest, SpawnRequest,
                             RegisterRequest, ExportRequest, NoticeRequest>;

struct Attached {
    Place place = Place::outside;
    std::string profile;  // when place is profile
    SessionView view;
    std::vector<std::uint8_t> seccomp;  // the session's BPF program (sandbox/seccomp.hpp), compiled once by the holder
    // The session's settings a join applies (session.pass_env, session.prompt of the config that
    // started it): a join reads no config of its own (pod/session/launcher.hpp).
    std::vector<std::string> pass_env;
    bool prompt = true;
};
struct StatusReply {
    std::string json;  // the session's part of 'ghostpod status --json'
};
struct Locked {};
struct Saved {
    std::string json;  // what 'ghostpod save --json' prints
};
struct CertsReply {
    std::string json;  // certs_to_json
};
struct Progress {
    std::string text;
};
struct Pulled {
    std::uint64_t secrets = 0;
    std::string source;  // "server" or "cache"
    std::uint64_t fetched = 0;
    std::vector<std::string> warnings;
    // What the pull did to the ghost, by name below $GHOSTPOD_DIR (never a value).
    std::vector<std::string> added, changed, removed;
};
struct Spawned {};
struct Registered {};
struct Started {};
// The values never travel in a frame (frames are std::vector, not secret memory): `parts`
// messages follow on the connection whose bytes, joined, are export.hpp's frames.
struct Exported {
    std::vector<std::string> skipped;  // env entries whose names are no variable names
    std::uint64_t parts = 0;
};
struct NoticeReply {
    bool first = false;  // not shown before in this session: show it now
};
// A lock refused: the changes in the ghost it would lose (what 'ghostpod lock --json' prints).
struct Unsaved {
    std::string json;
};
using Reply = std::variant<Attached, StatusReply, Locked, Saved, CertsReply, Progress, Pulled, Spawned, Registered, Started, Exported,
                           NoticeReply, Unsaved, Error>;

// "attach", "status", ... for messages.
const char* request_name(const Request& request);

// The largest request the holder reads: one socket message, so reading one never waits.
inline constexpr std::size_t kMaxRequestBytes = 60 * 1024;

wire::Frame encode(const Request& request);
wire::Frame encode(const Reply& reply);
Result<Request> decode_request(const wire::Frame& frame);
Result<Reply> decode_reply(const wire::Frame& frame);

Status send(int socket, const Request& request, const std::vector<int>& fds = {});
Status send(int socket, const Reply& reply, const std::vector<int>& fds = {});
// nullopt: the peer closed the connection without a word.
Result<std::optional<Request>> receive_request(int socket, std::vector<UniqueFd>* fds = nullptr);
Result<std::optional<Reply>> receive_reply(int socket, std::vector<UniqueFd>* fds = nullptr);
// The launcher's ready pipe: one reply, Started or an Error.
Status write_reply(int fd, const Reply& reply);
Result<std::optional<Reply>> read_reply(int fd);

}  // namespace protocol
}  // namespace ghostpod
