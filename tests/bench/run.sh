#!/bin/sh
# `make bench`: throughput and peak memory of `scanlab detect` on a large
# VNet flow-log blob, as ratios against two floors measured on the same file:
#   read    read(2) the whole file (jsonfloor read)
#   cjson   bare cJSON parse-and-walk of every flowTuple (jsonfloor cjson)
# Then the detector's own costs: detect with every rule off (reading and
# the flow table), with every rule family on (the scanlab preset: one rule
# of each of the five families, tumbling windows), with that plus the seed
# rules and two sliding-window rules (tests/bench/all-rules.json), and in
# memory (detectmem: tuples already parsed, in 2 MiB pages, one thread;
# each run the median of 5 passes over one parse) for the seed preset
# (also with the tuples in 4 KiB pages, the harness's own TLB cost) and
# for all rules, against one bare pass over the tuples. detect runs the
# detector on a second thread (cli/feeder.c), so with no rules its wall
# time is that of reading and parsing alone, and the rules cost only what
# they add beyond it.
# Then the scenario engine: `scanlab simulate` on scenarios/large.json
# (generation and writing) against the floor of writing the same tree
# (jsonfloor copytree, same file system), and the wall time of
# scenarios/default.json.
# Figures only: nothing here fails on time or memory. Exit non-zero only when
# a tool fails or the tuple counts disagree.
#
#   SCANLAB                scanlab binary (default build/release/scanlab)
#   SCANLAB_TOOLS          folder with genflows, jsonfloor, peakrss
#   SCANLAB_BENCH_DIR      work folder (default build/bench); generated
#                          files are kept there and reused for the same N
#   SCANLAB_BENCH_TUPLES   at least this many tuples (default 5000000)
#   SCANLAB_BENCH_SMALL    tuples of the second file for the memory-flatness
#                          check (default 1000000)
#   SCANLAB_BENCH_RUNS     timed runs of each command, median taken (default 3)
#   SCANLAB_BENCH_SIMDIR   where simulate writes (default /dev/shm when it has
#                          1 GiB free, else the work folder): a RAM file system
#                          keeps a slow or busy disk out of the figure
#
# Times are wall clock (fork to wait4, via peakrss), so the three rows are
# measured alike; "own s" is what each program times itself (the floors from
# open to after free, detect its --stats figure: input and flush only).
set -eu
cd "$(dirname "$0")/../.."
: "${SCANLAB:=build/release/scanlab}"
: "${SCANLAB_TOOLS:=build/release}"
: "${SCANLAB_BENCH_DIR:=build/bench}"
: "${SCANLAB_BENCH_TUPLES:=5000000}"
: "${SCANLAB_BENCH_SMALL:=1000000}"
: "${SCANLAB_BENCH_RUNS:=3}"
export LC_ALL=C TZ=UTC
for v in "$SCANLAB_BENCH_TUPLES" "$SCANLAB_BENCH_SMALL" "$SCANLAB_BENCH_RUNS"; do
    case $v in
    '' | *[!0-9]* | 0*) echo "bench: '$v': want a positive integer" >&2; exit 2 ;;
    esac
done
gen=$SCANLAB_TOOLS/genflows
floor=$SCANLAB_TOOLS/jsonfloor
peak=$SCANLAB_TOOLS/peakrss
dmem=$SCANLAB_TOOLS/detectmem
for b in "$SCANLAB" "$gen" "$floor" "$peak" "$dmem"; do
    [ -x "$b" ] || { echo "bench: $b: not built (make -j2)" >&2; exit 2; }
done
dir=$SCANLAB_BENCH_DIR
mkdir -p "$dir"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scanlab-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# make_file N: the blob for N tuples, generated once. The marker next to it
# holds the generator's source checksum and the tuple count genflows wrote;
# the file is reused only when both the file and a matching marker exist.
# Sets $file and $tuples.
make_file() {
    file=$dir/vnet-$1.json
    sum=$(cksum <tests/tools/genflows.c | cut -d' ' -f1)
    if [ -f "$file" ] && [ -f "$file.ok" ] && [ "$(sed -n 1p "$file.ok")" = "$sum" ]; then
        tuples=$(sed -n 2p "$file.ok")
        echo "bench: reusing $file ($tuples tuples)"
        return
    fi
    rm -f "$file.ok"
    echo "bench: generating $file (at least $1 tuples)..."
    "$gen" bench "$file" "$1" 1 2>"$tmp/gen.err" || { cat "$tmp/gen.err" >&2; exit 1; }
    tuples=$(sed -n 's/^genflows: .*: \([0-9][0-9]*\) tuples$/\1/p' "$tmp/gen.err")
    [ -n "$tuples" ] || { cat "$tmp/gen.err" >&2; exit 1; }
    printf '%s\n%s\n' "$sum" "$tuples" >"$file.ok"
}

# field KEY FILE: the number after "KEY=" on FILE's first line with it.
field() { sed -n "s/.*$1=\([0-9.][0-9.]*\).*/\1/p" "$2" | head -n 1; }
# peak_kib/peak_wall FILE: KiB and wall seconds from peakrss's line in FILE.
peak_kib() { sed -n 's/^peakrss: \([0-9]*\) KiB maxrss.*/\1/p' "$1"; }
peak_wall() { sed -n 's/^peakrss: .* KiB maxrss, \([0-9.]*\) s wall$/\1/p' "$1"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
maxof() { sort -n | tail -n 1; }

# run_one NAME I CMD...: run CMD once under peakrss, appending its wall time,
# its own time and its peak RSS to $tmp/NAME.{walls,owns,kibs}. Its stdout
# goes to $tmp/NAME.out.I (detect: run 1 only, later runs to /dev/null, as
# the alerts are counted once), stderr to $tmp/NAME.err.I.
run_one() {
    name=$1 ri=$2
    shift 2
    out=$tmp/$name.out.$ri
    case $name in detect*) [ "$ri" -eq 1 ] || out=/dev/null ;; esac
    rc=0
    "$peak" "$@" >"$out" 2>"$tmp/$name.err.$ri" || rc=$?
    if [ $rc -ne 0 ]; then
        echo "bench: $name failed (exit $rc): $*" >&2
        cat "$tmp/$name.err.$ri" >&2
        exit 1
    fi
    peak_wall "$tmp/$name.err.$ri" >>"$tmp/$name.walls"
    peak_kib "$tmp/$name.err.$ri" >>"$tmp/$name.kibs"
    case $name in
    detect*) sed -n 's/^scanlab: stats: \([0-9.]*\) s,.*/\1/p' "$tmp/$name.err.$ri" ;;
    *) field seconds "$out" ;;
    esac >>"$tmp/$name.owns"
}

# summary NAME: set $wall (median), $own (median) and $kib (max) of NAME's runs.
summary() {
    wall=$(median <"$tmp/$1.walls")
    own=$(median <"$tmp/$1.owns")
    kib=$(maxof <"$tmp/$1.kibs")
}

make_file "$SCANLAB_BENCH_TUPLES"
big=$file big_tuples=$tuples
make_file "$SCANLAB_BENCH_SMALL"
small=$file small_tuples=$tuples
bytes=$(wc -c <"$big" | tr -d ' ')

[ -r /proc/loadavg ] && echo "bench: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench: warming the page cache"
cat "$big" "$small" >/dev/null

# Rounds interleave the three commands, so a change in background load
# during the bench shifts all three alike rather than one of them.
i=1
while [ $i -le "$SCANLAB_BENCH_RUNS" ]; do
    echo "bench: round $i of $SCANLAB_BENCH_RUNS: read floor, cJSON floor, scanlab detect"
    run_one read "$i" "$floor" read "$big"
    run_one cjson "$i" "$floor" cjson "$big"
    run_one detect "$i" "$SCANLAB" detect --stats -q "$big"
    i=$((i + 1))
done
summary read
r_wall=$wall r_own=$own r_kib=$kib
summary cjson
c_wall=$wall c_own=$own c_kib=$kib
c_tuples=$(field tuples "$tmp/cjson.out.1")
if [ "$c_tuples" != "$big_tuples" ]; then
    echo "bench: cJSON walk counted $c_tuples tuples, genflows wrote $big_tuples" >&2
    exit 1
fi
summary detect
d_wall=$wall d_own=$own d_kib=$kib
alerts=$(wc -l <"$tmp/detect.out.1" | tr -d ' ')
echo "bench: scanlab detect on the $small_tuples-tuple file, once"
run_one detect_small 1 "$SCANLAB" detect --stats -q "$small"
summary detect_small
s_wall=$wall s_kib=$kib

echo
awk -v bytes="$bytes" -v n="$big_tuples" -v alerts="$alerts" \
    -v runs="$SCANLAB_BENCH_RUNS" -v file="$big" \
    -v rw="$r_wall" -v ro="$r_own" -v rk="$r_kib" \
    -v cw="$c_wall" -v co="$c_own" -v ck="$c_kib" \
    -v dw="$d_wall" -v do_="$d_own" -v dk="$d_kib" \
    -v sn="$small_tuples" -v sw="$s_wall" -v sk="$s_kib" '
function row(what, w, o, k) {
    printf "%-16s %10.2f %8.3f %8.3f %9.1f %9.2fx %9.3fx\n", what, n / w / 1e6, w, o, k / 1024,
        cw / w, rw / w
}
BEGIN {
    printf "file: %s, %.1f MiB, %d tuples (%.1f bytes/tuple)\n", file, bytes / 1048576, n,
        bytes / n
    printf "median of %d runs, wall clock; peak RSS is the max over the runs\n\n", runs
    printf "%-16s %10s %8s %8s %9s %10s %10s\n", "what", "Mtuples/s", "wall s", "own s",
        "peak MiB", "vs cjson", "vs read"
    row("read floor", rw, ro, rk)
    row("cJSON floor", cw, co, ck)
    row("scanlab detect", dw, do_, dk)
    printf "(vs X: throughput as a multiple of that of X; above 1 is faster than X)\n\n"
    printf "detect: %d alerts (run 1); own-time ratio vs cJSON floor %.2fx\n", alerts, co / do_
    printf "target: detect >= 0.80x the cJSON floor: %.2fx (%s); peak RSS < 64 MiB: %.1f MiB (%s)\n",
        cw / dw, (cw / dw >= 0.8 ? "met" : "NOT met"), dk / 1024, (dk < 65536 ? "met" : "NOT met")
    printf "detect peak RSS by file size: %d tuples %.1f MiB (%.2f s), %d tuples %.1f MiB (%.2f s): %s\n",
        sn, sk / 1024, sw, n, dk / 1024, dw,
        (dk <= sk * 1.25 + 2048) ? "flat" : "GROWS with input"
}'

# ---------------------------------------------------------------- rules
echo
echo "bench: rule families on the $big_tuples-tuple file"
i=1
while [ $i -le "$SCANLAB_BENCH_RUNS" ]; do
    echo "bench: round $i of $SCANLAB_BENCH_RUNS: no rules, every family, all rules, in memory"
    run_one detect_none "$i" "$SCANLAB" detect --stats -q --set horizontal.enabled=false \
        --set vertical.enabled=false "$big"
    run_one detect_fam "$i" "$SCANLAB" detect --stats -q --preset scanlab "$big"
    run_one detect_all "$i" "$SCANLAB" detect --stats -q --config tests/bench/all-rules.json "$big"
    "$dmem" "$big" --repeat 5 --floor >"$tmp/mem_floor.out.$i" || exit 1
    field seconds "$tmp/mem_floor.out.$i" >>"$tmp/mem_floor.walls"
    "$dmem" "$big" --repeat 5 --preset seed >"$tmp/mem_seed.out.$i" || exit 1
    field seconds "$tmp/mem_seed.out.$i" >>"$tmp/mem_seed.walls"
    "$dmem" "$big" --repeat 5 --preset seed --small-pages >"$tmp/mem_seed4k.out.$i" || exit 1
    field seconds "$tmp/mem_seed4k.out.$i" >>"$tmp/mem_seed4k.walls"
    "$dmem" "$big" --repeat 5 --config tests/bench/all-rules.json >"$tmp/mem_all.out.$i" || exit 1
    field seconds "$tmp/mem_all.out.$i" >>"$tmp/mem_all.walls"
    i=$((i + 1))
done
summary detect_none
n_wall=$wall
summary detect_fam
f_wall=$wall f_kib=$kib
summary detect_all
a_wall=$wall a_kib=$kib
ms_wall=$(median <"$tmp/mem_seed.walls")
ms4_wall=$(median <"$tmp/mem_seed4k.walls")
mhuge=$(sed -n 's/.* huge_kib=\([0-9]*\).*/\1/p' "$tmp/mem_seed.out.1")
ma_wall=$(median <"$tmp/mem_all.walls")
mf_wall=$(median <"$tmp/mem_floor.walls")
echo
awk -v n="$big_tuples" -v cw="$c_wall" -v dw="$d_wall" -v nw="$n_wall" -v aw="$a_wall" \
    -v fw="$f_wall" -v fk="$f_kib" -v ak="$a_kib" -v ms="$ms_wall" -v ma="$ma_wall" \
    -v mf="$mf_wall" -v ms4="$ms4_wall" -v mh="${mhuge:-0}" '
BEGIN {
    printf "%-32s %10s %8s %10s %12s\n", "what", "Mtuples/s", "wall s", "vs cjson", "vs no rules"
    printf "%-32s %10.2f %8.3f %9.2fx %11.2fx\n", "detect, no rules", n / nw / 1e6, nw, cw / nw, 1
    printf "%-32s %10.2f %8.3f %9.2fx %11.2fx\n", "detect, seed preset", n / dw / 1e6, dw,
        cw / dw, nw / dw
    printf "%-32s %10.2f %8.3f %9.2fx %11.2fx\n", "detect, every family (scanlab)", n / fw / 1e6,
        fw, cw / fw, nw / fw
    printf "%-32s %10.2f %8.3f %9.2fx %11.2fx\n", "detect, + seed + sliding rules", n / aw / 1e6,
        aw, cw / aw, nw / aw
    printf "%-32s %10.2f %8.3f\n", "in memory, floor (one pass)", n / mf / 1e6, mf
    printf "%-32s %10.2f %8.3f %9s %11.2fx\n", "in memory, seed preset", n / ms / 1e6, ms, "", mf / ms
    printf "%-32s %10.2f %8.3f\n", "  the same, tuples in 4 KiB pages", n / ms4 / 1e6, ms4
    printf "%-32s %10.2f %8.3f %9s %11.2fx\n", "in memory, all rules", n / ma / 1e6, ma, "", mf / ma
    printf "(in-memory rows: the last column is throughput against the one-pass floor; the\n"
    printf "tuples are in 2 MiB pages, %.0f MiB of them here, unless the row says 4 KiB)\n", mh / 1024
    printf "target: every rule family costs <= 25%% more than parsing alone: %.0f%% more (%s); peak RSS %.1f MiB\n",
        (fw / nw - 1) * 100, (fw <= nw * 1.25 ? "met" : "NOT met"), fk / 1024
    printf "with both window kinds too (tests/bench/all-rules.json, two 5-minute sliding rules): %.0f%% more (%s); peak RSS %.1f MiB\n",
        (aw / nw - 1) * 100, (aw <= nw * 1.25 ? "within 25%" : "over 25%"), ak / 1024
    printf "target: in memory >= 10 M tuples/s for the seed preset: %.2f M/s (%s)\n",
        n / ms / 1e6, (n / ms >= 1e7 ? "met" : "NOT met")
}'

# ---------------------------------------------------------------- simulate
simdir=${SCANLAB_BENCH_SIMDIR:-}
if [ -z "$simdir" ]; then
    free_kib=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')
    if [ -n "$free_kib" ] && [ "$free_kib" -gt 1048576 ]; then
        simdir=/dev/shm/scanlab-bench.$$
    else
        simdir=$dir/sim
    fi
fi
trap 'rm -rf "$tmp" "$simdir"' EXIT INT TERM
echo
echo "bench: scanlab simulate, writing under $simdir"
sim_one() { # NAME SCENARIO I: run simulate into a fresh folder
    rm -rf "$simdir/$1"
    "$peak" "$SCANLAB" simulate "$2" -o "$simdir/$1" >"$tmp/$1.out.$3" 2>"$tmp/$1.err.$3" || {
        echo "bench: simulate $2 failed" >&2
        cat "$tmp/$1.err.$3" >&2
        exit 1
    }
    peak_wall "$tmp/$1.err.$3" >>"$tmp/$1.walls"
    peak_kib "$tmp/$1.err.$3" >>"$tmp/$1.kibs"
}
i=1
while [ $i -le "$SCANLAB_BENCH_RUNS" ]; do
    echo "bench: round $i of $SCANLAB_BENCH_RUNS: simulate large, write floor, simulate default"
    sim_one large scenarios/large.json $i
    rm -rf "$simdir/copy"
    "$floor" copytree "$simdir/large" "$simdir/copy" >"$tmp/copy.out.$i" || exit 1
    field seconds "$tmp/copy.out.$i" >>"$tmp/copy.walls"
    rm -rf "$simdir/copy"
    sim_one default scenarios/default.json $i
    i=$((i + 1))
done
l_wall=$(median <"$tmp/large.walls")
l_kib=$(maxof <"$tmp/large.kibs")
f_wall=$(median <"$tmp/copy.walls")
d_wall=$(median <"$tmp/default.walls")
d_kib=$(maxof <"$tmp/default.kibs")
l_tuples=$(sed -n 's/.* \([0-9][0-9]*\) tuples in .*/\1/p' "$tmp/large.err.1")
d_tuples=$(sed -n 's/.* \([0-9][0-9]*\) tuples in .*/\1/p' "$tmp/default.err.1")
l_bytes=$(field bytes "$tmp/copy.out.1")
echo
awk -v lt="$l_tuples" -v lw="$l_wall" -v lk="$l_kib" -v fw="$f_wall" -v lb="$l_bytes" \
    -v dt="$d_tuples" -v dw="$d_wall" -v dk="$d_kib" -v dir="$simdir" '
BEGIN {
    printf "simulate large.json: %d tuples, %.1f MiB of blobs under %s\n", lt, lb / 1048576, dir
    printf "%-22s %10s %8s %9s %10s\n", "what", "Mtuples/s", "wall s", "peak MiB", "vs floor"
    printf "%-22s %10.2f %8.3f %9s %9.2fx\n", "write floor (copy)", lt / fw / 1e6, fw, "-", 1
    printf "%-22s %10.2f %8.3f %9.1f %9.2fx\n", "simulate large", lt / lw / 1e6, lw, lk / 1024,
        fw / lw
    printf "%-22s %10.2f %8.3f %9.1f\n", "simulate default", dt / dw / 1e6, dw, dk / 1024
    printf "target: simulate >= 2 M tuples/s written: %.2f M/s (%s); default.json < 5 s: %.2f s (%s)\n",
        lt / lw / 1e6, (lt / lw >= 2e6 ? "met" : "NOT met"), dw, (dw < 5 ? "met" : "NOT met")
}'

# ---------------------------------------------------------------- the lab
# scanlab run end to end on default.json; a sweep of 200 thresholds over 4
# windows against one plain detect pass over the same blobs (default.json's,
# written above).
echo
echo "bench: the lab on scenarios/default.json ($d_tuples tuples)"
i=1
while [ $i -le "$SCANLAB_BENCH_RUNS" ]; do
    echo "bench: round $i of $SCANLAB_BENCH_RUNS: run, detect, sweep"
    rm -rf "$tmp/run"
    "$peak" "$SCANLAB" run -q -o "$tmp/run" scenarios/default.json >/dev/null 2>"$tmp/run.err.$i" ||
        { cat "$tmp/run.err.$i" >&2; exit 1; }
    peak_wall "$tmp/run.err.$i" >>"$tmp/run.walls"
    "$peak" "$SCANLAB" detect -q "$simdir/default" >/dev/null 2>"$tmp/ldet.err.$i" ||
        { cat "$tmp/ldet.err.$i" >&2; exit 1; }
    peak_wall "$tmp/ldet.err.$i" >>"$tmp/ldet.walls"
    "$peak" "$SCANLAB" sweep --rule horizontal --param threshold=1:200 --window 1m,5m,10m,1h \
        -o /dev/null "$simdir/default" 2>"$tmp/lsw.err.$i" || { cat "$tmp/lsw.err.$i" >&2; exit 1; }
    peak_wall "$tmp/lsw.err.$i" >>"$tmp/lsw.walls"
    peak_kib "$tmp/lsw.err.$i" >>"$tmp/lsw.kibs"
    i=$((i + 1))
done
r_wall=$(median <"$tmp/run.walls")
ld_wall=$(median <"$tmp/ldet.walls")
ls_wall=$(median <"$tmp/lsw.walls")
ls_kib=$(maxof <"$tmp/lsw.kibs")
awk -v rw="$r_wall" -v dw="$ld_wall" -v sw="$ls_wall" -v sk="$ls_kib" -v dt="$d_tuples" '
BEGIN {
    printf "%-34s %8s %10s\n", "what", "wall s", "vs detect"
    printf "%-34s %8.3f %9.2fx\n", "detect (seed preset) on the blobs", dw, 1
    printf "%-34s %8.3f %9.2fx  (peak %.1f MiB)\n", "sweep 200 thresholds x 4 windows", sw, sw / dw, sk / 1024
    printf "%-34s %8.3f\n", "run default.json end to end", rw
    printf "target: default run < 10 s: %.2f s (%s); sweep <= 2x one detect pass: %.2fx (%s)\n",
        rw, (rw < 10 ? "met" : "NOT met"), sw / dw, (sw <= 2 * dw ? "met" : "NOT met")
}'

# ---------------------------------------------------------------- pcap2flow
# A generated capture of 5 million packets (557,594 flows between 65,536
# clients and 2,000 servers, headers only), a bare pcap_next_ex loop over
# it, and scanlab pcap2flow in two vantages: both ends inside (10.0.0.0/8:
# every flow logged twice, by 67,526 NICs) and the servers only (10.2.0.0/16:
# the clients are outside, 2,000 NICs log). Beside each, the write floor: a
# copy of the blob tree pcap2flow wrote (jsonfloor copytree), since the
# target (0.5x the read loop) has to be read beside what writing that tree
# costs.
pcap=$simdir/bench.pcap
echo
echo "bench: pcap2flow, capture $pcap"
"$SCANLAB_TOOLS/mkpcap" --bench "$pcap" 5000000 || exit 1
p2f_vantages="both:10.0.0.0/8 servers:10.2.0.0/16"
i=1
while [ $i -le "$SCANLAB_BENCH_RUNS" ]; do
    echo "bench: round $i of $SCANLAB_BENCH_RUNS: pcap_next_ex floor, pcap2flow in two vantages"
    "$SCANLAB_TOOLS/pcapfloor" "$pcap" >"$tmp/pfl.out.$i" || exit 1
    field seconds "$tmp/pfl.out.$i" >>"$tmp/pfl.walls"
    # the same loop with the stdio buffer pcap2flow gives libpcap (capture.c)
    "$SCANLAB_TOOLS/pcapfloor" --buffer 262144 "$pcap" >"$tmp/pflb.out.$i" || exit 1
    field seconds "$tmp/pflb.out.$i" >>"$tmp/pflb.walls"
    for v in $p2f_vantages; do
        name=${v%%:*}
        rm -rf "$simdir/p2f"
        "$peak" "$SCANLAB" pcap2flow -q --inside "${v#*:}" -o "$simdir/p2f" "$pcap" \
            2>"$tmp/p2f.err.$name.$i" || { cat "$tmp/p2f.err.$name.$i" >&2; exit 1; }
        peak_wall "$tmp/p2f.err.$name.$i" >>"$tmp/p2f.walls.$name"
        peak_kib "$tmp/p2f.err.$name.$i" >>"$tmp/p2f.kibs.$name"
        # the write floor: copying the tree pcap2flow just wrote (same files,
        # same bytes, same file system), which no converter can beat
        rm -rf "$simdir/p2fcopy"
        "$floor" copytree "$simdir/p2f" "$simdir/p2fcopy" >"$tmp/p2fcopy.out.$name.$i" || exit 1
        field seconds "$tmp/p2fcopy.out.$name.$i" >>"$tmp/p2fcopy.walls.$name"
        rm -rf "$simdir/p2fcopy"
    done
    i=$((i + 1))
done
rm -rf "$simdir/p2f" "$pcap"
pf_wall=$(median <"$tmp/pfl.walls")
pfb_wall=$(median <"$tmp/pflb.walls")
printf "%-40s %10s %8s %9s %10s\n" "what" "Mpkts/s" "wall s" "peak MiB" "vs read"
awk -v fw="$pf_wall" -v bw="$pfb_wall" 'BEGIN {
    printf "%-40s %10.2f %8.3f %9s %9.2fx\n", "pcap_next_ex floor", 5000000 / fw / 1e6, fw, "-", 1
    printf "%-40s %10.2f %8.3f %9s %9.2fx\n", "  the same, 256 KiB stdio buffer", 5000000 / bw / 1e6, bw, "-", fw / bw
}'
for v in $p2f_vantages; do
    name=${v%%:*}
    awk -v fw="$pf_wall" -v bw="$pfb_wall" -v pw="$(median <"$tmp/p2f.walls.$name")" \
        -v pk="$(maxof <"$tmp/p2f.kibs.$name")" -v cw="$(median <"$tmp/p2fcopy.walls.$name")" \
        -v cf="$(sed -n 's/^files=\([0-9]*\) .*/\1/p' "$tmp/p2fcopy.out.$name.1")" \
        -v what="$([ "$name" = both ] && echo "both ends inside, ${v#*:}" || echo "servers inside, ${v#*:}")" '
    BEGIN {
        n = 5000000
        printf "%s:\n", what
        printf "  %-38s %10s %8.3f %9s %9.2fx\n", "write floor (copy its " cf " blobs)", "-", cw, "-",
            fw / cw
        printf "  %-38s %10.2f %8.3f %9.1f %9.2fx\n", "pcap2flow (blobs written)", n / pw / 1e6, pw,
            pk / 1024, fw / pw
        printf "  pcap2flow vs read + write floors: %.2fx (1 = no cost beyond reading the capture and writing the tree)\n",
            (fw + cw) / pw
        printf "  pcap2flow vs the buffered read loop (the one it runs): %.2fx\n", bw / pw
        printf "  target: pcap2flow >= 0.5x the read loop: %.2fx (%s; writing the tree alone is %.2fx); peak < 200 MiB: %.1f MiB (%s)\n",
            fw / pw, (fw / pw >= 0.5 ? "met" : "NOT met"), fw / cw, pk / 1024,
            (pk / 1024 < 200 ? "met" : "NOT met")
    }'
done
