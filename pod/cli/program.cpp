#include "pod/cli/program.hpp"

namespace ghostpod {
namespace {

HandOver g_hand_over = nullptr;

}  // namespace

void set_hand_over(HandOver hand_over) { g_hand_over = hand_over; }

void hand_over_if_front(const std::string& why) {
    if (g_hand_over) g_hand_over(why);
}

bool front_serves(const std::string& command) {
    // Each of these joins (or asks) a running session without the module's code, and hands a
    // start of a session over (join_or_start) before it unlocks or reads anything. Should one
    // of them reach a module function in the front after all, the front hands the command over
    // from there (pod/front.cpp); the integration tests run every command through the front.
    for (const char* served : {"run", "shell", "enter", "status", "lock", "help"})
        if (command == served) return true;
    return false;
}

}  // namespace ghostpod
