// SPDX-License-Identifier: GPL-2.0-only
/* firstline.c - time a command from its start to its first output line and to its exit */

/*
 * bench/vm-start.sh runs this inside the VM-tier guest, whose busybox has
 * no clock finer than /proc/uptime's 10 ms: how long does a tracer take
 * from being started to printing its first event, and to exiting (a
 * one-shot tool detaches its probes before it exits)?
 *
 *   firstline [--match STR] [--timeout S] [--stderr] [--ready FILE] -- COMMAND [ARG...]
 *
 * The command's stdout (its stderr with --stderr, for tools that say
 * "ready" there: it is passed on to firstline's stderr, and stdout is left
 * as it is) goes through a pipe; the
 * first line containing STR (any line without --match) stops the first
 * clock.  Output is drained to the end.  After --timeout seconds (default
 * 600) the command gets SIGINT, and SIGKILL 10 s later.  Prints one line on
 * stdout:
 *
 *   first_s=SECONDS exit_s=SECONDS status=N [stop_s=SECONDS]
 *
 * with first_s=- when no line matched.  Exit status 0 iff a line matched.
 *
 * For a tracer that keeps running once ready (bench/vm-compare-guest.sh):
 * --ready FILE writes "first_s=SECONDS" to FILE when the line is seen, so a
 * script can wait for it, and appends the final line's other fields when the
 * command has exited (the command's stdout may be going elsewhere); a SIGINT or SIGTERM sent to
 * firstline is passed on to the command, and stop_s is the time from that signal to its exit (a
 * one-shot tool detaches its probes before it exits).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
        got_signal = sig;
}

/* FILE gets "first_s=S\n" at once: written aside and renamed, so a reader never sees half. */
static void write_ready(const char *path, double first)
{
        char tmp[4096];
        FILE *f;

        if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
                return;
        f = fopen(tmp, "we");
        if (!f)
                return;
        fprintf(f, "first_s=%.4f\n", first);
        if (fclose(f) == 0)
                rename(tmp, path);
}

/* The final line goes to FILE too, for a caller whose stdout is the command's output. */
static void append_result(const char *path, double first, double exit_s, int status, double stop)
{
        FILE *f = fopen(path, "ae");

        if (!f)
                return;
        fprintf(f, "exit_s=%.4f status=%d", exit_s,
                WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        if (first < 0)
                fprintf(f, " first_s=-");
        if (stop >= 0)
                fprintf(f, " stop_s=%.4f", stop);
        fprintf(f, "\n");
        fclose(f);
}

static int parse_seconds(const char *s, double *ret)
{
        char *end;
        double v;

        errno = 0;
        v = strtod(s, &end);
        if (errno || end == s || *end || v <= 0 || v > 3600)
                return -EINVAL;
        *ret = v;
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
            {"match", required_argument, NULL, 'm'}, {"timeout", required_argument, NULL, 't'},
            {"stderr", no_argument, NULL, 'e'},      {"ready", required_argument, NULL, 'r'},
            {"help", no_argument, NULL, 'h'},        {},
        };
        const char *match = NULL, *ready = NULL;
        double timeout = 600, t0, first = -1, deadline, killed_at = 0, signalled_at = 0, end;
        int out_fd = STDOUT_FILENO;
        bool pass_on = false;
        struct sigaction sa = {.sa_handler = on_signal};
        char line[4096];
        size_t len = 0;
        int c, pfd[2], status = 0;
        pid_t pid;

        while ((c = getopt_long(argc, argv, "+m:t:er:h", opts, NULL)) >= 0) {
                switch (c) {
                case 'm':
                        match = optarg;
                        break;
                case 'e':
                        out_fd = STDERR_FILENO;
                        pass_on = true;
                        break;
                case 'r':
                        ready = optarg;
                        break;
                case 't':
                        if (parse_seconds(optarg, &timeout) < 0) {
                                fprintf(stderr, "firstline: bad --timeout '%s'\n", optarg);
                                return 2;
                        }
                        break;
                default:
                        fprintf(stderr, "usage: firstline [--match STR] [--timeout S] [--stderr] "
                                        "[--ready FILE] "
                                        "-- COMMAND [ARG...]\n");
                        return c == 'h' ? 0 : 2;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "firstline: no command\n");
                return 2;
        }
        if (pipe2(pfd, O_CLOEXEC) < 0) {
                perror("firstline: pipe2");
                return 2;
        }
        /* No SA_RESTART: the signal interrupts poll(), which then passes it on. */
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        t0 = now_s();
        pid = fork();
        if (pid < 0) {
                perror("firstline: fork");
                return 2;
        }
        if (pid == 0) {
                signal(SIGINT, SIG_DFL);
                signal(SIGTERM, SIG_DFL);
                if (dup2(pfd[1], out_fd) < 0)
                        _exit(127);
                execvp(argv[optind], argv + optind);
                fprintf(stderr, "firstline: %s: %s\n", argv[optind], strerror(errno));
                _exit(127);
        }
        close(pfd[1]);
        deadline = t0 + timeout;
        for (;;) {
                struct pollfd p = {.fd = pfd[0], .events = POLLIN};
                double t = now_s();
                ssize_t n;
                int r;

                if (got_signal && !signalled_at) {
                        kill(pid, got_signal);
                        signalled_at = t;
                }
                if (t >= deadline && !killed_at) {
                        kill(pid, SIGINT);
                        killed_at = t;
                } else if (killed_at && t >= killed_at + 10) {
                        kill(pid, SIGKILL);
                }
                r = poll(&p, 1, 200);
                if (r < 0 && errno != EINTR) {
                        perror("firstline: poll");
                        break;
                }
                if (r <= 0)
                        continue;
                n = read(pfd[0], line + len, sizeof(line) - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                /* A tool's stderr is also its log: pass it on. */
                if (pass_on && write(STDERR_FILENO, line + len, (size_t)n) < 0)
                        pass_on = false;
                len += (size_t)n;
                line[len] = 0;
                /* Look at whole lines; a line longer than the buffer counts as one. */
                for (;;) {
                        char *nl = strchr(line, '\n');

                        if (!nl && len < sizeof(line) - 1)
                                break;
                        if (nl)
                                *nl = 0;
                        if (first < 0 && (!match || strstr(line, match))) {
                                first = now_s() - t0;
                                if (ready)
                                        write_ready(ready, first);
                        }
                        if (!nl) {
                                len = 0;
                                break;
                        }
                        len -= (size_t)(nl + 1 - line);
                        memmove(line, nl + 1, len + 1);
                }
        }
        close(pfd[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                if (got_signal && !signalled_at) {
                        kill(pid, got_signal);
                        signalled_at = now_s();
                }
        end = now_s();
        if (first >= 0)
                printf("first_s=%.4f", first);
        else
                printf("first_s=-");
        printf(" exit_s=%.4f status=%d", end - t0,
               WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        if (signalled_at)
                printf(" stop_s=%.4f", end - signalled_at);
        printf("\n");
        if (ready)
                append_result(ready, first, end - t0, status,
                              signalled_at ? end - signalled_at : -1);
        return first >= 0 ? 0 : 1;
}
