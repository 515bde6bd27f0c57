#include "pod/cli/args.hpp"

#include <charconv>
#include <cstring>

#include "pod/cli/suggest.hpp"

namespace ghostpod {
namespace {

const OptionSpec* find_spec(const std::vector<OptionSpec>& spec, const std::string& name) {
    for (const auto& s : spec)
        if (s.name == name || (!s.short_name.empty() && s.short_name == name)) return &s;
    return nullptr;
}

}  // namespace

const std::vector<OptionSpec>& global_options() {
    static const std::vector<OptionSpec> options = {
        {"--vault", true, "FILE", "the vault (also GHOSTPOD_VAULT)"},
        {"--config", true, "FILE", "the config (also GHOSTPOD_CONFIG)"},
        {"--passphrase-fd", true, "N", "read the passphrase from file descriptor N, not the terminal"},
        {"--recovery-key-fd", true, "N", "unlock with the recovery key read from file descriptor N"}};
    return options;
}

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

Error usage_error(const std::string& command, const std::string& why) { return usage_error(command, why, ""); }

Error usage_error(const std::string& command, const std::string& why, const std::string& suggestion) {
    std::string see = "see 'ghostpod " + (command.empty() ? std::string("--help") : command + " --help") + "'";
    return make_error(ErrorCode::usage, command.empty() ? "usage" : command, why,
                      suggestion.empty() ? see : suggestion + " (" + see + ")");
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
        bool global = option == nullptr && (option = find_spec(global_options(), name)) != nullptr;
        if (option == nullptr) {
            std::vector<std::string> known = {"--help"};
            for (const auto* list : {&spec, &global_options()})
                for (const auto& s : *list) known.push_back(s.name);
            return usage_error(command, "unknown option " + name, did_you_mean(name, known));
        }
        if (option->takes_value && !inline_value) {
            if (i + 1 >= args.size()) return usage_error(command, name + " needs a value");
            value = args[++i];
        } else if (!option->takes_value && inline_value) {
            return usage_error(command, name + " takes no value");
        }
        if (global) {
            GP_TRY(apply_global(name, value, context));
        } else if (option->takes_value) {
            parsed.values[option->name] = value;
        } else {
            parsed.flags.insert(option->name);
        }
    }
    return parsed;
}

}  // namespace ghostpod
