/* test-proxy-agent.c: the whole path of issue 5 — esad sends through
 * esa-proxy ([proxy.1] url=) to esa-sdc over TLS, and esa-proxy refuses to
 * tunnel anywhere else. Real processes on loopback. */
#include "config.h"

#include "esa-test-util.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

typedef struct {
  char *dir;
  guint16 sdc_port;
  guint16 proxy_port;
  GSubprocess *sdc;
  GSubprocess *proxy;
  GSubprocess *esad;
  char *conf;
  char *proxy_log;
} Fixture;

static char *
bin (const char *rel)
{
  return esa_test_build_path (rel);
}

static void
wait_for_file (const char *path)
{
  for (int i = 0; i < 200 && !g_file_test (path, G_FILE_TEST_EXISTS); i++)
    g_usleep (25 * 1000);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
}

static void
start_sdc (Fixture *f)
{
  g_autofree char *sdc = bin ("sdc/esa-sdc");
  g_autofree char *sdc_dir = g_build_filename (f->dir, "sdc", NULL);
  g_autofree char *listen = NULL;
  g_autofree char *log = g_build_filename (f->dir, "sdc.log", NULL);
  const char *init[] = { sdc, "init", sdc_dir, NULL };
  g_assert_cmpint (esa_test_run (init, NULL, NULL), ==, 0);
  f->sdc_port = esa_test_free_port ();
  listen = g_strdup_printf ("127.0.0.1:%u", f->sdc_port);
  {
    const char *argv[] = { sdc, "serve", "--dir", sdc_dir, "--listen", listen, NULL };
    f->sdc = esa_test_spawn (log, argv);
  }
  g_assert_true (esa_test_wait_for_port ("127.0.0.1", f->sdc_port, 10000));
}

static void
start_proxy (Fixture *f, const char *allow)
{
  g_autofree char *proxy = bin ("proxy/esa-proxy");
  g_autofree char *conf = g_build_filename (f->dir, "esa-proxy.conf", NULL);
  g_autofree char *text = NULL;
  g_autofree char *log = g_build_filename (f->dir, "proxy.out", NULL);
  f->proxy_port = esa_test_free_port ();
  f->proxy_log = g_build_filename (f->dir, "proxy-access.log", NULL);
  /* The SDC is on loopback here, so the private-address guard must let it through. */
  text = g_strdup_printf ("[proxy]\nlisten=127.0.0.1:%u\nallow=%s\nallow-private-addresses=127.0.0.0/8;::1/128\n"
                          "access-log=%s\n",
                          f->proxy_port, allow, f->proxy_log);
  esa_test_write_file (conf, text, 0644);
  {
    const char *argv[] = { proxy, "--config", conf, NULL };
    f->proxy = esa_test_spawn (log, argv);
  }
  g_assert_true (esa_test_wait_for_port ("127.0.0.1", f->proxy_port, 10000));
}

static void
start_esad (Fixture *f)
{
  g_autofree char *esad = bin ("core/esad");
  g_autofree char *plugins = g_build_filename (f->dir, "plugins", NULL);
  g_autofree char *so_src = bin ("plugins/heartbeat/.libs/heartbeat.so");
  g_autofree char *so_dst = g_build_filename (plugins, "heartbeat.so", NULL);
  g_autofree char *so = NULL;
  g_autofree char *text = NULL;
  g_autofree char *log = g_build_filename (f->dir, "esad.log", NULL);
  g_autofree char *sock = g_build_filename (f->dir, "state", "esad.sock", NULL);
  g_autoptr (GError) error = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (so_src, &so, &len, &error));
  g_assert_cmpint (g_mkdir_with_parents (plugins, 0755), ==, 0);
  g_assert_true (g_file_set_contents (so_dst, so, (gssize) len, &error));
  g_assert_cmpint (g_chmod (so_dst, 0755), ==, 0);
  f->conf = g_build_filename (f->dir, "esa.conf", NULL);
  text = g_strdup_printf ("[agent]\nstate-dir=%s/state\nplugin-dir=%s\n[plugins]\nenabled=heartbeat\n"
                          "[sdc]\nservers=https://localhost:%u/\nca-file=%s/sdc/ca.pem\ntimeout=10s\n"
                          "[proxy.1]\nurl=http://127.0.0.1:%u\n[activation]\nvendors=*\n",
                          f->dir, plugins, f->sdc_port, f->dir, f->proxy_port);
  esa_test_write_file (f->conf, text, 0644);
  {
    const char *argv[] = { esad, "-f", "-c", f->conf, NULL };
    f->esad = esa_test_spawn (log, argv);
  }
  wait_for_file (sock);
}

static int
esactl (Fixture *f, char **out, const char *arg1, const char *arg2, const char *arg3)
{
  g_autofree char *cli = bin ("cli/esactl");
  const char *argv[] = { cli, "-c", f->conf, arg1, arg2, arg3, NULL };
  return esa_test_run (argv, out, NULL);
}

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = esa_test_mkdtemp ("esa-proxy-agent");
  start_sdc (f);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  esa_test_stop (f->esad);
  esa_test_stop (f->proxy);
  esa_test_stop (f->sdc);
  g_clear_object (&f->esad);
  g_clear_object (&f->proxy);
  g_clear_object (&f->sdc);
  esa_test_rmtree (f->dir);
  g_free (f->dir);
  g_free (f->conf);
  g_free (f->proxy_log);
}

static char *
read_text (const char *path)
{
  char *text = NULL;
  g_file_get_contents (path, &text, NULL, NULL);
  return text ? text : g_strdup ("");
}

/* esad → esa-proxy → esa-sdc: activation and a heartbeat arrive, and the
 * proxy's access log shows the tunnels to the SDC. */
static void
test_delivers_through_esa_proxy (Fixture *f, gconstpointer data)
{
  g_autofree char *allow = g_strdup_printf ("localhost:%u", f->sdc_port);
  g_autofree char *server = NULL;
  g_autofree char *out = NULL;
  g_autofree char *reports = NULL;
  g_autofree char *access = NULL;
  g_autofree char *sdc = bin ("sdc/esa-sdc");
  g_autofree char *sdc_dir = g_build_filename (f->dir, "sdc", NULL);
  const char *list[] = { sdc, "reports", "--dir", sdc_dir, "--json", NULL };

  start_proxy (f, allow);
  start_esad (f);
  server = g_strdup_printf ("https://localhost:%u/", f->sdc_port);
  g_assert_cmpint (esactl (f, &out, "activate", "--server", server), ==, 0);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (esactl (f, &out, "heartbeat", NULL, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "via proxy 1"));
  g_assert_cmpint (esa_test_run (list, &reports, NULL), ==, 0);
  g_assert_nonnull (strstr (reports, "\"heartbeat\""));
  /* esa-proxy logs a tunnel when it closes, and keeps a half-closed tunnel
   * until the other side closes too: stop both ends. */
  esa_test_stop (f->esad);
  g_clear_object (&f->esad);
  esa_test_stop (f->sdc);
  g_clear_object (&f->sdc);
  for (int i = 0; i < 100; i++)
    {
      g_free (access);
      access = read_text (f->proxy_log);
      if (strstr (access, allow) != NULL)
        break;
      g_usleep (50 * 1000);
    }
  g_assert_nonnull (strstr (access, "method=CONNECT"));
  g_assert_nonnull (strstr (access, allow));
}

/* A destination the proxy does not allow gets nothing through: the agent's
 * report stays queued with the proxy's refusal as the reason. */
static void
test_refuses_unlisted_destination (Fixture *f, gconstpointer data)
{
  g_autofree char *server = NULL;
  g_autofree char *out = NULL;
  g_autofree char *queue = NULL;
  guint16 other = esa_test_free_port ();
  g_autofree char *allow = g_strdup_printf ("localhost:%u", other);

  start_proxy (f, allow); /* the SDC's port is not on the list */
  start_esad (f);
  server = g_strdup_printf ("https://localhost:%u/", f->sdc_port);
  g_assert_cmpint (esactl (f, &out, "activate", "--server", server), !=, 0);
  g_clear_pointer (&out, g_free);
  /* Not activated either, so nothing leaves; the report waits in the queue. */
  g_assert_cmpint (esactl (f, &out, "heartbeat", NULL, NULL), !=, 0);
  g_assert_cmpint (esactl (f, &queue, "queue", "list", "--json"), ==, 0);
  g_assert_nonnull (strstr (queue, "\"heartbeat\""));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (esactl (f, &out, "test", "--json", NULL), !=, 0);
  g_assert_nonnull (strstr (out, "403"));
}

int
main (int argc, char **argv)
{
  g_autofree char *aix = esa_test_src_path ("tests/fixtures/aix-bin");
  /* esad reads a stand-alone POWER9 through the fake AIX commands. */
  g_setenv ("ESA_PLATFORM", "aix", TRUE);
  g_setenv ("ESA_COMMAND_PATH", aix, TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/proxy-agent/delivers-through-esa-proxy", Fixture, NULL, setup,
              test_delivers_through_esa_proxy, teardown);
  g_test_add ("/proxy-agent/refuses-unlisted-destination", Fixture, NULL, setup,
              test_refuses_unlisted_destination, teardown);
  return g_test_run ();
}
