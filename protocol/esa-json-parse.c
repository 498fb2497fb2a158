/* esa-json-parse.c: esa_json_parse, the bounded JSON parser every program uses on
 * outside text — a strict RFC 8259 reader (raw control characters in strings excepted,
 * see read_string) that builds json-glib's tree (JsonNode, JsonObject, JsonArray)
 * directly.
 *
 * Why not JsonParser: esa-sdc parses every request body on its main loop, and
 * json-glib's GScanner-based parser made that parse about 10 % of the loop's CPU per
 * heartbeat; it also needed a pre-pass of our own (nesting depth, escapes JSON does not
 * have, more than one value) to be safe on outside input. This reader does both in one
 * pass, iteratively (no recursion, so no depth runs it out of stack). Numbers, docs and
 * the differences from json-glib: docs/protocol.md "JSON text"; measured in
 * docs/performance.md "JSON parse" (bench/json-parse.sh). tests/test-json-parse and
 * tests/fuzz/fuzz-json compare it with JsonParser (tests/json-reference.c). */
#include "config.h"

#include "esa/esa-json.h"
#include "esa/esa-error.h"

#include <string.h>

/* An array or object being filled: its node and, kept at hand, its object or array. */
typedef struct
{
  JsonNode *node;
  JsonObject *object; /* NULL for an array */
  JsonArray *array;
} Open;

/* The open arrays and objects, innermost last. */
typedef struct
{
  Open *items;
  guint len;
  guint alloc;
  Open inline_items[16];
} Stack;

/* A string being read, NUL-terminated: on the stack up to its inline size (member
 * names and most values), on the heap beyond. */
typedef struct
{
  char *data;
  gsize len;
  gsize alloc;
  char inline_data[256];
} Buf;

typedef struct
{
  const char *start;
  const char *p;
  const char *end;
  guint max_depth;
  Stack stack;
  Buf key; /* the member name being read */
  Buf str; /* a string value */
  Open opened; /* what read_value read when it was an array or object (else zeroed) */
  GError **error;
} Reader;

static gsize
offset (Reader *r, const char *at)
{
  return (gsize) (at - r->start);
}

/* "not valid JSON: unexpected 'x' at byte 7 (expected ',' or ']')" */
static gboolean
fail_unexpected (Reader *r, const char *expected)
{
  g_autofree char *what = NULL;
  if (r->p >= r->end)
    what = g_strdup ("end of text");
  else if (*r->p > 0x20 && *r->p < 0x7f)
    what = g_strdup_printf ("'%c'", *r->p);
  else
    what = g_strdup_printf ("byte 0x%02X", (guint) (guchar) *r->p);
  g_set_error (r->error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
               "not valid JSON: unexpected %s at byte %" G_GSIZE_FORMAT " (expected %s)", what,
               offset (r, r->p), expected);
  return FALSE;
}

static void
skip_space (Reader *r)
{
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
    r->p++;
}

static int
hex_digit (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static void
buf_init (Buf *b)
{
  b->data = b->inline_data;
  b->len = 0;
  b->alloc = sizeof b->inline_data;
  b->data[0] = '\0';
}

static void
buf_clear (Buf *b)
{
  if (b->data != b->inline_data)
    g_free (b->data);
}

/* Room for @more bytes and the NUL; the text is at most max_bytes, so no overflow. */
static void
buf_reserve (Buf *b, gsize more)
{
  gsize want = b->len + more + 1;
  if (want <= b->alloc)
    return;
  while (b->alloc < want)
    b->alloc *= 2;
  if (b->data == b->inline_data)
    {
      b->data = g_malloc (b->alloc);
      memcpy (b->data, b->inline_data, b->len);
    }
  else
    b->data = g_realloc (b->data, b->alloc);
}

static void
buf_append (Buf *b, const char *s, gsize n)
{
  buf_reserve (b, n);
  memcpy (b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

static void
buf_append_c (Buf *b, char c)
{
  buf_append (b, &c, 1);
}

static void
buf_append_unichar (Buf *b, gunichar c)
{
  char utf8[6];
  buf_append (b, utf8, (gsize) g_unichar_to_utf8 (c, utf8));
}

/* The four hex digits of the "\uXXXX" at @at, or -1 when there is none. */
static int
read_hex4 (Reader *r, const char *at)
{
  int v = 0;
  if (r->end - at < 6 || at[0] != '\\' || at[1] != 'u')
    return -1;
  for (int i = 2; i < 6; i++)
    {
      int d = hex_digit (at[i]);
      if (d < 0)
        return -1;
      v = v * 16 + d;
    }
  return v;
}

static gboolean
fail_escape (Reader *r, const char *at)
{
  g_set_error (r->error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
               "a JSON string holds an escape JSON does not have at byte %" G_GSIZE_FORMAT
               " (expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)",
               offset (r, at));
  return FALSE;
}

/* One "\…" escape at r->p appended to @out as UTF-8. A NUL would cut every C string
 * holding the value short (a stored value or file name silently truncated), and a lone
 * UTF-16 surrogate is no character: both refused (json-glib keeps the first; the second
 * it refuses or turns into replacement characters depending on what follows). */
static gboolean
read_escape (Reader *r, Buf *out)
{
  const char *at = r->p;
  int cp;
  if (r->end - at < 2)
    return fail_escape (r, at);
  switch (at[1])
    {
    case '"':
    case '\\':
    case '/':
      buf_append_c (out, at[1]);
      r->p += 2;
      return TRUE;
    case 'b':
      buf_append_c (out, '\b');
      r->p += 2;
      return TRUE;
    case 'f':
      buf_append_c (out, '\f');
      r->p += 2;
      return TRUE;
    case 'n':
      buf_append_c (out, '\n');
      r->p += 2;
      return TRUE;
    case 'r':
      buf_append_c (out, '\r');
      r->p += 2;
      return TRUE;
    case 't':
      buf_append_c (out, '\t');
      r->p += 2;
      return TRUE;
    case 'u':
      break;
    default:
      return fail_escape (r, at);
    }
  cp = read_hex4 (r, at);
  if (cp < 0)
    return fail_escape (r, at);
  if (cp == 0)
    {
      g_set_error (r->error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "a JSON string holds \\u0000 (NUL) at byte %" G_GSIZE_FORMAT, offset (r, at));
      return FALSE;
    }
  r->p += 6;
  if (cp >= 0xD800 && cp <= 0xDBFF)
    {
      int low = read_hex4 (r, r->p);
      if (r->p < r->end && *r->p == '\\' && low < 0 && (r->end - r->p < 2 || r->p[1] == 'u'))
        return fail_escape (r, r->p);
      if (low < 0xDC00 || low > 0xDFFF)
        {
          g_set_error (r->error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                       "not valid JSON: a lone UTF-16 surrogate \\u%04X at byte %" G_GSIZE_FORMAT
                       " (expected a low surrogate \\uDC00-\\uDFFF after it)",
                       (guint) cp, offset (r, at));
          return FALSE;
        }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      r->p += 6;
    }
  else if (cp >= 0xDC00 && cp <= 0xDFFF)
    {
      g_set_error (r->error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "not valid JSON: a lone UTF-16 surrogate \\u%04X at byte %" G_GSIZE_FORMAT
                   " (a low surrogate without a high one before it)",
                   (guint) cp, offset (r, at));
      return FALSE;
    }
  buf_append_unichar (out, (gunichar) cp);
  return TRUE;
}

/* The string whose opening quote is at r->p, into @out (NUL-terminated). Its UTF-8 is
 * checked here, as it is read: outside strings only ASCII is JSON, so a text read to
 * its end without an error is UTF-8 (esa_json_parse names a text that is not, whatever
 * failed first). Raw control characters (U+0001-U+001F; a NUL never gets here) are
 * taken, as json-glib's parser took them, although JSON wants them escaped: json-glib
 * 1.6's generator, which writes everything we store and send, writes U+001F unescaped,
 * and a spool record or report with one must still read back. */
static gboolean
read_string (Reader *r, Buf *out)
{
  const char *open = r->p;
  out->len = 0;
  r->p++;
  for (;;)
    {
      const char *run = r->p;
      while (r->p < r->end && (guchar) *r->p < 0x80 && *r->p != '"' && *r->p != '\\')
        r->p++;
      if (r->p < r->end && (guchar) *r->p >= 0x80)
        {
          gunichar c = g_utf8_get_char_validated (r->p, r->end - r->p);
          if (c == (gunichar) -1 || c == (gunichar) -2)
            {
              g_set_error_literal (r->error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "not UTF-8 JSON text");
              return FALSE;
            }
          r->p = g_utf8_next_char (r->p);
          buf_append (out, run, (gsize) (r->p - run));
          continue;
        }
      buf_append (out, run, (gsize) (r->p - run));
      if (r->p >= r->end)
        {
          g_set_error (r->error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                       "not valid JSON: a string without its closing quote (opened at byte %" G_GSIZE_FORMAT ")",
                       offset (r, open));
          return FALSE;
        }
      if (*r->p == '"')
        {
          r->p++;
          return TRUE;
        }
      if (!read_escape (r, out))
        return FALSE;
    }
}

static gboolean
is_digit (const char *p, const char *end)
{
  return p < end && *p >= '0' && *p <= '9';
}

/* A number at r->p: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?. Without a fraction
 * or exponent it is a gint64 node when it fits (as json-glib); one that does not fit is
 * a double (json-glib wraps it modulo 2^64). With one it is a double, rounded as
 * g_ascii_strtod does (out of range: ±inf, as json-glib). */
static JsonNode *
read_number (Reader *r)
{
  const char *from = r->p;
  gboolean negative = FALSE;
  gboolean integral = TRUE;
  gboolean fits = TRUE;
  guint64 magnitude = 0;
  JsonNode *node;

  if (*r->p == '-')
    {
      negative = TRUE;
      r->p++;
    }
  if (!is_digit (r->p, r->end))
    {
      fail_unexpected (r, "a digit");
      return NULL;
    }
  if (*r->p == '0')
    {
      r->p++;
      if (is_digit (r->p, r->end))
        {
          fail_unexpected (r, "'.', 'e' or the number's end: no leading zeros");
          return NULL;
        }
    }
  else
    while (is_digit (r->p, r->end))
      {
        guint d = (guint) (*r->p - '0');
        if (magnitude > (G_MAXUINT64 - d) / 10)
          fits = FALSE;
        else
          magnitude = magnitude * 10 + d;
        r->p++;
      }
  if (r->p < r->end && *r->p == '.')
    {
      integral = FALSE;
      r->p++;
      if (!is_digit (r->p, r->end))
        {
          fail_unexpected (r, "a digit after '.'");
          return NULL;
        }
      while (is_digit (r->p, r->end))
        r->p++;
    }
  if (r->p < r->end && (*r->p == 'e' || *r->p == 'E'))
    {
      integral = FALSE;
      r->p++;
      if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
        r->p++;
      if (!is_digit (r->p, r->end))
        {
          fail_unexpected (r, "a digit in the exponent");
          return NULL;
        }
      while (is_digit (r->p, r->end))
        r->p++;
    }

  node = json_node_alloc ();
  if (integral && fits && magnitude <= (guint64) G_MAXINT64 + negative)
    {
      /* -(2^63) is the one magnitude that fits only negated; -0 is the integer 0 */
      gint64 v = !negative ? (gint64) magnitude : magnitude == 0 ? 0 : -(gint64) (magnitude - 1) - 1;
      return json_node_init_int (node, v);
    }
  {
    char small[64];
    gsize n = (gsize) (r->p - from);
    g_autofree char *big = n < sizeof small ? NULL : g_strndup (from, n);
    char *text = big != NULL ? big : small;
    if (big == NULL)
      {
        memcpy (small, from, n);
        small[n] = '\0';
      }
    return json_node_init_double (node, g_ascii_strtod (text, NULL));
  }
}

/* "true", "false" or "null" at r->p. */
static JsonNode *
read_literal (Reader *r)
{
  gsize left = (gsize) (r->end - r->p);
  if (left >= 4 && memcmp (r->p, "true", 4) == 0)
    {
      r->p += 4;
      return json_node_init_boolean (json_node_alloc (), TRUE);
    }
  if (left >= 5 && memcmp (r->p, "false", 5) == 0)
    {
      r->p += 5;
      return json_node_init_boolean (json_node_alloc (), FALSE);
    }
  if (left >= 4 && memcmp (r->p, "null", 4) == 0)
    {
      r->p += 4;
      return json_node_init_null (json_node_alloc ());
    }
  fail_unexpected (r, "a value");
  return NULL;
}

static void
stack_push (Stack *s, const Open *open)
{
  if (s->len == s->alloc)
    {
      guint alloc = s->alloc * 2;
      if (s->items == s->inline_items)
        s->items = g_memdup2 (s->inline_items, sizeof s->inline_items[0] * s->alloc);
      s->items = g_renew (Open, s->items, alloc);
      s->alloc = alloc;
    }
  s->items[s->len++] = *open;
}

/* The value at r->p (after white space), or NULL with the error set. An array or an
 * object comes back empty, for the caller to put where it belongs and then open (push
 * on the stack) to fill. */
static JsonNode *
read_value (Reader *r)
{
  r->opened = (Open) { 0 };
  if (r->p >= r->end)
    {
      fail_unexpected (r, "a value");
      return NULL;
    }
  switch (*r->p)
    {
    case '{':
    case '[':
      {
        JsonNode *node;
        if (r->stack.len >= r->max_depth)
          {
            g_set_error (r->error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                         "JSON nested deeper than %u levels (at byte %" G_GSIZE_FORMAT ")", r->max_depth,
                         offset (r, r->p));
            return NULL;
          }
        if (*r->p == '{')
          {
            node = json_node_new (JSON_NODE_OBJECT);
            r->opened.object = json_object_new ();
            json_node_take_object (node, r->opened.object);
          }
        else
          {
            node = json_node_new (JSON_NODE_ARRAY);
            r->opened.array = json_array_new ();
            json_node_take_array (node, r->opened.array);
          }
        r->opened.node = node;
        r->p++;
        return node;
      }
    case '"':
      if (!read_string (r, &r->str))
        return NULL;
      return json_node_init_string (json_node_alloc (), r->str.data);
    case 't':
    case 'f':
    case 'n':
      return read_literal (r);
    default:
      if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9'))
        return read_number (r);
      fail_unexpected (r, "a value");
      return NULL;
    }
}

/* After '{' or ',' in an object: the member name and its ':'. */
static gboolean
read_member_name (Reader *r)
{
  skip_space (r);
  if (r->p >= r->end || *r->p != '"')
    return fail_unexpected (r, "a member name in double quotes");
  if (!read_string (r, &r->key))
    return FALSE;
  skip_space (r);
  if (r->p >= r->end || *r->p != ':')
    return fail_unexpected (r, "':' after the member name");
  r->p++;
  return TRUE;
}

/* Puts @node, just read, into the innermost open container (the member named r->key
 * of an object; a later member of the same name replaces it in its place, as json-glib
 * does), and opens it when it is an array or object. */
static void
attach (Reader *r, JsonNode *node)
{
  Open *parent = &r->stack.items[r->stack.len - 1];
  json_node_set_parent (node, parent->node);
  if (parent->object != NULL)
    json_object_set_member (parent->object, r->key.data, node);
  else
    json_array_add_element (parent->array, node);
  if (r->opened.node != NULL)
    stack_push (&r->stack, &r->opened);
}

/* The whole text as one value; the root or NULL. */
static JsonNode *
read_text (Reader *r)
{
  g_autoptr (JsonNode) root = NULL;
  gboolean opened;

  skip_space (r);
  if (r->p >= r->end)
    {
      g_set_error_literal (r->error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "empty JSON text");
      return NULL;
    }
  root = read_value (r);
  if (root == NULL)
    return NULL;
  opened = r->opened.node != NULL;
  if (opened)
    stack_push (&r->stack, &r->opened);
  while (r->stack.len > 0)
    {
      Open *top = &r->stack.items[r->stack.len - 1];
      char close = top->object != NULL ? '}' : ']';
      JsonNode *node;
      skip_space (r);
      if (opened)
        {
          /* an array or object just opened: its first member or element, or its end */
          if (r->p < r->end && *r->p == close)
            {
              r->p++;
              r->stack.len--;
              opened = FALSE;
              continue;
            }
        }
      else if (r->p < r->end && *r->p == ',')
        {
          /* a value is complete, and another follows in its container */
          r->p++;
        }
      else if (r->p < r->end && *r->p == close)
        {
          r->p++;
          r->stack.len--;
          continue;
        }
      else
        {
          fail_unexpected (r, top->object != NULL ? "',' or '}'" : "',' or ']'");
          return NULL;
        }
      if (top->object != NULL && !read_member_name (r))
        return NULL;
      skip_space (r);
      node = read_value (r);
      if (node == NULL)
        return NULL;
      attach (r, node);
      opened = r->opened.node != NULL;
    }

  skip_space (r);
  if (r->p < r->end)
    {
      /* JSON text is one value: json-glib kept the last of several and leaked the others */
      if (strchr ("{[\"-0123456789tfn", *r->p) != NULL)
        g_set_error (r->error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                     "more than one JSON value (the second at byte %" G_GSIZE_FORMAT ")", offset (r, r->p));
      else
        fail_unexpected (r, "the end of the text after the value");
      return NULL;
    }
  return g_steal_pointer (&root);
}

JsonNode *
esa_json_parse (const char *data, gssize len, gsize max_bytes, guint max_depth, GError **error)
{
  gsize n = len < 0 ? strlen (data) : (gsize) len;
  Reader r = { 0 };
  JsonNode *root;

  if (n > max_bytes)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA,
                   "JSON text of %" G_GSIZE_FORMAT " bytes is over the limit of %" G_GSIZE_FORMAT " bytes",
                   n, max_bytes);
      return NULL;
    }
  /* a NUL inside is not JSON text */
  if (memchr (data, '\0', n) != NULL)
    {
      g_set_error_literal (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "not UTF-8 JSON text");
      return NULL;
    }
  r.start = r.p = data;
  r.end = data + n;
  r.max_depth = max_depth;
  r.stack.items = r.stack.inline_items;
  r.stack.alloc = G_N_ELEMENTS (r.stack.inline_items);
  buf_init (&r.key);
  buf_init (&r.str);
  r.error = error;
  root = read_text (&r);
  /* UTF-8 was checked inside strings only, as they were read (the rest of a text that
   * parses is ASCII): a text that failed is named "not UTF-8" when it is not, whatever
   * failed first, as when the whole text was checked first */
  if (root == NULL && !g_utf8_validate (data, (gssize) n, NULL))
    {
      g_clear_error (error);
      g_set_error_literal (error, ESA_ERROR, ESA_ERROR_INVALID_DATA, "not UTF-8 JSON text");
    }
  buf_clear (&r.key);
  buf_clear (&r.str);
  if (r.stack.items != r.stack.inline_items)
    g_free (r.stack.items);
  return root;
}
