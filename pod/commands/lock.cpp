// lock: end the session; every process and plaintext in it goes. Changes that would go with it
// unsaved stop it (exit 7) unless the user says what to do with them.
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "pod/cli/messages.hpp"
#include "pod/commands/commands.hpp"
#include "pod/session/client.hpp"
#include "pod/unlock/unlock.hpp"

namespace ghostpod {
namespace {

constexpr std::size_t kListedOnScreen = 20;

// A path as one printable line: a file name may hold any byte but '/' and NUL.
std::string printable(const std::string& path) {
    std::string out;
    for (unsigned char c : path) out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
    return out;
}

// "  changed  /path (why)" per change, at most kListedOnScreen of them, to stderr.
void list_changes(const nlohmann::json& unsaved) {
    std::string text;
    std::size_t shown = 0;
    for (const auto& c : unsaved) {
        if (shown++ == kListedOnScreen) {
            text += "  … and " + std::to_string(unsaved.size() - kListedOnScreen) + " more ('ghostpod lock --json' lists them all)\n";
            break;
        }
        std::string change = c.value("change", std::string());
        text += "  " + change + std::string(change.size() < 8 ? 8 - change.size() : 0, ' ') + " " +
                printable(c.value("path", std::string()));
        if (!c.value("saveable", true)) text += "  (not saved by 'save': " + c.value("why", std::string()) + ")";
        text += "\n";
    }
    (void)write_all(STDERR_FILENO, text_bytes(text), "write to stderr");
}

std::size_t saveable_count(const nlohmann::json& unsaved) {
    std::size_t n = 0;
    for (const auto& c : unsaved) n += c.value("saveable", true) ? 1 : 0;
    return n;
}

enum class Choice { save, discard, keep };

// The question on the terminal: y saves (what 'save' can) and locks, d locks without saving,
// anything else (Enter, n, end of input) keeps the session.
Choice ask_what_to_do(const nlohmann::json& unsaved) {
    std::size_t saveable = saveable_count(unsaved);
    std::string question = "ghostpod: the session has " + std::to_string(unsaved.size()) + " unsaved change(s):\n";
    (void)write_all(STDERR_FILENO, text_bytes(question), "write to stderr");
    list_changes(unsaved);
    std::string ask;
    if (saveable == unsaved.size()) {
        ask = "Save them to the vault and lock? [y = save and lock / N = keep the session / d = discard them and lock] ";
    } else {
        ask = std::to_string(unsaved.size() - saveable) + " of them 'save' cannot keep. Lock anyway? [y = save the " +
              std::to_string(saveable) + " it can, lose the rest, and lock / N = keep the session / d = discard all and lock] ";
    }
    (void)write_all(STDERR_FILENO, text_bytes(ask), "write to stderr");
    std::string line;
    char c = 0;
    while (line.size() < 64 && ::read(STDIN_FILENO, &c, 1) == 1 && c != '\n') line += c;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    while (!line.empty() && line.front() == ' ') line.erase(line.begin());
    if (line == "y" || line == "Y" || line == "yes") return Choice::save;
    if (line == "d" || line == "D" || line == "discard") return Choice::discard;
    return Choice::keep;
}

Error unsaved_error(const nlohmann::json& unsaved) {
    bool only_saveable = saveable_count(unsaved) == unsaved.size();
    return make_error(ErrorCode::conflict, "lock the session",
                      std::to_string(unsaved.size()) + " unsaved change(s) in the ghost would be lost; nothing was ended",
                      only_saveable ? "'ghostpod save' keeps them in the vault, then lock; or 'ghostpod lock --discard' ends "
                                      "the session without them"
                                    : "'ghostpod save' keeps the vault files; copy what else you need out of the ghost "
                                      "(or into $GHOSTPOD_DIR, then save), then lock; or 'ghostpod lock --discard' ends "
                                      "the session without them");
}

}  // namespace

int cmd_lock(Context& context, const ParsedArgs& args) {
    auto vault_path = existing_vault_path(context);
    if (!vault_path) return report(vault_path.error());
    auto paths = session_paths(*vault_path);
    if (!paths) return report(paths.error());
    const bool json = args.has("--json");
    protocol::LockRequest lock{args.has("--discard"), false};
    protocol::Reply reply;
    auto conn = exchange(*paths, lock, reply);
    if (!conn) return report(conn.error());
    if (auto* unsaved = std::get_if<protocol::Unsaved>(&reply)) {
        auto refusal = nlohmann::json::parse(unsaved->json, nullptr, false);
        if (!refusal.is_object() || !refusal["unsaved"].is_array())
            return report(make_error(ErrorCode::session, "lock the session", "unreadable answer from the holder"));
        const auto& changes = refusal["unsaved"];
        bool terminal = !json && ::isatty(STDIN_FILENO) && ::isatty(STDERR_FILENO);
        Choice choice = terminal ? ask_what_to_do(changes) : Choice::keep;
        if (choice == Choice::keep) {
            if (json) {
                print_stdout(refusal.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
            } else if (!terminal) {
                list_changes(changes);
            }
            return report(unsaved_error(changes));
        }
        lock = choice == Choice::save ? protocol::LockRequest{false, true} : protocol::LockRequest{true, false};
        conn = exchange(*paths, lock, reply);
        if (!conn) return report(conn.error());
    }
    if (auto* e = std::get_if<Error>(&reply)) return report(*e);
    if (!std::holds_alternative<protocol::Locked>(reply))
        return report(make_error(ErrorCode::session, "lock the session", "unexpected answer from the holder"));
    if (json) {
        print_stdout(nlohmann::json({{"vault", *vault_path}, {"locked", true}, {"discarded", lock.discard}}).dump(2) + "\n");
        return 0;
    }
    note("session locked: every process in it has ended and its RAM mount is gone");
    return 0;
}

}  // namespace ghostpod
