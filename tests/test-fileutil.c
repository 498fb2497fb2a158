/* test-fileutil.c: the copy that hashes while it copies (the spool's
 * attachment copy, esa_fileutil_copy_hash_at): a writer thread writes while
 * the caller reads and hashes, so the bytes, the size and the SHA-256 must
 * still be those of the source, and a failed write must still fail the copy.
 * Also the depth-bounded rm -rf the outbox uses. */
#include "config.h"

#include "esa-fileutil.h"
#include "esa-test-util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Bigger than all the writer's pieces together, and not a multiple of one. */
#define BIG (5 * 1024 * 1024 + 12345)

static char *
write_random_file (const char *dir, gsize size, GBytes **bytes_out)
{
  char *path = g_build_filename (dir, "src.bin", NULL);
  guint8 *data = g_malloc (size);
  GRand *rand = g_rand_new_with_seed (13);
  g_autoptr (GError) error = NULL;
  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) g_rand_int_range (rand, 0, 256);
  g_rand_free (rand);
  g_assert_true (g_file_set_contents (path, (const char *) data, (gssize) size, &error));
  g_assert_no_error (error);
  *bytes_out = g_bytes_new_take (data, size);
  return path;
}

static void
test_copy_big (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("fileutil");
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *src = write_random_file (dir, BIG, &bytes);
  g_autofree char *expected = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
  g_autofree char *sha = NULL;
  g_autofree char *copy = NULL;
  g_autofree char *plain = NULL;
  g_autofree char *dst = g_build_filename (dir, "copy.bin", NULL);
  g_autoptr (GError) error = NULL;
  gsize len = 0;
  guint64 size = 0;
  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (dfd, >=, 0);
  g_assert_true (esa_fileutil_copy_hash_at (src, dfd, dir, "copy.bin", 0600, &size, &sha, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (size, ==, BIG);
  g_assert_cmpstr (sha, ==, expected);
  g_assert_true (g_file_get_contents (dst, &copy, &len, NULL));
  g_assert_cmpuint (len, ==, BIG);
  g_assert_true (memcmp (copy, g_bytes_get_data (bytes, NULL), BIG) == 0);
  /* the plain hash, without a copy, agrees */
  plain = esa_fileutil_sha256_file (src, &size, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (plain, ==, expected);
  close (dfd);
  esa_test_rmtree (dir);
}

/* A write that fails half-way (here: past RLIMIT_FSIZE, EFBIG) fails the
 * copy with one line naming the copy, and hands back no hash. */
static void
test_copy_write_fails (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("fileutil");
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *src = write_random_file (dir, BIG, &bytes);
  g_autofree char *sha = NULL;
  g_autoptr (GError) error = NULL;
  struct rlimit old, small;
  guint64 size = 0;
  gboolean ok;
  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (dfd, >=, 0);
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &old), ==, 0);
  small = old;
  small.rlim_cur = 1024 * 1024;
  signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &small), ==, 0);
  ok = esa_fileutil_copy_hash_at (src, dfd, dir, "copy.bin", 0600, &size, &sha, &error);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &old), ==, 0);
  g_assert_false (ok);
  g_assert_null (sha);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "cannot write"));
  g_assert_nonnull (strstr (error->message, "copy.bin"));
  g_assert_nonnull (strstr (error->message, g_strerror (EFBIG)));
  close (dfd);
  esa_test_rmtree (dir);
}

/* A source that cannot be read whole (a folder: read () fails with EISDIR)
 * fails the copy with the source's name. */
static void
test_copy_read_fails (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("fileutil");
  g_autofree char *sha = NULL;
  g_autoptr (GError) error = NULL;
  guint64 size = 0;
  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (dfd, >=, 0);
  g_assert_false (esa_fileutil_copy_hash_at (dir, dfd, dir, "copy.bin", 0600, &size, &sha, &error));
  g_assert_null (sha);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "cannot read"));
  close (dfd);
  esa_test_rmtree (dir);
}

/* rm -rf through fds with a depth bound (the file transport's outbox, which
 * others may write to): a symlink is removed, never followed; a tree within the
 * bound goes; one folder deeper and it is refused and left. */
static void
test_rmtree_depth (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("esa-fileutil");
  g_autofree char *outside = g_build_filename (dir, "outside", NULL);
  g_autofree char *kept = g_build_filename (outside, "kept", NULL);
  g_autofree char *link = g_build_filename (dir, "t", "link", NULL);
  g_autoptr (GString) path = g_string_new (dir);
  int dfd;

  g_assert_cmpint (g_mkdir_with_parents (outside, 0700), ==, 0);
  esa_test_write_file (kept, "not ours\n", 0600);
  g_string_append (path, "/t");
  for (guint i = 0; i < 3; i++)
    g_string_append_printf (path, "/d%u", i);
  g_assert_cmpint (g_mkdir_with_parents (path->str, 0700), ==, 0);
  g_assert_cmpint (symlink (outside, link), ==, 0);
  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (dfd, >=, 0);

  /* t/d0/d1/d2: four levels of folders, one more than a bound of 3 allows */
  g_assert_false (esa_fileutil_rmtree_at_depth (dfd, "t", 3));
  g_assert_true (g_file_test (path->str, G_FILE_TEST_IS_DIR));
  g_assert_true (esa_fileutil_rmtree_at_depth (dfd, "t", 4));
  g_assert_false (g_file_test (link, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (kept, G_FILE_TEST_IS_REGULAR));
  g_assert_true (esa_fileutil_rmtree_at_depth (dfd, "t", 4)); /* absent is fine */
  close (dfd);
  esa_test_rmtree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fileutil/copy-hash-big", test_copy_big);
  g_test_add_func ("/fileutil/copy-write-fails", test_copy_write_fails);
  g_test_add_func ("/fileutil/copy-read-fails", test_copy_read_fails);
  g_test_add_func ("/fileutil/rmtree-depth", test_rmtree_depth);
  return g_test_run ();
}
