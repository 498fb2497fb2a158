#!/usr/bin/env python3
"""test-installp.py: builds the installp image (scripts/installp-stage) and reads
it back with a reader written here from the format description in
docs/packaging.md — not from packaging/aix/mkbff — checking every file, mode,
owner and symlink, the lpp_name table of contents and both liblpp.a archives.
Also: a staged file no fileset claims is refused with one clear line. TAP."""
import os
import re
import stat
import subprocess
import sys
import tempfile

TOP = os.environ.get("ESA_TOP_SRCDIR") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("ESA_TOP_BUILDDIR") or os.path.join(TOP, "_b")
results = []


def check(name, cond, detail=""):
    results.append((bool(cond), name, detail))


# --- reader: AIX backup-by-name records ------------------------------------
def le(buf, off, n):
    return int.from_bytes(buf[off:off + n], "little")


def header_sum(chunk):
    s = 0
    for b in chunk:
        s = (s + (b << (b & 7))) & 0xFFFF
    return s


def read_bff(buf):
    """Returns (volume, records); raises ValueError on a malformed archive."""
    if buf[:4] != bytes.fromhex("09006bea"):
        raise ValueError("not a BFF image (magic %s)" % buf[:4].hex())
    pos = 0
    volume, records = None, []
    while True:
        if pos + 8 > len(buf):
            raise ValueError(f"offset {pos}: archive ends without an end record")
        nwords, kind, magic, csum = buf[pos], buf[pos + 1], le(buf, pos + 2, 2), le(buf, pos + 4, 2)
        if magic != 60011:
            raise ValueError(f"offset {pos}: header magic {magic} (expected 60011)")
        length = nwords * 8
        blank = buf[pos:pos + 4] + b"\0\0" + buf[pos + 6:pos + length]
        if header_sum(blank) != csum:
            raise ValueError(f"offset {pos}: header checksum {csum:#x} does not match")
        if kind == 0:
            volume = {"disk": buf[pos + 20:pos + 36].split(b"\0")[0].decode(),
                      "fs": buf[pos + 36:pos + 52].split(b"\0")[0].decode()}
            pos += length
        elif kind == 7:
            return volume, records
        elif kind == 11:
            r = {"nlink": le(buf, pos + 6, 2), "mode": le(buf, pos + 12, 4),
                 "uid": le(buf, pos + 16, 4), "gid": le(buf, pos + 20, 4),
                 "size": le(buf, pos + 24, 4), "mtime": le(buf, pos + 32, 4),
                 "dsize": le(buf, pos + 56, 4)}
            r["name"] = buf[pos + 64:pos + length].split(b"\0")[0].decode()
            pos += length
            if not stat.S_ISLNK(r["mode"]):
                acl_words, pcl_words = le(buf, pos, 4), le(buf, pos + 4, 4)
                pos += 8 + 8 * (acl_words + pcl_words)
            r["data"] = bytes(buf[pos:pos + r["size"]])
            if len(r["data"]) != r["size"]:
                raise ValueError(f"{r['name']}: data cut short")
            pos += (r["size"] + 7) // 8 * 8
            records.append(r)
        else:
            raise ValueError(f"offset {pos}: unexpected record type {kind}")


# --- reader: AIX big-format ar ---------------------------------------------
def num(field):
    text = field.decode().strip()
    return int(text) if text else 0


def read_big_ar(buf):
    if buf[:8] != b"<bigaf>\n":
        raise ValueError("liblpp.a is not a big-format archive")
    memoff, first, last = num(buf[8:28]), num(buf[68:88]), num(buf[88:108])
    members = {}
    order = []
    off = first
    while off:
        size, nxt, namlen = num(buf[off:off + 20]), num(buf[off + 20:off + 40]), num(buf[off + 108:off + 112])
        name = buf[off + 112:off + 112 + namlen].decode()
        data_at = off + 112 + namlen + (namlen & 1)
        if buf[data_at:data_at + 2] != b"`\n":
            raise ValueError(f"member {name}: header not terminated by `\\n")
        members[name] = bytes(buf[data_at + 2:data_at + 2 + size])
        order.append(name)
        if off == last:
            break
        off = nxt
    # The member table repeats count, offsets and names: they must agree.
    size = num(buf[memoff:memoff + 20])
    table = buf[memoff + 114:memoff + 114 + size]
    count = num(table[:20])
    names = table[20 + 20 * count:].split(b"\0")[:count]
    if [n.decode() for n in names] != order:
        raise ValueError("member table disagrees with the member chain")
    return members


def parse_lpp_name(text):
    lines = text.splitlines()
    m = re.fullmatch(r"4 R I (\S+) \{", lines[0])
    if not m or lines[-1] != "}":
        raise ValueError("lpp_name: bad first or last line")
    filesets = {}
    i = 1
    while i < len(lines) - 1:
        f = lines[i].split(None, 6)
        fs = {"level": f[1], "volume": f[2], "bosboot": f[3], "content": f[4],
              "lang": f[5], "description": f[6], "requisites": [], "sizes": {}}
        if lines[i + 1] != "[":
            raise ValueError(f"lpp_name: {f[0]}: expected [")
        i += 2
        section = 0
        while lines[i] != "]":
            if lines[i] == "%":
                section += 1
            elif section == 0:
                fs["requisites"].append(lines[i])
            elif section == 1:
                k, v = lines[i].split(None, 1)
                fs["sizes"][k] = v
            i += 1
        filesets[f[0]] = fs
        i += 1
    return m.group(1), filesets


def parse_inventory(text):
    stanzas, cur = {}, None
    for line in text.splitlines():
        if line.endswith(":") and not line.startswith(" "):
            cur = stanzas.setdefault(line[:-1], {})
        elif "=" in line and cur is not None:
            k, v = line.split("=", 1)
            cur[k.strip()] = v.strip()
    return stanzas


def main():
    work = tempfile.mkdtemp(prefix="esa-installp-")
    out = os.path.join(work, "out")
    run = subprocess.run(["sh", os.path.join(TOP, "scripts/installp-stage"), BUILD, out],
                         capture_output=True, text=True)
    check("installp-stage builds the image", run.returncode == 0, run.stderr[-2000:])
    if run.returncode != 0:
        return finish()
    bffs = [f for f in os.listdir(out) if f.endswith(".bff")]
    check("one openesa-VRMF.bff", len(bffs) == 1 and re.fullmatch(r"openesa-\d+\.\d+\.\d+\.\d+\.bff", bffs[0]), bffs)
    with open(os.path.join(out, bffs[0]), "rb") as f:
        buf = f.read()
    volume, records = read_bff(buf)
    check("volume header says by name", volume == {"disk": "by name", "fs": "by name"}, volume)
    by_name = {r["name"]: r for r in records}
    check("record names are unique", len(by_name) == len(records))
    check("every record is owned by root:system (0:0)", all(r["uid"] == 0 and r["gid"] == 0 for r in records))
    check("./lpp_name is the first file", [r["name"] for r in records if not stat.S_ISDIR(r["mode"])][0] == "./lpp_name")

    stage = os.path.join(out, "root")
    lpp = "./usr/lpp/openesa"
    expected = {}
    for dirpath, dirnames, filenames in os.walk(stage):
        for n in dirnames + filenames:
            full = os.path.join(dirpath, n)
            path = "/" + os.path.relpath(full, stage)
            if path.endswith(".la") or path.split("/")[:4] in (
                    ["", "usr", "lib", "systemd"], ["", "usr", "lib", "sysusers.d"], ["", "usr", "lib", "tmpfiles.d"]):
                continue  # left out on AIX (docs/packaging.md)
            root_part = path.split("/")[1] in ("etc", "var")
            expected[path] = (f"{lpp}/inst_root{path}" if root_part else "." + path, full)
    missing = [p for p, (name, _) in expected.items() if name not in by_name]
    check("every staged path is in the image", not missing, missing)
    bad = []
    for path, (name, full) in expected.items():
        r = by_name.get(name)
        if r is None:
            continue
        st = os.lstat(full)
        if stat.S_ISDIR(st.st_mode):
            continue  # system directories keep the stage's modes; checked below for ours
        if r["mode"] != st.st_mode:
            bad.append(f"{path}: mode {r['mode']:o} != {st.st_mode:o}")
        if stat.S_ISLNK(st.st_mode):
            if r["data"].decode() != os.readlink(full):
                bad.append(f"{path}: link to {r['data']!r}")
        else:
            with open(full, "rb") as f:
                if f.read() != r["data"]:
                    bad.append(f"{path}: contents differ")
    check("every file, symlink and mode matches the staging tree", not bad, bad)
    lib = by_name.get("./usr/lib/libesa.so.0")
    check("libesa.so.0 is a symlink to libesa.so.0.0.0",
          lib and stat.S_ISLNK(lib["mode"]) and lib["data"] == b"libesa.so.0.0.0")
    var = by_name.get(f"{lpp}/inst_root/var/esa")
    check("/var/esa is a 0700 directory in the ROOT part", var and var["mode"] == stat.S_IFDIR | 0o700)
    check("no /usr/local, no .la, no systemd unit, sysusers or tmpfiles snippet in the image",
          not [n for n in by_name if "/usr/local" in n or n.endswith(".la") or "systemd" in n
               or "sysusers" in n or "tmpfiles" in n])
    for page in ("man8/esad.8", "man8/esactl.8", "man5/esa.conf.5"):
        check(f"{page} is in the image", f"./usr/share/man/{page}" in by_name)
    check("the German and Japanese catalogs are in the image",
          all(f"./usr/share/locale/{lang}/LC_MESSAGES/openesa.mo" in by_name for lang in ("de", "ja")))
    check("the esactl bash completion is in the image",
          "./usr/share/bash-completion/completions/esactl" in by_name)

    pkg, filesets = parse_lpp_name(by_name["./lpp_name"]["data"].decode())
    check("lpp_name names the package openesa", pkg == "openesa")
    check("lpp_name lists the four filesets",
          sorted(filesets) == ["openesa.proxy", "openesa.rte", "openesa.sdc", "openesa.sdk"], sorted(filesets))
    content = {k: v["content"] for k, v in filesets.items()}
    check("rte and proxy have USR and ROOT parts, sdc and sdk USR only",
          content == {"openesa.rte": "B", "openesa.proxy": "B", "openesa.sdc": "U", "openesa.sdk": "U"}, content)
    check("every fileset has a four-part level", all(re.fullmatch(r"\d+\.\d+\.\d+\.\d+", v["level"]) for v in filesets.values()))
    check("proxy and sdk require openesa.rte; no RPM names as requisites",
          all(any(r.startswith("*prereq openesa.rte ") for r in filesets[f]["requisites"]) for f in ("openesa.proxy", "openesa.sdk"))
          and not [r for v in filesets.values() for r in v["requisites"] if "glib" in r or "soup" in r])
    check("every fileset has a size section with INSTWORK", all("INSTWORK" in v["sizes"] for v in filesets.values()))

    usr = read_big_ar(by_name[f"{lpp}/liblpp.a"]["data"])
    root = read_big_ar(by_name[f"{lpp}/inst_root/liblpp.a"]["data"])
    want_usr = {f"{fs}.{k}" for fs in filesets for k in ("al", "inventory", "size", "copyright")}
    want_usr |= {f"{fs}.pre_i" for fs in ("openesa.rte", "openesa.proxy", "openesa.sdc")}
    want_root = {f"{fs}.{k}" for fs in ("openesa.rte", "openesa.proxy")
                 for k in ("al", "inventory", "size", "cfgfiles", "config", "unconfig")}
    check("USR liblpp.a has .al .inventory .size .copyright (+ .pre_i)", set(usr) == want_usr, sorted(set(usr) ^ want_usr))
    check("ROOT liblpp.a has .al .inventory .size .cfgfiles .config .unconfig", set(root) == want_root, sorted(set(root) ^ want_root))
    check("rte pre_i checks the AIX Toolbox RPMs",
          "for p in glib2 libsoup3 gnutls json-glib" in usr["openesa.rte.pre_i"].decode())
    check("rte config runs esad-src.sh install", "esad-src.sh\" install" in root["openesa.rte.config"].decode())
    check("esa.conf is kept on update (cfgfiles preserve)", "/etc/esa/esa.conf preserve" in root["openesa.rte.cfgfiles"].decode())

    listed, inv_bad = set(), []
    for fs in filesets:
        for part, members, prefix in (("usr", usr, ""), ("root", root, f"{lpp}/inst_root")):
            if f"{fs}.al" not in members:
                continue
            inv = parse_inventory(members[f"{fs}.inventory"].decode())
            for line in members[f"{fs}.al"].decode().split():
                listed.add(prefix + line[1:] if part == "root" else line)
                if part == "usr" and line.startswith(f"{lpp}/inst_root"):
                    continue  # ROOT files restored with the USR part, inventoried in ROOT
                r = by_name.get(prefix + line[1:] if part == "root" else line)
                s = inv.get(line[1:])
                if r is None or s is None:
                    inv_bad.append(f"{fs}/{part}: {line}: {'no record' if r is None else 'no inventory stanza'}")
                    continue
                kind = "DIRECTORY" if stat.S_ISDIR(r["mode"]) else "SYMLINK" if stat.S_ISLNK(r["mode"]) else "FILE"
                if (s.get("owner"), s.get("group"), s.get("type")) != ("root", "system", kind) \
                        or int(s.get("mode", "-1"), 8) != stat.S_IMODE(r["mode"]) \
                        or s.get("class") != f"apply,inventory,{fs}":
                    inv_bad.append(f"{fs}: {line}: stanza {s}")
                if kind == "FILE" and int(s.get("size", -1)) != r["size"]:
                    inv_bad.append(f"{fs}: {line}: size {s.get('size')} != {r['size']}")
    check("every .al path has a record and a matching inventory stanza", not inv_bad, inv_bad[:10])
    unlisted = [n for n, r in by_name.items() if not stat.S_ISDIR(r["mode"]) and n not in listed
                and n not in ("./lpp_name", f"{lpp}/liblpp.a", f"{lpp}/inst_root/liblpp.a")]
    check("every file in the image is in some fileset's .al", not unlisted, unlisted)

    corrupt = bytearray(buf)
    corrupt[200] ^= 0x40
    try:
        read_bff(bytes(corrupt))
        check("the reader notices a flipped byte", False)
    except ValueError:
        check("the reader notices a flipped byte", True)

    # Malformed fileset description input: an unclaimed file is refused.
    with open(os.path.join(stage, "usr/sbin/stray"), "w") as f:
        f.write("x")
    run = subprocess.run([sys.executable, os.path.join(TOP, "packaging/aix/mkbff"), "--stage", stage,
                          "--filesets", os.path.join(TOP, "packaging/aix/openesa.filesets"),
                          "--scripts", os.path.join(TOP, "data/aix"), "--version", "0.1.0",
                          "--out", os.path.join(work, "x.bff")], capture_output=True, text=True)
    check("mkbff refuses a staged file in no fileset, in one line naming it",
          run.returncode != 0 and run.stderr.strip() ==
          "mkbff: /usr/sbin/stray: in no fileset of the fileset description (add it or exclude it)", run.stderr)
    subprocess.run(["rm", "-rf", work])
    return finish()


def finish():
    failed = 0
    for i, (good, name, detail) in enumerate(results, 1):
        print(f"{'ok' if good else 'not ok'} {i} - {name}")
        if not good:
            failed = 1
            print(f"# {detail}")
    print(f"1..{len(results)}")
    return failed


if __name__ == "__main__":
    sys.exit(main())
