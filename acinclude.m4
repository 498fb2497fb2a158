# acinclude.m4: local autoconf tweaks (aclocal copies this file into aclocal.m4).
#
# ESA_DROP_RM_CORE(MACRO): autoconf's exit trap and its compile, link and
# run checks clean up with `rm -f core ...` (a core dump of a crashed test
# program). Our build tree has a core/ folder (libesa, subdir-objects), so
# every one of those printed "rm: cannot remove 'core': Is a directory", and
# in the exit trap the failing rm stopped the `&&` chain before it removed
# confdefs.h — which `make distcleancheck` then found left behind. Not
# removing a file named core costs nothing here: core dumps are named
# core.PID or go to the system's collector, and a core/ folder could not hold
# one anyway.
m4_define([ESA_DROP_RM_CORE],
[m4_ifdef([$1],
  [m4_define([$1],
    m4_bpatsubst(m4_dquote(m4_defn([$1])), [rm -f core ], [rm -f ]))])])

ESA_DROP_RM_CORE([_AC_INIT_PREPARE])
ESA_DROP_RM_CORE([_AC_COMPILE_IFELSE])
ESA_DROP_RM_CORE([_AC_LINK_IFELSE])
ESA_DROP_RM_CORE([_AC_RUN_IFELSE])
ESA_DROP_RM_CORE([_AM_PROG_CC_C_O])
