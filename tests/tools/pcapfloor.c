/*
 * pcapfloor.c - `pcapfloor FILE`: the floor pcap2flow is measured against:
 * libpcap's pcap_next_ex over the whole capture, touching each packet's
 * first bytes, nothing else. Prints packets=N seconds=S.
 */
#include <stdio.h>
#include <time.h>

#include <pcap/pcap.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pcapfloor FILE\n");
        return 2;
    }
    char err[PCAP_ERRBUF_SIZE];
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pcap_t *p = pcap_open_offline(argv[1], err);
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
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("packets=%llu seconds=%.3f check=%llu\n", n,
           (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9, sum);
    return 0;
}
