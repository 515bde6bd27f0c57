#include "pod/cli/dispatch.hpp"

#include <sys/stat.h>

#include <string>
#include <vector>

#include "pod/cli/args.hpp"
#include "pod/cli/command_table.hpp"
#include "pod/cli/messages.hpp"
#include "pod/cli/program.hpp"
#include "pod/cli/suggest.hpp"
#include "sandbox/process.hpp"
#include "vault/fault.hpp"
#include "vault/secret_buffer.hpp"

#ifndef GHOSTPOD_VERSION
#define GHOSTPOD_VERSION "0.0.0"
#endif

namespace ghostpod {
namespace {

std::string names_of(const std::vector<const Command*>& commands) {
    std::string out;
    for (std::size_t i = 0; i < commands.size(); ++i) {
        std::string word = commands[i]->name.substr(commands[i]->name.rfind(' ') + 1);
        out += (i == 0 ? "" : i + 1 == commands.size() ? " or " : ", ") + word;
    }
    return out;
}

// The last words of `commands`' names: "set", "get", … of a group's subcommands.
std::vector<std::string> last_words(const std::vector<const Command*>& commands) {
    std::vector<std::string> words;
    for (const Command* c : commands) words.push_back(c->name.substr(c->name.rfind(' ') + 1));
    return words;
}

std::vector<const Command*> top_level_commands() {
    std::vector<const Command*> top;
    for (const auto& c : command_table())
        if (c.name.find(' ') == std::string::npos) top.push_back(&c);
    return top;
}

// Finds the command the words name (a group's subcommand too) and runs it.
int dispatch(Context& context, const std::string& word, std::vector<std::string> rest) {
    const Command* command = find_command(word);
    if (command == nullptr)
        return report(usage_error("", "unknown command '" + word + "'", did_you_mean(word, last_words(top_level_commands()))));
    while (command->handler == nullptr) {
        if (rest.empty() || rest[0] == "-h" || rest[0] == "--help") {
            print_stdout(help_text(*command));
            return rest.empty() ? 2 : 0;
        }
        const Command* sub = find_command(command->name + " " + rest[0]);
        if (sub == nullptr)
            return report(usage_error(command->name,
                                      "unknown " + std::string(command->subcommand_noun) + " '" + rest[0] + "' (" +
                                          names_of(subcommands_of(*command)) + ")",
                                      did_you_mean(rest[0], last_words(subcommands_of(*command)))));
        command = sub;
        rest.erase(rest.begin());
    }
    // The front runs the joins; any other command runs in the full program, from its start.
    if (!front_serves(command->name)) hand_over_if_front(command->name);
    auto parsed = parse_args(rest, command->options, context, command->name);
    if (!parsed) return report(parsed.error());
    if (parsed->help) {
        print_stdout(help_text(*command));
        return 0;
    }
    return command->handler(context, *parsed);
}

}  // namespace

int run_cli(int argc, char** argv) {
#ifdef GHOSTPOD_FAULT_INJECTION
    // Test builds only: read GHOSTPOD_FAULT before anything forks or filters the environment.
    fault::init_from_environment();
    if (argc == 2 && std::string_view(argv[1]) == "--fault-points") {
        for (std::string_view point : fault::points()) print_stdout(std::string(point) + "\n");
        return 0;
    }
#endif
    // The full program initialises libsodium first (its implementations are chosen then); the
    // front leaves it to its first secret buffer (ensure_sodium), which a join of a session
    // that maps no variable from a file never needs (its CPU probing runs cpuid, which traps to
    // the hypervisor on a virtual machine: 3.75 µs each on the 2-core test machine).
    if (!is_front() && !ensure_sodium()) return report(make_error(ErrorCode::runtime, "initialise libsodium", "sodium_init failed"));
    if (auto hardened = sandbox::harden_process(); !hardened) return report(hardened.error());
    ::umask(077);

    Context context;
    std::vector<std::string> args(argv + 1, argv + argc);
    // Global options before the command.
    std::size_t i = 0;
    for (; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--version") {
            print_stdout(std::string("ghostpod ") + GHOSTPOD_VERSION + "\n");
            return 0;
        }
        if (arg == "-h" || arg == "--help") {
            print_stdout(overview_text());
            return 0;
        }
        if (arg.rfind("-", 0) != 0) break;
        std::string name = arg, value;
        bool known = false;
        if (auto eq = arg.find('='); eq != std::string::npos) {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
        }
        std::vector<std::string> globals = {"--help", "--version"};
        for (const auto& option : global_options()) {
            known = known || option.name == name;
            globals.push_back(option.name);
        }
        if (!known) return report(usage_error("", "unknown option " + name, did_you_mean(name, globals)));
        if (arg.find('=') == std::string::npos) {
            if (i + 1 >= args.size()) return report(usage_error("", name + " needs a value"));
            value = args[++i];
        }
        if (auto applied = apply_global(name, value, context); !applied) return report(applied.error());
    }
    if (i >= args.size()) {
        print_stdout(overview_text());
        return 2;
    }
    return dispatch(context, args[i], std::vector<std::string>(args.begin() + static_cast<long>(i) + 1, args.end()));
}

}  // namespace ghostpod
