#!/bin/ksh
# esad-src.sh: registers esad with the AIX System Resource Controller and
# inittab (install), or removes it (uninstall). Run by the fileset's
# post-install / pre-deinstall scripts; idempotent.
#   esad-src.sh install | uninstall
set -u
SBIN=${ESA_SBINDIR:-/usr/sbin}
case "${1:-}" in
  install)
    /usr/bin/lssrc -s esad >/dev/null 2>&1 && /usr/bin/rmssys -s esad
    # -S signals; -n 15 stops, -f 9 forces; -R restarts on abnormal exit;
    # esad stays in the foreground (-f) under the SRC.
    /usr/bin/mkssys -s esad -p "$SBIN/esad" -a '-f' -u 0 -S -n 15 -f 9 -R -G esa \
      -e /dev/console -i /dev/null -o /dev/null || exit 1
    /usr/sbin/lsitab esad >/dev/null 2>&1 ||
      /usr/sbin/mkitab "esad:2:once:/usr/bin/startsrc -s esad >/dev/console 2>&1"
    # esa group for esactl users (the control socket admits root and this group)
    /usr/sbin/lsgroup esa >/dev/null 2>&1 || /usr/bin/mkgroup esa
    ;;
  uninstall)
    /usr/bin/stopsrc -s esad >/dev/null 2>&1
    /usr/sbin/rmitab esad >/dev/null 2>&1
    /usr/bin/rmssys -s esad >/dev/null 2>&1
    ;;
  *)
    echo "usage: $0 install|uninstall" >&2
    exit 2
    ;;
esac
exit 0
