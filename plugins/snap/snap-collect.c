/* snap-collect.c: collects the Linux extended error data and archives it
 * (see snap-collect.h). Commands go through esa_subprocess_run (timeouts,
 * output caps, ESA_COMMAND_PATH in tests); files are read under the sysroot. */
#include "config.h"

#include "snap-collect.h"
#include "esa/esa-json.h"
#include "snap-archive-lib.h"
#include "snap-redact.h"

#include <esa/esa-plugin.h>

#include <string.h>

#define SNAP_FILE_CAP      (16 * 1024 * 1024)
#define SNAP_JOURNAL_CAP   (64 * 1024 * 1024)
#define SNAP_TAR_OVERHEAD  1536 /* pax header + padding per entry, generously */
#define SNAP_ROOT          "openesa-snap"

static void
snap_item_free (SnapItem *item)
{
  g_free (item->name);
  g_bytes_unref (item->data);
  g_free (item);
}

SnapCollection *
snap_collection_new (void)
{
  SnapCollection *self = g_new0 (SnapCollection, 1);
  self->items = g_ptr_array_new_with_free_func ((GDestroyNotify) snap_item_free);
  self->notes = json_array_new ();
  return self;
}

void
snap_collection_free (SnapCollection *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->items);
  json_array_unref (self->notes);
  g_free (self);
}

void
snap_collection_add (SnapCollection *self, const char *name, GBytes *data, gboolean optional)
{
  SnapItem *item = g_new0 (SnapItem, 1);
  item->name = g_strdup (name);
  item->data = g_bytes_ref (data);
  item->optional = optional;
  g_ptr_array_add (self->items, item);
}

void
snap_collection_note (SnapCollection *self, const char *item, const char *status, const char *detail)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "item", item);
  json_object_set_string_member (o, "status", status);
  if (detail != NULL)
    json_object_set_string_member (o, "detail", detail);
  json_array_add_object_element (self->notes, o);
}

/* A regular file under sysroot, at most @cap bytes (the rest is cut: a
 * huge /proc file must not blow the cap on its own). */
static GBytes *
read_file (const char *sysroot, const char *rel, gsize cap, GError **error)
{
  g_autofree char *path = g_build_filename (sysroot, rel, NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = g_file_read (file, NULL, error);
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  guint8 chunk[65536];
  if (in == NULL)
    return NULL;
  while (buf->len < cap)
    {
      gssize n = g_input_stream_read (G_INPUT_STREAM (in), chunk, MIN (sizeof chunk, cap - buf->len), NULL, error);
      if (n < 0)
        return NULL;
      if (n == 0)
        break;
      g_byte_array_append (buf, chunk, (guint) n);
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&buf));
}

static void
add_file (SnapCollection *self, const char *sysroot, const char *rel, gboolean optional)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) data = read_file (sysroot, rel, SNAP_FILE_CAP, &error);
  if (data == NULL)
    {
      snap_collection_note (self, rel, g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ? "missing" : "failed",
                            error->message);
      return;
    }
  snap_collection_add (self, rel, data, optional);
}

static void
add_config_file (SnapCollection *self, const char *sysroot, const char *path)
{
  g_autoptr (GError) error = NULL;
  const char *rel = path;
  g_autoptr (GBytes) data = NULL;
  g_autoptr (GBytes) clean = NULL;
  g_autofree char *name = NULL;
  char *text;
  gsize len = 0;
  guint n = 0;
  while (*rel == '/')
    rel++;
  if (*rel == '\0' || strstr (path, "..") != NULL)
    {
      snap_collection_note (self, path, "failed", "not an absolute path to a file");
      return;
    }
  data = read_file (sysroot, rel, SNAP_FILE_CAP, &error);
  if (data == NULL)
    {
      snap_collection_note (self, path, g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ? "missing" : "failed",
                            error->message);
      return;
    }
  {
    const char *raw = g_bytes_get_data (data, &len);
    text = snap_redact (raw, len, &n);
  }
  clean = g_bytes_new_take (text, strlen (text));
  name = g_build_filename ("config", rel, NULL);
  snap_collection_add (self, name, clean, TRUE);
  if (n > 0)
    {
      g_autofree char *detail = g_strdup_printf ("%u line%s", n, n == 1 ? "" : "s");
      snap_collection_note (self, name, "redacted", detail);
    }
}

static gboolean
add_command (SnapCollection *self, const char *name, const char *const *argv, gsize cap, gboolean optional,
             GCancellable *cancellable)
{
  EsaSubprocessOptions opts = { .max_output = cap, .allow_failure = FALSE };
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  g_autofree char *out = esa_subprocess_run (argv, &opts, NULL, &err, cancellable, &error);
  if (out == NULL)
    {
      snap_collection_note (self, name, g_error_matches (error, ESA_ERROR, ESA_ERROR_NOT_FOUND) ? "missing" : "failed",
                            error->message);
      return FALSE;
    }
  {
    gsize len = strlen (out);
    g_autoptr (GBytes) data = g_bytes_new_take (g_steal_pointer (&out), len);
    snap_collection_add (self, name, data, optional);
  }
  return TRUE;
}

SnapCollection *
snap_collect_linux (const char *sysroot, const char *const *config_files, GCancellable *cancellable)
{
  SnapCollection *self = snap_collection_new ();
  const char *uname_argv[] = { "uname", "-a", NULL };
  const char *dmesg_argv[] = { "dmesg", NULL };
  const char *lspci_argv[] = { "lspci", "-vv", NULL };
  const char *lsblk_argv[] = { "lsblk", "-o", "NAME,SIZE,TYPE,MODEL,SERIAL,STATE,MOUNTPOINT", NULL };
  const char *dmidecode_argv[] = { "dmidecode", NULL };
  const char *dpkg_argv[] = { "dpkg-query", "-W", NULL };
  const char *rpm_argv[] = { "rpm", "-qa", NULL };
  const char *journal_argv[] = { "journalctl", "--since", "-24h", "--no-pager", "-o", "short-iso", NULL };

  add_file (self, sysroot, "etc/os-release", FALSE);
  add_file (self, sysroot, "proc/version", FALSE);
  add_command (self, "commands/uname-a.txt", uname_argv, 0, FALSE, cancellable);
  add_file (self, sysroot, "proc/cpuinfo", TRUE);
  add_file (self, sysroot, "proc/meminfo", TRUE);
  add_command (self, "commands/dmesg.txt", dmesg_argv, 0, TRUE, cancellable);
  add_command (self, "commands/lspci.txt", lspci_argv, 0, TRUE, cancellable);
  add_command (self, "commands/lsblk.txt", lsblk_argv, 0, TRUE, cancellable);
  add_command (self, "commands/dmidecode.txt", dmidecode_argv, 0, TRUE, cancellable);
  if (!add_command (self, "commands/packages.txt", dpkg_argv, 0, TRUE, cancellable))
    add_command (self, "commands/packages.txt", rpm_argv, 0, TRUE, cancellable);
  add_command (self, "commands/journal-24h.txt", journal_argv, SNAP_JOURNAL_CAP, TRUE, cancellable);
  for (guint i = 0; config_files != NULL && config_files[i] != NULL; i++)
    if (*config_files[i] != '\0')
      add_config_file (self, sysroot, config_files[i]);
  return self;
}

static guint64
item_cost (SnapItem *item)
{
  return (guint64) g_bytes_get_size (item->data) + SNAP_TAR_OVERHEAD;
}

static gint
by_size_desc (gconstpointer a, gconstpointer b)
{
  guint64 x = item_cost (*(SnapItem *const *) a), y = item_cost (*(SnapItem *const *) b);
  return x < y ? 1 : x > y ? -1 : 0;
}

gboolean
snap_collection_fit (SnapCollection *self, guint64 max_size, GError **error)
{
  /* the manifest and the end-of-archive blocks */
  guint64 total = 16384;
  g_autoptr (GPtrArray) order = g_ptr_array_new ();
  for (guint i = 0; i < self->items->len; i++)
    {
      total += item_cost (g_ptr_array_index (self->items, i));
      g_ptr_array_add (order, g_ptr_array_index (self->items, i));
    }
  g_ptr_array_sort (order, by_size_desc);
  for (guint i = 0; i < order->len && total > max_size; i++)
    {
      SnapItem *item = g_ptr_array_index (order, i);
      g_autofree char *detail = NULL;
      if (!item->optional)
        continue;
      total -= item_cost (item);
      detail = g_strdup_printf ("%" G_GSIZE_FORMAT " bytes; over max-size %" G_GUINT64_FORMAT,
                                g_bytes_get_size (item->data), max_size);
      snap_collection_note (self, item->name, "dropped", detail);
      g_ptr_array_remove (self->items, item);
    }
  if (total > max_size)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "extended data needs about %" G_GUINT64_FORMAT " bytes without any optional item, "
                   "over [plugin.snap] max-size=%" G_GUINT64_FORMAT, total, max_size);
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_entry (struct archive *a, const char *name, gconstpointer data, gsize len, GError **error)
{
  struct archive_entry *entry = archive_entry_new ();
  g_autofree char *path = g_strdup_printf ("%s/%s", SNAP_ROOT, name);
  gboolean ok = TRUE;
  archive_entry_set_pathname (entry, path);
  archive_entry_set_size (entry, (la_int64_t) len);
  archive_entry_set_filetype (entry, AE_IFREG);
  archive_entry_set_perm (entry, 0644);
  archive_entry_set_mtime (entry, (time_t) (g_get_real_time () / G_USEC_PER_SEC), 0);
  if (archive_write_header (a, entry) != ARCHIVE_OK ||
      (len > 0 && archive_write_data (a, data, len) != (la_ssize_t) len))
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "archive: %s: %s", path, archive_error_string (a));
      ok = FALSE;
    }
  archive_entry_free (entry);
  return ok;
}

static gboolean
collection_write (SnapCollection *self, JsonObject *manifest, const char *path, GError **error)
{
  struct archive *a = archive_write_new ();
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonObject) m = json_object_ref (manifest);
  JsonArray *items = json_array_new ();
  g_autofree char *text = NULL;
  gboolean ok = TRUE;

  for (guint i = 0; i < self->items->len; i++)
    {
      SnapItem *item = g_ptr_array_index (self->items, i);
      JsonObject *o = json_object_new ();
      json_object_set_string_member (o, "name", item->name);
      json_object_set_int_member (o, "size", (gint64) g_bytes_get_size (item->data));
      json_array_add_object_element (items, o);
    }
  json_object_set_array_member (m, "items", items);
  json_object_set_array_member (m, "notes", json_array_ref (self->notes));
  json_node_set_object (node, m);
  text = esa_json_to_string (node, TRUE);

  if (archive_write_add_filter_gzip (a) != ARCHIVE_OK || archive_write_set_format_pax_restricted (a) != ARCHIVE_OK ||
      archive_write_open_filename (a, path) != ARCHIVE_OK)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "archive %s: %s", path, archive_error_string (a));
      archive_write_free (a);
      return FALSE;
    }
  ok = write_entry (a, "manifest.json", text, strlen (text), error);
  for (guint i = 0; ok && i < self->items->len; i++)
    {
      SnapItem *item = g_ptr_array_index (self->items, i);
      gsize len = 0;
      gconstpointer data = g_bytes_get_data (item->data, &len);
      ok = write_entry (a, item->name, data, len, error);
    }
  if (archive_write_close (a) != ARCHIVE_OK && ok)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "archive %s: %s", path, archive_error_string (a));
      ok = FALSE;
    }
  archive_write_free (a);
  return ok;
}

gboolean
snap_collection_write (SnapCollection *self, JsonObject *manifest, const char *path, GError **error)
{
  gboolean ok;
  if (!snap_archive_lib_open (error))
    return FALSE;
  ok = collection_write (self, manifest, path, error);
  snap_archive_lib_close ();
  return ok;
}
