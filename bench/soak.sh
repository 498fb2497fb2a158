#!/bin/sh
# bench/soak.sh [ESAD-KILLS [SDC-KILLS]]: the long crash soak (issue 10),
# 1,000 SIGKILLs of esad and 200 of esa-sdc by default, against the build in
# $ESA_TOP_BUILDDIR (default ./_b). Prints the summary line
#   kills=… acknowledged=… delivered=… lost=0 duplicated=0 missing-extended-data=0 stuck-pending=0
# and exits non-zero when anything was lost, doubled, missing or stuck.
# Takes about 25 minutes on a busy 2-core machine. See docs/reliability.md.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
ESA_TOP_SRCDIR=$top
ESA_TOP_BUILDDIR=${ESA_TOP_BUILDDIR:-$top/_b}
export ESA_TOP_SRCDIR ESA_TOP_BUILDDIR
[ -x "$ESA_TOP_BUILDDIR/tests/queue-writer" ] || make -C "$ESA_TOP_BUILDDIR" -s tests/queue-writer
exec python3 "$top/tests/soak/soak.py" --esad-kills "${1:-1000}" --sdc-kills "${2:-200}" --min-gap 0.3 --max-gap 1.3
