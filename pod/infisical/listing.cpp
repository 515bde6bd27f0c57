// Reading a secrets listing: a SAX pass over the answer that copies each value straight into
// secret memory (zeroing the parser's copy as it goes) and never builds a document tree, then
// the official precedence over the folder's own secrets and its imports.
#include <sodium.h>

#include <map>
#include <nlohmann/json.hpp>

#include "pod/formats/text.hpp"
#include "pod/infisical/listing.hpp"
#include "vault/payload.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

using nlohmann::json;

// One secret as read: `group` is -1 for the folder's own, else the index of its import.
struct ReadSecret {
    std::string key;
    std::string folder = "/";
    std::size_t offset = 0, length = 0;
    bool has_key = false, has_value = false, hidden = false;
    int group = -1;
};

// Where the reader is in {"secrets": [{…}], "imports": [{"secrets": [{…}]}]}.
enum class At { root, own_list, own_secret, import_list, import_object, import_secrets, import_secret, other };

class ListingReader : public nlohmann::json_sax<json> {
public:
    explicit ListingReader(SecretBuffer& values) : values_(values) {}

    std::vector<ReadSecret> secrets;
    std::string problem;  // set when the shape is wrong
    bool saw_secrets = false;

    bool null() override { return wants_list() && key_ == "imports" ? true : scalar(); }
    bool boolean(bool value) override {
        if (at_secret_field() && key_ == "secretValueHidden") current_.hidden = value;
        return scalar();
    }
    bool number_integer(number_integer_t) override { return scalar(); }
    bool number_unsigned(number_unsigned_t) override { return scalar(); }
    bool number_float(number_float_t, const string_t&) override { return scalar(); }
    bool binary(binary_t&) override { return scalar(); }
    bool string(string_t& text) override {
        bool ok = true;
        if (at_secret_field()) {
            if (key_ == "secretKey") {
                current_.key = text;
                current_.has_key = true;
            } else if (key_ == "secretValue") {
                current_.offset = values_.size();
                current_.length = text.size();
                current_.has_value = true;
                ok = static_cast<bool>(values_.append(text_bytes(text)));
                if (!ok) problem = "out of secret memory";
            } else if (key_ == "secretPath") {
                current_.folder = text;
            }
        }
        sodium_memzero(text.data(), text.size());  // the lexer's buffer: zeroed before it is reused
        return ok && scalar();
    }
    bool key(string_t& text) override {
        key_ = text;
        return true;
    }
    bool start_object(std::size_t) override {
        At next = At::other;
        if (stack_.empty()) next = At::root;
        else if (wants_list()) return fail("\"" + key_ + "\" is not a list");
        else if (expecting_element()) next = top() == At::own_list ? At::own_secret : top() == At::import_list ? At::import_object : At::import_secret;
        if (next == At::own_secret || next == At::import_secret) {
            current_ = ReadSecret{};
            current_.group = next == At::import_secret ? imports_seen_ - 1 : -1;
            in_secret_ = true;
            secret_depth_ = stack_.size() + 1;
        }
        if (next == At::import_object) {
            ++imports_seen_;
            import_has_secrets_ = false;
        }
        stack_.push_back(next);
        return true;
    }
    bool end_object() override {
        At closing = top();
        stack_.pop_back();
        if (closing == At::own_secret || closing == At::import_secret) {
            in_secret_ = false;
            if (!current_.has_key || !current_.has_value) return fail("a secret lacks secretKey or secretValue");
            secrets.push_back(std::move(current_));
        }
        if (closing == At::import_object && !import_has_secrets_) return fail("an import has no \"secrets\"");
        return true;
    }
    bool start_array(std::size_t) override {
        At next = At::other;
        if (stack_.empty()) return fail("the answer is not a JSON object");
        if (expecting_element()) return fail(element_problem());
        if (wants_list()) {
            next = top() == At::root ? (key_ == "secrets" ? At::own_list : At::import_list) : At::import_secrets;
            if (next == At::own_list) saw_secrets = true;
            if (next == At::import_secrets) import_has_secrets_ = true;
        }
        stack_.push_back(next);
        return true;
    }
    bool end_array() override {
        stack_.pop_back();
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
        if (problem.empty()) problem = "the answer is not a JSON object";
        return false;
    }

private:
    At top() const { return stack_.empty() ? At::other : stack_.back(); }
    // The value about to come belongs to a list the reader needs: "secrets" or "imports" of the
    // answer, or "secrets" of an import.
    bool wants_list() const {
        return (top() == At::root && (key_ == "secrets" || key_ == "imports")) || (top() == At::import_object && key_ == "secrets");
    }
    // The value about to come is an element of one of those lists (and must be an object).
    bool expecting_element() const { return top() == At::own_list || top() == At::import_list || top() == At::import_secrets; }
    std::string element_problem() const { return top() == At::import_list ? "an import is not an object" : "a secret is not an object"; }
    bool at_secret_field() const { return in_secret_ && stack_.size() == secret_depth_; }
    bool scalar() {
        if (stack_.empty()) return fail("the answer is not a JSON object");
        if (wants_list()) return fail("\"" + key_ + "\" is not a list");
        if (expecting_element()) return fail(element_problem());
        return true;
    }
    bool fail(const std::string& why) {
        if (problem.empty()) problem = why;
        return false;
    }

    SecretBuffer& values_;
    std::vector<At> stack_;
    std::size_t secret_depth_ = 0;  // stack size while directly inside the current secret
    bool in_secret_ = false;
    int imports_seen_ = 0;
    bool import_has_secrets_ = false;
    std::string key_;
    ReadSecret current_;
};

bool usable_key(const std::string& key) {
    return !key.empty() && key.find('/') == std::string::npos && validate_entry_name(key);
}

}  // namespace

Result<PulledSecrets> merge_listings(const std::vector<const SecretBuffer*>& bodies, const std::string& where) {
    struct Slot {
        std::string folder;
        std::size_t offset, length;
    };
    PulledSecrets out;
    auto values = SecretBuffer::allocate(0);
    if (!values) return std::move(values).error();
    out.values = std::move(*values);
    std::string step = "read the secrets listed by " + where;
    std::map<std::string, Slot> merged;
    for (const SecretBuffer* body : bodies) {
        ListingReader reader(out.values);
        bool parsed = json::sax_parse(body->view().begin(), body->view().end(), &reader, nlohmann::detail::input_format_t::json, true);
        if (!parsed || !reader.problem.empty() || !reader.saw_secrets) {
            std::string why = !reader.problem.empty() ? reader.problem : parsed ? "the answer has no \"secrets\"" : "the answer is not a JSON object";
            return make_error(ErrorCode::network, step, why, "the server does not answer like Infisical; check infisical.host");
        }
        for (const auto& s : reader.secrets)
            if (s.hidden)
                return make_error(ErrorCode::network, step, "the server hid the value of " + printable(s.key, 80),
                                  "give the machine identity permission to read secret values");
        std::map<std::string, Slot> folder;
        auto take = [&](const ReadSecret& s) {
            if (!usable_key(s.key)) {
                out.skipped.push_back(printable(s.key, 80));
                return;
            }
            bool own = s.group < 0;
            if (!own && folder.count(s.key)) return;  // imports only fill keys not yet present
            folder[s.key] = Slot{s.folder, s.offset, s.length};
        };
        for (const auto& s : reader.secrets)
            if (s.group < 0) take(s);  // own secrets: a later duplicate wins
        int imports = 0;
        for (const auto& s : reader.secrets) imports = std::max(imports, s.group + 1);
        for (int g = imports - 1; g >= 0; --g)  // from the last import to the first
            for (const auto& s : reader.secrets)
                if (s.group == g) take(s);
        for (auto& [name, slot] : folder) merged[name] = slot;  // a later path wins
    }
    for (const auto& [name, slot] : merged) out.secrets.push_back({name, slot.folder, slot.offset, slot.length});
    return out;
}

}  // namespace ghostpod
