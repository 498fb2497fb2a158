/* sysinfo-private.h: inventory collection shared by the sysinfo plugin and
 * its tests — the JSON body, the configuration archive, package lists. */
#pragma once

#include <esa/esa-plugin.h>

G_BEGIN_DECLS

typedef struct {
  const EsaPlatform *platform;
  gboolean aix;            /* AIX commands (lslpp, lsmcode, snap) or Linux files */
  const char *sysroot;     /* Linux: where /etc and /proc are ("/"; a fake tree in tests) */
  const char *contact_name;
  const char *contact_email;
  const char *contact_phone;
  GCancellable *cancellable; /* cancelled when esad stops: kills the commands */
} EsaSysinfoInput;

/* The inventory body: agent, OS, machine, firmware, packages, contact.
 * Odd input adds to @warnings (char*) and goes into the body's "warnings";
 * only a missing package list on AIX is not an error: inventory is still
 * worth sending without it. */
JsonObject *esa_sysinfo_collect_body (const EsaSysinfoInput *in, GPtrArray *warnings,
                                      GError **error);

/* The configuration attachment, made under @work_dir (which the caller
 * removes): AIX `snap -g -c -d WORK/snap` → snap.pax.Z/.gz; Linux a
 * config.tar.gz of os-release, uname, cpuinfo, meminfo and the package list.
 * Returns the archive path and sets *content_type. */
char       *esa_sysinfo_collect_config (const EsaSysinfoInput *in, const char *work_dir,
                                        char **content_type, GPtrArray *warnings, GError **error);

/* Package lists, as {"name","version","state"/"arch"} objects (JsonObject*). */
/* dpkg-query -W -f '${Package}\t${Version}\t${Status}\n' */
GPtrArray  *esa_sysinfo_parse_dpkg (const char *text, GPtrArray *warnings, GError **error);
/* rpm -qa --qf '%{NAME}\t%{VERSION}-%{RELEASE}\t%{ARCH}\n' */
GPtrArray  *esa_sysinfo_parse_rpm  (const char *text, GPtrArray *warnings, GError **error);

/* rm -rf, for the scratch directories (never follows symlinks). */
void        esa_sysinfo_rmtree     (const char *path);

G_END_DECLS
