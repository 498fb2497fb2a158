#!/bin/sh
# esad-src.sh: the AIX configuration of openesa.rte — registers esad with the
# System Resource Controller and inittab, creates the esa group and /var/esa,
# installs the errnotify stanza (install), or removes them (uninstall).
# Run by the fileset's configuration/unconfiguration scripts; idempotent.
#   esad-src.sh install | uninstall
# ESA_AIX_PATH, ESA_ROOT and ESA_SBINDIR exist for tests (fake AIX commands).
set -u
PATH=${ESA_AIX_PATH:-/usr/bin:/usr/sbin:/etc:/bin}
export PATH
ROOT=${ESA_ROOT:-}
SBIN=${ESA_SBINDIR:-/usr/sbin}
STANZA=${ESA_ERRNOTIFY_STANZA:-/usr/share/openesa/errnotify/openesa.add}

case "${1:-}" in
  install)
    # esa group for esactl users (the control socket admits root and this group)
    lsgroup esa >/dev/null 2>&1 || mkgroup esa || exit 1
    # State: spool, credentials, job history. Only root reads it.
    mkdir -p "$ROOT/var/esa" && chmod 0700 "$ROOT/var/esa" || exit 1
    lssrc -s esad >/dev/null 2>&1 && rmssys -s esad
    # -S signals; -n 15 stops, -f 9 forces; -R restarts on abnormal exit;
    # esad stays in the foreground (-f) under the SRC.
    mkssys -s esad -p "$SBIN/esad" -a '-f' -u 0 -S -n 15 -f 9 -R -G esa \
      -e /dev/console -i /dev/null -o /dev/null || exit 1
    lsitab esad >/dev/null 2>&1 ||
      mkitab "esad:2:once:/usr/bin/startsrc -s esad >/dev/console 2>&1" || exit 1
    # Hardware errors in the error log run `esactl notify` (plugins/diag).
    odmdelete -o errnotify -q "en_name=openesa" >/dev/null 2>&1
    odmadd "$STANZA" || exit 1
    ;;
  uninstall)
    stopsrc -s esad >/dev/null 2>&1
    rmitab esad >/dev/null 2>&1
    rmssys -s esad >/dev/null 2>&1
    odmdelete -o errnotify -q "en_name=openesa" >/dev/null 2>&1
    # The group goes unless an admin put users in it; /var/esa goes only when
    # empty: queued reports and the activation credentials are never dropped.
    case "$(lsgroup -a users esa 2>/dev/null)" in
      *users=) rmgroup esa ;;
    esac
    rmdir "$ROOT/var/esa" 2>/dev/null
    ;;
  *)
    echo "usage: $0 install|uninstall" >&2
    exit 2
    ;;
esac
exit 0
