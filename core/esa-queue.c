/* esa-queue.c: the persistent spool (DESIGN.md "Queue").
 *
 * Layout under the spool folder:
 *   <key>-<uuid>.json  the report plus its delivery state; its presence commits the
 *                      report. <key> is the report's creation time in UTC to the
 *                      microsecond (20261126T171449.123456Z): the names sort in
 *                      sending order, oldest first
 *   <uuid>.json        the same, as esad wrote it before issue 13 (renamed at open)
 *   <uuid>.d/          its attachments (renamed in place before the .json is written)
 *   tmp/               half-written files; emptied at open
 *   failed/            reports the SDC rejected, with the reason (<uuid>.json); and
 *                      reports that could not be read: <uuid>.json.corrupt
 *                      (+ .d.corrupt) with <uuid>.reason
 * A crash at any point leaves each report either whole or absent.
 *
 * Every file operation is relative to the folders' fds and never follows a
 * symlink at a name (esa-fileutil.h): whoever can plant a link in the spool
 * cannot turn esad's writes or deletes elsewhere.
 *
 * Memory (issue 13): nothing held in memory grows with the queue. The counts
 * come from one pass over the names at open and are kept on every change.
 * The sender walks a window: every queued name in (lo, hi], at most
 * window_cap of them, found by a pass over the folder's names that keeps the
 * smallest in a bounded heap, refilled the same way when the walk passes hi.
 * The window grows with the queue (a quarter of it, 512 to 4,096 names), so
 * a drain reads ~4 names per report sent up to 16,000 queued and ~13 at
 * 100,000 (a fixed 512 read n/1,024: 98 at 100,000).
 * A listing page is such a pass with a heap of offset + limit, in the
 * caller's thread. Files are read only for the entries returned. An id
 * given alone (load, remove …) is found from the window, a small cache of
 * the names listed last, the old name, or else a pass over the names.
 * Opening reads names only; a thread then removes attachment folders whose
 * report never committed and renames reports of the old form.
 *
 * Locks: @io_lock serialises the renames that add, move or remove a report's
 * files (and is held over a window refill, so the window misses none of
 * them); @lock guards counts, window and cache, never held across I/O.
 * Copying attachments holds neither. */
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
#include <time.h>
#include <unistd.h>

/* A spooled report is JSON written by us; anything bigger is not ours. */
#define SPOOL_LOCK_NAME ".lock"
#define MAX_ENVELOPE_BYTES ESA_JSON_MAX_BYTES_DEFAULT

/* "20261126T171449.123456Z-" then the uuid. */
#define KEY_STAMP_LEN 24
#define KEY_LEN (KEY_STAMP_LEN + 36)
/* The sender's window: a quarter of the queue, from 512 names (~31 KiB) to
 * 4,096 (~250 KiB), chosen at each refill; a refill is one pass over the
 * folder's names (about 20 ms for 100,000 here), so the names read per
 * report sent stay about the same until the cap (docs/performance.md,
 * "drain"). */
#define WINDOW_MIN 512
#define WINDOW_MAX 4096
#define WINDOW_SHARE 4
/* Names of entries listed last (a listing page, a sender's batch): the ids
 * a caller asks for next. Emptied when full. */
#define RECENT_MAX 1024
/* Attachment folders checked for their report per pass at open. */
#define ORPHAN_CHUNK 8192

typedef struct {
  char key[KEY_LEN + 1];  /* the sort key: <stamp>-<uuid> */
  guint8 legacy;          /* the file is <uuid>.json (the old form; failed/ always) */
  guint8 corrupt;         /* failed/ only: <uuid>.json.corrupt */
  guint8 gone;            /* window only: left the queue (dropped at the next compaction) */
} Slot;

#define SLOT_UUID(s) ((s)->key + KEY_STAMP_LEN)

struct _EsaQueue {
  char *dir;
  char *tmp_dir;
  char *failed_dir;
  int dir_fd;
  int lock_fd;           /* holds the spool's lock (lock_spool) */
  int tmp_fd;
  int failed_fd;
  GMutex lock;            /* counts, window, recent, ready */
  GMutex io_lock;         /* renames and rewrites of report files */
  GCond ready_cond;
  gboolean ready;         /* the tidying after open has finished */
  gint closing;
  guint n_queued;
  guint n_failed;
  gboolean has_legacy;    /* reports of the old form were found at open */
  gboolean has_folders;   /* attachment folders were found at open */
  GArray *window;         /* Slot: every queued report with lo < key <= hi, ascending */
  gboolean window_valid;
  gboolean window_to_end; /* hi is past the last report */
  char window_lo[KEY_LEN + 1];
  char window_hi[KEY_LEN + 1];
  guint window_cap;       /* the window's size at its last refill */
  guint window_gone;      /* slots of the window marked gone */
  guint64 names_read;     /* names the passes over the folder have read */
  GHashTable *recent;     /* uuid (inside the value) -> key */
  GThread *tidier;
  GMutex sync_lock;       /* the removals' folder sync (sync_removal) */
  GCond sync_cond;
  guint64 removed;        /* removals unlinked so far */
  guint64 synced;         /* of those, how many a finished fsync covers */
  gboolean syncing;       /* an fsync of the folder is running */
  guint64 removal_syncs;  /* fsyncs of the folder run for removals (tests read it) */
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

/* ---- keys ---- */

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

/* The sort key of the report created at @created_us: a fixed-width UTC stamp,
 * so that names compare as times (then as uuids). */
static void
make_key (gint64 created_us, const char *uuid, char key[KEY_LEN + 1])
{
  /* 9999-12-31T23:59:59.999999Z: the last time four digits of year can write */
  gint64 us = CLAMP (created_us, 0, G_GINT64_CONSTANT (253402300799999999));
  time_t secs = (time_t) (us / G_USEC_PER_SEC);
  struct tm tm;
  gmtime_r (&secs, &tm);
  g_snprintf (key, KEY_LEN + 1, "%04d%02d%02dT%02d%02d%02d.%06dZ-%.36s", tm.tm_year + 1900, tm.tm_mon + 1,
              tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (us % G_USEC_PER_SEC), uuid);
}

/* The time a key stands for (for an entry whose file cannot say). */
static gint64
key_created_us (const char *key)
{
  int y, mo, d, h, mi, s, us;
  g_autoptr (GDateTime) dt = NULL;
  if (sscanf (key, "%4d%2d%2dT%2d%2d%2d.%6dZ", &y, &mo, &d, &h, &mi, &s, &us) != 7 ||
      (dt = g_date_time_new_utc (y, mo, d, h, mi, s)) == NULL)
    return 0;
  return g_date_time_to_unix (dt) * G_USEC_PER_SEC + us;
}

/* g_uuid_string_is_valid () for the first 36 bytes of @s, inline: a pass
 * over 100,000 names spent a quarter of its time in the GLib one. */
static gboolean
uuid_prefix_valid (const char *s)
{
  for (guint i = 0; i < 36; i++)
    if ((i == 8 || i == 13 || i == 18 || i == 23) ? s[i] != '-' : !g_ascii_isxdigit (s[i]))
      return FALSE;
  return TRUE;
}

/* @name is <key><suffix> (a report's file in the new form): the key into @key. */
static gboolean
is_key_name (const char *name, const char *suffix, char key[KEY_LEN + 1])
{
  gsize len = strlen (name);
  if (len != KEY_LEN + strlen (suffix) || strcmp (name + KEY_LEN, suffix) != 0)
    return FALSE;
  for (guint i = 0; i < KEY_STAMP_LEN; i++)
    {
      char c = name[i];
      gboolean ok = i == 8 ? c == 'T' : i == 15 ? c == '.' : i == 22 ? c == 'Z' : i == 23 ? c == '-'
                                                                                         : g_ascii_isdigit (c);
      if (!ok)
        return FALSE;
    }
  if (!uuid_prefix_valid (name + KEY_STAMP_LEN))
    return FALSE;
  if (key != NULL)
    {
      memcpy (key, name, KEY_LEN);
      key[KEY_LEN] = '\0';
    }
  return TRUE;
}

static char *
key_json_name (const char *key)
{
  return g_strdup_printf ("%s.json", key);
}

static gint
slot_cmp (gconstpointer a, gconstpointer b)
{
  return strcmp (((const Slot *) a)->key, ((const Slot *) b)->key);
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

/* The envelope of queued report @uuid in the file @name, checked as a whole
 * report (what the sender will need): a file that passes this can be sent. */
static JsonNode *
read_report_envelope (EsaQueue *self, const char *name, const char *uuid, EsaReport **report_out,
                      GError **error)
{
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
write_envelope (EsaQueue *self, int dirfd, const char *folder, const char *name, JsonNode *env,
                GError **error)
{
  g_autofree char *text = esa_json_to_string (env, FALSE);
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

/* A folder of the spool read from its start through a new open file
 * description (a dup () would share the offset with every other reader). */
static DIR *
open_stream (int dirfd)
{
  int fd = openat (dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  if (d == NULL && fd >= 0)
    close (fd);
  return d;
}

static gboolean
is_dot (const char *name)
{
  return g_str_equal (name, ".") || g_str_equal (name, "..");
}

/* ---- the window, the recent names, the counts (under @lock) ---- */

/* The first window position whose key sorts after @key. */
static guint
window_after (EsaQueue *self, const char *key)
{
  guint lo = 0, hi = self->window->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (strcmp (g_array_index (self->window, Slot, mid).key, key) <= 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

/* Drops the slots marked gone: O(window), once per as many removals as
 * the window has live slots, so a removal costs O(1) amortized (removing
 * from the front of a 4,096-name array moved ~250 KiB each time). */
static void
window_compact_locked (EsaQueue *self)
{
  guint w = 0;
  for (guint i = 0; i < self->window->len; i++)
    if (!g_array_index (self->window, Slot, i).gone)
      g_array_index (self->window, Slot, w++) = g_array_index (self->window, Slot, i);
  g_array_set_size (self->window, w);
  self->window_gone = 0;
}

/* A report came into the queue: into the window if its key is in the range
 * the window covers (which shrinks by its last name when it is full). */
static void
window_add_locked (EsaQueue *self, const char *key)
{
  Slot s = { 0 };
  guint at;
  if (!self->window_valid || strcmp (key, self->window_lo) <= 0 ||
      (!self->window_to_end && strcmp (key, self->window_hi) > 0))
    return;
  at = window_after (self, key);
  if (at > 0 && g_str_equal (g_array_index (self->window, Slot, at - 1).key, key))
    {
      Slot *back = &g_array_index (self->window, Slot, at - 1);
      if (back->gone)
        {
          back->gone = FALSE;
          self->window_gone--;
        }
      return;
    }
  g_strlcpy (s.key, key, sizeof s.key);
  g_array_insert_vals (self->window, at, &s, 1);
  if (self->window->len > self->window_cap)
    window_compact_locked (self);
  if (self->window->len > self->window_cap)
    {
      g_array_set_size (self->window, self->window_cap);
      self->window_to_end = FALSE;
      g_strlcpy (self->window_hi, g_array_index (self->window, Slot, self->window_cap - 1).key,
                 sizeof self->window_hi);
    }
}

static void
recent_add_locked (EsaQueue *self, const char *key)
{
  char *v;
  if (g_hash_table_size (self->recent) >= RECENT_MAX)
    g_hash_table_remove_all (self->recent);
  v = g_strdup (key);
  g_hash_table_replace (self->recent, v + KEY_STAMP_LEN, v);
}

/* The window's slot of @uuid, NULL if it has none: found by its key when
 * the recent names know it (the sender's: a binary search, not a scan of up
 * to 4,096 slots per load and removal). */
static Slot *
window_find_locked (EsaQueue *self, const char *uuid)
{
  const char *k = g_hash_table_lookup (self->recent, uuid);
  if (k != NULL)
    {
      guint at = window_after (self, k);
      if (at > 0 && g_str_equal (g_array_index (self->window, Slot, at - 1).key, k))
        {
          Slot *s = &g_array_index (self->window, Slot, at - 1);
          return s->gone ? NULL : s;
        }
    }
  for (guint i = 0; i < self->window->len; i++)
    {
      Slot *s = &g_array_index (self->window, Slot, i);
      if (!s->gone && g_str_equal (SLOT_UUID (s), uuid))
        return s;
    }
  return NULL;
}

/* A report left the queue (delivered, failed, quarantined). */
static void
forget_locked (EsaQueue *self, const char *uuid)
{
  Slot *s = window_find_locked (self, uuid);
  if (s != NULL)
    {
      s->gone = TRUE;
      if (++self->window_gone > self->window->len / 2)
        window_compact_locked (self);
    }
  g_hash_table_remove (self->recent, uuid);
}

/* The key of queued report @uuid if the window or the recent names know it. */
static gboolean
known_key (EsaQueue *self, const char *uuid, char key[KEY_LEN + 1])
{
  const char *k;
  g_mutex_lock (&self->lock);
  k = g_hash_table_lookup (self->recent, uuid);
  if (k == NULL)
    {
      Slot *s = window_find_locked (self, uuid);
      k = s != NULL ? s->key : NULL;
    }
  if (k != NULL)
    g_strlcpy (key, k, KEY_LEN + 1);
  g_mutex_unlock (&self->lock);
  return k != NULL;
}

static void
count_move (EsaQueue *self, int queued, int failed)
{
  g_mutex_lock (&self->lock);
  /* Files planted by hand were never counted: never below zero. */
  self->n_queued = queued < 0 && self->n_queued == 0 ? 0 : self->n_queued + (guint) queued;
  self->n_failed = failed < 0 && self->n_failed == 0 ? 0 : self->n_failed + (guint) failed;
  g_mutex_unlock (&self->lock);
}

guint64
esa_queue_removal_syncs (EsaQueue *self)
{
  guint64 n;
  g_mutex_lock (&self->sync_lock);
  n = self->removal_syncs;
  g_mutex_unlock (&self->sync_lock);
  return n;
}

guint64
esa_queue_names_read (EsaQueue *self)
{
  guint64 n;
  g_mutex_lock (&self->lock);
  n = self->names_read;
  g_mutex_unlock (&self->lock);
  return n;
}

guint
esa_queue_held_records (EsaQueue *self)
{
  guint n;
  g_mutex_lock (&self->lock);
  n = self->window->len + g_hash_table_size (self->recent);
  g_mutex_unlock (&self->lock);
  return n;
}

/* ---- finding a report's file ---- */

/* The key of the report in @name of @folder_fd, read from the file; its
 * modification time when it cannot be read (it is listed, and quarantined
 * when its turn comes). */
static void
key_from_file (int folder_fd, const char *folder, const char *name, const char *uuid, char key[KEY_LEN + 1])
{
  g_autoptr (JsonNode) env = read_envelope_at (folder_fd, folder, name, NULL);
  struct stat st;
  gint64 created_us = 0;
  if (env != NULL)
    created_us = parse_created_us (
        esa_json_peek_string (esa_json_peek_object (json_node_get_object (env), "report"), "created"));
  else if (fstatat (folder_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    created_us = (gint64) st.st_mtime * G_USEC_PER_SEC;
  make_key (created_us, uuid, key);
}

/* Is @name a report of the queue (or of failed/)? Its slot into @s. */
static gboolean
slot_of_name (EsaQueue *self, gboolean failed, const char *name, Slot *s)
{
  g_autofree char *uuid = NULL;
  int folder_fd = failed ? self->failed_fd : self->dir_fd;
  const char *folder = failed ? self->failed_dir : self->dir;
  memset (s, 0, sizeof *s);
  if (!failed && is_key_name (name, ".json", s->key))
    return TRUE;
  if (is_uuid_name (name, ".json", &uuid))
    {
      s->legacy = TRUE;
      key_from_file (folder_fd, folder, name, uuid, s->key);
      return TRUE;
    }
  if (failed && is_uuid_name (name, ".json.corrupt", &uuid))
    {
      struct stat st;
      s->corrupt = TRUE;
      make_key (fstatat (folder_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? (gint64) st.st_mtime * G_USEC_PER_SEC : 0,
                uuid, s->key);
      return TRUE;
    }
  return FALSE;
}

static char *
slot_file_name (const Slot *s)
{
  if (s->corrupt)
    return g_strdup_printf ("%s.json.corrupt", SLOT_UUID (s));
  return s->legacy ? json_name (SLOT_UUID (s)) : key_json_name (s->key);
}

/* One heap step: keeps the @max smallest slots offered (@sign 1: a max-heap)
 * or the @max largest (@sign -1: a min-heap). */
static void
heap_offer (GArray *heap, guint max, const Slot *s, int sign)
{
  Slot *h;
  guint i;
  if (max == 0)
    return;
  if (heap->len < max)
    {
      g_array_append_vals (heap, s, 1);
      h = (Slot *) (void *) heap->data;
      for (i = heap->len - 1; i > 0 && sign * strcmp (h[(i - 1) / 2].key, h[i].key) < 0; i = (i - 1) / 2)
        {
          Slot t = h[i];
          h[i] = h[(i - 1) / 2];
          h[(i - 1) / 2] = t;
        }
      return;
    }
  h = (Slot *) (void *) heap->data;
  if (sign * strcmp (s->key, h[0].key) >= 0)
    return;
  h[0] = *s;
  for (i = 0;;)
    {
      guint l = 2 * i + 1, r = l + 1, top = i;
      if (l < heap->len && sign * strcmp (h[l].key, h[top].key) > 0)
        top = l;
      if (r < heap->len && sign * strcmp (h[r].key, h[top].key) > 0)
        top = r;
      if (top == i)
        break;
      Slot t = h[i];
      h[i] = h[top];
      h[top] = t;
      i = top;
    }
}

/* One pass over the names of the queue (or failed/): the @max smallest keys
 * after @after ("" = from the first), or with @largest the @max largest,
 * ascending; @total_out gets the number of reports. Memory: the heap, never
 * the folder. */
static GArray *
scan_keys (EsaQueue *self, gboolean failed, const char *after, guint max, gboolean largest, guint *total_out)
{
  GArray *heap = g_array_new (FALSE, FALSE, sizeof (Slot));
  DIR *d = open_stream (failed ? self->failed_fd : self->dir_fd);
  struct dirent *de;
  guint total = 0;
  guint64 read = 0;
  while (d != NULL && (de = readdir (d)) != NULL)
    {
      Slot s;
      read++;
      if (is_dot (de->d_name) || !slot_of_name (self, failed, de->d_name, &s))
        continue;
      total++;
      if (strcmp (s.key, after) > 0)
        heap_offer (heap, max, &s, largest ? -1 : 1);
    }
  if (d != NULL)
    closedir (d);
  g_array_sort (heap, slot_cmp);
  if (total_out != NULL)
    *total_out = total;
  g_mutex_lock (&self->lock);
  self->names_read += read;
  g_mutex_unlock (&self->lock);
  return heap;
}

/* The name of queued report @uuid's file, NULL if it is not in the queue. */
/* The name the window or the recent names give @uuid, unchecked: one
 * system call less per load and removal in a drain; a caller that finds no
 * such file asks queued_name (). NULL if neither knows it. */
static char *
known_name (EsaQueue *self, const char *uuid)
{
  char key[KEY_LEN + 1];
  return known_key (self, uuid, key) ? key_json_name (key) : NULL;
}

static char *
queued_name (EsaQueue *self, const char *uuid)
{
  char key[KEY_LEN + 1];
  g_autofree char *legacy = json_name (uuid);
  DIR *d;
  struct dirent *de;
  char *found = NULL;
  if (known_key (self, uuid, key))
    {
      g_autofree char *name = key_json_name (key);
      if (exists_at (self->dir_fd, name))
        return g_steal_pointer (&name);
    }
  if (exists_at (self->dir_fd, legacy))
    return g_steal_pointer (&legacy);
  /* Not one of the names listed last: look for it. */
  d = open_stream (self->dir_fd);
  while (d != NULL && found == NULL && (de = readdir (d)) != NULL)
    if (is_key_name (de->d_name, ".json", key) && g_str_equal (key + KEY_STAMP_LEN, uuid))
      found = g_strdup (de->d_name);
  if (d != NULL)
    closedir (d);
  if (found != NULL)
    {
      g_mutex_lock (&self->lock);
      recent_add_locked (self, key);
      g_mutex_unlock (&self->lock);
    }
  return found;
}

/* ---- waiting for the tidying after open ---- */

static void
wait_ready (EsaQueue *self)
{
  g_mutex_lock (&self->lock);
  while (!self->ready)
    g_cond_wait (&self->ready_cond, &self->lock);
  g_mutex_unlock (&self->lock);
}

/* ---- quarantine ---- */

/* Moves a queued report that cannot be read (the file @name) into failed/
 * (with the reason beside it) so it never blocks the queue and never
 * vanishes silently. Called with io_lock held. */
static void
quarantine_locked (EsaQueue *self, const char *name, const char *uuid, const char *why)
{
  g_autofree char *dst = g_strdup_printf ("%s.json.corrupt", uuid);
  g_autofree char *att = att_name (uuid);
  g_autofree char *att_dst = g_strdup_printf ("%s.d.corrupt", uuid);
  g_autofree char *reason_name = g_strdup_printf ("%s.reason", uuid);
  g_autoptr (GError) error = NULL;
  gboolean moved;
  if (!exists_at (self->dir_fd, name))
    return;
  g_warning ("spool: %s/%s: %s; moved to %s/%s", self->dir, name, why, self->failed_dir, dst);
  /* The reason first: a crash between leaves a reason without a file, which
   * the next open ignores, never a quarantined file without its reason. */
  if (!esa_fileutil_write_at (self->failed_fd, self->failed_dir, reason_name, self->tmp_fd, why,
                              strlen (why), 0600, FALSE, &error))
    g_warning ("spool: %s", error->message);
  moved = renameat (self->dir_fd, name, self->failed_fd, dst) == 0;
  if (!moved)
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
  count_move (self, -1, moved ? 1 : 0);
  g_mutex_lock (&self->lock);
  forget_locked (self, uuid);
  g_mutex_unlock (&self->lock);
}

static void
quarantine (EsaQueue *self, const char *name, const char *uuid, const char *why)
{
  g_mutex_lock (&self->io_lock);
  quarantine_locked (self, name, uuid, why);
  g_mutex_unlock (&self->io_lock);
}

/* ---- open: names only now, the tidying in a thread ---- */

/* Attachment folders whose report never committed (enqueue died between the
 * two renames) are removed; a folder whose report is in failed/ (a retry
 * died between them) goes back there. Checked ORPHAN_CHUNK folders at a
 * time against one pass over the names, under io_lock: a commit renames the
 * folder and the report under it, so a folder seen without a report then is
 * an orphan. */
static void
sweep_orphans (EsaQueue *self)
{
  DIR *d = open_stream (self->dir_fd);
  gboolean more = d != NULL;
  while (more && !g_atomic_int_get (&self->closing))
    {
      g_autoptr (GHashTable) folders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      struct dirent *de = NULL;
      DIR *names;
      GHashTableIter iter;
      gpointer uuid;
      while (g_hash_table_size (folders) < ORPHAN_CHUNK && (de = readdir (d)) != NULL)
        {
          char *u = NULL;
          if (is_uuid_name (de->d_name, ".d", &u))
            g_hash_table_add (folders, u);
        }
      more = de != NULL;
      if (g_hash_table_size (folders) == 0)
        break;
      g_mutex_lock (&self->io_lock);
      names = open_stream (self->dir_fd);
      while (names != NULL && (de = readdir (names)) != NULL)
        {
          char key[KEY_LEN + 1];
          g_autofree char *u = NULL;
          if (is_key_name (de->d_name, ".json", key))
            g_hash_table_remove (folders, key + KEY_STAMP_LEN);
          else if (is_uuid_name (de->d_name, ".json", &u))
            g_hash_table_remove (folders, u);
        }
      if (names != NULL)
        closedir (names);
      g_hash_table_iter_init (&iter, folders);
      while (g_hash_table_iter_next (&iter, &uuid, NULL))
        {
          g_autofree char *att = att_name (uuid);
          g_autofree char *failed_json = json_name (uuid);
          if (exists_at (self->failed_fd, failed_json) && !exists_at (self->failed_fd, att) &&
              renameat (self->dir_fd, att, self->failed_fd, att) == 0)
            g_warning ("spool: %s/%s: moved back to %s/%s (an interrupted retry)", self->dir, att,
                       self->failed_dir, att);
          else
            esa_fileutil_rmtree_at (self->dir_fd, att); /* enqueue died before the commit */
        }
      g_mutex_unlock (&self->io_lock);
    }
  if (d != NULL)
    closedir (d);
}

/* Reports of the old form (<uuid>.json) get their sortable name; one that
 * does not read as a report is quarantined. */
static void
rename_legacy (EsaQueue *self)
{
  DIR *d = open_stream (self->dir_fd);
  struct dirent *de;
  gboolean renamed = FALSE;
  while (d != NULL && !g_atomic_int_get (&self->closing) && (de = readdir (d)) != NULL)
    {
      g_autofree char *uuid = NULL;
      g_autofree char *name = NULL;
      g_autofree char *new_name = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) env = NULL;
      char key[KEY_LEN + 1];
      if (!is_uuid_name (de->d_name, ".json", &uuid))
        continue;
      name = g_strdup (de->d_name);
      env = read_report_envelope (self, name, uuid, NULL, &error);
      if (env == NULL)
        {
          if (g_error_matches (error, ESA_ERROR, ESA_ERROR_INVALID_DATA))
            quarantine (self, name, uuid, reason_of (error->message, uuid));
          continue; /* gone since (a remove that did not wait for us) */
        }
      make_key (parse_created_us (esa_json_peek_string (
                    esa_json_peek_object (json_node_get_object (env), "report"), "created")),
                uuid, key);
      new_name = key_json_name (key);
      g_mutex_lock (&self->io_lock);
      if (exists_at (self->dir_fd, name) && !exists_at (self->dir_fd, new_name))
        renamed |= renameat (self->dir_fd, name, self->dir_fd, new_name) == 0;
      g_mutex_unlock (&self->io_lock);
    }
  if (d != NULL)
    closedir (d);
  if (renamed)
    esa_fileutil_fsync_fd (self->dir_fd, self->dir, NULL);
}

static gpointer
tidy_thread (gpointer user_data)
{
  EsaQueue *self = user_data;
  if (self->has_folders)
    sweep_orphans (self);
  if (self->has_legacy)
    rename_legacy (self);
  g_mutex_lock (&self->lock);
  self->ready = TRUE;
  g_cond_broadcast (&self->ready_cond);
  g_mutex_unlock (&self->lock);
#ifdef __GLIBC__
  /* The passes over a big folder leave freed memory behind: give it back. */
  malloc_trim (0);
#endif
  return NULL;
}

/* After a crash: clear tmp/ and count the reports. Names only: cheap. */
static gboolean
recover (EsaQueue *self, GError **error)
{
  DIR *d;
  struct dirent *de;

  esa_fileutil_rmtree_at (self->dir_fd, "tmp");
  self->tmp_fd = esa_fileutil_open_dir_at (self->dir_fd, self->dir, "tmp", TRUE, 0700, error);
  if (self->tmp_fd < 0)
    return FALSE;

  d = open_stream (self->dir_fd);
  while (d != NULL && (de = readdir (d)) != NULL)
    {
      const char *n = de->d_name;
      if (is_dot (n) || g_str_equal (n, "tmp") || g_str_equal (n, "failed") || g_str_equal (n, SPOOL_LOCK_NAME))
        continue;
      if (is_key_name (n, ".json", NULL))
        self->n_queued++;
      else if (is_uuid_name (n, ".json", NULL))
        {
          self->n_queued++;
          self->has_legacy = TRUE;
        }
      else if (is_uuid_name (n, ".d", NULL))
        self->has_folders = TRUE;
      else
        g_warning ("spool: %s/%s: not a report, ignored", self->dir, n);
    }
  if (d != NULL)
    closedir (d);
  d = open_stream (self->failed_fd);
  while (d != NULL && (de = readdir (d)) != NULL)
    self->n_failed += is_uuid_name (de->d_name, ".json", NULL) || is_uuid_name (de->d_name, ".json.corrupt", NULL);
  if (d != NULL)
    closedir (d);
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
  g_mutex_init (&self->sync_lock);
  g_cond_init (&self->sync_cond);
  self->window = g_array_new (FALSE, FALSE, sizeof (Slot));
  self->recent = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
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
  self->tidier = g_thread_new ("esa-spool-tidy", tidy_thread, self);
  return g_steal_pointer (&self);
}

void
esa_queue_free (EsaQueue *self)
{
  if (self == NULL)
    return;
  g_atomic_int_set (&self->closing, 1);
  if (self->tidier != NULL)
    g_thread_join (self->tidier);
  g_clear_pointer (&self->window, g_array_unref);
  g_clear_pointer (&self->recent, g_hash_table_unref);
  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->io_lock);
  g_cond_clear (&self->ready_cond);
  g_mutex_clear (&self->sync_lock);
  g_cond_clear (&self->sync_cond);
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
  queued = self->n_queued;
  failed = self->n_failed;
  g_mutex_unlock (&self->lock);
  if (failed_out != NULL)
    *failed_out = failed;
  return queued;
}

/* ---- enqueue ---- */

/* Is the report already in the queue, under its name or the old form's? */
static gboolean
committed (EsaQueue *self, const char *uuid, const char *name)
{
  g_autofree char *legacy = json_name (uuid);
  return exists_at (self->dir_fd, name) || exists_at (self->dir_fd, legacy);
}

/* The report's sort key, exactly as a pass over the names will read it back. */
static void
report_key (EsaReport *report, char key[KEY_LEN + 1])
{
  g_autofree char *created = g_date_time_format_iso8601 (esa_report_get_created (report));
  make_key (parse_created_us (created), esa_report_get_uuid (report), key);
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
  g_autofree char *queued = queued_name (self, uuid);
  return queued != NULL || exists_at (self->failed_fd, name) || exists_at (self->failed_fd, corrupt);
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
  g_autofree char *final_json = NULL;
  g_autofree char *final_att = att_name (uuid);
  g_autofree char *text = NULL;
  JsonObject *root;
  JsonArray *ratts;
  char key[KEY_LEN + 1];

  report_key (report, key);
  final_json = key_json_name (key);
  if (committed (self, uuid, final_json))
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
  text = esa_json_to_string (env, FALSE);
  if (!esa_fileutil_write_at (self->tmp_fd, self->tmp_dir, tmp_json, self->tmp_fd, text, strlen (text),
                              0600, FALSE, error))
    {
      esa_fileutil_rmtree_at (self->tmp_fd, tmp_att);
      return FALSE;
    }

  /* The commit: two renames. */
  g_mutex_lock (&self->io_lock);
  if (committed (self, uuid, final_json))
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
  g_mutex_lock (&self->lock);
  self->n_queued++;
  window_add_locked (self, key);
  g_mutex_unlock (&self->lock);
  g_mutex_unlock (&self->io_lock);
  return esa_fileutil_fsync_fd (self->dir_fd, self->dir, error);
}

/* ---- listing ---- */

static EsaQueueEntry *
entry_new (const char *uuid, const char *kind, const char *plugin)
{
  EsaQueueEntry *e = g_new0 (EsaQueueEntry, 1);
  e->uuid = g_strdup (uuid);
  e->kind = g_strdup (kind ?: "?");
  e->plugin = g_strdup (plugin ?: "?");
  return e;
}

/* The index's view of an envelope: no last_error, no size. */
static EsaQueueEntry *
brief_from_envelope (const char *uuid, JsonNode *env)
{
  JsonObject *root = json_node_get_object (env);
  JsonObject *report = esa_json_peek_object (root, "report");
  JsonObject *delivery = esa_json_peek_object (root, "delivery");
  /* Spool files are outside input too: a member of the wrong type reads as absent. */
  EsaQueueEntry *e = entry_new (uuid, esa_json_peek_string (report, "kind"), esa_json_peek_string (report, "plugin"));
  e->created = g_strdup (esa_json_peek_string (report, "created") ?: "");
  e->created_us = parse_created_us (e->created);
  e->attempts = (guint) CLAMP (esa_json_peek_int (delivery, "attempts", 0), 0, G_MAXUINT);
  e->next_attempt = esa_json_peek_int (delivery, "next_attempt", 0);
  return e;
}

/* Reads the envelope of a queued report listed as @s, checked as the sender
 * will need it; NOT_FOUND if it went, under either of its names (the old
 * form is renamed at open). */
static JsonNode *
read_listed (EsaQueue *self, const Slot *s, char **name_out, GError **error)
{
  g_autofree char *name = slot_file_name (s);
  g_autoptr (GError) local = NULL;
  JsonNode *env = read_report_envelope (self, name, SLOT_UUID (s), NULL, &local);
  if (env == NULL && g_error_matches (local, ESA_ERROR, ESA_ERROR_NOT_FOUND) && s->legacy)
    {
      g_clear_error (&local);
      g_free (name);
      name = key_json_name (s->key);
      env = read_report_envelope (self, name, SLOT_UUID (s), NULL, &local);
    }
  if (env == NULL)
    g_propagate_error (error, g_steal_pointer (&local));
  *name_out = g_steal_pointer (&name);
  return env;
}

/* The whole entry, read from its file: NULL if it is gone (or was found
 * corrupt and quarantined, with a warning). */
static EsaQueueEntry *
read_entry (EsaQueue *self, gboolean failed, const Slot *s)
{
  int folder_fd = failed ? self->failed_fd : self->dir_fd;
  const char *folder = failed ? self->failed_dir : self->dir;
  const char *uuid = SLOT_UUID (s);
  g_autofree char *name = NULL;
  g_autofree char *att = NULL;
  g_autoptr (JsonNode) env = NULL;
  g_autoptr (GError) error = NULL;
  EsaQueueEntry *e;

  if (s->corrupt)
    {
      g_autofree char *reason_name = g_strdup_printf ("%s.reason", uuid);
      gsize len = 0;
      g_autofree char *why = read_at (self->failed_fd, folder, reason_name, 4096, &len, NULL);
      name = slot_file_name (s);
      att = g_strdup_printf ("%s.d.corrupt", uuid);
      if (!exists_at (folder_fd, name))
        return NULL;
      e = entry_new (uuid, NULL, NULL);
      e->created_us = key_created_us (s->key);
      e->created = format_created (e->created_us);
      e->corrupt = TRUE;
      e->failed_reason = g_strdup_printf ("spool file corrupt: %s", why ? g_strstrip (why) : "reason not recorded");
      e->size = tree_size_at (folder_fd, name) + tree_size_at (folder_fd, att);
      return e;
    }
  att = att_name (uuid);
  if (failed)
    {
      name = slot_file_name (s);
      env = read_envelope_at (folder_fd, folder, name, &error);
    }
  else
    env = read_listed (self, s, &name, &error);
  if (env == NULL)
    {
      if (!failed && g_error_matches (error, ESA_ERROR, ESA_ERROR_INVALID_DATA))
        quarantine (self, name, uuid, reason_of (error->message, uuid));
      else if (g_error_matches (error, ESA_ERROR, ESA_ERROR_INVALID_DATA))
        {
          /* A rejected report whose file went bad: listed, with what is wrong. */
          e = entry_new (uuid, NULL, NULL);
          e->created_us = key_created_us (s->key);
          e->created = format_created (e->created_us);
          e->failed_reason = g_strdup (error->message);
          return e;
        }
      return NULL;
    }
  e = brief_from_envelope (uuid, env);
  e->last_error = g_strdup (esa_json_peek_string (esa_json_peek_object (json_node_get_object (env), "delivery"),
                                                  "last_error"));
  e->failed_reason = g_strdup (
      esa_json_peek_string (esa_json_peek_object (json_node_get_object (env), "failed"), "reason"));
  e->size = tree_size_at (folder_fd, name) + tree_size_at (folder_fd, att);
  return e;
}

/* scan_keys () for a listing page. While the thread open () started still
 * renames reports of the old form, a pass over the folder could see a report
 * under both names or under neither (readdir during a rename in the same
 * folder), so the pass then holds io_lock, as a window refill always does;
 * afterwards a listing does not hold up enqueues and removals. */
static GArray *
scan_keys_for_listing (EsaQueue *self, gboolean failed, guint max, gboolean largest, guint *total_out)
{
  gboolean renaming;
  GArray *slots;
  g_mutex_lock (&self->lock);
  renaming = !self->ready;
  g_mutex_unlock (&self->lock);
  if (renaming)
    g_mutex_lock (&self->io_lock);
  slots = scan_keys (self, failed, "", max, largest, total_out);
  if (renaming)
    g_mutex_unlock (&self->io_lock);
  return slots;
}

GPtrArray *
esa_queue_list_page (EsaQueue *self, gboolean failed, guint offset, guint limit, guint *total_out)
{
  guint want = offset > G_MAXUINT - limit ? G_MAXUINT : offset + limit;
  guint count, failed_count, total = 0;
  g_autoptr (GArray) slots = NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) esa_queue_entry_free);
  count = esa_queue_count (self, &failed_count);
  count = failed ? failed_count : count;
  /* A page near the end (the newest): keep the last count - offset names
   * rather than the first offset + limit, if the count was right. */
  if (offset < count && count - offset < want)
    {
      slots = scan_keys_for_listing (self, failed, count - offset, TRUE, &total);
      if (total == count)
        {
          g_array_set_size (slots, MIN (slots->len, limit));
          offset = 0;
        }
      else
        g_clear_pointer (&slots, g_array_unref);
    }
  if (slots == NULL)
    slots = scan_keys_for_listing (self, failed, want, FALSE, &total);
  if (total_out != NULL)
    *total_out = total;
  /* The ids of a page are the ones asked for next (load, remove …). */
  if (!failed && slots->len > offset && slots->len - offset <= RECENT_MAX)
    {
      g_mutex_lock (&self->lock);
      for (guint i = offset; i < slots->len; i++)
        recent_add_locked (self, g_array_index (slots, Slot, i).key);
      g_mutex_unlock (&self->lock);
    }
  /* The files are read with no lock held. */
  for (guint i = offset; i < slots->len; i++)
    {
      EsaQueueEntry *e = read_entry (self, failed, &g_array_index (slots, Slot, i));
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

/* Up to @limit live slots of the window from position @at into @out. */
static void
window_collect_locked (EsaQueue *self, guint at, guint limit, GArray *out)
{
  for (guint i = at; i < self->window->len && out->len < limit; i++)
    if (!g_array_index (self->window, Slot, i).gone)
      g_array_append_vals (out, &g_array_index (self->window, Slot, i), 1);
}

/* Up to @limit names of the window after @cursor; the window is refilled
 * from the folder first when it cannot give them. */
static GArray *
window_take (EsaQueue *self, const char *cursor, guint limit)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (Slot));
  guint at;
  g_mutex_lock (&self->lock);
  at = self->window_valid ? window_after (self, cursor) : 0;
  if (self->window_valid && strcmp (self->window_lo, cursor) <= 0)
    window_collect_locked (self, at, limit, out);
  if (!self->window_valid || strcmp (self->window_lo, cursor) > 0 ||
      (!self->window_to_end && out->len < limit))
    {
      g_autoptr (GArray) slots = NULL;
      /* A bigger queue, a bigger window (bounded): fewer passes over it. */
      guint cap = CLAMP (self->n_queued / WINDOW_SHARE, WINDOW_MIN, WINDOW_MAX);
      g_mutex_unlock (&self->lock);
      /* No report comes or goes during the pass: the window misses none. */
      g_mutex_lock (&self->io_lock);
      slots = scan_keys (self, FALSE, cursor, cap, FALSE, NULL);
      g_mutex_lock (&self->lock);
      g_array_set_size (self->window, 0);
      g_array_append_vals (self->window, slots->data, slots->len);
      self->window_gone = 0;
      self->window_valid = TRUE;
      self->window_cap = cap;
      self->window_to_end = slots->len < cap;
      g_strlcpy (self->window_lo, cursor, sizeof self->window_lo);
      g_strlcpy (self->window_hi, slots->len > 0 ? g_array_index (slots, Slot, slots->len - 1).key : cursor,
                 sizeof self->window_hi);
      g_mutex_unlock (&self->io_lock);
      g_array_set_size (out, 0);
      window_collect_locked (self, 0, limit, out);
    }
  g_mutex_unlock (&self->lock);
  return out;
}

/* window_take (), the names also remembered as recent: found again when the
 * caller loads or removes them, even if another walk (an export beside the
 * sender) has moved the window meanwhile. */
static GArray *
take_listed (EsaQueue *self, const char *cursor, guint limit)
{
  GArray *slots = window_take (self, cursor, limit);
  g_mutex_lock (&self->lock);
  for (guint i = 0; i < slots->len; i++)
    recent_add_locked (self, g_array_index (slots, Slot, i).key);
  g_mutex_unlock (&self->lock);
  return slots;
}

GPtrArray *
esa_queue_list_names (EsaQueue *self, const EsaQueueEntry *after, guint limit)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) esa_queue_entry_free);
  char cursor[KEY_LEN + 1] = "";
  g_autoptr (GArray) slots = NULL;
  if (after != NULL)
    make_key (after->created_us, after->uuid, cursor);
  if (limit == 0)
    return out;
  slots = take_listed (self, cursor, limit);
  for (guint i = 0; i < slots->len; i++)
    {
      const Slot *s = &g_array_index (slots, Slot, i);
      EsaQueueEntry *e = entry_new (SLOT_UUID (s), NULL, NULL);
      e->created_us = key_created_us (s->key);
      g_ptr_array_add (out, e);
    }
  return out;
}

GPtrArray *
esa_queue_list_brief (EsaQueue *self, const EsaQueueEntry *after, guint limit)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) esa_queue_entry_free);
  char cursor[KEY_LEN + 1] = "";
  if (after != NULL)
    make_key (after->created_us, after->uuid, cursor);
  /* Reports gone or quarantined since the window saw them are skipped; an
   * empty answer means the end of the queue. */
  while (out->len == 0 && limit > 0)
    {
      g_autoptr (GArray) slots = take_listed (self, cursor, limit);
      if (slots->len == 0)
        break;
      for (guint i = 0; i < slots->len; i++)
        {
          const Slot *s = &g_array_index (slots, Slot, i);
          g_autofree char *name = NULL;
          g_autoptr (GError) error = NULL;
          g_autoptr (JsonNode) env = read_listed (self, s, &name, &error);
          if (env != NULL)
            g_ptr_array_add (out, brief_from_envelope (SLOT_UUID (s), env));
          else if (g_error_matches (error, ESA_ERROR, ESA_ERROR_INVALID_DATA))
            quarantine (self, name, SLOT_UUID (s), reason_of (error->message, SLOT_UUID (s)));
        }
      g_strlcpy (cursor, g_array_index (slots, Slot, slots->len - 1).key, sizeof cursor);
    }
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

/* Reads a queued report's envelope for a change (its file's name into
 * @name_out); a bad file is quarantined. Called with io_lock held. */
static JsonNode *
load_queued_locked (EsaQueue *self, const char *uuid, char **name_out, EsaReport **report_out,
                    GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *name = NULL;
  JsonNode *env;
  if (!check_uuid (uuid, error))
    return NULL;
  name = known_name (self, uuid);
  env = name != NULL ? read_report_envelope (self, name, uuid, report_out, &local) : NULL;
  if (env == NULL && (name == NULL || g_error_matches (local, ESA_ERROR, ESA_ERROR_NOT_FOUND)))
    {
      g_clear_error (&local);
      g_free (name);
      name = queued_name (self, uuid);
      if (name == NULL)
        {
          g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "report %s is not in %s", uuid, self->dir);
          return NULL;
        }
      env = read_report_envelope (self, name, uuid, report_out, &local);
    }
  if (env != NULL)
    {
      if (name_out != NULL)
        *name_out = g_steal_pointer (&name);
      return env;
    }
  if (g_error_matches (local, ESA_ERROR, ESA_ERROR_NOT_FOUND))
    g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND, "report %s is not in %s", uuid, self->dir);
  else
    {
      if (g_error_matches (local, ESA_ERROR, ESA_ERROR_INVALID_DATA))
        quarantine_locked (self, name, uuid, reason_of (local->message, uuid));
      g_propagate_error (error, g_steal_pointer (&local));
    }
  return NULL;
}

/* The sort key of the report in @env (its file's name in the queue). */
static void
envelope_key (JsonNode *env, const char *uuid, char key[KEY_LEN + 1])
{
  JsonObject *report = esa_json_peek_object (json_node_get_object (env), "report");
  make_key (parse_created_us (esa_json_peek_string (report, "created")), uuid, key);
}

static EsaReport *load (EsaQueue *self, const char *uuid, EsaQueueEntry **entry_out, gboolean brief,
                        GError **error);

EsaReport *
esa_queue_load (EsaQueue *self, const char *uuid, EsaQueueEntry **entry_out, GError **error)
{
  return load (self, uuid, entry_out, FALSE, error);
}

EsaReport *
esa_queue_load_brief (EsaQueue *self, const char *uuid, EsaQueueEntry **brief_out, GError **error)
{
  return load (self, uuid, brief_out, TRUE, error);
}

static EsaReport *
load (EsaQueue *self, const char *uuid, EsaQueueEntry **entry_out, gboolean brief, GError **error)
{
  g_autoptr (JsonNode) env = NULL;
  g_autofree char *adir = NULL;
  g_autofree char *att_dir = att_name (uuid);
  g_autofree char *name = NULL;
  EsaReport *report = NULL;
  GPtrArray *atts;
  g_mutex_lock (&self->io_lock);
  env = load_queued_locked (self, uuid, &name, &report, error);
  g_mutex_unlock (&self->io_lock);
  if (env == NULL)
    return NULL;
  adir = g_build_filename (self->dir, att_dir, NULL);
  atts = esa_report_get_attachments (report);
  for (guint i = 0; i < atts->len; i++)
    {
      EsaAttachment *att = g_ptr_array_index (atts, i);
      g_free (att->path);
      att->path = g_build_filename (adir, att->name, NULL);
    }
  if (entry_out != NULL && brief)
    *entry_out = brief_from_envelope (uuid, env);
  else if (entry_out != NULL)
    {
      Slot s = { 0 };
      envelope_key (env, uuid, s.key);
      s.legacy = !is_key_name (name, ".json", NULL);
      *entry_out = read_entry (self, FALSE, &s);
      if (*entry_out == NULL)
        *entry_out = brief_from_envelope (uuid, env);
    }
  return report;
}

/* Makes removal number @ticket durable: returns once an fsync of the
 * folder that began after that unlink has finished. Lanes removing at the
 * same time share one fsync (group commit) instead of queueing one each:
 * every removal is still durable before its caller goes on, so a crash
 * never brings back a report whose removal was reported done. */
static gboolean
sync_removal (EsaQueue *self, guint64 ticket, GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->sync_lock);
  for (;;)
    {
      guint64 upto;
      gboolean ok;
      if (self->synced >= ticket)
        return TRUE;
      if (self->syncing)
        {
          g_cond_wait (&self->sync_cond, &self->sync_lock);
          continue;
        }
      /* This fsync covers every unlink done before it starts. */
      upto = self->removed;
      self->syncing = TRUE;
      self->removal_syncs++;
      g_mutex_unlock (&self->sync_lock);
      ok = esa_fileutil_fsync_fd (self->dir_fd, self->dir, error);
      g_mutex_lock (&self->sync_lock);
      self->syncing = FALSE;
      if (ok && upto > self->synced)
        self->synced = upto;
      g_cond_broadcast (&self->sync_cond);
      /* A failed fsync is this caller's error; the waiters try their own. */
      return ok;
    }
}

/* Unlinks @uuid's report and attachments; @ticket is the removal's number,
 * durable once sync_removal (@ticket) returns. */
static gboolean
unlink_report (EsaQueue *self, const char *uuid, guint64 *ticket, GError **error)
{
  g_autofree char *json = NULL;
  g_autofree char *adir = NULL;
  gboolean json_unlinked = FALSE;
  /* Only ever a name inside the spool ("../x" would delete outside it). */
  if (!check_uuid (uuid, error))
    return FALSE;
  adir = att_name (uuid);
  g_mutex_lock (&self->io_lock);
  json = known_name (self, uuid);
  if (json == NULL || unlinkat (self->dir_fd, json, 0) != 0)
    {
      g_free (json);
      json = queued_name (self, uuid);
    }
  else
    json_unlinked = TRUE;
  /* The .json goes first: without it the folder is an orphan that open () clears. */
  if (json != NULL && !json_unlinked && unlinkat (self->dir_fd, json, 0) != 0 && errno != ENOENT)
    {
      int e = errno;
      g_mutex_unlock (&self->io_lock);
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "cannot remove %s/%s: %s", self->dir, json,
                   g_strerror (e));
      return FALSE;
    }
  esa_fileutil_rmtree_at (self->dir_fd, adir);
  if (json != NULL)
    count_move (self, -1, 0);
  g_mutex_lock (&self->lock);
  forget_locked (self, uuid);
  g_mutex_unlock (&self->lock);
  g_mutex_lock (&self->sync_lock);
  *ticket = ++self->removed;
  g_mutex_unlock (&self->sync_lock);
  g_mutex_unlock (&self->io_lock);
  return TRUE;
}

gboolean
esa_queue_remove (EsaQueue *self, const char *uuid, GError **error)
{
  guint64 ticket;
  return unlink_report (self, uuid, &ticket, error) && sync_removal (self, ticket, error);
}

gboolean
esa_queue_remove_many (EsaQueue *self, const char *const *uuids, guint n, GError **error)
{
  guint64 ticket = 0;
  gboolean ok = TRUE;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GError) local = NULL;
      guint64 t;
      if (unlink_report (self, uuids[i], &t, &local))
        ticket = t;
      else if (ok)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          ok = FALSE;
        }
    }
  /* one fsync that begins after the last unlink covers them all */
  if (ticket != 0 && !sync_removal (self, ticket, ok ? error : NULL))
    ok = FALSE;
  return ok;
}

gboolean
esa_queue_reschedule (EsaQueue *self, const char *uuid, const char *reason, gint64 next_attempt,
                      GError **error)
{
  g_autoptr (JsonNode) env = NULL;
  g_autofree char *name = NULL;
  JsonObject *d;
  gboolean ok;
  g_mutex_lock (&self->io_lock);
  env = load_queued_locked (self, uuid, &name, NULL, error);
  if (env == NULL)
    {
      g_mutex_unlock (&self->io_lock);
      return FALSE;
    }
  d = delivery_of (env);
  json_object_set_int_member (d, "attempts", esa_json_peek_int (d, "attempts", 0) + 1);
  json_object_set_int_member (d, "next_attempt", next_attempt);
  json_object_set_string_member (d, "last_error", reason);
  ok = write_envelope (self, self->dir_fd, self->dir, name, env, error);
  g_mutex_unlock (&self->io_lock);
  return ok;
}

/* Moves the report @from_name of one folder to @to_name of another, its
 * attachment folder first. Called with io_lock held. */
static gboolean
move_report (EsaQueue *self, int from_fd, const char *from, const char *from_name, int to_fd,
             const char *to, const char *to_name, const char *uuid, JsonNode *env, GError **error)
{
  g_autofree char *att = att_name (uuid);
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
  if (!write_envelope (self, to_fd, to, to_name, env, error))
    return FALSE;
  unlinkat (from_fd, from_name, 0);
  return esa_fileutil_fsync_fd (from_fd, from, error);
}

gboolean
esa_queue_fail (EsaQueue *self, const char *uuid, const char *reason, GError **error)
{
  g_autoptr (JsonNode) env = NULL;
  g_autoptr (JsonObject) failed = json_object_new ();
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *at = g_date_time_format_iso8601 (now);
  g_autofree char *name = NULL;
  g_autofree char *failed_name = NULL;
  gboolean ok;
  g_mutex_lock (&self->io_lock);
  env = load_queued_locked (self, uuid, &name, NULL, error);
  if (env == NULL)
    {
      g_mutex_unlock (&self->io_lock);
      return FALSE;
    }
  json_object_set_string_member (failed, "reason", reason);
  json_object_set_string_member (failed, "at", at);
  json_object_set_object_member (json_node_get_object (env), "failed", g_steal_pointer (&failed));
  failed_name = json_name (uuid);
  ok = move_report (self, self->dir_fd, self->dir, name, self->failed_fd, self->failed_dir, failed_name, uuid,
                    env, error);
  if (ok)
    {
      count_move (self, -1, 1);
      g_mutex_lock (&self->lock);
      forget_locked (self, uuid);
      g_mutex_unlock (&self->lock);
    }
  g_mutex_unlock (&self->io_lock);
  return ok;
}

/* Back in the queue (from failed/): counted, and in the window if it falls in it. */
static void
requeued (EsaQueue *self, const char *key)
{
  count_move (self, 1, -1);
  g_mutex_lock (&self->lock);
  window_add_locked (self, key);
  g_mutex_unlock (&self->lock);
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
  g_autofree char *final_json = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (JsonNode) env = read_envelope_at (self->failed_fd, self->failed_dir, name, &local);
  g_autoptr (EsaReport) report = NULL;
  char key[KEY_LEN + 1];
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
  envelope_key (env, uuid, key);
  final_json = key_json_name (key);
  if (!write_envelope (self, self->dir_fd, self->dir, final_json, env, error))
    return FALSE;
  unlinkat (self->failed_fd, name, 0);
  unlinkat (self->failed_fd, reason_name, 0);
  requeued (self, key);
  return esa_fileutil_fsync_fd (self->failed_fd, self->failed_dir, error);
}

gboolean
esa_queue_retry_failed (EsaQueue *self, const char *uuid, GError **error)
{
  g_autoptr (JsonNode) env = NULL;
  g_autofree char *name = NULL;
  g_autofree char *corrupt = NULL;
  g_autofree char *queued = NULL;
  g_autoptr (GError) local = NULL;
  char key[KEY_LEN + 1];
  gboolean ok;
  if (!check_uuid (uuid, error))
    return FALSE;
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
  envelope_key (env, uuid, key);
  queued = key_json_name (key);
  ok = move_report (self, self->failed_fd, self->failed_dir, name, self->dir_fd, self->dir, queued, uuid, env,
                    error);
  if (ok)
    requeued (self, key);
  g_mutex_unlock (&self->io_lock);
  return ok;
}
