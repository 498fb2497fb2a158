/* test-subprocess.c: the subprocess helper against real child processes. */
#include "config.h"

#include "esa-test-util.h"
#include "esa/esa-error.h"
#include "esa/esa-subprocess.h"

#include <glib/gstdio.h>
#include <string.h>

static void
test_subprocess_stdout (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *out = esa_subprocess_run_simple (&error, "echo", "hello", "world", NULL);
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "hello world\n");
}

static void
test_subprocess_large_output (void)
{
  const char *argv[] = { "head", "-c", "3000000", "/dev/zero", NULL };
  g_autoptr (GError) error = NULL;
  EsaSubprocessOptions opts = { .max_output = 4000000 };
  g_autofree char *out = esa_subprocess_run (argv, &opts, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (out);
}

static void
test_subprocess_timeout (void)
{
  /* the shell's own child (sleep) holds stdout: the group kill must reach it */
  const char *argv[] = { "sh", "-c", "echo started; sleep 600; echo never", NULL };
  EsaSubprocessOptions opts = { .timeout_ms = 300 };
  g_autoptr (GError) error = NULL;
  g_autofree char *out = esa_subprocess_run (argv, &opts, NULL, NULL, NULL, &error);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_TIMEOUT);
  g_assert_null (out);
  g_assert_nonnull (strstr (error->message, "sh: timed out"));
}

static void
test_subprocess_cap (void)
{
  const char *argv[] = { "yes", NULL };
  EsaSubprocessOptions opts = { .max_output = 1000 };
  g_autoptr (GError) error = NULL;
  g_autofree char *out = esa_subprocess_run (argv, &opts, NULL, NULL, NULL, &error);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "yes: output exceeds 1000 bytes"));
  g_assert_null (out);
}

static void
test_subprocess_env (void)
{
  const char *argv[] = { "env", NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_setenv ("ESA_TEST_SECRET", "leak", TRUE);
  g_setenv ("LD_PRELOAD", "", TRUE);
  g_setenv ("TZ", "Europe/Paris", TRUE);
  g_unsetenv ("ESA_COMMAND_PATH");
  out = esa_subprocess_run (argv, NULL, NULL, NULL, NULL, &error);
  g_unsetenv ("ESA_TEST_SECRET");
  g_unsetenv ("LD_PRELOAD");
  g_assert_no_error (error);
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (lines[i][0] == '\0')
        continue;
      g_hash_table_add (seen, g_strdup (lines[i]));
    }
  g_assert_true (g_hash_table_contains (seen, "PATH=/usr/bin:/bin:/usr/sbin:/sbin"));
  g_assert_true (g_hash_table_contains (seen, "HOME=/"));
  g_assert_true (g_hash_table_contains (seen, "LANG=C"));
  g_assert_true (g_hash_table_contains (seen, "LC_ALL=C"));
  g_assert_true (g_hash_table_contains (seen, "TZ=Europe/Paris"));
  /* nothing else: the inherited environment stays out (env may add PWD/_ on some systems) */
  g_hash_table_remove (seen, "PATH=/usr/bin:/bin:/usr/sbin:/sbin");
  g_hash_table_remove (seen, "HOME=/");
  g_hash_table_remove (seen, "LANG=C");
  g_hash_table_remove (seen, "LC_ALL=C");
  g_hash_table_remove (seen, "TZ=Europe/Paris");
  g_hash_table_remove (seen, "ODMDIR=/etc/objrepos");
  g_assert_cmpuint (g_hash_table_size (seen), ==, 0);
  g_unsetenv ("TZ");
}

static void
test_subprocess_cwd (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *out = esa_subprocess_run_simple (&error, "pwd", NULL);
  g_autofree char *dir = esa_test_mkdtemp ("esa-subprocess");
  g_autofree char *out2 = NULL;
  g_autofree char *real = NULL;
  const char *argv[] = { "pwd", "-P", NULL };
  EsaSubprocessOptions opts = { .cwd = dir };

  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "/\n");
  out2 = esa_subprocess_run (argv, &opts, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_strchomp (out2);
  real = realpath (dir, NULL);
  g_assert_cmpstr (out2, ==, real);
  esa_test_rmtree (dir);
}

static void
test_subprocess_stdin_closed (void)
{
  /* cat must see EOF at once instead of reading the test's stdin */
  g_autoptr (GError) error = NULL;
  g_autofree char *out = esa_subprocess_run_simple (&error, "cat", NULL);
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "");
}

static void
test_subprocess_not_found (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *out = esa_subprocess_run_simple (&error, "esa-no-such-command", "-x", NULL);
  g_autofree char *out2 = NULL;
  g_assert_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND);
  g_assert_true (g_str_has_prefix (error->message, "esa-no-such-command: command not found"));
  g_assert_null (out);
  g_clear_error (&error);
  out2 = esa_subprocess_run_simple (&error, "/nonexistent/esa-cmd", NULL);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND);
}

static void
test_subprocess_relative_path (void)
{
  /* "./tool" means the caller's directory, although the child runs in "/" */
  g_autofree char *dir = esa_test_mkdtemp ("esa-relpath");
  g_autofree char *script = g_build_filename (dir, "tool", NULL);
  g_autofree char *cwd = g_get_current_dir ();
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;

  esa_test_write_file (script, "#!/bin/sh\necho relative ok\n", 0755);
  g_assert_cmpint (g_chdir (dir), ==, 0);
  out = esa_subprocess_run_simple (&error, "./tool", NULL);
  g_assert_cmpint (g_chdir (cwd), ==, 0);
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "relative ok\n");
  esa_test_rmtree (dir);
}

static void
test_subprocess_exit_status (void)
{
  const char *argv[] = { "sh", "-c", "echo partial; echo 'first problem' >&2; echo second >&2; exit 3",
                         NULL };
  EsaSubprocessOptions opts = { .allow_failure = TRUE };
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *out2 = NULL;
  g_autofree char *err = NULL;
  int status = -1;

  out = esa_subprocess_run (argv, NULL, &status, &err, NULL, &error);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "sh: exited with status 3: first problem");
  g_assert_null (out);
  g_assert_cmpint (status, ==, 3);
  g_assert_cmpstr (err, ==, "first problem\nsecond\n");
  g_clear_error (&error);

  out2 = esa_subprocess_run (argv, &opts, &status, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (out2, ==, "partial\n");
  g_assert_cmpint (status, ==, 3);
}

static void
test_subprocess_command_path (void)
{
  g_autofree char *dir = esa_test_mkdtemp ("esa-cmdpath");
  g_autofree char *script = g_build_filename (dir, "uname", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *out2 = NULL;

  /* the fake sees PATH with its own directory first, and ESA_FAKE_* */
  esa_test_write_file (script, "#!/bin/sh\necho \"FAKE $1 $ESA_FAKE_AIX_MACHINE $PATH\"\n", 0755);
  g_setenv ("ESA_COMMAND_PATH", dir, TRUE);
  g_setenv ("ESA_FAKE_AIX_MACHINE", "p10-lpar", TRUE);
  out = esa_subprocess_run_simple (&error, "uname", "-M", NULL);
  g_assert_no_error (error);
  g_autofree char *expected = g_strdup_printf ("FAKE -M p10-lpar %s:/usr/bin:/bin:/usr/sbin:/sbin\n", dir);
  g_assert_cmpstr (out, ==, expected);

  /* a command that is not faked falls through to the safe PATH */
  out2 = esa_subprocess_run_simple (&error, "echo", "real", NULL);
  g_assert_no_error (error);
  g_assert_cmpstr (out2, ==, "real\n");
  g_unsetenv ("ESA_COMMAND_PATH");
  g_unsetenv ("ESA_FAKE_AIX_MACHINE");
  esa_test_rmtree (dir);
}

static void
test_subprocess_cancel (void)
{
  const char *argv[] = { "sleep", "600", NULL };
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;

  g_cancellable_cancel (cancellable);
  out = esa_subprocess_run (argv, NULL, NULL, NULL, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (out);
}

static gpointer
cancel_later (gpointer data)
{
  g_usleep (200 * 1000);
  g_cancellable_cancel (data);
  return NULL;
}

static void
test_subprocess_cancel_running (void)
{
  const char *argv[] = { "sleep", "600", NULL };
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  GThread *thread = g_thread_new ("cancel", cancel_later, cancellable);

  out = esa_subprocess_run (argv, NULL, NULL, NULL, cancellable, &error);
  g_thread_join (thread);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static gpointer
run_in_thread (gpointer data)
{
  guint n = GPOINTER_TO_UINT (data);
  g_autofree char *arg = g_strdup_printf ("worker-%u", n);
  g_autoptr (GError) error = NULL;
  for (guint i = 0; i < 10; i++)
    {
      g_autofree char *out = esa_subprocess_run_simple (&error, "echo", arg, NULL);
      g_assert_no_error (error);
      g_assert_true (g_str_has_prefix (out, arg));
    }
  return NULL;
}

static void
test_subprocess_threads (void)
{
  GThread *threads[6];
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("worker", run_in_thread, GUINT_TO_POINTER (i));
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
}

/* Issue 10 item 10: the one place every command's output passes makes it
 * valid UTF-8 (invalid bytes and NULs become U+FFFD), stdout and stderr. */
static void
test_subprocess_invalid_utf8 (void)
{
  const char *argv[] = { "sh", "-c", "printf '651-204\\377\\026\\377\\0end'; printf 'bad \\300\\200' >&2", NULL };
  EsaSubprocessOptions opts = { .allow_failure = TRUE };
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  g_autofree char *out = esa_subprocess_run (argv, &opts, NULL, &err, NULL, &error);
  g_autofree char *valid = esa_text_make_valid ("ok \xc3\xa9", -1);
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "651-204\xef\xbf\xbd\x16\xef\xbf\xbd\xef\xbf\xbd" "end");
  g_assert_true (g_utf8_validate (err, -1, NULL));
  g_assert_true (g_str_has_prefix (err, "bad "));
  g_assert_cmpstr (valid, ==, "ok \xc3\xa9");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/esa-subprocess/stdout", test_subprocess_stdout);
  g_test_add_func ("/esa-subprocess/large-output", test_subprocess_large_output);
  g_test_add_func ("/esa-subprocess/timeout", test_subprocess_timeout);
  g_test_add_func ("/esa-subprocess/cap", test_subprocess_cap);
  g_test_add_func ("/esa-subprocess/env", test_subprocess_env);
  g_test_add_func ("/esa-subprocess/cwd", test_subprocess_cwd);
  g_test_add_func ("/esa-subprocess/stdin-closed", test_subprocess_stdin_closed);
  g_test_add_func ("/esa-subprocess/not-found", test_subprocess_not_found);
  g_test_add_func ("/esa-subprocess/relative-path", test_subprocess_relative_path);
  g_test_add_func ("/esa-subprocess/exit-status", test_subprocess_exit_status);
  g_test_add_func ("/esa-subprocess/command-path", test_subprocess_command_path);
  g_test_add_func ("/esa-subprocess/cancel", test_subprocess_cancel);
  g_test_add_func ("/esa-subprocess/cancel-running", test_subprocess_cancel_running);
  g_test_add_func ("/esa-subprocess/threads", test_subprocess_threads);
  g_test_add_func ("/esa-subprocess/invalid-utf8", test_subprocess_invalid_utf8);
  return g_test_run ();
}
