#!/usr/bin/env python3
"""smaps-split.py: where a process's resident memory is, from /proc/PID/smaps,
summed by group of mappings (libc, GLib, libsoup, the TLS stack, esad's own
code, NSS, anonymous memory...), for bench/idle.sh.

  smaps-split.py FIELD LABEL=FILE...   one column per process, FIELD in KiB
                                       (Rss, Pss, Private_Clean, Private_Dirty,
                                       Shared_Clean, Shared_Dirty, Anonymous)
  smaps-split.py --libs FILE           every mapped file with its Rss, largest first

FILE is a copy of /proc/PID/smaps (taken while the process runs). Figures are
MiB with two decimals; a group a process does not map shows 0."""
import os
import re
import sys

# First match wins; the patterns match the mapped file's base name.
GROUPS = [
    ("libc, ld.so, libm, locale", r"^(libc\.so|ld-linux|libm\.so|locale-archive|gconv-modules|LC_)"),
    ("GLib, GObject, GIO, GModule + deps", r"^(libglib|libgobject|libgio-|libgmodule|libpcre2|libffi|libmount|libblkid|libselinux|libz\.so)"),
    ("libsoup + deps", r"^(libsoup|libsqlite3|libpsl|libbrotli|libnghttp2|libkrb5|libgssapi|libk5crypto|libcom_err|libkeyutils|libidn2|libunistring|libresolv)"),
    ("TLS: gnutls, nettle, hogweed, gmp, p11-kit, tasn1, glib-networking", r"^(libgnutls|libnettle|libhogweed|libgmp|libp11-kit|libtasn1|libgiognutls|p11-kit-|libgioopenssl|libssl|libcrypto)"),
    ("json-glib", r"^libjson-glib"),
    ("esad, libesa, plugins", r"^(esad|libesa|diag\.so|heartbeat\.so|snap\.so|sysinfo\.so|uak\.so|idle-ref)"),
    ("NSS (libnss_*, libcap)", r"^(libnss_|libcap\.so)"),
]
ANON = "anonymous: heap, stacks, arenas"
OTHER = "other files"
KERNEL = "[vdso], [vvar]"


def group_of(name):
    if name == "" or name.startswith("[heap]") or name.startswith("[stack") or name.startswith("[anon"):
        return ANON
    if name.startswith("["):
        return KERNEL
    base = os.path.basename(name.split(" (deleted)")[0])
    for label, pattern in GROUPS:
        if re.search(pattern, base):
            return label
    return OTHER


def mappings(path):
    """Yields (name, {field: kib}) per mapping of an smaps file."""
    name, fields = None, {}
    head = re.compile(r"^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$")
    with open(path) as f:
        for line in f:
            m = head.match(line)
            if m:
                if name is not None:
                    yield name, fields
                name, fields = m.group(1).strip(), {}
                continue
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                fields[parts[0].rstrip(":")] = int(parts[1])
    if name is not None:
        yield name, fields


def split(path, field):
    sums = {}
    for name, fields in mappings(path):
        g = group_of(name)
        sums[g] = sums.get(g, 0) + fields.get(field, 0)
    return sums


def main(argv):
    if len(argv) == 3 and argv[1] == "--libs":
        per = {}
        for name, fields in mappings(argv[2]):
            per[name or "[anon]"] = per.get(name or "[anon]", 0) + fields.get("Rss", 0)
        for name, kib in sorted(per.items(), key=lambda kv: -kv[1]):
            print("%8d KiB  %-12s %s" % (kib, group_of(name if name != "[anon]" else "")[:12], name))
        return 0
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    field = argv[1]
    cols = [a.split("=", 1) for a in argv[2:]]
    sums = [split(path, field) for _, path in cols]
    order = [g for g, _ in GROUPS] + [ANON, OTHER, KERNEL]
    width = 66
    print("%-*s" % (width, field + " (MiB)") + "".join("%9s" % label for label, _ in cols))
    for g in order:
        if all(s.get(g, 0) == 0 for s in sums):
            continue
        print("%-*s" % (width, g) + "".join("%9.2f" % (s.get(g, 0) / 1024) for s in sums))
    print("%-*s" % (width, "total") + "".join("%9.2f" % (sum(s.values()) / 1024) for s in sums))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
