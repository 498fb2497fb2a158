/* esa-subprocess.c: runs platform commands the safe way.
 *
 * Every collector goes through here: the child gets a clean environment
 * (LANG=C so the parsers see the C-locale output they were written for), no
 * stdin, its own process group (so a timeout also kills what a shell script
 * started), a deadline and a cap on stdout. Each call runs its own private
 * GMainContext, so jobs may call it from worker threads.
 *
 * The run ends when the child has exited AND its pipes are closed: a command
 * that leaves a daemon holding its stdout runs into the deadline. Cancelling
 * gives G_IO_ERROR_CANCELLED, like the rest of GIO. */
#include "config.h"

#include "esa/esa-error.h"
#include "esa/esa-subprocess.h"
#include "esa-test-hook-private.h"

#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define ESA_SUBPROCESS_SAFE_PATH     "/usr/bin:/bin:/usr/sbin:/sbin"
#define ESA_SUBPROCESS_DEFAULT_MS    60000
#define ESA_SUBPROCESS_DEFAULT_CAP   (8 * 1024 * 1024)
#define ESA_SUBPROCESS_STDERR_CAP    (64 * 1024)
#define ESA_SUBPROCESS_CHUNK         (64 * 1024)

typedef struct {
  const char *name; /* the command, for error messages */
  GSubprocess *proc;
  GPid pid;
  GCancellable *io_cancel; /* cancels the pending reads once we give up */
  GError *error;           /* the first failure wins */
  guint pending;           /* outstanding async operations */
  guint timeout_ms;
  gboolean waited;
} EsaRun;

typedef struct {
  EsaRun *run;
  GInputStream *stream;
  GByteArray *buf;
  gsize cap;
  gboolean is_stdout; /* over the cap: stdout is an error, stderr is truncated */
  guint8 chunk[ESA_SUBPROCESS_CHUNK];
} EsaReader;

/* Kills the child and everything it started: it leads its own process
 * group, and that group id stays reserved while any member is alive. */
static void
esa_run_kill (EsaRun *run)
{
  if (run->pid > 0)
    kill (-run->pid, SIGKILL);
  if (!run->waited)
    g_subprocess_force_exit (run->proc);
}

static void
esa_run_fail (EsaRun *run, GError *error)
{
  if (run->error == NULL)
    run->error = error;
  else
    g_error_free (error);
  esa_run_kill (run);
  g_cancellable_cancel (run->io_cancel);
}

static void esa_reader_next (EsaReader *reader);

static void
esa_reader_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  EsaReader *reader = user_data;
  EsaRun *run = reader->run;
  g_autoptr (GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), res, &error);

  run->pending--;
  if (n < 0)
    {
      /* our own cancellation after a failure is not news */
      if (!g_cancellable_is_cancelled (run->io_cancel))
        esa_run_fail (run, g_error_new (ESA_ERROR, ESA_ERROR_FAILED, "%s: reading output: %s",
                                        run->name, error->message));
      return;
    }
  if (n == 0)
    return;
  if (reader->buf->len + (gsize) n > reader->cap)
    {
      if (reader->is_stdout)
        {
          esa_run_fail (run, g_error_new (ESA_ERROR, ESA_ERROR_INVALID_DATA,
                                          "%s: output exceeds %" G_GSIZE_FORMAT " bytes",
                                          run->name, reader->cap));
          return;
        }
      n = (gssize) (reader->cap - reader->buf->len);
    }
  g_byte_array_append (reader->buf, reader->chunk, (guint) n);
  esa_reader_next (reader);
}

static void
esa_reader_next (EsaReader *reader)
{
  reader->run->pending++;
  g_input_stream_read_async (reader->stream, reader->chunk, sizeof (reader->chunk),
                             G_PRIORITY_DEFAULT, reader->run->io_cancel, esa_reader_cb, reader);
}

static void
esa_run_wait_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  EsaRun *run = user_data;
  g_autoptr (GError) error = NULL;

  run->pending--;
  run->waited = TRUE;
  if (!g_subprocess_wait_finish (G_SUBPROCESS (source), res, &error))
    esa_run_fail (run, g_error_new (ESA_ERROR, ESA_ERROR_FAILED, "%s: %s", run->name,
                                    error->message));
}

static gboolean
esa_run_timeout_cb (gpointer user_data)
{
  EsaRun *run = user_data;
  guint ms = run->timeout_ms;
  esa_run_fail (run, g_error_new (ESA_ERROR, ESA_ERROR_TIMEOUT, "%s: timed out after %u.%03u s",
                                  run->name, ms / 1000, ms % 1000));
  return G_SOURCE_REMOVE;
}

/* A GCancellableSource on our context: the caller may cancel from any
 * thread, the reaction happens here, in the thread that owns the run. */
static gboolean
esa_run_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  EsaRun *run = user_data;
  esa_run_fail (run, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s: cancelled", run->name));
  return G_SOURCE_REMOVE;
}

/* Runs in the child between fork and exec: async-signal-safe calls only. */
static void
esa_child_setup (gpointer user_data)
{
  setpgid (0, 0);
}

/* argv[0] without a slash: ESA_COMMAND_PATH first (the test hook), then the
 * safe PATH. The caller's PATH is deliberately ignored. */
static char *
esa_subprocess_find (const char *name)
{
  /* the test suite's fake commands (a build with --enable-test-hooks only) */
  const char *override = esa_test_hook_getenv ("ESA_COMMAND_PATH");
  g_autofree char *search = NULL;
  g_auto (GStrv) dirs = NULL;

  /* with a slash: as given, made absolute (the child starts in another cwd) */
  if (strchr (name, '/') != NULL)
    return g_file_test (name, G_FILE_TEST_IS_EXECUTABLE) ? g_canonicalize_filename (name, NULL) : NULL;
  search = override != NULL && override[0] != '\0'
               ? g_strdup_printf ("%s:%s", override, ESA_SUBPROCESS_SAFE_PATH)
               : g_strdup (ESA_SUBPROCESS_SAFE_PATH);
  dirs = g_strsplit (search, ":", -1);
  for (guint i = 0; dirs[i] != NULL; i++)
    {
      g_autofree char *path = NULL;
      if (dirs[i][0] == '\0')
        continue;
      path = g_build_filename (dirs[i], name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR)
          && g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
        return g_steal_pointer (&path);
    }
  return NULL;
}

static gboolean
esa_subprocess_is_aix (void)
{
#ifdef _AIX
  return TRUE;
#else
  return g_strcmp0 (esa_test_hook_getenv ("ESA_PLATFORM"), "aix") == 0; /* the AIX simulation */
#endif
}

/* The whole environment of the child: nothing of ours leaks into it. */
static GStrv
esa_subprocess_environ (void)
{
  const char *override = esa_test_hook_getenv ("ESA_COMMAND_PATH");
  g_autoptr (GStrvBuilder) env = g_strv_builder_new ();
  g_auto (GStrv) parent = g_get_environ ();
  g_autofree char *path = NULL;

  path = override != NULL && override[0] != '\0'
             ? g_strdup_printf ("PATH=%s:%s", override, ESA_SUBPROCESS_SAFE_PATH)
             : g_strdup ("PATH=" ESA_SUBPROCESS_SAFE_PATH);
  g_strv_builder_add (env, path);
  g_strv_builder_add (env, "HOME=/");
  g_strv_builder_add (env, "LANG=C");
  g_strv_builder_add (env, "LC_ALL=C");
  for (guint i = 0; parent[i] != NULL; i++)
    {
      if (g_str_has_prefix (parent[i], "TZ="))
        g_strv_builder_add (env, parent[i]);
      /* the fake AIX commands pick their machine variant from ESA_FAKE_*;
       * only honoured when the test hook ESA_COMMAND_PATH is in use */
      else if (override != NULL && g_str_has_prefix (parent[i], "ESA_FAKE_"))
        g_strv_builder_add (env, parent[i]);
    }
  if (esa_subprocess_is_aix ())
    {
      const char *odmdir = g_getenv ("ODMDIR");
      g_autofree char *odm = g_strdup_printf ("ODMDIR=%s", odmdir != NULL ? odmdir : "/etc/objrepos");
      g_strv_builder_add (env, odm);
    }
  return g_strv_builder_end (env);
}

static char *
esa_first_line (const char *text)
{
  g_auto (GStrv) lines = g_strsplit (text != NULL ? text : "", "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_strstrip (lines[i]);
      if (lines[i][0] != '\0')
        return g_strdup (lines[i]);
    }
  return g_strdup ("(no error output)");
}

static GSubprocess *
esa_subprocess_spawn (const char *const *argv, const char *path, const EsaSubprocessOptions *opts,
                      GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_auto (GStrv) env = esa_subprocess_environ ();
  g_autoptr (GError) error_local = NULL;
  GSubprocess *proc;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                        | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_environ (launcher, env);
  g_subprocess_launcher_set_cwd (launcher, opts != NULL && opts->cwd != NULL ? opts->cwd : "/");
  g_subprocess_launcher_set_child_setup (launcher, esa_child_setup, NULL, NULL);
  g_ptr_array_add (args, (gpointer) path);
  for (guint i = 1; argv[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) argv[i]);
  g_ptr_array_add (args, NULL);
  proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) args->pdata, &error_local);
  if (proc == NULL)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s: cannot run: %s", argv[0],
                   error_local->message);
      return NULL;
    }
  return proc;
}

char *
esa_subprocess_run (const char *const *argv, const EsaSubprocessOptions *options, int *exit_status,
                    char **err_out, GCancellable *cancellable, GError **error)
{
  g_autoptr (GMainContext) ctx = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GCancellable) io_cancel = g_cancellable_new ();
  g_autoptr (GSource) timeout = NULL;
  g_autoptr (GSource) cancel_source = NULL;
  g_autofree char *path = NULL;
  g_autofree EsaReader *out = g_new0 (EsaReader, 1);
  g_autofree EsaReader *err = g_new0 (EsaReader, 1);
  g_autoptr (GByteArray) out_buf = g_byte_array_new ();
  g_autoptr (GByteArray) err_buf = g_byte_array_new ();
  g_autofree char *err_text = NULL;
  guint timeout_ms = options != NULL && options->timeout_ms > 0 ? options->timeout_ms
                                                                : ESA_SUBPROCESS_DEFAULT_MS;
  gsize cap = options != NULL && options->max_output > 0 ? options->max_output
                                                         : ESA_SUBPROCESS_DEFAULT_CAP;
  EsaRun run = { 0 };
  int status;

  g_return_val_if_fail (argv != NULL && argv[0] != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  run.name = argv[0];
  path = esa_subprocess_find (argv[0]);
  if (path == NULL)
    {
      const char *fakes = esa_test_hook_getenv ("ESA_COMMAND_PATH");
      g_set_error (error, ESA_ERROR, ESA_ERROR_NOT_FOUND,
                   "%s: command not found (searched %s%s%s)", argv[0],
                   fakes != NULL ? fakes : "", fakes != NULL ? ":" : "", ESA_SUBPROCESS_SAFE_PATH);
      return NULL;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  /* Everything async below attaches to ctx: the child watch, the reads and
   * the deadline. Nothing touches the caller's main context. */
  ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);

  proc = esa_subprocess_spawn (argv, path, options, error);
  if (proc == NULL)
    {
      g_main_context_pop_thread_default (ctx);
      return NULL;
    }
  run.proc = proc;
  run.io_cancel = io_cancel;
  {
    const char *ident = g_subprocess_get_identifier (proc);
    run.pid = ident != NULL ? (GPid) g_ascii_strtoll (ident, NULL, 10) : 0;
  }
  /* no stdin: closing the pipe gives the child EOF at once */
  g_output_stream_close (g_subprocess_get_stdin_pipe (proc), NULL, NULL);

  out->run = err->run = &run;
  out->stream = g_subprocess_get_stdout_pipe (proc);
  out->buf = out_buf;
  out->cap = cap;
  out->is_stdout = TRUE;
  err->stream = g_subprocess_get_stderr_pipe (proc);
  err->buf = err_buf;
  err->cap = ESA_SUBPROCESS_STDERR_CAP;
  esa_reader_next (out);
  esa_reader_next (err);
  run.pending++;
  g_subprocess_wait_async (proc, NULL, esa_run_wait_cb, &run);

  run.timeout_ms = timeout_ms;
  timeout = g_timeout_source_new (timeout_ms);
  g_source_set_callback (timeout, esa_run_timeout_cb, &run, NULL);
  g_source_attach (timeout, ctx);
  if (cancellable != NULL)
    {
      cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (cancel_source, G_SOURCE_FUNC (esa_run_cancelled_cb), &run, NULL);
      g_source_attach (cancel_source, ctx);
    }

  /* After a failure the child is killed: once it is reaped, stop waiting for
   * EOF on pipes a stray grandchild might still hold. */
  while (run.pending > 0)
    {
      if (run.error != NULL && run.waited)
        g_cancellable_cancel (io_cancel);
      g_main_context_iteration (ctx, TRUE);
    }

  if (cancel_source != NULL)
    g_source_destroy (cancel_source);
  g_source_destroy (timeout);
  g_main_context_pop_thread_default (ctx);

  g_byte_array_append (err_buf, (const guint8 *) "", 1);
  err_text = esa_text_make_valid ((const char *) err_buf->data, (gssize) err_buf->len - 1);
  if (err_out != NULL)
    *err_out = g_strdup (err_text);
  if (run.error != NULL)
    {
      g_propagate_error (error, run.error);
      return NULL;
    }

  if (g_subprocess_get_if_exited (proc))
    status = g_subprocess_get_exit_status (proc);
  else
    status = 128 + g_subprocess_get_term_sig (proc);
  if (exit_status != NULL)
    *exit_status = status;
  if (status != 0 && (options == NULL || !options->allow_failure))
    {
      g_autofree char *why = esa_first_line (err_text);
      if (g_subprocess_get_if_exited (proc))
        g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s: exited with status %d: %s", argv[0],
                     status, why);
      else
        g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "%s: killed by signal %d", argv[0],
                     g_subprocess_get_term_sig (proc));
      return NULL;
    }
  /* the one place every command's output passes: no parser sees invalid UTF-8 */
  g_byte_array_append (out_buf, (const guint8 *) "", 1);
  return esa_text_make_valid ((const char *) out_buf->data, (gssize) out_buf->len - 1);
}

char *
esa_text_make_valid (const char *data, gssize len)
{
  gsize n = len < 0 ? strlen (data) : (gsize) len;
  /* g_utf8_validate_len refuses a NUL inside the first n bytes too */
  if (g_utf8_validate_len (data, n, NULL))
    return g_strndup (data, n);
  return g_utf8_make_valid (data, (gssize) n);
}

char *
esa_subprocess_run_simple (GError **error, const char *arg0, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  va_list ap;

  g_ptr_array_add (argv, (gpointer) arg0);
  va_start (ap, arg0);
  for (const char *arg = va_arg (ap, const char *); arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  return esa_subprocess_run ((const char *const *) argv->pdata, NULL, NULL, NULL, NULL, error);
}
