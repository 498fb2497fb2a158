/* json-parse.c: CPU time per parse of the request bodies esa-sdc sees most (a heartbeat
 * and a problem report, shaped as bench/fleet/http.c sends them), by json-glib's
 * JsonParser alone, by esa_json_parse as it was (shape check + JsonParser + json_node_copy,
 * tests/json-reference.c), the same without the copy (json_parser_steal_root), and by
 * esa_json_parse of this tree. Run by bench/json-parse.sh. */
#include "config.h"

#include "esa/esa-json.h"
#include "json-reference.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define ROUNDS 7

typedef JsonNode *(*ParseFunc) (const char *data, gsize len);

static JsonNode *
parse_jsonparser (const char *data, gsize len)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data, (gssize) len, NULL))
    return NULL;
  return json_parser_steal_root (parser);
}

static JsonNode *
parse_before (const char *data, gsize len)
{
  return esa_test_json_parse_reference (data, (gssize) len, 1 << 20, 64, TRUE, NULL);
}

static JsonNode *
parse_steal (const char *data, gsize len)
{
  return esa_test_json_parse_reference (data, (gssize) len, 1 << 20, 64, FALSE, NULL);
}

static JsonNode *
parse_after (const char *data, gsize len)
{
  return esa_json_parse (data, (gssize) len, 1 << 20, 64, NULL);
}

static double
cpu_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* CPU µs per parse over @iters parses. */
static double
measure (ParseFunc parse, const char *body, guint iters)
{
  gsize len = strlen (body);
  double t0 = cpu_seconds ();
  for (guint i = 0; i < iters; i++)
    {
      JsonNode *root = parse (body, len);
      g_assert (root != NULL);
      json_node_unref (root);
    }
  return (cpu_seconds () - t0) * 1e6 / iters;
}

int
main (int argc, char **argv)
{
  guint iters = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 20000;
  /* bench/fleet/http.c's bodies */
  const char *envelope = "{\"version\":1,\"uuid\":\"3f2a9c41-7d0e-4b1a-9c3e-5a6b7c8d9e0f\",\"kind\":\"%s\","
                         "\"plugin\":\"bench\",\"created\":\"2026-11-27T01:30:00Z\",\"body\":{%s}}";
  g_autofree char *heartbeat = g_strdup_printf (envelope, "heartbeat", "\"uptime\":12345");
  g_autofree char *problem = g_strdup_printf (envelope, "problem", "\"srn\":\"651-204\",\"description\":\"bench\"");
  const char *names[] = { "heartbeat", "problem" };
  const char *bodies[] = { heartbeat, problem };
  const char *columns[] = { "JsonParser", "before", "steal_root", "after" };
  ParseFunc funcs[] = { parse_jsonparser, parse_before, parse_steal, parse_after };

  printf ("CPU us per parse (median of %u rounds of %u parses, columns interleaved)\n", ROUNDS, iters);
  printf ("%-10s %6s", "body", "bytes");
  for (guint c = 0; c < G_N_ELEMENTS (columns); c++)
    printf (" %11s", columns[c]);
  printf (" %14s\n", "before/after");
  for (guint b = 0; b < G_N_ELEMENTS (bodies); b++)
    {
      double us[G_N_ELEMENTS (funcs)][ROUNDS], med[G_N_ELEMENTS (funcs)];
      /* the columns interleaved round by round, so a busy moment hits them all */
      for (guint c = 0; c < G_N_ELEMENTS (funcs); c++)
        measure (funcs[c], bodies[b], iters / 10 + 1);
      for (guint r = 0; r < ROUNDS; r++)
        for (guint c = 0; c < G_N_ELEMENTS (funcs); c++)
          us[c][r] = measure (funcs[c], bodies[b], iters);
      printf ("%-10s %6zu", names[b], strlen (bodies[b]));
      for (guint c = 0; c < G_N_ELEMENTS (funcs); c++)
        {
          qsort (us[c], ROUNDS, sizeof us[c][0], cmp_double);
          med[c] = us[c][ROUNDS / 2];
          printf (" %11.2f", med[c]);
        }
      printf (" %13.1fx\n", med[1] / med[3]);
    }
  return 0;
}
