/* esa-queue.c: the persistent spool (DESIGN.md "Queue").
 *
 * Layout under the spool folder:
 *   <uuid>.json    the report plus its delivery state; its presence commits the report
 *   <uuid>.d/      its attachments (renamed in place before the .json is written)
 *   tmp/           half-written files; emptied at open
 *   failed/        reports the SDC rejected, with the reason; and reports that could
 *                  not be read: <uuid>.json.corrupt (+ .d.corrupt) with <uuid>.reason
 * A crash at any point leaves each report either whole or absent.
 *
 * Every file operation is relative to the folders' fds and never follows a
 * symlink at a name (esa-fileutil.h): whoever can plant a link in the spool
 * cannot turn esad's writes or deletes elsewhere.
 *
 * Memory and locks (issue 13): an index of small records (uuid, created,
 * attempts, next attempt, kind, plugin) answers counts, listing order and the
 * sender's walk without reading the spool; the files are read only for the
 * entries a caller asks for. The index is built by a thread started at open,
 * so esad's control socket is up before 100,000 reports are parsed; whatever
 * needs the whole index waits for it (counts do not). Copying attachments
 * never holds a lock: @lock guards only the index (never held across I/O),
 * @io_lock serialises the renames that change a report's files. */
#include "config.h"

#include "esa-queue.h"
#include "esa-fileutil.h"
#include "esa/esa-error.h"
#include "esa/esa-json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A spooled report is JSON written by us; anything bigger is not ours. */
#define SPOOL_LOCK_NAME ".lock"
#define MAX_ENVELOPE_BYTES ESA_JSON_MAX_BYTES_DEFAULT

typedef struct {
  char uuid[37];          /* first: the hash set's key is the record itself */
  guint8 dead;            /* left the index; freed when the order is compacted */
  guint8 corrupt;         /* failed/ only: a quarantined file, not a rejected report */
  guint32 attempts;
  gint64 created_us;
  gint64 next_attempt;
  const char *kind;       /* interned */
  const char *plugin;     /* interned */
} Rec;

typedef struct {
  GHashTable *by_uuid;    /* set of Rec*, looked up by uuid string */
  GPtrArray *order;       /* Rec*, by (created, uuid); dead ones until compaction */
  guint n_dead;
} Index;

struct _EsaQueue {
  char *dir;
  char *tmp_dir;
  char *failed_dir;
  int dir_fd;
  int lock_fd;           /* holds the spool's lock (lock_spool) */
  int tmp_fd;
  int failed_fd;
  GMutex lock;            /* the index, counts, ready */
  GMutex io_lock;         /* renames and rewrites of report files */
  GCond ready_cond;
  gboolean ready;         /* the scan at open has finished */
  gint closing;
  guint pending_queued;   /* counts before the scan ends */
  guint pending_failed;
  Index queued;
  Index failed;
  GThread *scanner;
  GPtrArray *scan_queued; /* uuids found at open, for the scanner */
  GPtrArray *scan_failed;
  GPtrArray *scan_corrupt;
};

void
esa_queue_entry_free (EsaQueueEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->uuid);
  g_free (entry->kind);
  g_free (entry->plugin);
  g_free (entry->created);
  g_free (entry->last_error);
  g_free (entry->failed_reason);
  g_free (entry);
}

const char *
esa_queue_get_dir (EsaQueue *self)
{
  return self->dir;
}

/* ---- the index ---- */

static void
index_init (Index *idx)
{
  idx->by_uuid = g_hash_table_new (g_str_hash, g_str_equal);
  idx->order = g_ptr_array_new_with_free_func (g_free);
}

static void
index_clear (Index *idx)
{
  g_clear_pointer (&idx->by_uuid, g_hash_table_unref);
  g_clear_pointer (&idx->order, g_ptr_array_unref);
}

static gint
rec_key_cmp (gint64 created_a, const char *uuid_a, gint64 created_b, const char *uuid_b)
{
  if (created_a != created_b)
    return created_a < created_b ? -1 : 1;
  return strcmp (uuid_a, uuid_b);
}

static gint
rec_cmp (gconstpointer a, gconstpointer b)
{
  const Rec *ra = *(Rec *const *) a;
  const Rec *rb = *(Rec *const *) b;
  return rec_key_cmp (ra->created_us, ra->uuid, rb->created_us, rb->uuid);
}

/* First position whose record sorts after (created, uuid). */
static guint
index_upper_bound (Index *idx, gint64 created_us, const char *uuid)
{
  guint lo = 0, hi = idx->order->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      const Rec *r = g_ptr_array_index (idx->order, mid);
      if (rec_key_cmp (r->created_us, r->uuid, created_us, uuid) <= 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static void
index_compact (Index *idx)
{
  guint j = 0;
  for (guint i = 0; i < idx->order->len; i++)
    {
      Rec *r = idx->order->pdata[i];
      if (r->dead)
        g_free (r);
      else
        idx->order->pdata[j++] = r;
    }
  /* The dead are freed above: shrink without the free function. */
  idx->order->len = j;
  idx->n_dead = 0;
}

static void
index_remove (Index *idx, const char *uuid)
{
  Rec *r = g_hash_table_lookup (idx->by_uuid, uuid);
  if (r == NULL)
    return;
  g_hash_table_remove (idx->by_uuid, uuid);
  r->dead = TRUE;
  idx->n_dead++;
  /* Lazily: the sender removes the oldest one by one; moving every pointer
   * each time would make draining quadratic. */
  if (idx->n_dead > 1024 && idx->n_dead * 2 > idx->order->len)
    index_compact (idx);
}

static void
index_insert (Index *idx, Rec *r)
{
  index_remove (idx, r->uuid);
  g_ptr_array_insert (idx->order, (gint) index_upper_bound (idx, r->created_us, r->uuid), r);
  g_hash_table_add (idx->by_uuid, r);
}

static Rec *
rec_new (const char *uuid)
{
  Rec *r = g_new0 (Rec, 1);
  g_strlcpy (r->uuid, uuid, sizeof r->uuid);
  r->kind = g_intern_static_string ("?");
  r->plugin = r->kind;
  return r;
}

static gint64
parse_created_us (const char *created)
{
  g_autoptr (GDateTime) dt = created ? g_date_time_new_from_iso8601 (created, NULL) : NULL;
  if (dt == NULL)
    return 0;
  return g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
}

static char *
format_created (gint64 created_us)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (created_us / G_USEC_PER_SEC);
  g_autoptr (GDateTime) exact = dt ? g_date_time_add (dt, created_us % G_USEC_PER_SEC) : NULL;
  return exact ? g_date_time_format_iso8601 (exact) : g_strdup ("");
}

/* The index's view of an envelope (a parsed, valid one). */
static Rec *
rec_from_envelope (const char *uuid, JsonNode *env)
{
  JsonObject *root = json_node_get_object (env);
  JsonObject *report = esa_json_peek_object (root, "report");
  JsonObject *delivery = esa_json_peek_object (root, "delivery");
  Rec *r = rec_new (uuid);
  r->kind = g_intern_string (esa_json_peek_string (report, "kind") ?: "?");
  r->plugin = g_intern_string (esa_json_peek_string (report, "plugin") ?: "?");
  r->created_us = parse_created_us (esa_json_peek_string (report, "created"));
  r->attempts = (guint32) CLAMP (esa_json_peek_int (delivery, "attempts", 0), 0, G_MAXUINT32);
  r->next_attempt = esa_json_peek_int (delivery, "next_attempt", 0);
  return r;
}

static EsaQueueEntry *
entry_from_rec (const Rec *r)
{
  EsaQueueEntry *e = g_new0 (EsaQueueEntry, 1);
  e->uuid = g_strdup (r->uuid);
  e->kind = g_strdup (r->kind);
  e->plugin = g_strdup (r->plugin);
  e->created = format_created (r->created_us);
  e->created_us = r->created_us;
  e->attempts = r->attempts;
  e->next_attempt = r->next_attempt;
  return e;
}

/* ---- files ---- */

static char *
json_name (const char *uuid)
{
  return g_strdup_printf ("%s.json", uuid);
}

static char *
att_name (const char *uuid)
{
  return g_strdup_printf ("%s.d", uuid);
}

static gboolean
exists_at (int dirfd, const char *name)
{
  struct stat st;
  return fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static gboolean
is_dir_at (int dirfd, const char *name)
{
  struct stat st;
  return fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode);
}

/* Reads a regular file inside @dirfd (not through a link), up to @max bytes. */
static char *
read_at (int dirfd, const char *folder, const char *name, gsize max, gsize *len_out, GError **error)
{
  struct stat st;
  g_autofree char *data = NULL;
  gsize len = 0;
  int fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      int e = errno;
      /* ELOOP: a link where a report should be is not a report (quarantined). */
      g_set_error (error, ESA_ERROR,
                   e == ENOENT ? ESA_ERROR_NOT_FOUND : e == ELOOP ? ESA_ERROR_INVALID_DATA : ESA_ERROR_FAILED,
                   "%s/%s: %s", folder, name, g_strerror (e));
      return NULL;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || (gsize) st.st_size > max)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "%s/%s: not a regular file of at most %" G_GSIZE_FORMAT " bytes", folder, name, max);
      close (fd);
      return NULL;
    }
  data = g_malloc ((gsize) st.st_size + 1);
  while (len < (gsize) st.st_size)
    {
      ssize_t n = read (fd, data + len, (gsize) st.st_size - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int e = errno;
          g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s/%s: %s", folder, name, g_strerror (e));
          close (fd);
          return NULL;
        }
      if (n == 0)
        break;
      len += (gsize) n;
    }
  close (fd);
  data[len] = '\0';
  *len_out = len;
  return g_steal_pointer (&data);
}

/* Reads and checks <folder>/<name>: a JSON object whose "report" is an object.
 * ESA_ERROR_INVALID_DATA means the file is there but bad (quarantine it);
 * other codes mean absent or unreadable now. */
static JsonNode *
read_envelope_at (int dirfd, const char *folder, const char *name, GError **error)
{
  gsize len = 0;
  g_autofree char *text = read_at (dirfd, folder, name, MAX_ENVELOPE_BYTES, &len, error);
  g_autoptr (GError) local = NULL;
  g_autoptr (JsonNode) root = NULL;
  if (text == NULL)
    return NULL;
  root = esa_json_parse (text, (gssize) len, MAX_ENVELOPE_BYTES, ESA_JSON_MAX_DEPTH_DEFAULT, &local);
  if (root == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s/%s: %s", folder, name, local->message);
      return NULL;
    }
  /* "report" must be an object: the index reads its members without checks. */
  if (!JSON_NODE_HOLDS_OBJECT (root) ||
      esa_json_peek_object (json_node_get_object (root), "report") == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "%s/%s: not a spooled report (expected an object with \"report\")", folder, name);
      return NULL;
    }
  return g_steal_pointer (&root);
}

/* The envelope of a queued report, checked as a whole report (what the
 * sender will need): a file that passes this can be sent. */
static JsonNode *
read_report_envelope (EsaQueue *self, const char *uuid, EsaReport **report_out, GError **error)
{
  g_autofree char *name = json_name (uuid);
  g_autoptr (JsonNode) env = read_envelope_at (self->dir_fd, self->dir, name, error);
  g_autoptr (EsaReport) report = NULL;
  g_autoptr (GError) local = NULL;
  if (env == NULL)
    return NULL;
  report = esa_report_new_from_json (
      json_object_get_member (json_node_get_object (env), "report"), &local);
  if (report == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "%s/%s: %s", self->dir, name, local->message);
      return NULL;
    }
  if (g_strcmp0 (esa_report_get_uuid (report), uuid) != 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "%s/%s: file name and report uuid differ", self->dir, name);
      return NULL;
    }
  if (report_out != NULL)
    *report_out = g_steal_pointer (&report);
  return g_steal_pointer (&env);
}

static gboolean
write_envelope (EsaQueue *self, int dirfd, const char *folder, const char *uuid, JsonNode *env,
                GError **error)
{
  g_autofree char *name = json_name (uuid);
  g_autofree char *text = json_to_string (env, FALSE);
  return esa_fileutil_write_at (dirfd, folder, name, self->tmp_fd, text, strlen (text), 0600, TRUE,
                                error);
}

static JsonObject *
delivery_of (JsonNode *env)
{
  JsonObject *root = json_node_get_object (env);
  JsonObject *d = esa_json_peek_object (root, "delivery");
  if (d == NULL)
    {
      json_object_set_object_member (root, "delivery", json_object_new ());
      d = json_object_get_object_member (root, "delivery");
    }
  return d;
}

/* Bytes of a file or folder tree inside @dirfd, links not followed. */
static guint64
tree_size_at (int parent, const char *name)
{
  struct stat st;
  guint64 total = 0;
  int fd;
  DIR *d;
  struct dirent *de;
  if (fstatat (parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return 0;
  if (!S_ISDIR (st.st_mode))
    return S_ISREG (st.st_mode) ? (guint64) st.st_size : 0;
  fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || (d = fdopendir (fd)) == NULL)
    {
      if (fd >= 0)
        close (fd);
      return 0;
    }
  while ((de = readdir (d)) != NULL)
    if (!g_str_equal (de->d_name, ".") && !g_str_equal (de->d_name, ".."))
      total += tree_size_at (dirfd (d), de->d_name);
  closedir (d);
  return total;
}

/* The part of a read_envelope_at () message after "<folder>/<name>: ". */
static const char *
reason_of (const char *message, const char *uuid)
{
  const char *at = strstr (message, uuid);
  const char *colon = at ? strstr (at, ": ") : NULL;
  return colon ? colon + 2 : message;
}

static gboolean
is_uuid_name (const char *name, const char *suffix, char **uuid_out)
{
  g_autofree char *uuid = NULL;
  if (!g_str_has_suffix (name, suffix))
    return FALSE;
  uuid = g_strndup (name, strlen (name) - strlen (suffix));
  if (!g_uuid_string_is_valid (uuid))
    return FALSE;
  if (uuid_out != NULL)
    *uuid_out = g_steal_pointer (&uuid);
  return TRUE;
}

/* Names in the folder open as @dirfd (its own fd: the caller's stays open). */
static GPtrArray *
list_names (int dirfd)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  int fd = dup (dirfd);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  struct dirent *de;
  if (d == NULL)
    {
      if (fd >= 0)
        close (fd);
      return names;
    }
  rewinddir (d);
  while ((de = readdir (d)) != NULL)
    if (!g_str_equal (de->d_name, ".") && !g_str_equal (de->d_name, ".."))
      g_ptr_array_add (names, g_strdup (de->d_name));
  closedir (d);
  return names;
}

/* ---- waiting for the index ---- */

static void
wait_ready_locked (EsaQueue *self)
{
  while (!self->ready)
    g_cond_wait (&self->ready_cond, &self->lock);
}

static void
wait_ready (EsaQueue *self)
{
  g_mutex_lock (&self->lock);
  wait_ready_locked (self);
  g_mutex_unlock (&self->lock);
}

/* ---- quarantine ---- */

/* Moves a queued report that cannot be read into failed/ (with the reason
 * beside it) so it never blocks the queue and never vanishes silently.
 * Called with io_lock held. */
static void
quarantine_locked (EsaQueue *self, const char *uuid, const char *why)
{
  g_autofree char *name = json_name (uuid);
  g_autofree char *dst = g_strdup_printf ("%s.json.corrupt", uuid);
  g_autofree char *att = att_name (uuid);
  g_autofree char *att_dst = g_strdup_printf ("%s.d.corrupt", uuid);
  g_autofree char *reason_name = g_strdup_printf ("%s.reason", uuid);
  g_autoptr (GError) error = NULL;
  struct stat st;
  Rec *r = rec_new (uuid);
  if (!exists_at (self->dir_fd, name))
    {
      g_free (r);
      return;
    }
  g_warning ("spool: %s/%s: %s; moved to %s/%s", self->dir, name, why, self->failed_dir, dst);
  r->corrupt = TRUE;
  /* The reason first: a crash between leaves a reason without a file, which
   * the next open ignores, never a quarantined file without its reason. */
  if (!esa_fileutil_write_at (self->failed_fd, self->failed_dir, reason_name, self->tmp_fd, why,
                              strlen (why), 0600, FALSE, &error))
    g_warning ("spool: %s", error->message);
  if (renameat (self->dir_fd, name, self->failed_fd, dst) != 0)
    unlinkat (self->dir_fd, name, 0);
  /* Its attachments go with it, for whoever investigates. */
  if (is_dir_at (self->dir_fd, att))
    {
      esa_fileutil_rmtree_at (self->failed_fd, att_dst);
      if (renameat (self->dir_fd, att, self->failed_fd, att_dst) != 0)
        esa_fileutil_rmtree_at (self->dir_fd, att);
    }
  esa_fileutil_fsync_fd (self->failed_fd, self->failed_dir, NULL);
  esa_fileutil_fsync_fd (self->dir_fd, self->dir, NULL);
  if (fstatat (self->failed_fd, dst, &st, AT_SYMLINK_NOFOLLOW) == 0)
    r->created_us = (gint64) st.st_mtime * G_USEC_PER_SEC;
  g_mutex_lock (&self->lock);
  index_remove (&self->queued, uuid);
  index_insert (&self->failed, r);
  if (!self->ready)
    {
      /* The scanner's merge keeps this record (it skips uuids already in). */
      self->pending_queued--;
      self->pending_failed++;
    }
  g_mutex_unlock (&self->lock);
}

static void
quarantine (EsaQueue *self, const char *uuid, const char *why)
{
  g_mutex_lock (&self->io_lock);
  quarantine_locked (self, uuid, why);
  g_mutex_unlock (&self->io_lock);
}

/* ---- open: cheap recovery now, the index in a thread ---- */

static gpointer
scan_thread (gpointer user_data)
{
  EsaQueue *self = user_data;
  g_autoptr (GPtrArray) queued = g_ptr_array_new ();
  g_autoptr (GPtrArray) failed = g_ptr_array_new ();

  for (guint i = 0; i < self->scan_queued->len && !g_atomic_int_get (&self->closing); i++)
    {
      const char *uuid = g_ptr_array_index (self->scan_queued, i);
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) env = read_report_envelope (self, uuid, NULL, &error);
      if (env != NULL)
        g_ptr_array_add (queued, rec_from_envelope (uuid, env));
      else if (g_error_matches (error, ESA_ERROR, ESA_ERROR_INVALID_DATA))
        {
quarantine (self, uuid, reason_of (error->message, uuid));
        }
      /* Gone since open (a remove that did not wait for us): nothing to index. */
    }
  for (guint i = 0; i < self->scan_failed->len && !g_atomic_int_get (&self->closing); i++)
    {
      const char *uuid = g_ptr_array_index (self->scan_failed, i);
      g_autofree char *name = json_name (uuid);
      g_autoptr (JsonNode) env = read_envelope_at (self->failed_fd, self->failed_dir, name, NULL);
      Rec *r;
      if (env != NULL)
        r = rec_from_envelope (uuid, env);
      else
        r = rec_new (uuid); /* listed (a "?" entry) rather than hidden */
      g_ptr_array_add (failed, r);
    }
  for (guint i = 0; i < self->scan_corrupt->len && !g_atomic_int_get (&self->closing); i++)
    {
      const char *uuid = g_ptr_array_index (self->scan_corrupt, i);
      g_autofree char *name = g_strdup_printf ("%s.json.corrupt", uuid);
      struct stat st;
      Rec *r = rec_new (uuid);
      r->corrupt = TRUE;
      if (fstatat (self->failed_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
        r->created_us = (gint64) st.st_mtime * G_USEC_PER_SEC;
      g_ptr_array_add (failed, r);
    }

  g_mutex_lock (&self->lock);
  /* Reports enqueued while we scanned are already in; a scanned uuid that is
   * there too is the same report. Then one sort, not 100,000 inserts. */
  for (guint i = 0; i < queued->len; i++)
    {
      Rec *r = g_ptr_array_index (queued, i);
      if (g_hash_table_contains (self->queued.by_uuid, r->uuid))
        g_free (r);
      else
        {
          g_ptr_array_add (self->queued.order, r);
          g_hash_table_add (self->queued.by_uuid, r);
        }
    }
  for (guint i = 0; i < failed->len; i++)
    {
      Rec *r = g_ptr_array_index (failed, i);
      if (g_hash_table_contains (self->failed.by_uuid, r->uuid))
        g_free (r);
      else
        {
          g_ptr_array_add (self->failed.order, r);
          g_hash_table_add (self->failed.by_uuid, r);
        }
    }
  index_compact (&self->queued);
  index_compact (&self->failed);
  g_ptr_array_sort (self->queued.order, rec_cmp);
  g_ptr_array_sort (self->failed.order, rec_cmp);
  self->ready = TRUE;
  g_cond_broadcast (&self->ready_cond);
  g_mutex_unlock (&self->lock);
  g_clear_pointer (&self->scan_queued, g_ptr_array_unref);
  g_clear_pointer (&self->scan_failed, g_ptr_array_unref);
  g_clear_pointer (&self->scan_corrupt, g_ptr_array_unref);
#ifdef __GLIBC__
  /* Parsing 100,000 files leaves freed memory between the index's records:
   * give it back, so esad's size does not remember the scan. */
  malloc_trim (0);
#endif
  return NULL;
}

/* After a crash: clear tmp/, drop attachment folders whose report never
 * committed, and list what the scanner will read. Names only: cheap. */
static gboolean
recover (EsaQueue *self, GError **error)
{
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (GHashTable) committed = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) orphans = g_ptr_array_new_with_free_func (g_free);

  esa_fileutil_rmtree_at (self->dir_fd, "tmp");
  self->tmp_fd = esa_fileutil_open_dir_at (self->dir_fd, self->dir, "tmp", TRUE, 0700, error);
  if (self->tmp_fd < 0)
    return FALSE;

  self->scan_queued = g_ptr_array_new_with_free_func (g_free);
  self->scan_failed = g_ptr_array_new_with_free_func (g_free);
  self->scan_corrupt = g_ptr_array_new_with_free_func (g_free);
  names = list_names (self->dir_fd);
  for (guint i = 0; i < names->len; i++)
    {
      const char *n = g_ptr_array_index (names, i);
      char *uuid = NULL;
      if (g_str_equal (n, "tmp") || g_str_equal (n, "failed") || g_str_equal (n, SPOOL_LOCK_NAME))
        continue;
      if (is_uuid_name (n, ".d", &uuid))
        g_ptr_array_add (orphans, uuid);
      else if (is_uuid_name (n, ".json", &uuid))
        {
          g_ptr_array_add (self->scan_queued, uuid);
          g_hash_table_add (committed, uuid);
        }
      else
        g_warning ("spool: %s/%s: not a report, ignored", self->dir, n);
    }
  for (guint i = 0; i < orphans->len; i++)
    {
      const char *uuid = g_ptr_array_index (orphans, i);
      g_autofree char *att = att_name (uuid);
      g_autofree char *failed_json = json_name (uuid);
      if (g_hash_table_contains (committed, uuid))
        continue;
      /* retry_failed () moves the folder before the report: a crash in
       * between leaves it here while its report is still in failed/. */
      if (exists_at (self->failed_fd, failed_json) && !exists_at (self->failed_fd, att) &&
          renameat (self->dir_fd, att, self->failed_fd, att) == 0)
        g_warning ("spool: %s/%s: moved back to %s/%s (an interrupted retry)", self->dir, att,
                   self->failed_dir, att);
      else
        esa_fileutil_rmtree_at (self->dir_fd, att); /* enqueue died before the commit */
    }

  g_clear_pointer (&names, g_ptr_array_unref);
  names = list_names (self->failed_fd);
  for (guint i = 0; i < names->len; i++)
    {
      const char *n = g_ptr_array_index (names, i);
      char *uuid = NULL;
      if (is_uuid_name (n, ".json", &uuid))
        g_ptr_array_add (self->scan_failed, uuid);
      else if (is_uuid_name (n, ".json.corrupt", &uuid))
        g_ptr_array_add (self->scan_corrupt, uuid);
    }
  self->pending_queued = self->scan_queued->len;
  self->pending_failed = self->scan_failed->len + self->scan_corrupt->len;
  return TRUE;
}

/* One process owns a spool: recover () removes tmp/ and uncommitted attachment
 * folders, which would pull the ground from under another process enqueueing
 * into the same folder (its later enqueues fail, its reports lose their
 * attachments). A POSIX record lock on <spool>/.lock says who owns it; the
 * kernel drops it when the owner dies, so a SIGKILL leaves nothing stale. */
static gboolean
lock_spool (EsaQueue *self, GError **error)
{
  struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
  self->lock_fd = openat (self->dir_fd, SPOOL_LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (self->lock_fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s/%s: %s", self->dir, SPOOL_LOCK_NAME,
                   g_strerror (saved));
      return FALSE;
    }
  if (fcntl (self->lock_fd, F_SETLK, &fl) == 0)
    return TRUE;
  if (errno == EAGAIN || errno == EACCES)
    {
      struct flock who = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
      if (fcntl (self->lock_fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK)
        g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED,
                     "spool %s is in use by another process (pid %ld); one esad per spool", self->dir,
                     (long) who.l_pid);
      else
        g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "spool %s is in use by another process; one esad per spool",
                     self->dir);
      return FALSE;
    }
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "%s/%s: cannot lock: %s", self->dir,
               SPOOL_LOCK_NAME, g_strerror (errno));
  return FALSE;
}

EsaQueue *
esa_queue_open (const char *dir, GError **error)
{
  g_autoptr (EsaQueue) self = g_new0 (EsaQueue, 1);
  g_mutex_init (&self->lock);
  g_mutex_init (&self->io_lock);
  g_cond_init (&self->ready_cond);
  index_init (&self->queued);
  index_init (&self->failed);
  self->dir_fd = self->tmp_fd = self->failed_fd = self->lock_fd = -1;
  self->dir = g_strdup (dir);
  self->tmp_dir = g_build_filename (dir, "tmp", NULL);
  self->failed_dir = g_build_filename (dir, "failed", NULL);
  if (!esa_mkdir_p (dir, 0700, error))
    return NULL;
  /* The spool itself is given by the admin; below it nothing is followed. */
  self->dir_fd = esa_fileutil_open_dir_at (AT_FDCWD, ".", dir, FALSE, 0700, error);
  if (self->dir_fd < 0 || !lock_spool (self, error))
    return NULL;
  self->failed_fd = esa_fileutil_open_dir_at (self->dir_fd, dir, "failed", TRUE, 0700, error);
  if (self->failed_fd < 0 || !recover (self, error))
    return NULL;
  self->scanner = g_thread_new ("esa-spool-scan", scan_thread, self);
  return g_steal_pointer (&self);
}

void
esa_queue_free (EsaQueue *self)
{
  if (self == NULL)
    return;
  g_atomic_int_set (&self->closing, 1);
  if (self->scanner != NULL)
    g_thread_join (self->scanner);
  g_clear_pointer (&self->scan_queued, g_ptr_array_unref);
  g_clear_pointer (&self->scan_failed, g_ptr_array_unref);
  g_clear_pointer (&self->scan_corrupt, g_ptr_array_unref);
  index_clear (&self->queued);
  index_clear (&self->failed);
  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->io_lock);
  g_cond_clear (&self->ready_cond);
  /* the lock goes with its fd: closed last, once nothing touches the spool */
  for (int *fd = &self->tmp_fd; fd <= &self->failed_fd; fd++)
    if (*fd >= 0)
      close (*fd);
  if (self->dir_fd >= 0)
    close (self->dir_fd);
  if (self->lock_fd >= 0)
    close (self->lock_fd);
  g_free (self->dir);
  g_free (self->tmp_dir);
  g_free (self->failed_dir);
  g_free (self);
}

void
esa_queue_wait_ready (EsaQueue *self)
{
  wait_ready (self);
}

guint
esa_queue_count (EsaQueue *self, guint *failed_out)
{
  guint queued, failed;
  g_mutex_lock (&self->lock);
  queued = self->ready ? g_hash_table_size (self->queued.by_uuid) : self->pending_queued;
  failed = self->ready ? g_hash_table_size (self->failed.by_uuid) : self->pending_failed;
  g_mutex_unlock (&self->lock);
  if (failed_out != NULL)
    *failed_out = failed;
  return queued;
}

/* ---- enqueue ---- */

static gboolean
committed (EsaQueue *self, const char *uuid)
{
  g_autofree char *name = json_name (uuid);
  gboolean in_index;
  g_mutex_lock (&self->lock);
  in_index = g_hash_table_contains (self->queued.by_uuid, uuid);
  g_mutex_unlock (&self->lock);
  return in_index || exists_at (self->dir_fd, name);
}

/* Copies the attachments into tmp/<tmp_att>/, hashing them on the way, and
 * notes name, size and SHA-256 in the report's JSON (@ratts). */
static gboolean
copy_attachments (EsaQueue *self, GPtrArray *atts, const char *tmp_att, JsonArray *ratts,
                  GError **error)
{
  g_autofree char *folder = g_build_filename (self->tmp_dir, tmp_att, NULL);
  int fd = esa_fileutil_open_dir_at (self->tmp_fd, self->tmp_dir, tmp_att, TRUE, 0700, error);
  gboolean ok = fd >= 0;
  for (guint i = 0; ok && i < atts->len; i++)
    {
      EsaAttachment *att = g_ptr_array_index (atts, i);
      JsonObject *a = json_array_get_object_element (ratts, i);
      g_autofree char *sha256 = NULL;
      guint64 size = 0;
      ok = esa_fileutil_copy_hash_at (att->path, fd, folder, att->name, 0600, &size, &sha256, error);
      if (ok)
        {
          json_object_set_int_member (a, "size", (gint64) size);
          json_object_set_string_member (a, "sha256", sha256);
        }
    }
  /* The folder's entries must be durable before the folder is published. */
  if (ok)
    ok = esa_fileutil_fsync_fd (fd, folder, error);
  if (fd >= 0)
    close (fd);
  return ok;
}

gboolean
esa_queue_holds (EsaQueue *self, const char *uuid)
{
  g_autofree char *name = json_name (uuid);
  g_autofree char *corrupt = g_strconcat (name, ".corrupt", NULL);
  return committed (self, uuid) || exists_at (self->failed_fd, name) || exists_at (self->failed_fd, corrupt);
}

gboolean
esa_queue_enqueue (EsaQueue *self, EsaReport *report, GError **error)
{
  return esa_queue_enqueue_full (self, report, NULL, NULL, error);
}

gboolean
esa_queue_enqueue_full (EsaQueue *self, EsaReport *report, EsaQueueCommittedFunc on_committed,
                        gpointer user_data, GError **error)
{
  const char *uuid = esa_report_get_uuid (report);
  GPtrArray *atts = esa_report_get_attachments (report);
  g_autoptr (JsonNode) rnode = NULL;
  g_autoptr (JsonNode) env = NULL;
  g_autofree char *rnd = g_uuid_string_random ();
  g_autofree char *tmp_att = g_strdup_printf ("%s.d.%s", uuid, rnd);
  g_autofree char *tmp_json = g_strdup_printf ("%s.json.%s", uuid, rnd);
  g_autofree char *final_json = json_name (uuid);
  g_autofree char *final_att = att_name (uuid);
  g_autofree char *text = NULL;
  JsonObject *root;
  JsonArray *ratts;
  Rec *r;

  if (committed (self, uuid))
    {
      /* enqueue is idempotent */
      if (on_committed != NULL)
        on_committed (self, uuid, user_data);
      return TRUE;
    }

  /* Everything slow happens in tmp/ under names of our own, with no lock
   * held: status and listing answer while a 200 MiB snap is copied. */
  rnode = esa_report_to_json (report);
  ratts = json_object_get_array_member (json_node_get_object (rnode), "attachments");
  if (atts->len > 0 && !copy_attachments (self, atts, tmp_att, ratts, error))
    {
      esa_fileutil_rmtree_at (self->tmp_fd, tmp_att);
      return FALSE;
    }
  /* Attachment paths in the spool are relative to <uuid>.d. */
  for (guint i = 0; i < json_array_get_length (ratts); i++)
    {
      JsonObject *a = json_array_get_object_element (ratts, i);
      json_object_set_string_member (a, "path", json_object_get_string_member (a, "name"));
    }
  env = json_node_new (JSON_NODE_OBJECT);
  root = json_object_new ();
  json_object_set_member (root, "report", json_node_ref (rnode));
  json_object_set_object_member (root, "delivery", json_object_new ());
  json_node_take_object (env, root);
  text = json_to_string (env, FALSE);
  if (!esa_fileutil_write_at (self->tmp_fd, self->tmp_dir, tmp_json, self->tmp_fd, text, strlen (text),
                              0600, FALSE, error))
    {
      esa_fileutil_rmtree_at (self->tmp_fd, tmp_att);
      return FALSE;
    }

  /* The commit: two renames. */
  g_mutex_lock (&self->io_lock);
  if (committed (self, uuid))
    {
      if (on_committed != NULL)
        on_committed (self, uuid, user_data);
      g_mutex_unlock (&self->io_lock);
      esa_fileutil_rmtree_at (self->tmp_fd, tmp_att);
      unlinkat (self->tmp_fd, tmp_json, 0);
      return TRUE;
    }
  esa_fileutil_rmtree_at (self->dir_fd, final_att);
  if ((atts->len > 0 && renameat (self->tmp_fd, tmp_att, self->dir_fd, final_att) != 0) ||
      renameat (self->tmp_fd, tmp_json, self->dir_fd, final_json) != 0)
    {
      int e = errno;
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "cannot move report %s into %s: %s", uuid,
                   self->dir, g_strerror (e));
      esa_fileutil_rmtree_at (self->dir_fd, final_att);
      esa_fileutil_rmtree_at (self->tmp_fd, tmp_att);
      unlinkat (self->tmp_fd, tmp_json, 0);
      g_mutex_unlock (&self->io_lock);
      return FALSE;
    }
  /* Committed, not yet visible to the sender: the caller's note of it
   * (an event run's record) is on disk before the report can be sent. */
  if (on_committed != NULL)
    {
      /* durable first: a note saying "queued" must never outlive its report */
      g_autoptr (GError) local = NULL;
      if (esa_fileutil_fsync_fd (self->dir_fd, self->dir, &local))
        on_committed (self, uuid, user_data);
      else
        g_warning ("report %s: %s", uuid, local->message);
    }
  r = rec_from_envelope (uuid, env);
  g_mutex_lock (&self->lock);
  index_insert (&self->queued, r);
  if (!self->ready)
    self->pending_queued++;
  g_mutex_unlock (&self->lock);
  g_mutex_unlock (&self->io_lock);
  return esa_fileutil_fsync_fd (self->dir_fd, self->dir, error);
}

/* ---- listing ---- */

/* The whole entry, read from its file: NULL if it is gone (or was found
 * corrupt and quarantined, with a warning). */
static EsaQueueEntry *
read_entry (EsaQueue *self, gboolean failed, const Rec *snapshot)
{
  int folder_fd = failed ? self->failed_fd : self->dir_fd;
  const char *folder = failed ? self->failed_dir : self->dir;
  const char *uuid = snapshot->uuid;
  g_autofree char *name = NULL;
  g_autofree char *att = NULL;
  g_autoptr (JsonNode) env = NULL;
  g_autoptr (GError) error = NULL;
  EsaQueueEntry *e;

  if (snapshot->corrupt)
    {
      g_autofree char *reason_name = g_strdup_printf ("%s.reason", uuid);
      gsize len = 0;
      g_autofree char *why = read_at (self->failed_fd, folder, reason_name, 4096, &len, NULL);
      name = g_strdup_printf ("%s.json.corrupt", uuid);
      att = g_strdup_printf ("%s.d.corrupt", uuid);
      if (!exists_at (folder_fd, name))
        return NULL;
      e = entry_from_rec (snapshot);
      e->corrupt = TRUE;
      e->failed_reason = g_strdup_printf ("spool file corrupt: %s", why ? g_strstrip (why) : "reason not recorded");
      e->size = tree_size_at (folder_fd, name) + tree_size_at (folder_fd, att);
      return e;
    }
  name = json_name (uuid);
  att = att_name (uuid);
  env = read_envelope_at (folder_fd, folder, name, &error);
  if (env == NULL)
    {
      if (!failed && g_error_matches (error, ESA_ERROR, ESA_ERROR_INVALID_DATA))
        quarantine (self, uuid, reason_of (error->message, uuid));
      else if (g_error_matches (error, ESA_ERROR, ESA_ERROR_INVALID_DATA))
        {
          /* A rejected report whose file went bad: listed, with what is wrong. */
          e = entry_from_rec (snapshot);
          e->failed_reason = g_strdup (error->message);
          return e;
        }
      return NULL;
    }
  {
    JsonObject *root = json_node_get_object (env);
    JsonObject *report = json_object_get_object_member (root, "report");
    JsonObject *delivery = delivery_of (env);
    JsonObject *f = esa_json_peek_object (root, "failed");
    e = g_new0 (EsaQueueEntry, 1);
    e->uuid = g_strdup (uuid);
    /* Spool files are outside input too: a member of the wrong type reads as absent. */
    e->kind = g_strdup (esa_json_peek_string (report, "kind") ?: "?");
    e->plugin = g_strdup (esa_json_peek_string (report, "plugin") ?: "?");
    e->created = g_strdup (esa_json_peek_string (report, "created") ?: "");
    e->created_us = snapshot->created_us;
    e->attempts = (guint) CLAMP (esa_json_peek_int (delivery, "attempts", 0), 0, G_MAXUINT);
    e->next_attempt = esa_json_peek_int (delivery, "next_attempt", 0);
    e->last_error = g_strdup (esa_json_peek_string (delivery, "last_error"));
    e->failed_reason = g_strdup (esa_json_peek_string (f, "reason"));
    e->size = tree_size_at (folder_fd, name) + tree_size_at (folder_fd, att);
  }
  return e;
}

/* Copies of the records at [offset, offset + limit) of @idx (live ones). */
static GArray *
snapshot_page (EsaQueue *self, Index *idx, guint offset, guint limit, guint *total_out)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (Rec));
  guint seen = 0;
  g_mutex_lock (&self->lock);
  wait_ready_locked (self);
  for (guint i = 0; i < idx->order->len && out->len < limit; i++)
    {
      const Rec *r = g_ptr_array_index (idx->order, i);
      if (r->dead)
        continue;
      if (seen++ >= offset)
        g_array_append_vals (out, r, 1);
    }
  if (total_out != NULL)
    *total_out = g_hash_table_size (idx->by_uuid);
  g_mutex_unlock (&self->lock);
  return out;
}

GPtrArray *
esa_queue_list_page (EsaQueue *self, gboolean failed, guint offset, guint limit, guint *total_out)
{
  g_autoptr (GArray) page = snapshot_page (self, failed ? &self->failed : &self->queued, offset, limit,
                                           total_out);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) esa_queue_entry_free);
  /* The files are read with no lock held. */
  for (guint i = 0; i < page->len; i++)
    {
      EsaQueueEntry *e = read_entry (self, failed, &g_array_index (page, Rec, i));
      if (e != NULL)
        g_ptr_array_add (out, e);
    }
  return out;
}

GPtrArray *
esa_queue_list (EsaQueue *self)
{
  return esa_queue_list_page (self, FALSE, 0, G_MAXUINT, NULL);
}

GPtrArray *
esa_queue_list_failed (EsaQueue *self)
{
  return esa_queue_list_page (self, TRUE, 0, G_MAXUINT, NULL);
}

GPtrArray *
esa_queue_list_brief (EsaQueue *self, const EsaQueueEntry *after, guint limit)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) esa_queue_entry_free);
  guint i;
  g_mutex_lock (&self->lock);
  wait_ready_locked (self);
  i = after != NULL ? index_upper_bound (&self->queued, after->created_us, after->uuid) : 0;
  for (; i < self->queued.order->len && out->len < limit; i++)
    {
      const Rec *r = g_ptr_array_index (self->queued.order, i);
      if (!r->dead)
        g_ptr_array_add (out, entry_from_rec (r));
    }
  g_mutex_unlock (&self->lock);
  return out;
}

/* ---- one report ---- */

static gboolean
check_uuid (const char *uuid, GError **error)
{
  if (g_uuid_string_is_valid (uuid))
    return TRUE;
  g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "\"%s\" is not a report id (expected a UUID)", uuid);
  return FALSE;
}

/* Reads a queued report's envelope for a change; a bad file is quarantined.
 * Called with io_lock held. */
static JsonNode *
load_queued_locked (EsaQueue *self, const char *uuid, EsaReport **report_out, GError **error)
{
  g_autoptr (GError) local = NULL;
  JsonNode *env;
  if (!check_uuid (uuid, error))
    return NULL;
  env = read_report_envelope (self, uuid, report_out, &local);
  if (env != NULL)
    return env;
  if (g_error_matches (local, ESA_ERROR, ESA_ERROR_NOT_FOUND))
    g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "report %s is not in %s", uuid, self->dir);
  else
    {
      if (g_error_matches (local, ESA_ERROR, ESA_ERROR_INVALID_DATA))
        quarantine_locked (self, uuid, reason_of (local->message, uuid));
      g_propagate_error (error, g_steal_pointer (&local));
    }
  return NULL;
}

EsaReport *
esa_queue_load (EsaQueue *self, const char *uuid, EsaQueueEntry **entry_out, GError **error)
{
  g_autoptr (JsonNode) env = NULL;
  g_autofree char *adir = NULL;
  EsaReport *report = NULL;
  GPtrArray *atts;
  wait_ready (self);
  g_mutex_lock (&self->io_lock);
  env = load_queued_locked (self, uuid, &report, error);
  g_mutex_unlock (&self->io_lock);
  if (env == NULL)
    return NULL;
  adir = g_build_filename (self->dir, att_name (uuid), NULL);
  atts = esa_report_get_attachments (report);
  for (guint i = 0; i < atts->len; i++)
    {
      EsaAttachment *att = g_ptr_array_index (atts, i);
      g_free (att->path);
      att->path = g_build_filename (adir, att->name, NULL);
    }
  if (entry_out != NULL)
    {
      Rec *r = rec_from_envelope (uuid, env);
      Rec snapshot = *r;
      g_free (r);
      *entry_out = read_entry (self, FALSE, &snapshot);
      if (*entry_out == NULL)
        *entry_out = entry_from_rec (&snapshot);
    }
  return report;
}

gboolean
esa_queue_remove (EsaQueue *self, const char *uuid, GError **error)
{
  g_autofree char *json = NULL;
  g_autofree char *adir = NULL;
  /* Only ever a name inside the spool ("../x" would delete outside it). */
  if (!check_uuid (uuid, error))
    return FALSE;
  wait_ready (self);
  json = json_name (uuid);
  adir = att_name (uuid);
  g_mutex_lock (&self->io_lock);
  /* The .json goes first: without it the folder is an orphan that open () clears. */
  if (unlinkat (self->dir_fd, json, 0) != 0 && errno != ENOENT)
    {
      int e = errno;
      g_mutex_unlock (&self->io_lock);
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "cannot remove %s/%s: %s", self->dir, json,
                   g_strerror (e));
      return FALSE;
    }
  esa_fileutil_rmtree_at (self->dir_fd, adir);
  g_mutex_lock (&self->lock);
  index_remove (&self->queued, uuid);
  g_mutex_unlock (&self->lock);
  g_mutex_unlock (&self->io_lock);
  return esa_fileutil_fsync_fd (self->dir_fd, self->dir, error);
}

gboolean
esa_queue_reschedule (EsaQueue *self, const char *uuid, const char *reason, gint64 next_attempt,
                      GError **error)
{
  g_autoptr (JsonNode) env = NULL;
  JsonObject *d;
  gboolean ok;
  wait_ready (self);
  g_mutex_lock (&self->io_lock);
  env = load_queued_locked (self, uuid, NULL, error);
  if (env == NULL)
    {
      g_mutex_unlock (&self->io_lock);
      return FALSE;
    }
  d = delivery_of (env);
  json_object_set_int_member (d, "attempts", esa_json_peek_int (d, "attempts", 0) + 1);
  json_object_set_int_member (d, "next_attempt", next_attempt);
  json_object_set_string_member (d, "last_error", reason);
  ok = write_envelope (self, self->dir_fd, self->dir, uuid, env, error);
  if (ok)
    {
      g_mutex_lock (&self->lock);
      index_insert (&self->queued, rec_from_envelope (uuid, env));
      g_mutex_unlock (&self->lock);
    }
  g_mutex_unlock (&self->io_lock);
  return ok;
}

/* Moves <uuid>.json (+ .d) from one folder to another, folder first.
 * Called with io_lock held. */
static gboolean
move_report (EsaQueue *self, int from_fd, const char *from, int to_fd, const char *to,
             const char *uuid, JsonNode *env, GError **error)
{
  g_autofree char *att = att_name (uuid);
  g_autofree char *json = json_name (uuid);
  if (is_dir_at (from_fd, att))
    {
      esa_fileutil_rmtree_at (to_fd, att);
      if (renameat (from_fd, att, to_fd, att) != 0)
        {
          int e = errno;
          g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "cannot move %s/%s: %s", from, att, g_strerror (e));
          return FALSE;
        }
    }
  if (!write_envelope (self, to_fd, to, uuid, env, error))
    return FALSE;
  unlinkat (from_fd, json, 0);
  return esa_fileutil_fsync_fd (from_fd, from, error);
}

gboolean
esa_queue_fail (EsaQueue *self, const char *uuid, const char *reason, GError **error)
{
  g_autoptr (JsonNode) env = NULL;
  g_autoptr (JsonObject) failed = json_object_new ();
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *at = g_date_time_format_iso8601 (now);
  gboolean ok;
  wait_ready (self);
  g_mutex_lock (&self->io_lock);
  env = load_queued_locked (self, uuid, NULL, error);
  if (env == NULL)
    {
      g_mutex_unlock (&self->io_lock);
      return FALSE;
    }
  json_object_set_string_member (failed, "reason", reason);
  json_object_set_string_member (failed, "at", at);
  json_object_set_object_member (json_node_get_object (env), "failed", g_steal_pointer (&failed));
  ok = move_report (self, self->dir_fd, self->dir, self->failed_fd, self->failed_dir, uuid, env, error);
  if (ok)
    {
      g_mutex_lock (&self->lock);
      index_remove (&self->queued, uuid);
      index_insert (&self->failed, rec_from_envelope (uuid, env));
      g_mutex_unlock (&self->lock);
    }
  g_mutex_unlock (&self->io_lock);
  return ok;
}

/* A quarantined file put back: only once it reads as a whole report again
 * (the admin repaired it); otherwise it stays where it is, with the reason. */
static gboolean
retry_corrupt_locked (EsaQueue *self, const char *uuid, GError **error)
{
  g_autofree char *name = g_strdup_printf ("%s.json.corrupt", uuid);
  g_autofree char *att = g_strdup_printf ("%s.d.corrupt", uuid);
  g_autofree char *reason_name = g_strdup_printf ("%s.reason", uuid);
  g_autofree char *final_att = att_name (uuid);
  g_autoptr (GError) local = NULL;
  g_autoptr (JsonNode) env = read_envelope_at (self->failed_fd, self->failed_dir, name, &local);
  g_autoptr (EsaReport) report = NULL;
  if (env != NULL)
    report = esa_report_new_from_json (json_object_get_member (json_node_get_object (env), "report"), &local);
  if (report != NULL && g_strcmp0 (esa_report_get_uuid (report), uuid) != 0)
    g_set_error (&local, ESA_ERROR, ESA_ERROR_INVALID_DATA, "file name and report uuid differ");
  if (report == NULL || local != NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "report %s is still corrupt (%s): repair or delete %s/%s", uuid, local->message,
                   self->failed_dir, name);
      return FALSE;
    }
  if (is_dir_at (self->failed_fd, att))
    {
      esa_fileutil_rmtree_at (self->dir_fd, final_att);
      if (renameat (self->failed_fd, att, self->dir_fd, final_att) != 0)
        {
          int e = errno;
          g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "cannot move %s/%s: %s", self->failed_dir, att,
                       g_strerror (e));
          return FALSE;
        }
    }
  json_object_remove_member (json_node_get_object (env), "failed");
  json_object_set_object_member (json_node_get_object (env), "delivery", json_object_new ());
  if (!write_envelope (self, self->dir_fd, self->dir, uuid, env, error))
    return FALSE;
  unlinkat (self->failed_fd, name, 0);
  unlinkat (self->failed_fd, reason_name, 0);
  g_mutex_lock (&self->lock);
  index_remove (&self->failed, uuid);
  index_insert (&self->queued, rec_from_envelope (uuid, env));
  g_mutex_unlock (&self->lock);
  return esa_fileutil_fsync_fd (self->failed_fd, self->failed_dir, error);
}

gboolean
esa_queue_retry_failed (EsaQueue *self, const char *uuid, GError **error)
{
  g_autoptr (JsonNode) env = NULL;
  g_autofree char *name = NULL;
  g_autofree char *corrupt = NULL;
  g_autoptr (GError) local = NULL;
  gboolean ok;
  if (!check_uuid (uuid, error))
    return FALSE;
  wait_ready (self);
  name = json_name (uuid);
  corrupt = g_strdup_printf ("%s.json.corrupt", uuid);
  g_mutex_lock (&self->io_lock);
  if (!exists_at (self->failed_fd, name) && exists_at (self->failed_fd, corrupt))
    {
      ok = retry_corrupt_locked (self, uuid, error);
      g_mutex_unlock (&self->io_lock);
      return ok;
    }
  env = read_envelope_at (self->failed_fd, self->failed_dir, name, &local);
  if (env == NULL)
    {
      g_mutex_unlock (&self->io_lock);
      if (g_error_matches (local, ESA_ERROR, ESA_ERROR_NOT_FOUND))
        g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "report %s is not in %s", uuid, self->failed_dir);
      else
        g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  json_object_remove_member (json_node_get_object (env), "failed");
  json_object_set_object_member (json_node_get_object (env), "delivery", json_object_new ());
  ok = move_report (self, self->failed_fd, self->failed_dir, self->dir_fd, self->dir, uuid, env, error);
  if (ok)
    {
      g_mutex_lock (&self->lock);
      index_remove (&self->failed, uuid);
      index_insert (&self->queued, rec_from_envelope (uuid, env));
      g_mutex_unlock (&self->lock);
    }
  g_mutex_unlock (&self->io_lock);
  return ok;
}
