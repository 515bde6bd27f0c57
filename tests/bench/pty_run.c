// pty_run CMD [ARG...]: runs CMD on a new pseudo-terminal (fds 0-2, and the controlling
// terminal of CMD's new session), throws away what it writes there, and exits with CMD's
// status. The terminal wrapper of the benchmark's "on a terminal" rows: `script -qec` sleeps
// in two 10 ms polls (at its stdin's end and after the child's exit), which would hide what
// the command itself costs; this has no timer on its normal path.
//   cc -O2 -o pty_run pty_run.c
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: pty_run CMD [ARG...]\n");
        return 2;
    }
    int master = -1;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    if (pid < 0) {
        perror("pty_run: forkpty");
        return 127;
    }
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        perror("pty_run: exec");
        _exit(127);
    }
    // Read until the last holder of the terminal's other side closes it (EIO). Should something
    // outlive CMD holding it, stop once CMD has exited and nothing came for 50 ms.
    char buf[4096];
    int status = 0;
    int reaped = 0;
    for (;;) {
        struct pollfd p = {.fd = master, .events = POLLIN};
        int ready = poll(&p, 1, 50);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) break;
        if (ready == 0) {
            if (waitpid(pid, &status, WNOHANG) == pid) {
                reaped = 1;
                break;
            }
            continue;
        }
        ssize_t n = read(master, buf, sizeof buf);
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        break;  // EIO: no one holds the terminal any more
    }
    while (!reaped && waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            perror("pty_run: waitpid");
            return 127;
        }
    }
    close(master);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}
