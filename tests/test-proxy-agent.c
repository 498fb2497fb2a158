/* test-proxy-agent.c: the whole path of issue 5 — esad sends through
 * esa-proxy ([proxy.1] url=) to esa-sdc over TLS, and esa-proxy refuses to
 * tunnel anywhere else. Real processes on loopback, in the shared test world. */
#include "config.h"

#include "esa-test-util.h"
#include "test-transport-util.h"

#include <string.h>

typedef struct {
  EtWorld *w;
  guint16 proxy_port;
  char *proxy_log;
} Fixture;

/* Starts esa-proxy allowing only @allow; the SDC is on loopback here, so the
 * private-address guard must let loopback through. */
static void
start_proxy (Fixture *f, const char *allow)
{
  g_autofree char *proxy = et_bin ("proxy/esa-proxy");
  g_autofree char *conf = g_build_filename (f->w->dir, "esa-proxy.conf", NULL);
  g_autofree char *out = g_build_filename (f->w->dir, "proxy.out", NULL);
  g_autofree char *text = NULL;
  const char *argv[] = { proxy, "--config", conf, NULL };
  f->proxy_port = esa_test_free_port ();
  f->proxy_log = g_build_filename (f->w->dir, "proxy-access.log", NULL);
  text = g_strdup_printf ("[proxy]\nlisten=127.0.0.1:%u\nallow=%s\nallow-private-addresses=127.0.0.0/8;::1/128\n"
                          "access-log=%s\n",
                          f->proxy_port, allow, f->proxy_log);
  esa_test_write_file (conf, text, 0644);
  g_ptr_array_add (f->w->procs, esa_test_spawn (out, argv));
  g_assert_true (esa_test_wait_for_port ("127.0.0.1", f->proxy_port, 10000));
}

/* esad whose only route to the SDC is [proxy.1] = esa-proxy. */
static void
start_esad (Fixture *f)
{
  g_autofree char *sections = g_strdup_printf ("[sdc]\nservers=https://localhost:%u/\nca-file=%s/ca.pem\n"
                                               "timeout=10s\n[proxy.1]\nurl=http://127.0.0.1:%u\n",
                                               f->w->port, f->w->sdc_dir, f->proxy_port);
  et_write_conf (f->w, sections);
  et_esad_start (f->w, NULL);
}

static void
setup (Fixture *f, gconstpointer data)
{
  f->w = et_world_new (NULL);
  et_sdc_start (f->w, NULL);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  et_world_free (f->w);
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
  g_autofree char *allow = g_strdup_printf ("localhost:%u", f->w->port);
  g_autofree char *out = NULL, *err = NULL, *access = NULL;

  start_proxy (f, allow);
  start_esad (f);
  et_activate (f->w);
  g_assert_cmpint (et_esactl (f->w, &out, &err, "heartbeat", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "via proxy 1"));
  g_assert_cmpuint (et_sdc_count_all (f->w), ==, 1);
  /* esa-proxy logs a tunnel when it closes, and keeps a half-closed tunnel
   * until the other side closes too: stop both ends. */
  et_esad_stop (f->w);
  et_sdc_stop (f->w);
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
 * report stays queued and esactl test shows the proxy's 403. */
static void
test_refuses_unlisted_destination (Fixture *f, gconstpointer data)
{
  g_autofree char *allow = g_strdup_printf ("localhost:%u", esa_test_free_port ());
  g_autofree char *server = g_strdup_printf ("https://localhost:%u/", f->w->port);
  g_autofree char *out = NULL, *err = NULL, *queue = NULL, *test = NULL;

  start_proxy (f, allow); /* the SDC's port is not on the list */
  start_esad (f);
  g_assert_cmpint (et_esactl (f->w, &out, &err, "activate", "--server", server, NULL), !=, 0);
  /* Not activated either, so nothing leaves; the report waits in the queue. */
  g_assert_cmpint (et_esactl (f->w, NULL, NULL, "heartbeat", NULL), !=, 0);
  g_assert_cmpint (et_esactl (f->w, &queue, NULL, "queue", "list", "--json", NULL), ==, 0);
  g_assert_nonnull (strstr (queue, "\"heartbeat\""));
  g_assert_cmpint (et_esactl (f->w, &test, NULL, "test", "--json", NULL), !=, 0);
  g_assert_nonnull (strstr (test, "403"));
  g_assert_cmpuint (et_sdc_count_all (f->w), ==, 0);
}

int
main (int argc, char **argv)
{
  /* esad reads a stand-alone POWER9 through the fake AIX commands. */
  et_init_env ();
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/proxy-agent/delivers-through-esa-proxy", Fixture, NULL, setup,
              test_delivers_through_esa_proxy, teardown);
  g_test_add ("/proxy-agent/refuses-unlisted-destination", Fixture, NULL, setup,
              test_refuses_unlisted_destination, teardown);
  return g_test_run ();
}
