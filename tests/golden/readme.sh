#!/bin/sh
# The README must show each command's --help exactly as the binary prints it.
set -u
cd "$(dirname "$0")/../.." || exit 2
: "${SCANLAB:=build/release/scanlab}"
fail=0
for args in "detect --help" "cat --help" "config --help" "config --help-keys" "simulate --help" "run --help" "score --help" "sweep --help" "report --help" "pcap2flow --help"; do
    # shellcheck disable=SC2086
    $SCANLAB $args >"${TMPDIR:-/tmp}/readme.$$" 2>&1
    while IFS= read -r l; do
        [ -z "$l" ] && continue
        if ! grep -qxF -- "$l" README.md; then
            echo "FAIL readme: '$args' line not in README.md: $l"
            fail=$((fail + 1))
            break
        fi
    done <"${TMPDIR:-/tmp}/readme.$$"
done
rm -f "${TMPDIR:-/tmp}/readme.$$"
[ $fail -eq 0 ] && echo "readme: 1 passed, 0 failed" || echo "readme: 0 passed, 1 failed"
[ $fail -eq 0 ]
