#!/bin/sh
# Golden end-to-end tests [STYLE G1, G2; TD tests/TESTLIST, JQ %%FAIL].
# Each TESTLIST line is "NAME ARGS...": run `scanlab ARGS` from the project
# root and compare stdout, stderr and the exit code with expected/NAME.out.
#   run.sh [NAME...]         run all tests, or only those named
#   SCANLAB_BLESS=1          rewrite the expected files (review the diff!)
#   SCANLAB_VALGRIND=1       run each command under valgrind (exit 99 on error)
# A missing expected file fails. Inputs from ../shared are read in place.
set -u
cd "$(dirname "$0")/../.." || exit 2
: "${SCANLAB:=build/release/scanlab}"
export LC_ALL=C TZ=UTC
list=tests/golden/TESTLIST
exp=tests/golden/expected
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scanlab-golden.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
vg=""
[ "${SCANLAB_VALGRIND:-}" = 1 ] && vg="valgrind -q --error-exitcode=99 --leak-check=full"
# pcap2flow tests: the captures are written once per run by
# tests/tools/mkpcap.c; p2f NAME ARGS... converts, then prints the tuples.
caps() { [ -d "$tmp/caps" ] || { mkdir -p "$tmp/caps" && "$SCANLAB_TOOLS/mkpcap" "$tmp/caps"; }; }
p2f() { # (its variables must not clash with the loop's: name, rc, out)
    p2f_dir=$tmp/p2f-$1
    shift
    caps || return 1
    (cd "$tmp/caps" && "$SCANLAB" pcap2flow -o "$p2f_dir" "$@")
    p2f_rc=$?
    [ -d "$p2f_dir" ] && "$SCANLAB" cat -q "$p2f_dir"
    return $p2f_rc
}
pass=0 fail=0
while IFS= read -r line; do
    case $line in '' | '#'*) continue ;; esac
    name=${line%% *}
    args=${line#* }
    [ "$name" = "$line" ] && args=""
    if [ $# -gt 0 ]; then
        keep=0
        for want in "$@"; do [ "$want" = "$name" ] && keep=1; done
        [ $keep = 1 ] || continue
    fi
    out="$tmp/$name.out"
    eval "$vg \"\$SCANLAB\" $args" >"$tmp/stdout" 2>"$tmp/stderr"
    rc=$?
    {
        cat "$tmp/stdout"
        echo "--- stderr"
        cat "$tmp/stderr"
        echo "--- exit $rc"
    } >"$out"
    if [ "${SCANLAB_BLESS:-}" = 1 ]; then
        cp "$out" "$exp/$name.out"
    fi
    if [ ! -f "$exp/$name.out" ]; then
        echo "FAIL $name: no expected file $exp/$name.out (make bless, then review)"
        echo "  reproduce: (cd $(pwd) && $SCANLAB $args)"
        fail=$((fail + 1))
    elif diff -u "$exp/$name.out" "$out" >"$tmp/diff"; then
        pass=$((pass + 1))
    else
        echo "FAIL $name"
        head -n 40 "$tmp/diff"
        echo "  reproduce: (cd $(pwd) && $SCANLAB $args)"
        fail=$((fail + 1))
    fi
done <"$list"
echo "golden: $pass passed, $fail failed"
[ $fail -eq 0 ]
