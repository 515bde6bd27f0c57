#include "pod/formats/env_export.hpp"

#include <algorithm>

namespace ghostpod {
namespace {

Status append_text(SecretBuffer& out, std::string_view text) {
    return out.append({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

// The length of the UTF-8 sequence starting at bytes[i] and its code point; 0 when invalid
// (overlong, surrogate, beyond U+10FFFF, truncated).
std::size_t utf8_sequence(std::span<const std::uint8_t> bytes, std::size_t i, std::uint32_t& code) {
    std::uint8_t lead = bytes[i];
    if (lead < 0x80) {
        code = lead;
        return 1;
    }
    std::size_t length = (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 0;
    if (length == 0 || i + length > bytes.size()) return 0;
    code = lead & (0x7F >> length);
    for (std::size_t k = 1; k < length; ++k) {
        if ((bytes[i + k] & 0xC0) != 0x80) return 0;
        code = (code << 6) | (bytes[i + k] & 0x3F);
    }
    static constexpr std::uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kSmallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
    return length;
}

// Characters YAML does not allow raw (or reads as line breaks or a byte-order mark), escaped in
// JSON too so the two formats stay one escaper.
bool needs_unicode_escape(std::uint32_t code) {
    return code < 0x20 || code == 0x7F || (code >= 0x80 && code <= 0x9F) || code == 0x2028 || code == 0x2029 ||
           code == 0xFEFF || code == 0xFFFE || code == 0xFFFF;
}

Status append_u_escape(SecretBuffer& out, std::uint32_t code) {
    static constexpr char kHex[] = "0123456789abcdef";
    char text[6] = {'\\', 'u', kHex[(code >> 12) & 0xF], kHex[(code >> 8) & 0xF], kHex[(code >> 4) & 0xF], kHex[code & 0xF]};
    return append_text(out, {text, sizeof text});
}

// KEY="…" for a dotenv reader and a shell alike: inside double quotes a shell gives \ $ ` "
// their meaning, so those are escaped; a newline is literal for both.
Status append_dotenv_double_quoted(SecretBuffer& out, std::span<const std::uint8_t> value) {
    GP_TRY(out.push_back('"'));
    for (std::uint8_t c : value) {
        if (c == '\\' || c == '"' || c == '$' || c == '`') GP_TRY(out.push_back('\\'));
        if (c == '\r') {
            GP_TRY(append_text(out, "\\r"));
            continue;
        }
        GP_TRY(out.push_back(c));
    }
    return out.push_back('"');
}

Status append_dotenv(SecretBuffer& out, const ExportVariable& v, bool with_export) {
    if (with_export) GP_TRY(append_text(out, "export "));
    GP_TRY(append_text(out, v.name));
    GP_TRY(out.push_back('='));
    bool literal = std::none_of(v.value.begin(), v.value.end(), [](std::uint8_t c) { return c == '\'' || c == '\r'; });
    if (literal) {
        GP_TRY(out.push_back('\''));
        GP_TRY(out.append(v.value));
        GP_TRY(out.push_back('\''));
    } else {
        GP_TRY(append_dotenv_double_quoted(out, v.value));
    }
    return out.push_back('\n');
}

}  // namespace

std::optional<ExportFormat> parse_export_format(const std::string& name) {
    if (name == "dotenv") return ExportFormat::dotenv;
    if (name == "dotenv-export") return ExportFormat::dotenv_export;
    if (name == "json") return ExportFormat::json;
    if (name == "yaml") return ExportFormat::yaml;
    return std::nullopt;
}

bool is_variable_name(const std::string& name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

bool valid_utf8(std::span<const std::uint8_t> bytes) {
    std::uint32_t code = 0;
    for (std::size_t i = 0; i < bytes.size();) {
        std::size_t n = utf8_sequence(bytes, i, code);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

std::optional<std::string> unexportable(std::span<const std::uint8_t> value, ExportFormat format) {
    if (std::find(value.begin(), value.end(), std::uint8_t{0}) != value.end()) return "holds a NUL byte, which no variable can";
    if ((format == ExportFormat::json || format == ExportFormat::yaml) && !valid_utf8(value))
        return "is not UTF-8 text, which JSON and YAML strings must be (--format dotenv keeps the bytes)";
    return std::nullopt;
}

Status append_json_string(SecretBuffer& out, std::span<const std::uint8_t> value) {
    GP_TRY(out.push_back('"'));
    for (std::size_t i = 0; i < value.size();) {
        std::uint32_t code = 0;
        std::size_t n = utf8_sequence(value, i, code);
        if (n == 0) {
            GP_TRY(append_u_escape(out, value[i]));  // not UTF-8: the byte as a Latin-1 character
            ++i;
            continue;
        }
        if (code == '"' || code == '\\') {
            GP_TRY(out.push_back('\\'));
            GP_TRY(out.push_back(static_cast<std::uint8_t>(code)));
        } else if (code == '\n' || code == '\t' || code == '\r') {
            GP_TRY(append_text(out, code == '\n' ? "\\n" : code == '\t' ? "\\t" : "\\r"));
        } else if (needs_unicode_escape(code)) {
            GP_TRY(append_u_escape(out, code));
        } else {
            GP_TRY(out.append(value.subspan(i, n)));
        }
        i += n;
    }
    return out.push_back('"');
}

Result<SecretBuffer> format_variables(const std::vector<ExportVariable>& variables, ExportFormat format) {
    auto out = SecretBuffer::allocate(0);
    if (!out) return out;
    for (const auto& v : variables)
        if (auto why = unexportable(v.value, format)) return make_error(ErrorCode::runtime, "export " + v.name, *why);
    if (format == ExportFormat::dotenv || format == ExportFormat::dotenv_export) {
        for (const auto& v : variables) GP_TRY(append_dotenv(*out, v, format == ExportFormat::dotenv_export));
        return out;
    }
    if (variables.empty()) {
        GP_TRY(append_text(*out, format == ExportFormat::json ? "[]\n" : "{}\n"));
        return out;
    }
    auto name_bytes = [](const std::string& name) {
        return std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(name.data()), name.size());
    };
    if (format == ExportFormat::json) GP_TRY(append_text(*out, "[\n"));
    for (std::size_t i = 0; i < variables.size(); ++i) {
        const auto& v = variables[i];
        if (format == ExportFormat::json) {
            GP_TRY(append_text(*out, "  {\"key\": "));
            GP_TRY(append_json_string(*out, name_bytes(v.name)));
            GP_TRY(append_text(*out, ", \"value\": "));
            GP_TRY(append_json_string(*out, v.value));
            GP_TRY(append_text(*out, i + 1 < variables.size() ? "},\n" : "}\n"));
        } else {
            // A JSON string is a YAML double-quoted scalar with the same escapes.
            GP_TRY(append_json_string(*out, name_bytes(v.name)));
            GP_TRY(append_text(*out, ": "));
            GP_TRY(append_json_string(*out, v.value));
            GP_TRY(out->push_back('\n'));
        }
    }
    if (format == ExportFormat::json) GP_TRY(append_text(*out, "]\n"));
    return out;
}

}  // namespace ghostpod
