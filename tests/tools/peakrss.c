/*
 * peakrss.c - run a command, report its peak resident set size and wall time.
 *
 *   peakrss CMD [ARGS...]
 *
 * fork/execvp the command, wait4(2) for it, then print to stderr
 *
 *   peakrss: <KiB> KiB maxrss, <seconds> s wall
 *
 * and exit with the child's status (128+N if it was killed by signal N,
 * 127 if it could not be run). ru_maxrss is the child's own peak in KiB on
 * Linux. A stand-in for GNU time's %M, so `make bench` needs nothing extra.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: peakrss CMD [ARGS...]\n");
        return 2;
    }
    fflush(NULL);
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "peakrss: fork: %s\n", strerror(errno));
        return 127;
    }
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        fprintf(stderr, "peakrss: %s: %s\n", argv[1], strerror(errno));
        _exit(127);
    }
    int status;
    struct rusage ru;
    pid_t w;
    while ((w = wait4(pid, &status, 0, &ru)) < 0 && errno == EINTR)
        ;
    double t1 = now_s();
    if (w < 0) {
        fprintf(stderr, "peakrss: wait4: %s\n", strerror(errno));
        return 127;
    }
    fprintf(stderr, "peakrss: %ld KiB maxrss, %.6f s wall\n", (long)ru.ru_maxrss, t1 - t0);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 127;
}
