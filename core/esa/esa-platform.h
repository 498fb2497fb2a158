/* esa-platform.h: what machine this is (identity sent at activation and in inventory). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  char *os;            /* "AIX" / "Linux" */
  char *os_version;    /* "7.3" / "6.1.0-28-amd64 (Debian GNU/Linux 12)" */
  char *hostname;
  char *vendor;        /* "IBM", "Bull", "QEMU", … as the firmware says */
  char *machine_type;  /* "9009" */
  char *model;         /* "42A" */
  char *serial;        /* "78ABCDE" */
  char *firmware;      /* "VL940_027" */
  char *system_id;     /* "IBM,0278ABCDE" (AIX systemid) or DMI product UUID */
  char *processor;     /* "PowerPC_POWER9" */
  gboolean is_lpar;
  int   lpar_id;       /* -1 when not partitioned */
  char *lpar_name;
  GPtrArray *warnings; /* char*: fields that could not be read, and why */
  /* Added after warnings so plugins built against the older layout still read
   * every field at the same offset. */
  char *os_uuid;       /* this OS instance: AIX sys0 os_uuid, Linux /etc/machine-id */
  char *sysroot;       /* the root the platform's files are read from: "/" except in
                        * the test suite (ESA_SYSROOT, a build with --enable-test-hooks) */
  gpointer padding[3]; /* reserved (ABI 2): later fields take its place, zero meaning
                        * "as before"; keep it zero (designated initializers do) */
} EsaPlatform;

/* Reads the platform: AIX commands on AIX (or when ESA_PLATFORM=aix, for the
 * fake commands of the tests), /sys and /proc on Linux. Missing fields are
 * NULL with a warning; only a failure to read anything at all is an error. */
EsaPlatform *esa_platform_detect   (GError **error);
void         esa_platform_free     (EsaPlatform *self);
JsonObject  *esa_platform_to_json  (const EsaPlatform *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaPlatform, esa_platform_free)

G_END_DECLS
