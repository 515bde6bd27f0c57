// The command table: every command's name, usage, options, help text and handler. Dispatch,
// 'ghostpod help', each 'ghostpod CMD --help' and the consistency tests against ghostpod(1) and
// the shell completions all read it, so a new command is one entry here plus its file in
// pod/commands/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pod/cli/args.hpp"

namespace ghostpod {

using CommandHandler = int (*)(Context&, const ParsedArgs&);

// The texts are views of the table's literals: building the table copies none of them (a join
// looks up its command here, and copying every command's help text cost it 70 µs).
struct Command {
    std::string name;           // "secret set"
    std::string_view synopsis;  // what follows the name in the usage line: "NAME [--file PATH]"
    std::string_view summary;   // one line in the overview
    std::vector<OptionSpec> options;
    std::string_view description;      // the help text between the usage line and the options
    CommandHandler handler = nullptr;  // nullptr: a group, whose subcommands are "NAME SUB" entries
    std::string_view brief;            // the overview's shorter synopsis; empty: `synopsis`
    std::string_view subcommand_noun = "subcommand";  // a group's word for what follows it
};

const std::vector<Command>& command_table();
// The entry named `name` ("secret set"), or nullptr.
const Command* find_command(const std::string& name);
// The entries "NAME SUB" of a group.
std::vector<const Command*> subcommands_of(const Command& group);

// `ghostpod help` and `ghostpod NAME --help`.
std::string overview_text();
std::string help_text(const Command& command);

}  // namespace ghostpod
