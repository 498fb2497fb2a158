/* snap-tokens.c: the redaction map and the host/address tokenizer (see
 * snap-tokens.h). The map is one JSON file:
 *   {"version": 1, "host": {"aixp9": "host-1"}, "ip": {"10.1.2.9": "ip-1"}}
 * Token numbers are never reused: the next one is one more than the count. */
#include "config.h"

#include "snap-tokens.h"
#include "esa/esa-json.h"

#include <esa/esa-error.h>
#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

static const char *const snap_token_kinds[] = { "host", "ip", NULL };

struct _SnapTokens {
  GMutex lock;          /* jobs of two problems may redact at once */
  char *path;
  GHashTable *maps;     /* kind → (value → token) */
  GPtrArray *hosts;     /* char*, longest first */
};

static GHashTable *
kind_map (SnapTokens *self, const char *kind)
{
  GHashTable *m = g_hash_table_lookup (self->maps, kind);
  if (m == NULL)
    {
      m = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_hash_table_insert (self->maps, g_strdup (kind), m);
    }
  return m;
}

static void
load (SnapTokens *self)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonNode *root;
  if (!g_file_test (self->path, G_FILE_TEST_EXISTS))
    return;
  if (json_parser_load_from_mapped_file (parser, self->path, &error) &&
      (root = json_parser_get_root (parser)) != NULL && JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonObject *o = json_node_get_object (root);
      for (guint k = 0; snap_token_kinds[k] != NULL; k++)
        {
          JsonNode *n = json_object_get_member (o, snap_token_kinds[k]);
          GHashTable *m = kind_map (self, snap_token_kinds[k]);
          g_autoptr (GList) members = NULL;
          if (n == NULL || !JSON_NODE_HOLDS_OBJECT (n))
            continue;
          members = json_object_get_members (json_node_get_object (n));
          for (GList *l = members; l != NULL; l = l->next)
            {
              JsonNode *v = json_object_get_member (json_node_get_object (n), l->data);
              if (JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_STRING)
                g_hash_table_insert (m, g_strdup (l->data), g_strdup (json_node_get_string (v)));
            }
        }
      return;
    }
  {
    g_autofree char *bad = g_strconcat (self->path, ".bad", NULL);
    g_warning ("%s: %s; moved to %s, new tokens from here on", self->path,
               error != NULL ? error->message : "expected a JSON object", bad);
    if (g_rename (self->path, bad) != 0)
      g_warning ("%s: cannot rename: %s", self->path, g_strerror (errno));
  }
}

SnapTokens *
snap_tokens_open (const char *path)
{
  SnapTokens *self = g_new0 (SnapTokens, 1);
  g_mutex_init (&self->lock);
  self->path = g_strdup (path);
  self->maps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_hash_table_unref);
  self->hosts = g_ptr_array_new_with_free_func (g_free);
  load (self);
  return self;
}

void
snap_tokens_free (SnapTokens *self)
{
  if (self == NULL)
    return;
  g_mutex_clear (&self->lock);
  g_free (self->path);
  g_hash_table_unref (self->maps);
  g_ptr_array_unref (self->hosts);
  g_free (self);
}

static gint
longest_first (gconstpointer a, gconstpointer b)
{
  gsize x = strlen (*(const char *const *) a), y = strlen (*(const char *const *) b);
  return x < y ? 1 : x > y ? -1 : 0;
}

void
snap_tokens_add_host (SnapTokens *self, const char *name)
{
  g_autofree char *shortname = NULL;
  const char *dot;
  /* one-letter names would match everywhere; "localhost" identifies nothing */
  if (name == NULL || strlen (name) < 2 || g_ascii_strcasecmp (name, "localhost") == 0)
    return;
  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->hosts->len; i++)
    if (g_ascii_strcasecmp (g_ptr_array_index (self->hosts, i), name) == 0)
      {
        g_mutex_unlock (&self->lock);
        return;
      }
  g_ptr_array_add (self->hosts, g_strdup (name));
  g_ptr_array_sort (self->hosts, longest_first);
  g_mutex_unlock (&self->lock);
  dot = strchr (name, '.');
  if (dot != NULL && !g_hostname_is_ip_address (name))
    {
      shortname = g_strndup (name, (gsize) (dot - name));
      snap_tokens_add_host (self, shortname);
    }
}

static char *
get_locked (SnapTokens *self, const char *kind, const char *value)
{
  GHashTable *m = kind_map (self, kind);
  const char *token = g_hash_table_lookup (m, value);
  if (token == NULL)
    {
      char *t = g_strdup_printf ("%s-%u", kind, g_hash_table_size (m) + 1);
      g_hash_table_insert (m, g_strdup (value), t);
      token = t;
    }
  return g_strdup (token);
}

char *
snap_tokens_get (SnapTokens *self, const char *kind, const char *value)
{
  char *token;
  g_mutex_lock (&self->lock);
  token = get_locked (self, kind, value);
  g_mutex_unlock (&self->lock);
  return token;
}

gboolean
snap_tokens_save (SnapTokens *self, GError **error)
{
  g_autoptr (JsonObject) root = json_object_new ();
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *text = NULL;
  g_autoptr (GError) local = NULL;
  gboolean ok;
  g_mutex_lock (&self->lock);
  json_object_set_int_member (root, "version", 1);
  for (guint k = 0; snap_token_kinds[k] != NULL; k++)
    {
      JsonObject *o = json_object_new ();
      GHashTableIter iter;
      gpointer key, value;
      g_hash_table_iter_init (&iter, kind_map (self, snap_token_kinds[k]));
      while (g_hash_table_iter_next (&iter, &key, &value))
        json_object_set_string_member (o, key, value);
      json_object_set_object_member (root, snap_token_kinds[k], o);
    }
  json_node_set_object (node, root);
  text = esa_json_to_string (node, TRUE);
  ok = g_file_set_contents_full (self->path, text, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600, &local);
  g_mutex_unlock (&self->lock);
  if (!ok)
    g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "redaction map %s: %s", self->path, local->message);
  return ok;
}

/* ---- the tokenizer ---------------------------------------------------------- */

static gboolean
is_word (char c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '_';
}

/* A dotted quad at text[i] (not inside a longer number or name); its length. */
static gsize
ipv4_at (const char *text, gsize len, gsize i, gboolean *keep)
{
  gsize j = i;
  guint octets[4];
  if (i > 0 && (is_word (text[i - 1]) || text[i - 1] == '.' || text[i - 1] == ':'))
    return 0;
  for (guint k = 0; k < 4; k++)
    {
      guint v = 0, digits = 0;
      if (k > 0)
        {
          if (j >= len || text[j] != '.')
            return 0;
          j++;
        }
      while (j < len && g_ascii_isdigit (text[j]) && digits < 4)
        v = v * 10 + (guint) (text[j++] - '0'), digits++;
      if (digits == 0 || digits > 3 || v > 255)
        return 0;
      octets[k] = v;
    }
  if (j < len && (is_word (text[j]) || (text[j] == '.' && j + 1 < len && g_ascii_isdigit (text[j + 1]))))
    return 0;
  *keep = octets[0] == 127 || octets[0] == 0 || octets[0] == 255 ||
          (octets[0] < 10 && octets[1] < 10 && octets[2] < 10 && octets[3] < 10);
  return j - i;
}

/* An IPv6 address at text[i]: a run of hex digits, ':' and '.' with "::"
 * or seven colons (a time of day or a MAC address has fewer) that GLib
 * takes for an address. */
static gsize
ipv6_at (const char *text, gsize len, gsize i, gboolean *keep)
{
  gsize j = i;
  guint colons = 0;
  g_autofree char *candidate = NULL;
  if (i > 0 && (is_word (text[i - 1]) || text[i - 1] == ':' || text[i - 1] == '.'))
    return 0;
  while (j < len && (g_ascii_isxdigit (text[j]) || text[j] == ':' || text[j] == '.') && j - i < 45)
    colons += text[j++] == ':';
  /* a colon ending a sentence is punctuation, unless it is the "::" */
  if (j - i > 2 && text[j - 1] == ':' && text[j - 2] != ':')
    j--, colons--;
  if (j < len && is_word (text[j]))
    return 0;
  candidate = g_strndup (text + i, j - i);
  if (colons < 2 || (colons < 7 && strstr (candidate, "::") == NULL) || !g_hostname_is_ip_address (candidate))
    return 0;
  *keep = g_str_equal (candidate, "::1") || g_str_equal (candidate, "::");
  return j - i;
}

static gsize
host_at (SnapTokens *self, const char *text, gsize len, gsize i, const char **host)
{
  if (i > 0 && (is_word (text[i - 1]) || text[i - 1] == '.'))
    return 0;
  for (guint h = 0; h < self->hosts->len; h++)
    {
      const char *name = g_ptr_array_index (self->hosts, h);
      gsize n = strlen (name);
      if (i + n <= len && g_ascii_strncasecmp (text + i, name, n) == 0 && (i + n == len || !is_word (text[i + n])))
        {
          *host = name;
          return n;
        }
    }
  return 0;
}

char *
snap_tokenize (SnapTokens *self, const char *text, gsize len, guint *n_replaced)
{
  GString *out = g_string_sized_new (len + 16);
  guint n = 0;
  gsize i = 0;
  g_mutex_lock (&self->lock);
  while (i < len)
    {
      const char *host = NULL;
      gboolean keep = FALSE;
      gsize m;
      if ((m = host_at (self, text, len, i, &host)) > 0)
        {
          g_autofree char *lower = g_ascii_strdown (host, -1);
          g_autofree char *token = get_locked (self, "host", lower);
          g_string_append (out, token);
          n++;
          i += m;
          continue;
        }
      m = g_ascii_isdigit (text[i]) ? ipv4_at (text, len, i, &keep) : 0;
      if (m == 0 && (g_ascii_isxdigit (text[i]) || text[i] == ':'))
        m = ipv6_at (text, len, i, &keep);
      if (m > 0)
        {
          if (keep)
            g_string_append_len (out, text + i, (gssize) m);
          else
            {
              g_autofree char *value = g_ascii_strdown (text + i, (gssize) m);
              g_autofree char *token = get_locked (self, "ip", value);
              g_string_append (out, token);
              n++;
            }
          i += m;
          continue;
        }
      g_string_append_c (out, text[i++]);
    }
  g_mutex_unlock (&self->lock);
  if (n_replaced != NULL)
    *n_replaced = n;
  return g_string_free (out, FALSE);
}
