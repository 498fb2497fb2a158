/* esa-aix-records.h: the tolerant line reader every AIX output parser shares.
 *
 * Installed with the plugin SDK: libesa's parsers (core/aix/), the in-tree
 * plugins (diag, uak) and third-party collectors of AIX output use it.
 * The rule it carries: keep what is usable, say what was odd in `warnings`
 * (a GPtrArray of char*, may be NULL), fail only when nothing usable is left,
 * naming the command and the first line that did not parse. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* One command's output as lines (CRLF or LF, line ends dropped), with the
 * first line that did not parse and where the warnings go. */
typedef struct
{
  const char *command; /* "lsattr", "lslpp -Lc": starts every message */
  GStrv lines;
  GPtrArray *warnings;
  int first_bad; /* index into lines, -1 while every line parsed */
  gpointer padding[4]; /* reserved (ABI 2): later fields take its place, zero meaning
                        * "as before"; keep it zero (designated initializers do) */
} EsaAixReader;

/* command must outlive the reader (a string literal); warnings may be NULL. */
EsaAixReader esa_aix_reader_start (const char *command, const char *text, GPtrArray *warnings);
void esa_aix_reader_clear (EsaAixReader *self);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (EsaAixReader, esa_aix_reader_clear)

/* Line i did not parse: remember it (the first one names the error) and warn
 * "<command>: line <n>: <what>, ignored". */
void esa_aix_reader_skip (EsaAixReader *self, guint i, const char *what);

/* TRUE when usable; otherwise sets ESA_ERROR_INVALID_DATA naming the first
 * line that did not parse (or "empty output") and `expected`. */
gboolean esa_aix_reader_check (EsaAixReader *self, gboolean usable, const char *expected, GError **error);

/* ---- messages ---- */

void esa_aix_warn (GPtrArray *warnings, const char *fmt, ...) G_GNUC_PRINTF (2, 3);
/* A line as it may appear in a message: valid UTF-8, control characters and
 * quotes escaped, cut when long. */
char *esa_aix_shown (const char *line);
void esa_aix_set_invalid (GError **error, const char *command, guint lineno, const char *line,
                          const char *why);
void esa_aix_set_empty (GError **error, const char *command);

/* ---- lines and words ---- */

/* Lines without their "\r\n" / "\n". */
GStrv esa_aix_lines (const char *text);
gboolean esa_aix_blank (const char *line);
/* Leading blanks, a tab counting 8. */
guint esa_aix_indent (const char *line);
/* What follows the first `k` blank-separated words of line. */
const char *esa_aix_after_words (const char *line, guint k);
/* The blank-separated words of line. */
GStrv esa_aix_tokens (const char *line);
/* "Key: value" or "Key:" → key and value (stripped); FALSE otherwise. */
gboolean esa_aix_split_key_value (const char *line, char **key, char **value);

/* ---- values ---- */

/* Frees *dest and stores value. */
void esa_aix_replace (char **dest, char *value);
/* Continuation lines: joined with one blank. */
void esa_aix_append_text (char **dest, const char *more);
/* NULL for "", " " and the like: how the colon forms say "no value". */
char *esa_aix_field (const char *value);
gboolean esa_aix_parse_int64 (const char *text, gint64 *out);
/* TRUE when s is not empty and pred holds for every character. */
gboolean esa_aix_all (const char *s, gboolean (*pred) (gchar));
gboolean esa_aix_is_digit (gchar c);
gboolean esa_aix_is_xdigit (gchar c);
gboolean esa_aix_is_alnum (gchar c);
/* letters, digits, '_', '-', '.' */
gboolean esa_aix_is_name (gchar c);
/* value, or JSON null when value is NULL */
void esa_aix_json_set_string (JsonObject *obj, const char *key, const char *value);

G_END_DECLS
