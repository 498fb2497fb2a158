/* esa-test-util.c: small helpers shared by the tests. */
#include "config.h"

#include "esa-test-util.h"

#include <glib/gstdio.h>
#include <signal.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

char *
esa_test_mkdtemp (const char *prefix)
{
  g_autofree char *tmpl = g_strdup_printf ("%s-XXXXXX", prefix);
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp (tmpl, &error);
  g_assert_no_error (error);
  return dir;
}

void
esa_test_rmtree (const char *path)
{
  g_autoptr (GFile) file = NULL;
  g_autoptr (GFileEnumerator) en = NULL;
  if (path == NULL)
    return;
  file = g_file_new_for_path (path);
  en = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                  G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  if (en != NULL)
    {
      GFileInfo *info;
      while ((info = g_file_enumerator_next_file (en, NULL, NULL)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, g_file_info_get_name (info), NULL);
          if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
            esa_test_rmtree (child);
          else
            g_unlink (child);
          g_object_unref (info);
        }
    }
  g_rmdir (path);
}

static char *
top_path (const char *env, const char *rel)
{
  const char *top = g_getenv (env);
  g_assert_nonnull (top);
  return g_build_filename (top, rel, NULL);
}

char *
esa_test_build_path (const char *rel)
{
  return top_path ("ESA_TOP_BUILDDIR", rel);
}

char *
esa_test_src_path (const char *rel)
{
  return top_path ("ESA_TOP_SRCDIR", rel);
}

guint16
esa_test_free_port (void)
{
  g_autoptr (GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                           G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_assert_true (g_socket_bind (sock, any, FALSE, NULL));
  bound = g_socket_get_local_address (sock, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

gboolean
esa_test_wait_for_port (const char *host, guint16 port, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr (GSocketConnection) conn =
          g_socket_client_connect_to_host (client, host, port, NULL, NULL);
      if (conn != NULL)
        return TRUE;
      g_usleep (20 * 1000);
    }
  return FALSE;
}

void
esa_test_die_with_parent (gpointer user_data)
{
  (void) user_data;
#ifdef __linux__
  prctl (PR_SET_PDEATHSIG, SIGTERM);
#endif
}

GSubprocess *
esa_test_spawn (const char *log_path, const char *const *argv)
{
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (log_path ? G_SUBPROCESS_FLAGS_STDERR_MERGE : G_SUBPROCESS_FLAGS_NONE);
  g_autoptr (GError) error = NULL;
  GSubprocess *proc;
  g_subprocess_launcher_set_child_setup (launcher, esa_test_die_with_parent, NULL, NULL);
  if (log_path != NULL)
    g_subprocess_launcher_set_stdout_file_path (launcher, log_path);
  proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  return proc;
}

int
esa_test_stop (GSubprocess *proc)
{
  gint64 deadline;
  if (proc == NULL)
    return 0;
  g_subprocess_send_signal (proc, SIGTERM);
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline)
    {
      /* g_subprocess_wait would block forever on a wedged child. */
      g_main_context_iteration (NULL, FALSE);
      if (g_subprocess_get_identifier (proc) == NULL)
        break;
      g_usleep (10 * 1000);
    }
  if (g_subprocess_get_identifier (proc) != NULL)
    g_subprocess_force_exit (proc);
  g_subprocess_wait (proc, NULL, NULL);
  if (g_subprocess_get_if_signaled (proc))
    return -g_subprocess_get_term_sig (proc);
  return g_subprocess_get_exit_status (proc);
}

int
esa_test_run (const char *const *argv, char **out, char **err)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) proc = g_subprocess_newv (argv,
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_autofree char *o = NULL;
  g_autofree char *e = NULL;
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &o, &e, &error);
  g_assert_no_error (error);
  if (out != NULL)
    *out = g_steal_pointer (&o);
  if (err != NULL)
    *err = g_steal_pointer (&e);
  if (g_subprocess_get_if_signaled (proc))
    return -g_subprocess_get_term_sig (proc);
  return g_subprocess_get_exit_status (proc);
}

gboolean
esa_test_mount_tmpfs (const char *dir, const char *size, char **why)
{
  g_autofree char *options = g_strdup_printf ("size=%s,mode=0700", size);
  const char *argv[] = { "mount", "-t", "tmpfs", "-o", options, "tmpfs", dir, NULL };
  g_autofree char *err = NULL;
  if (esa_test_run (argv, NULL, &err) == 0)
    return TRUE;
  *why = g_strdup_printf ("cannot mount a small tmpfs (needs root): %s", err);
  return FALSE;
}

void
esa_test_umount (const char *dir)
{
  const char *argv[] = { "umount", "-l", dir, NULL };
  g_assert_cmpint (esa_test_run (argv, NULL, NULL), ==, 0);
}

void
esa_test_write_file (const char *path, const char *text, int mode)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr (GError) error = NULL;
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
}

gboolean
esa_test_set_flag (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
esa_test_tick (gpointer user_data)
{
  (void) user_data;
  return G_SOURCE_CONTINUE;
}
