#include "pod/formats/dotenv.hpp"

#include <algorithm>

namespace ghostpod {
namespace {

bool is_blank(std::uint8_t c) { return c == ' ' || c == '\t'; }
bool starts_key(std::uint8_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool continues_key(std::uint8_t c) { return starts_key(c) || (c >= '0' && c <= '9'); }

// One pass over the text; values are copied, unescaped, straight into secret memory.
class DotenvParser {
public:
    DotenvParser(std::span<const std::uint8_t> text, const std::string& what, SecretBuffer& values)
        : text_(text), what_(what), out_(values.data()) {}

    Status parse(std::vector<DotenvVariable>& variables) {
        GP_TRY(refuse_nul());
        while (!at_end()) {
            skip_blanks();
            if (peek() == '#') skip_comment();
            if (at_line_end()) {
                skip_line_end();
                continue;
            }
            auto variable = parse_assignment();
            if (!variable) return std::move(variable).error();
            variables.push_back(std::move(*variable));
            skip_line_end();
        }
        return {};
    }

    std::size_t used() const { return used_; }

private:
    bool at_end() const { return pos_ >= text_.size(); }
    std::uint8_t peek(std::size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : 0; }
    bool at_line_end() const { return at_end() || peek() == '\n' || (peek() == '\r' && (peek(1) == '\n' || pos_ + 1 == text_.size())); }
    void skip_blanks() {
        while (!at_end() && is_blank(peek())) ++pos_;
    }
    void skip_comment() {
        while (!at_line_end()) ++pos_;
    }
    void skip_line_end() {
        if (peek() == '\r') ++pos_;
        if (peek() == '\n') {
            ++pos_;
            ++line_;
        }
    }
    void emit(std::uint8_t c) { out_[used_++] = c; }

    Error fail(std::size_t line, const std::string& why) const {
        return make_error(ErrorCode::usage, what_, "line " + std::to_string(line) + ": " + why,
                          "lines are KEY=value, KEY='literal' or KEY=\"escaped\"; see ghostpod(1), IMPORT");
    }

    // Env values cannot hold NUL; a .env file with one is not text.
    Status refuse_nul() const {
        std::size_t line = 1;
        for (std::uint8_t c : text_) {
            if (c == 0) return fail(line, "a NUL byte (not a text file)");
            if (c == '\n') ++line;
        }
        return {};
    }

    Result<DotenvVariable> parse_assignment() {
        DotenvVariable variable;
        variable.line = line_;
        auto starts_with_export = [&] {
            static constexpr std::string_view kExport = "export";
            if (text_.size() - pos_ <= kExport.size()) return false;
            return std::equal(kExport.begin(), kExport.end(), text_.begin() + static_cast<long>(pos_)) && is_blank(peek(kExport.size()));
        };
        if (starts_with_export()) {
            pos_ += 6;
            skip_blanks();
        }
        if (!starts_key(peek()))
            return fail(line_, "not a KEY=value line (a key is letters, digits and _, not starting with a digit)");
        while (!at_end() && continues_key(peek())) variable.key.push_back(static_cast<char>(text_[pos_++]));
        skip_blanks();
        if (peek() != '=')
            return fail(line_, "not a KEY=value line (a key is letters, digits and _, not starting with a digit)");
        ++pos_;
        skip_blanks();
        variable.offset = used_;
        if (peek() == '\'' || peek() == '"') {
            GP_TRY(parse_quoted(static_cast<char>(peek()), variable.line));
            skip_blanks();
            if (peek() == '#') skip_comment();
            if (!at_line_end()) return fail(line_, "unexpected text after the closing quote");
        } else {
            parse_unquoted(variable.offset);
        }
        variable.length = used_ - variable.offset;
        return variable;
    }

    Status parse_quoted(char quote, std::size_t opening_line) {
        ++pos_;
        for (;;) {
            if (at_end())
                return fail(opening_line, std::string("the ") + (quote == '\'' ? "single" : "double") +
                                              "-quoted value has no closing quote");
            std::uint8_t c = text_[pos_++];
            if (c == static_cast<std::uint8_t>(quote)) return {};
            if (c == '\r' && peek() == '\n') continue;  // CRLF inside a value reads as LF
            if (c == '\n') ++line_;
            if (quote == '"' && c == '\\' && !at_end()) {
                std::uint8_t escaped = peek();
                std::uint8_t meaning = escaped == 'n' ? '\n' : escaped == 't' ? '\t' : escaped == 'r' ? '\r'
                                     : (escaped == '"' || escaped == '\\' || escaped == '$' || escaped == '`') ? escaped : 0;
                if (meaning != 0) {
                    ++pos_;
                    emit(meaning);
                    continue;
                }
            }
            emit(c);  // an unknown escape keeps its backslash
        }
    }

    void parse_unquoted(std::size_t start) {
        while (!at_line_end()) {
            // '#' starts a comment only after whitespace, so KEY=a#b keeps its '#'.
            if (peek() == '#' && is_blank(text_[pos_ - 1])) break;
            emit(text_[pos_++]);
        }
        skip_comment();
        while (used_ > start && is_blank(out_[used_ - 1])) --used_;
    }

    std::span<const std::uint8_t> text_;
    const std::string& what_;
    std::uint8_t* out_;
    std::size_t pos_ = 0;
    std::size_t line_ = 1;
    std::size_t used_ = 0;
};

}  // namespace

Result<DotenvFile> parse_dotenv(std::span<const std::uint8_t> text, const std::string& what) {
    DotenvFile file;
    // No value is longer than the text it came from, so one allocation holds them all.
    auto values = SecretBuffer::allocate(text.size());
    if (!values) return std::move(values).error();
    file.values = std::move(*values);
    DotenvParser parser(text, what, file.values);
    GP_TRY(parser.parse(file.variables));
    file.values.truncate(parser.used());
    return file;
}

}  // namespace ghostpod
