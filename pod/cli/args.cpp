#include "pod/cli/args.hpp"

#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

#include "pod/formats/text.hpp"
#include "pod/cli/messages.hpp"
#include "sandbox/process.hpp"
#include "vault/fault.hpp"

#ifndef GHOSTPOD_VERSION
#define GHOSTPOD_VERSION "0.0.0"
#endif

namespace ghostpod {
namespace {

const std::vector<OptionSpec> kGlobalOptions = {
    {"--vault", true}, {"--config", true}, {"--passphrase-fd", true}, {"--recovery-key-fd", true}};

Status apply_global(const std::string& name, const std::string& value, Context& context) {
    if (name == "--vault") {
        if (value.empty()) return make_error(ErrorCode::usage, "--vault", "the path is empty");
        context.paths.vault = value;
    } else if (name == "--config") {
        if (value.empty()) return make_error(ErrorCode::usage, "--config", "the path is empty");
        context.paths.config = value;
    } else {
        auto fd = parse_fd(name, value);
        if (!fd) return std::move(fd).error();
        (name == "--passphrase-fd" ? context.passphrase_fd : context.recovery_key_fd) = *fd;
    }
    return {};
}

const OptionSpec* find_spec(const std::vector<OptionSpec>& spec, const std::string& name) {
    for (const auto& s : spec)
        if (s.name == name) return &s;
    return nullptr;
}

}  // namespace

Error usage_error(const std::string& command, const std::string& why) {
    return make_error(ErrorCode::usage, command.empty() ? "usage" : command, why,
                      "see 'ghostpod " + (command.empty() ? std::string("--help") : command + " --help") + "'");
}

Result<int> parse_fd(const std::string& option, const std::string& text) {
    int fd = -1;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), fd);
    if (ec != std::errc() || end != text.data() + text.size() || fd < 0)
        return make_error(ErrorCode::usage, option, "'" + text + "' is not a file descriptor number");
    return fd;
}

Result<ParsedArgs> parse_args(const std::vector<std::string>& args, const std::vector<OptionSpec>& spec,
                              Context& context, const std::string& command) {
    ParsedArgs parsed;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--") {
            parsed.positional.insert(parsed.positional.end(), args.begin() + static_cast<long>(i) + 1, args.end());
            break;
        }
        if (arg == "-h" || arg == "--help") {
            parsed.help = true;
            continue;
        }
        if (arg.size() < 2 || arg[0] != '-' ) {
            parsed.positional.push_back(arg);
            continue;
        }
        std::string name = arg, value;
        bool inline_value = false;
        if (auto eq = arg.find('='); eq != std::string::npos && arg.rfind("--", 0) == 0) {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
            inline_value = true;
        }
        const OptionSpec* option = find_spec(spec, name);
        bool global = option == nullptr && (option = find_spec(kGlobalOptions, name)) != nullptr;
        if (option == nullptr) return usage_error(command, "unknown option " + name);
        if (option->takes_value && !inline_value) {
            if (i + 1 >= args.size()) return usage_error(command, name + " needs a value");
            value = args[++i];
        } else if (!option->takes_value && inline_value) {
            return usage_error(command, name + " takes no value");
        }
        if (global) {
            GP_TRY(apply_global(name, value, context));
        } else if (option->takes_value) {
            parsed.values[name] = value;
        } else {
            parsed.flags.insert(name);
        }
    }
    return parsed;
}

int run_cli(int argc, char** argv) {
#ifdef GHOSTPOD_FAULT_INJECTION
    // Test builds only: read GHOSTPOD_FAULT before anything forks or filters the environment.
    fault::init_from_environment();
    if (argc == 2 && std::string_view(argv[1]) == "--fault-points") {
        for (std::string_view point : fault::points()) print_stdout(std::string(point) + "\n");
        return 0;
    }
#endif
    if (sodium_init() < 0) return report(make_error(ErrorCode::runtime, "initialise libsodium", "sodium_init failed"));
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
        if (arg == "-h" || arg == "--help") return print_help("") ? 0 : 2;
        if (arg.rfind("-", 0) != 0) break;
        std::string name = arg, value;
        if (auto eq = arg.find('='); eq != std::string::npos) {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
        } else if (find_spec(kGlobalOptions, name) != nullptr) {
            if (i + 1 >= args.size()) return report(usage_error("", name + " needs a value"));
            value = args[++i];
        }
        if (find_spec(kGlobalOptions, name) == nullptr) return report(usage_error("", "unknown option " + name));
        if (auto applied = apply_global(name, value, context); !applied) return report(applied.error());
    }
    if (i >= args.size()) {
        print_help("");
        return 2;
    }
    std::string command = args[i];
    std::vector<std::string> rest(args.begin() + static_cast<long>(i) + 1, args.end());
    if (command == "help") {
        std::string topic;
        for (const auto& word : rest) topic += (topic.empty() ? "" : " ") + word;
        if (print_help(topic)) return 0;
        return report(make_error(ErrorCode::usage, "help", "no command named '" + topic + "'", "see 'ghostpod --help'"));
    }
    if (command == "init") return cmd_init(context, rest);
    if (command == "secret") return cmd_secret(context, rest);
    if (command == "passwd") return cmd_passwd(context, rest);
    if (command == "status") return cmd_status(context, rest);
    if (command == "run") return cmd_run(context, rest);
    if (command == "shell") return cmd_shell(context, rest, false);
    if (command == "enter") return cmd_shell(context, rest, true);
    if (command == "lock") return cmd_lock(context, rest);
    if (command == "pull") return cmd_pull(context, rest);
    if (command == "identity") return cmd_identity(context, rest);
    if (command == "certs") return cmd_certs(context, rest);
    if (command == "import") return cmd_import(context, rest);
    if (command == "save") return cmd_save(context, rest);
    return report(usage_error("", "unknown command '" + command + "'"));
}

}  // namespace ghostpod
