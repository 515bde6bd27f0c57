// 'ghostpod export': which variables it writes, and the export request that asks a running
// session's holder for their values (no passphrase). The holder's side is holder_export.cpp.
//
// Wire: the client sends protocol::ExportRequest (the profile's secrets, or none). The holder
// answers an Error, or protocol::Exported {skipped names, P} followed by P raw messages whose
// bytes, joined, are one frame per variable: u32 (little endian) name length, name, u32 value
// length, value. Those messages are sent from and received straight into secret memory: the
// values never pass through a std::string or a wire::Frame.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pod/session/paths.hpp"
#include "vault/result.hpp"
#include "vault/secret_buffer.hpp"

namespace ghostpod {

// What the session (or the vault) has that export may write.
struct ExportCandidates {
    std::vector<std::string> env_entries;  // secrets of kind env: exported under their own name
    std::vector<std::string> pulled;       // pulled files, "infisical/KEY": exported as KEY
    std::vector<std::pair<std::string, std::string>> mapped;  // (secret, variable) of env_value mappings
};

struct ExportPick {
    std::string variable;
    std::string secret;  // the file in $GHOSTPOD_DIR (or vault entry) holding the value
};

// The variables to write, sorted by name. Where two sources give one name the later kind wins:
// env entries, then pulled keys, then mapped variables (as in a session's environment).
// With `profile`, only secrets it lists count. Env entries whose names are no variable names
// are left out and named in `skipped`.
std::vector<ExportPick> pick_exports(const ExportCandidates& candidates,
                                     const std::optional<std::vector<std::string>>& profile,
                                     std::vector<std::string>& skipped);

// Variables received from the holder: names, and values in one secret buffer.
struct ExportedValues {
    SecretBuffer bytes;  // the frames as received
    struct Variable {
        std::string name;
        std::size_t offset = 0, length = 0;  // of the value in `bytes`
    };
    std::vector<Variable> variables;
    std::vector<std::string> skipped;  // env entries whose names are no variable names
    std::span<const std::uint8_t> value(const Variable& v) const { return bytes.bytes().subspan(v.offset, v.length); }
};

// Appends one frame (name, value) to `out`.
Status append_export_frame(SecretBuffer& out, const std::string& name, std::span<const std::uint8_t> value);
// The most raw messages an export may take (32 MiB): the holder refuses to send more and a
// client to read more.
inline constexpr std::uint64_t kMaxExportParts = 512;

// Splits received frames; malformed input is an error.
Result<ExportedValues> decode_export_frames(SecretBuffer bytes);

// Asks the running session for its export; ErrorCode::session when none is running.
Result<ExportedValues> request_export(const SessionPaths& paths, const std::optional<std::vector<std::string>>& profile);

}  // namespace ghostpod
