// Writing variables as a .env file, JSON or YAML, in secret memory: what 'ghostpod export'
// prints. Every format reads back to the exact bytes (man ghostpod(1), EXPORT):
//
//   dotenv          KEY='value'      as 'infisical export' writes it, when the value holds no '
//                                    and no carriage return (every byte literal, newlines too);
//                   KEY="va\"lue"    otherwise: \\ \" \$ \` and \r escaped, newlines literal, so
//                                    that dotenv readers and a shell's '.' read the same bytes
//                                    (a shell reads \r as two characters)
//   dotenv-export   export KEY=…     the same, for eval or a shell without 'set -a'
//   json            [{"key": "KEY", "value": "…"}, …]   'infisical export --format json''s keys
//   yaml            "KEY": "…"       one double-quoted pair a line (quoted keys: no NO → false)
//
// In JSON and YAML, control characters, DEL, C1 controls, U+2028/2029, U+FEFF and U+FFFE/FFFF
// are \u escapes; values must be UTF-8 there. No format can carry a NUL byte.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vault/result.hpp"
#include "vault/secret_buffer.hpp"

namespace ghostpod {

enum class ExportFormat { dotenv, dotenv_export, json, yaml };

std::optional<ExportFormat> parse_export_format(const std::string& name);

struct ExportVariable {
    std::string name;  // a variable name: [A-Za-z_][A-Za-z0-9_]*
    std::span<const std::uint8_t> value;
};

bool is_variable_name(const std::string& name);
bool valid_utf8(std::span<const std::uint8_t> bytes);
// Why `value` cannot be written in `format` ("holds a NUL byte", "is not UTF-8"), or nullopt.
std::optional<std::string> unexportable(std::span<const std::uint8_t> value, ExportFormat format);

// The variables in `format`, in the order given. Each must be exportable.
Result<SecretBuffer> format_variables(const std::vector<ExportVariable>& variables, ExportFormat format);
// `value` as a double-quoted JSON string (valid UTF-8 expected; other bytes become \u escapes
// of their Latin-1 reading, so the output is always valid JSON).
Status append_json_string(SecretBuffer& out, std::span<const std::uint8_t> value);

}  // namespace ghostpod
