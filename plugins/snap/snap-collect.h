/* snap-collect.h: the Linux counterpart of `snap -g`: collects OS release,
 * kernel, dmesg, cpu/memory info, lspci, lsblk, dmidecode, the package list,
 * the last 24 h of the journal and (redacted) config files, fits them under
 * a size cap and writes a tar.gz with libarchive. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  char *name;       /* path inside the archive, below openesa-snap/ */
  GBytes *data;
  gboolean optional; /* may be dropped to fit the cap */
} SnapItem;

typedef struct {
  GPtrArray *items;   /* SnapItem* */
  JsonArray *notes;   /* {"item", "status": "missing"/"failed"/"dropped"/"redacted", "detail"} */
} SnapCollection;

SnapCollection *snap_collection_new  (void);
void            snap_collection_free (SnapCollection *self);
void            snap_collection_add  (SnapCollection *self, const char *name, GBytes *data, gboolean optional);
void            snap_collection_note (SnapCollection *self, const char *item, const char *status,
                                      const char *detail);

/* Collects everything on this Linux system, files read under @sysroot;
 * @config_files are redacted (snap-redact.h). Never fails: what cannot be
 * read becomes a note. */
SnapCollection *snap_collect_linux (const char *sysroot, const char *const *config_files,
                                    GCancellable *cancellable);

/* Drops the biggest optional items until the archive would fit in @max_size
 * (estimated from item sizes plus tar headers, before compression). FALSE
 * with an error naming the sizes when even the required items are too big. */
gboolean        snap_collection_fit (SnapCollection *self, guint64 max_size, GError **error);

/* Writes the items (and manifest.json from @manifest + notes) to @path as
 * tar (pax) + gzip. */
gboolean        snap_collection_write (SnapCollection *self, JsonObject *manifest, const char *path,
                                       GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SnapCollection, snap_collection_free)

G_END_DECLS
