/*
 * pcapfloor.c - the floor pcap2flow is measured against: libpcap's
 * pcap_next_ex over the whole capture, touching each packet's first bytes,
 * nothing else. Prints packets=N seconds=S check=C.
 *
 *   pcapfloor FILE              the bare loop (pcap_open_offline)
 *   pcapfloor --buffer N FILE   the same loop over a FILE with an N-byte
 *                               stdio buffer, as pcap2flow opens captures
 *                               (cli/capture.c), so the bench can show both
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

int main(int argc, char **argv)
{
    size_t buffer = 0;
    if (argc == 4 && strcmp(argv[1], "--buffer") == 0) {
        char *end;
        unsigned long long v = strtoull(argv[2], &end, 10);
        if (*end != '\0' || v == 0 || v > (1ULL << 30)) {
            fprintf(stderr, "pcapfloor: --buffer: '%s' is not a size from 1 to 2^30\n", argv[2]);
            return 2;
        }
        buffer = (size_t)v;
        argv += 2;
        argc -= 2;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: pcapfloor [--buffer BYTES] FILE\n");
        return 2;
    }
    char err[PCAP_ERRBUF_SIZE];
    struct timespec a, b;
    char *buf = NULL;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pcap_t *p;
    if (buffer == 0) {
        p = pcap_open_offline(argv[1], err);
    } else {
        FILE *f = fopen(argv[1], "rb");
        if (f == NULL) {
            perror(argv[1]);
            return 1;
        }
        buf = malloc(buffer);
        if (buf == NULL || setvbuf(f, buf, _IOFBF, buffer) != 0) {
            fprintf(stderr, "pcapfloor: cannot set a %zu-byte buffer\n", buffer);
            return 1;
        }
        p = pcap_fopen_offline(f, err);
        if (p == NULL)
            fclose(f);
    }
    if (p == NULL) {
        fprintf(stderr, "pcapfloor: %s\n", err);
        return 1;
    }
    struct pcap_pkthdr *h;
    const u_char *d;
    unsigned long long n = 0, sum = 0;
    while (pcap_next_ex(p, &h, &d) == 1) {
        n++;
        sum += h->caplen > 0 ? d[0] : 0;
    }
    pcap_close(p);
    free(buf);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("packets=%llu seconds=%.3f check=%llu\n", n,
           (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9, sum);
    return 0;
}
