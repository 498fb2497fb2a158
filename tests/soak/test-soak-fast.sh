#!/bin/sh
# test-soak-fast.sh: the crash soak's fast variant in make check (issue 10):
# 50 SIGKILLs of esad and 20 of esa-sdc during continuous submissions of
# every report kind; the long one is bench/soak.sh. The gaps keep it near
# 2 minutes on a busy 2-core machine.
# Extended data lost with a killed esad is issue 10 item 5 (snap runs started
# by an in-memory event; persisted by the coreb branch): a known failure
# (TAP TODO when it shows) until that is merged; then drop the flag.
exec python3 "$(dirname "$0")/soak.py" --esad-kills 50 --sdc-kills 20 --min-gap 0.3 --max-gap 1.3 \
  --xfail-extended-data "issue 10 item 5: event-triggered snap runs are not persisted" "$@"
