// The user commands, one file each in pod/commands/. Each gets its arguments parsed by the
// command table (pod/cli/command_table.cpp) and returns the process exit code.
#pragma once

#include "pod/cli/args.hpp"

namespace ghostpod {

int cmd_init(Context& context, const ParsedArgs& args);
int cmd_secret_set(Context& context, const ParsedArgs& args);
int cmd_secret_get(Context& context, const ParsedArgs& args);
int cmd_secret_ls(Context& context, const ParsedArgs& args);
int cmd_secret_rm(Context& context, const ParsedArgs& args);
int cmd_secret_generate(Context& context, const ParsedArgs& args);
int cmd_secret_edit(Context& context, const ParsedArgs& args);
int cmd_export(Context& context, const ParsedArgs& args);
int cmd_passwd(Context& context, const ParsedArgs& args);
int cmd_run(Context& context, const ParsedArgs& args);
int cmd_shell(Context& context, const ParsedArgs& args);
int cmd_enter(Context& context, const ParsedArgs& args);
int cmd_pull(Context& context, const ParsedArgs& args);
int cmd_identity_set(Context& context, const ParsedArgs& args);
int cmd_identity_show(Context& context, const ParsedArgs& args);
int cmd_identity_rm(Context& context, const ParsedArgs& args);
int cmd_certs(Context& context, const ParsedArgs& args);
int cmd_import_tazpod(Context& context, const ParsedArgs& args);
int cmd_import_dotenv(Context& context, const ParsedArgs& args);
int cmd_save(Context& context, const ParsedArgs& args);
int cmd_lock(Context& context, const ParsedArgs& args);
int cmd_status(Context& context, const ParsedArgs& args);
int cmd_help(Context& context, const ParsedArgs& args);
int cmd_allow(Context& context, const ParsedArgs& args);
int cmd_deny(Context& context, const ParsedArgs& args);

}  // namespace ghostpod
