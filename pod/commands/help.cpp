// help: the overview, or one command's help, from the command table.
#include "pod/cli/command_table.hpp"
#include "pod/cli/messages.hpp"
#include "pod/cli/suggest.hpp"
#include "pod/commands/commands.hpp"

namespace ghostpod {

int cmd_help(Context&, const ParsedArgs& args) {
    if (args.positional.empty()) {
        print_stdout(overview_text());
        return 0;
    }
    std::string topic;
    for (const auto& word : args.positional) topic += (topic.empty() ? "" : " ") + word;
    // "help secret generate age" names the command "secret generate" and its argument.
    for (std::string name = topic;;) {
        if (const Command* c = find_command(name)) {
            print_stdout(help_text(*c));
            return 0;
        }
        auto space = name.rfind(' ');
        if (space == std::string::npos) break;
        name.resize(space);
    }
    std::vector<std::string> names;
    for (const auto& c : command_table()) names.push_back(c.name);
    std::string suggestion = did_you_mean(topic, names);
    return report(make_error(ErrorCode::usage, "help", "no command named '" + topic + "'",
                             suggestion.empty() ? "see 'ghostpod --help'" : suggestion + " (see 'ghostpod --help')"));
}

}  // namespace ghostpod
