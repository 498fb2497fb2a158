/* fuzz-json.c: esa_json_parse (protocol/esa-json-parse.c) against json-glib's JsonParser
 * behind the old shape check (tests/json-reference.c) on the same bytes: aborts when
 * one takes what the other refuses the wrong way round, when the trees differ, or when
 * json-glib's tree of a text refused here (not strict JSON) does not read back the same
 * once written as strict JSON. Two limits: the agent's default and a small depth. */
#include "config.h"

#include "fuzz.h"

#include "json-reference.h"

static void
check (const uint8_t *data, size_t size, guint max_depth)
{
  EsaTestJsonVerdict verdict;
  g_autofree char *difference = esa_test_json_difference ((const char *) data, size, 1 << 20, max_depth, &verdict);
  if (difference != NULL)
    {
      fprintf (stderr, "fuzz-json: esa_json_parse and json-glib differ (depth limit %u): %s\n", max_depth,
               difference);
      abort ();
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static gboolean initialized;
  if (!initialized)
    {
      fuzz_init_logging ();
      initialized = TRUE;
    }
  check (data, size, 64);
  check (data, size, 3);
  return 0;
}
