/* fuzz-aix.c: every parser of AIX command output (core/aix/, the diag plugin's errpt and
 * diag SRN readers, the uak plugin's lparstat -u and lscfg VPD readers, and the EDAC
 * counter reader). The first byte picks the parser, the rest is the command's stdout,
 * raw: the parsers are plugin API and must not trust that it is valid UTF-8. What a
 * parser returns is read through to its JSON form, as the collectors do. */
#include "config.h"

#include "fuzz.h"

#include "esa/esa-aix.h"
#include "esa/esa-error.h"
#include "diag-edac.h"
#include "diag-errpt.h"
#include "diag-srn.h"
#include "uak-lparstat.h"
#include "uak-lscfg.h"

/* A refused output must say why; a parsed one has no error. */
static void
check_result (gconstpointer result, GError *error)
{
  if (result == NULL)
    g_assert_true (error != NULL && error->message != NULL);
  else
    g_assert_no_error (error);
}

static void
to_json_and_free (JsonObject *obj)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *text = NULL;
  json_node_take_object (node, obj);
  text = json_to_string (node, FALSE);
  g_assert_true (g_utf8_validate (text, -1, NULL));
}

static void
parse (guint which, const char *text)
{
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;

  switch (which)
    {
    case 0:
      {
        g_autoptr (EsaAixUname) u = esa_aix_parse_uname_a (text, warnings, &error);
        check_result (u, error);
        if (u != NULL)
          g_free (esa_aix_uname_os_version (u));
        break;
      }
    case 1:
      {
        g_autofree char *line = esa_aix_parse_single_line ("uname -M", text, &error);
        g_autofree char *vendor = NULL;
        g_autofree char *rest = NULL;
        g_autofree char *type = NULL;
        g_autofree char *model = NULL;
        check_result (line, error);
        if (line != NULL)
          {
            esa_aix_split_vendor (line, &vendor, &rest);
            esa_aix_split_type_model (rest, &type, &model);
          }
        break;
      }
    case 2:
      {
        int id = 0;
        g_autofree char *name = NULL;
        if (!esa_aix_parse_lpar_info ("uname -L", text, &id, &name, &error))
          g_assert_nonnull (error);
        break;
      }
    case 3:
      {
        g_autoptr (GPtrArray) attrs = esa_aix_parse_lsattr (text, warnings, &error);
        check_result (attrs, error);
        if (attrs != NULL)
          (void) esa_aix_attrs_lookup (attrs, "realmem");
        break;
      }
    case 4:
      {
        g_autoptr (GPtrArray) attrs = esa_aix_parse_lsattr_colon (text, warnings, &error);
        check_result (attrs, error);
        if (attrs != NULL)
          (void) esa_aix_attrs_lookup (attrs, "realmem");
        break;
      }
    case 5:
      {
        g_autoptr (EsaAixPrtconf) p = esa_aix_parse_prtconf (text, warnings, &error);
        check_result (p, error);
        break;
      }
    case 6:
      {
        g_autoptr (EsaAixMcode) m = esa_aix_parse_lsmcode_c (text, warnings, &error);
        check_result (m, error);
        if (m != NULL)
          (void) esa_aix_mcode_current (m);
        break;
      }
    case 7:
      {
        g_autoptr (GPtrArray) e = esa_aix_parse_lsmcode_A (text, warnings, &error);
        check_result (e, error);
        break;
      }
    case 8:
    case 9:
    case 10:
      {
        g_autoptr (GPtrArray) f = which == 8   ? esa_aix_parse_lslpp_l (text, warnings, &error)
                                  : which == 9 ? esa_aix_parse_lslpp_lc (text, warnings, &error)
                                               : esa_aix_parse_lslpp_Lc (text, warnings, &error);
        check_result (f, error);
        for (guint i = 0; f != NULL && i < f->len; i++)
          to_json_and_free (esa_aix_fileset_to_json (g_ptr_array_index (f, i)));
        break;
      }
    case 11:
      {
        g_autoptr (GPtrArray) e = esa_aix_parse_errpt_summary (text, warnings, &error);
        check_result (e, error);
        break;
      }
    case 12:
      {
        g_autoptr (GPtrArray) r = esa_aix_parse_errpt_a (text, warnings, &error);
        check_result (r, error);
        for (guint i = 0; r != NULL && i < r->len; i++)
          to_json_and_free (esa_aix_errpt_record_to_json (g_ptr_array_index (r, i)));
        break;
      }
    case 13:
      {
        g_autoptr (EsaAixDiag) d = esa_aix_parse_diag (text, warnings, &error);
        check_result (d, error);
        if (d != NULL)
          to_json_and_free (esa_aix_diag_to_json (d));
        break;
      }
    case 14:
      {
        g_autoptr (EsaAixUak) u = esa_aix_parse_lparstat_u (text, warnings, &error);
        check_result (u, error);
        break;
      }
    case 15:
      {
        g_autofree char *date = NULL;
        if (!esa_aix_parse_yyyymmdd ("lparstat -u", text, &date, &error))
          g_assert_nonnull (error);
        break;
      }
    case 16:
      {
        g_autoptr (GPtrArray) v = esa_aix_parse_lscfg_vpd (text, warnings, &error);
        check_result (v, error);
        if (v != NULL)
          (void) esa_aix_vpd_lookup (v, "Update Access Key Exp Date");
        break;
      }
    default:
      {
        gint64 n = 0;
        if (!diag_edac_parse_count ("/sys/devices/system/edac/mc/mc0/ce_count", text, &n, &error))
          g_assert_nonnull (error);
        else
          g_assert_cmpint (n, >=, 0);
        break;
      }
    }
  for (guint i = 0; i < warnings->len; i++)
    g_assert_nonnull (g_ptr_array_index (warnings, i));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = NULL;

  fuzz_init_logging ();
  if (size == 0)
    return 0;
  text = fuzz_text (data + 1, size - 1);
  parse (data[0] % 18, text);
  return 0;
}
