/* esa-test-util.h: small helpers shared by the tests (temp dirs, processes, ports). */
#pragma once

#include <gio/gio.h>

/* A fresh directory under $TMPDIR, removed by esa_test_rmtree (). */
char     *esa_test_mkdtemp        (const char *prefix);
void      esa_test_rmtree         (const char *path);
/* $ESA_TOP_BUILDDIR/<rel> and $ESA_TOP_SRCDIR/<rel>. */
char     *esa_test_build_path     (const char *rel);
char     *esa_test_src_path       (const char *rel);
/* A TCP port free on 127.0.0.1 (and [::1]) right now. */
guint16   esa_test_free_port      (void);
/* Polls until host:port accepts a TCP connection, at most timeout_ms. */
gboolean  esa_test_wait_for_port  (const char *host, guint16 port, guint timeout_ms);
/* Spawns argv with stdout+stderr to log_path (if not NULL); NULL-terminated argv. */
GSubprocess *esa_test_spawn       (const char *log_path, const char *const *argv);
/* A GSubprocessLauncher child setup: the child gets SIGTERM when the test dies (Linux),
 * so a failed assertion, which aborts before any teardown, leaves no server behind. */
void         esa_test_die_with_parent (gpointer user_data);
/* SIGTERM, then wait (up to 10 s, then SIGKILL). Returns the exit status or -signal. */
int       esa_test_stop           (GSubprocess *proc);
/* Runs argv to completion, returns exit status; stdout/stderr captured if asked. */
int       esa_test_run            (const char *const *argv, char **out, char **err);
/* Mounts a tmpfs of SIZE ("2m") on the folder DIR, mode 0700, for tests of a full disk;
 * FALSE with WHY (for g_test_skip) when it cannot (not root). */
gboolean  esa_test_mount_tmpfs    (const char *dir, const char *size, char **why);
/* Unmounts it (lazily: a file still open does not stop it). */
void      esa_test_umount         (const char *dir);
/* Writes text to path (creating parents) with mode. */
void      esa_test_write_file     (const char *path, const char *text, int mode);

/* A GSourceFunc that sets the gboolean at @user_data and removes itself. */
gboolean  esa_test_set_flag       (gpointer user_data);
/* A GSourceFunc that does nothing and stays: it wakes the main context, so
 * conditions changed by worker threads are seen. */
gboolean  esa_test_tick           (gpointer user_data);

/* Runs the default main context until @cond holds; fails the test after 10 s. */
#define ESA_TEST_WAIT_UNTIL(cond)                                            \
  G_STMT_START                                                               \
  {                                                                          \
    gboolean timed_out_ = FALSE;                                             \
    guint to_ = g_timeout_add_seconds (10, esa_test_set_flag, &timed_out_);  \
    guint tick_ = g_timeout_add (5, esa_test_tick, NULL);                    \
    while (!(cond) && !timed_out_)                                           \
      g_main_context_iteration (NULL, TRUE);                                 \
    g_assert_false (timed_out_);                                             \
    g_source_remove (to_);                                                   \
    g_source_remove (tick_);                                                 \
  }                                                                          \
  G_STMT_END
