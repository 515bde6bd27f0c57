// The decoders of every message between ghostpod's own processes: the session protocol
// (pod/session/protocol.hpp: client <-> holder, the launcher's ready pipe) and the sandbox
// messages (sandbox/messages.hpp: holder <-> ghost init, client <-> a spawned profile command).
// An input is one frame as it travels, [version][kind][length][payload]: the header is parsed
// as receive_frame parses it, then the payload goes to every decoder. A request that decodes
// must re-encode to the same bytes (one encoding per struct, nothing ignored); a reply that
// decodes must decode again after re-encoding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "pod/session/protocol.hpp"
#include "sandbox/messages.hpp"
#include "sandbox/wire.hpp"

using namespace ghostpod;

namespace {

template <class T>
void sandbox_decoder(std::span<const std::uint8_t> payload) {
    T m;
    if (sandbox::decode(payload, m) && sandbox::encode(m) != std::vector<std::uint8_t>(payload.begin(), payload.end())) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> input(data, size);
    std::uint16_t kind = 0;
    std::uint32_t length = 0;
    if (!wire::parse_header(input, kind, length) || input.size() - wire::kHeaderBytes != length) return 0;
    wire::Frame frame{kind, {input.begin() + wire::kHeaderBytes, input.end()}};

    if (auto request = protocol::decode_request(frame)) {
        if (protocol::encode(*request).payload != frame.payload || protocol::encode(*request).kind != kind) std::abort();
    }
    if (auto reply = protocol::decode_reply(frame)) {
        if (!protocol::decode_reply(protocol::encode(*reply))) std::abort();
        if (!std::holds_alternative<Error>(*reply) && protocol::encode(*reply).payload != frame.payload) std::abort();
    }
    Error e;
    (void)sandbox::decode_error(frame.payload, e);
    sandbox_decoder<sandbox::PlaceRequest>(frame.payload);
    sandbox_decoder<sandbox::UnplaceRequest>(frame.payload);
    sandbox_decoder<sandbox::SpawnRequest>(frame.payload);
    sandbox_decoder<sandbox::CommandHeader>(frame.payload);
    sandbox_decoder<sandbox::SignalMessage>(frame.payload);
    sandbox_decoder<sandbox::ExitMessage>(frame.payload);
    return 0;
}
