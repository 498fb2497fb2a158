/* test-snap.c: the snap plugin's helpers — redaction, the size cap, the
 * archive (read back with libarchive), the Linux collector on a fake tree,
 * and temp-folder removal. */
#include "config.h"

#include "esa-test-archive.h"
#include "esa-test-util.h"
#include "snap-collect.h"
#include "snap-job.h"
#include "snap-redact.h"
#include "snap-repack.h"
#include "snap-tokens.h"

#include <archive.h>
#include <archive_entry.h>
#include <esa/esa-error.h>
#include <glib/gstdio.h>
#include <string.h>

static void
test_redact (void)
{
  struct { const char *in, *out; guint n; } cases[] = {
    { "password=hunter2\n", "password=***\n", 1 },
    { "  Password = hunter2\r\n", "  Password = ***\r\n", 1 },
    { "api_token: abc\nuser=alice\n", "api_token: ***\nuser=alice\n", 1 },
    { "#passwd=old\nssh-key=AAAA\nSecretThing=x", "#passwd=***\nssh-key=***\nSecretThing=***", 3 },
    { "password=\n", "password=\n", 0 },
    { "url=http://x:3128\n", "url=http://x:3128\n", 0 },
    { "no separator password here\n", "no separator password here\n", 0 },
    /* "name value" configs (sshd_config, .netrc-like, slapd.conf) */
    { "password hunter2\n", "password ***\n", 1 },
    { "\tbindpw_secret   s3cr3t\r\n", "\tbindpw_secret   ***\r\n", 1 },
    { "password\n", "password\n", 0 },
    { "machine example.com login bob\n", "machine example.com login bob\n", 0 },
    /* JSON on one line or pretty-printed */
    { "{\"user\":\"a\",\"password\":\"b\"}\n", "{\"user\":\"a\",\"password\":\"***\"}\n", 1 },
    { "  \"api_key\": \"x\\\"y\", \"n\": 1\n", "  \"api_key\": \"***\", \"n\": 1\n", 1 },
    { "{\"token\": 42}\n", "{\"token\": ***\n", 1 },
    { "{\"name\": \"key\"}\n", "{\"name\": \"key\"}\n", 0 },
    { "=password\n", "=password\n", 0 },
    { "", "", 0 },
    { "\n\n", "\n\n", 0 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint n = 99;
      g_autofree char *out = snap_redact (cases[i].in, strlen (cases[i].in), &n);
      g_assert_cmpstr (out, ==, cases[i].out);
      g_assert_cmpuint (n, ==, cases[i].n);
    }
  /* not UTF-8, embedded NUL: bytes pass through */
  {
    const char bin[] = "key=\xff\xfe\nx\0y=1\n";
    g_autofree char *out = snap_redact (bin, sizeof bin - 1, NULL);
    g_assert_true (g_str_has_prefix (out, "key=***\nx"));
  }
}

static GBytes *
bytes_of (gsize n, char c)
{
  char *buf = g_malloc (n);
  memset (buf, c, n);
  return g_bytes_new_take (buf, n);
}

/* Issue 12: host names and addresses become per-system tokens, the same
 * ones after the map is saved and opened again; what identifies nothing
 * stays; the map file is 0600. */
static void
test_tokens (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("test-snap");
  g_autofree char *path = g_build_filename (dir, "redaction-map.json", NULL);
  const char *in = "Host Name: aixp9.example.com\nnode AIXP9 up; peer aixp9x\n"
                   "IP Address: 10.1.2.9 gw 192.168.7.1, again 10.1.2.9\n"
                   "ns fe80::1:2 and 2001:db8:0:0:0:0:0:1\n"
                   "keep 127.0.0.1 0.0.0.0 255.255.255.0 ::1 bos.rte 7.3.1.0 at 10:20:31 mac 00:11:22:33:44:55 v1.2.3.4\n";
  g_autoptr (GError) error = NULL;
  g_autofree char *out1 = NULL, *out2 = NULL;
  GStatBuf st;
  guint n = 0;
  {
    g_autoptr (SnapTokens) t = snap_tokens_open (path);
    snap_tokens_add_host (t, "aixp9.example.com");
    out1 = snap_tokenize (t, in, strlen (in), &n);
    g_assert_true (snap_tokens_save (t, &error));
    g_assert_no_error (error);
  }
  g_assert_cmpstr (out1, ==,
                   "Host Name: host-1\nnode host-2 up; peer aixp9x\n"
                   "IP Address: ip-1 gw ip-2, again ip-1\n"
                   "ns ip-3 and ip-4\n"
                   "keep 127.0.0.1 0.0.0.0 255.255.255.0 ::1 bos.rte 7.3.1.0 at 10:20:31 mac 00:11:22:33:44:55 v1.2.3.4\n");
  g_assert_cmpuint (n, ==, 7);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  /* another run: the same tokens, new values get new numbers */
  {
    g_autoptr (SnapTokens) t = snap_tokens_open (path);
    const char *more = "10.9.9.9 then 192.168.7.1 on aixp9\n";
    snap_tokens_add_host (t, "aixp9.example.com");
    out2 = snap_tokenize (t, more, strlen (more), NULL);
    g_assert_cmpstr (out2, ==, "ip-5 then ip-2 on host-2\n");
  }
  /* a damaged map is moved aside, not fatal */
  esa_test_write_file (path, "{not json", 0600);
  g_test_expect_message ("esa-snap", G_LOG_LEVEL_WARNING, "*moved to*");
  {
    g_autoptr (SnapTokens) t = snap_tokens_open (path);
    g_autofree char *tok = snap_tokens_get (t, "ip", "10.1.2.9");
    g_assert_cmpstr (tok, ==, "ip-1");
  }
  g_test_assert_expected_messages ();
  esa_test_rmtree (dir);
}

/* Issue 12: an AIX snap archive (here gzip'ed ustar, as the fake writes
 * without compress(1)) is rewritten with its text members redacted and
 * binary ones untouched. */
static void
test_repack (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("test-snap");
  g_autofree char *in = g_build_filename (dir, "snap.pax.gz", NULL);
  g_autofree char *out = g_build_filename (dir, "out.pax.gz", NULL);
  g_autofree char *outz = g_build_filename (dir, "out.pax.Z", NULL);
  g_autofree char *map = g_build_filename (dir, "map.json", NULL);
  g_autoptr (SnapTokens) t = snap_tokens_open (map);
  g_autoptr (JsonArray) notes = json_array_new ();
  g_autoptr (GHashTable) files = NULL;
  g_autoptr (GError) error = NULL;
  const char bin[] = "\x01\x00" "aixp9 10.1.2.9";
  struct archive *a = archive_write_new ();
  struct archive_entry *e;
  const struct { const char *name; const char *data; gsize len; } members[] = {
    { "general/general.snap", "uname -a\nAIX aixp9 3 7\nbindpassword:s3cr3t\nIP 10.1.2.9\n", 0 },
    { "general/blob.bin", bin, sizeof bin - 1 },
  };
  snap_tokens_add_host (t, "aixp9");
  g_assert_cmpint (archive_write_add_filter_gzip (a), ==, ARCHIVE_OK);
  g_assert_cmpint (archive_write_set_format_ustar (a), ==, ARCHIVE_OK);
  g_assert_cmpint (archive_write_open_filename (a, in), ==, ARCHIVE_OK);
  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    {
      gsize len = members[i].len ? members[i].len : strlen (members[i].data);
      e = archive_entry_new ();
      archive_entry_set_pathname (e, members[i].name);
      archive_entry_set_size (e, (la_int64_t) len);
      archive_entry_set_filetype (e, AE_IFREG);
      archive_entry_set_perm (e, 0644);
      g_assert_cmpint (archive_write_header (a, e), ==, ARCHIVE_OK);
      g_assert_cmpint (archive_write_data (a, members[i].data, len), ==, (la_ssize_t) len);
      archive_entry_free (e);
    }
  archive_write_close (a);
  archive_write_free (a);

  g_assert_true (snap_repack_redacted (in, out, t, notes, &error));
  g_assert_no_error (error);
  files = esa_test_read_archive (out);
  g_assert_cmpstr (g_hash_table_lookup (files, "general/general.snap"), ==,
                   "uname -a\nAIX host-1 3 7\nbindpassword:***\nIP ip-1\n");
  g_assert_cmpmem (g_hash_table_lookup (files, "general/blob.bin"), sizeof bin - 1, bin, sizeof bin - 1);
  g_assert_cmpuint (json_array_get_length (notes), ==, 1);
  /* .Z out: compress(1) format, read back by libarchive */
  g_assert_true (snap_repack_redacted (in, outz, t, NULL, &error));
  g_clear_pointer (&files, g_hash_table_unref);
  files = esa_test_read_archive (outz);
  g_assert_nonnull (strstr (g_hash_table_lookup (files, "general/general.snap"), "host-1"));
  /* not an archive: a clear error naming the file */
  esa_test_write_file (in, "garbage", 0600);
  g_assert_false (snap_repack_redacted (in, out, t, NULL, &error));
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, in));
  esa_test_rmtree (dir);
}

static void
test_fit_and_write (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("test-snap");
  g_autofree char *path = g_build_filename (dir, "x.tar.gz", NULL);
  g_autoptr (SnapCollection) c = snap_collection_new ();
  g_autoptr (GBytes) small = bytes_of (1000, 'a');
  g_autoptr (GBytes) big = bytes_of (200000, 'b');
  g_autoptr (GBytes) mid = bytes_of (50000, 'c');
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) manifest = json_object_new ();
  g_autoptr (GHashTable) files = NULL;
  g_autofree char *notes = NULL;

  snap_collection_add (c, "required.txt", small, FALSE);
  snap_collection_add (c, "commands/journal.txt", big, TRUE);
  snap_collection_add (c, "commands/dmesg.txt", mid, TRUE);
  /* 100 KB: the journal must go, dmesg fits */
  g_assert_true (snap_collection_fit (c, 100000, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c->items->len, ==, 2);
  {
    g_autoptr (JsonNode) n = json_node_new (JSON_NODE_ARRAY);
    json_node_set_array (n, c->notes);
    notes = json_to_string (n, FALSE);
  }
  g_assert_nonnull (strstr (notes, "\"commands/journal.txt\""));
  g_assert_nonnull (strstr (notes, "dropped"));

  json_object_set_string_member (manifest, "problem", "p-1");
  g_assert_true (snap_collection_write (c, manifest, path, &error));
  g_assert_no_error (error);
  files = esa_test_read_archive (path);
  g_assert_true (g_hash_table_contains (files, "openesa-snap/required.txt"));
  g_assert_true (g_hash_table_contains (files, "openesa-snap/commands/dmesg.txt"));
  g_assert_false (g_hash_table_contains (files, "openesa-snap/commands/journal.txt"));
  g_assert_nonnull (strstr (g_hash_table_lookup (files, "openesa-snap/manifest.json"), "\"p-1\""));

  /* the required items alone are over the cap: a clear error */
  g_assert_false (snap_collection_fit (c, 5000, &error));
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "max-size=5000"));
  esa_test_rmtree (dir);
}

static void
test_collect_linux (void)
{
  g_autofree char *root = esa_test_src_path ("tests/fixtures/linux-root/edac-server");
  g_autofree char *dir = esa_test_mkdtemp ("test-snap");
  g_autofree char *bin = g_build_filename (dir, "bin", NULL);
  g_autofree char *journal = g_build_filename (bin, "journalctl", NULL);
  g_autofree char *path = g_build_filename (dir, "x.tar.gz", NULL);
  const char *config[] = { "/etc/esa/esa.conf", "/etc/does-not-exist", NULL };
  g_autoptr (SnapCollection) c = NULL;
  g_autoptr (JsonObject) manifest = json_object_new ();
  g_autoptr (GHashTable) files = NULL;
  g_autoptr (GError) error = NULL;
  const char *conf;

  esa_test_write_file (journal, "#!/bin/sh\necho \"journal $*\"\n", 0755);
  g_setenv ("ESA_COMMAND_PATH", bin, TRUE);
  c = snap_collect_linux (root, config, NULL);
  g_unsetenv ("ESA_COMMAND_PATH");
  g_assert_true (snap_collection_fit (c, 64 * 1024 * 1024, &error));
  g_assert_true (snap_collection_write (c, manifest, path, &error));
  g_assert_no_error (error);
  files = esa_test_read_archive (path);
  g_assert_nonnull (strstr (g_hash_table_lookup (files, "openesa-snap/etc/os-release"), "Debian"));
  g_assert_nonnull (strstr (g_hash_table_lookup (files, "openesa-snap/proc/cpuinfo"), "POWER9"));
  g_assert_nonnull (strstr (g_hash_table_lookup (files, "openesa-snap/commands/journal-24h.txt"), "--since -24h"));
  conf = g_hash_table_lookup (files, "openesa-snap/config/etc/esa/esa.conf");
  g_assert_nonnull (conf);
  if (strstr (conf, "password=***") == NULL)
    g_printerr ("conf: [%s]\n", conf);
  g_assert_nonnull (strstr (conf, "password=***"));
  g_assert_nonnull (strstr (conf, "api_token = ***"));
  g_assert_nonnull (strstr (conf, "user=alice"));
  g_assert_null (strstr (conf, "hunter2"));
  g_assert_null (strstr (conf, "abc123"));
  g_assert_nonnull (strstr (g_hash_table_lookup (files, "openesa-snap/manifest.json"), "/etc/does-not-exist"));
  esa_test_rmtree (dir);
}

static void
test_rmtree (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("test-snap");
  g_autofree char *keep = esa_test_mkdtemp ("test-snap-keep");
  g_autofree char *kept = g_build_filename (keep, "precious", NULL);
  g_autofree char *sub = g_build_filename (dir, "a/b/c.txt", NULL);
  g_autofree char *link = g_build_filename (dir, "a/link", NULL);
  g_autoptr (GError) error = NULL;
  esa_test_write_file (sub, "x", 0600);
  esa_test_write_file (kept, "x", 0600);
  g_assert_cmpint (symlink (keep, link), ==, 0);
  g_assert_true (snap_rmtree (dir, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  /* a symlink is removed, not followed */
  g_assert_true (g_file_test (kept, G_FILE_TEST_EXISTS));
  g_assert_true (snap_rmtree (dir, &error));
  esa_test_rmtree (keep);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/snap/redact", test_redact);
  g_test_add_func ("/snap/fit-and-write", test_fit_and_write);
  g_test_add_func ("/snap/tokens", test_tokens);
  g_test_add_func ("/snap/repack", test_repack);
  g_test_add_func ("/snap/collect-linux", test_collect_linux);
  g_test_add_func ("/snap/rmtree", test_rmtree);
  return g_test_run ();
}
