/* test-proxy-config.c: esa-proxy.conf loading, its one-line errors, the default allow-list
 * from esa.conf, the users file, and `esa-proxy --check-config` / `--hash-password`. */
#include "config.h"

#include "esa-proxy-config.h"

#include "esa-test-util.h"

#include <esa/esa-error.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
  char *dir;
  char *conf;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->dir = esa_test_mkdtemp ("esa-proxy-config");
  f->conf = g_build_filename (f->dir, "esa-proxy.conf", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  esa_test_rmtree (f->dir);
  g_free (f->dir);
  g_free (f->conf);
}

static EsaProxyConfig *
load (Fixture *f, const char *text, GError **error)
{
  esa_test_write_file (f->conf, text, 0644);
  return esa_proxy_config_load (f->conf, error);
}

static void
test_config_full (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaProxyConfig) config = NULL;
  g_autofree char *pw = g_build_filename (f->dir, "up.pass", NULL);
  g_autofree char *text = NULL;
  g_autoptr (GInetAddress) lo = g_inet_address_new_from_string ("127.0.0.1");
  g_autoptr (GInetAddress) ten = g_inet_address_new_from_string ("10.1.1.1");

  esa_test_write_file (pw, "secret\n", 0600);
  text = g_strdup_printf ("[proxy]\nlisten=127.0.0.1:3128; [::1]:3128 ;*:8080\n"
                          "allow=sdc.example.com:443;SDC2.example.com.:443;\n"
                          "allow-private-addresses=10.0.0.0/8\nclients=127.0.0.0/8;::1\n"
                          "max-tunnels=10\nidle-timeout=5\nconnect-timeout=7\nmax-header-size=4096\n"
                          "max-pending-per-client=3\n"
                          "access-log=/var/log/x.log\n"
                          "[upstream]\nurl=http://proxy.example.com:8080\nuser=esa\npassword-file=%s\n",
                          pw);
  config = load (f, text, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (config->listen->len, ==, 3);
  g_assert_null (g_array_index (config->listen, EsaProxyListen, 2).address);
  g_assert_cmpuint (g_array_index (config->listen, EsaProxyListen, 2).port, ==, 8080);
  g_assert_true (esa_proxy_allow_list_contains (config->allow, "sdc2.example.com", 443));
  g_assert_cmpuint (esa_proxy_allow_list_size (config->allow), ==, 2);
  g_assert_null (config->esa_conf);
  g_assert_false (esa_proxy_config_address_allowed (config, lo));
  g_assert_true (esa_proxy_config_address_allowed (config, ten));
  g_assert_cmpuint (config->max_tunnels, ==, 10);
  g_assert_cmpuint (config->idle_timeout, ==, 5);
  g_assert_cmpuint (config->connect_timeout, ==, 7);
  g_assert_cmpuint (config->max_header_size, ==, 4096);
  g_assert_cmpuint (config->max_pending_per_client, ==, 3);
  g_assert_cmpuint (config->header_timeout, ==, 10); /* the default */
  g_assert_cmpstr (config->access_log, ==, "/var/log/x.log");
  g_assert_cmpstr (config->upstream_host, ==, "proxy.example.com");
  g_assert_cmpuint (config->upstream_port, ==, 8080);
  g_assert_cmpstr (config->upstream_auth, ==, "Basic ZXNhOnNlY3JldA==");
}

static void
test_config_esa_conf (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaProxyConfig) config = NULL;
  g_autofree char *esa = g_build_filename (f->dir, "esa.conf", NULL);
  g_autofree char *text = g_strdup_printf ("[proxy]\nesa-conf=%s\n", esa);

  esa_test_write_file (esa,
                       "[agent]\nstate-dir=/var/esa\n[sdc]\n"
                       "servers=https://sdc1.example.com:443/;https://sdc2.example.com/\n"
                       "config-url=http://sdc1.example.com/esa/v1/config\n",
                       0644);
  config = load (f, text, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (esa_proxy_allow_list_size (config->allow), ==, 3);
  g_assert_true (esa_proxy_allow_list_contains (config->allow, "sdc1.example.com", 443));
  g_assert_true (esa_proxy_allow_list_contains (config->allow, "sdc2.example.com", 443));
  g_assert_true (esa_proxy_allow_list_contains (config->allow, "sdc1.example.com", 80));
  g_assert_cmpstr (config->esa_conf, ==, esa);
  /* defaults */
  g_assert_cmpuint (config->listen->len, ==, 2);
  g_assert_false (config->allow_private_all);
  g_assert_null (config->clients);
  g_assert_null (config->users);
  g_assert_null (config->upstream_host);
}

static void
test_config_errors (Fixture *f, gconstpointer data)
{
  struct {
    const char *text;
    const char *message; /* after "<file>:" */
  } cases[] = {
    { "[proxy]\nallow=a.example:443\nmax-tunnels=abc\n",
      "3: [proxy] max-tunnels: \"abc\": expected a whole number of tunnels from 1 to 1000000" },
    { "[proxy]\nallow=a.example:443\nmax-tunnels=0\n", "3: [proxy] max-tunnels: \"0\":" },
    { "[proxy]\nallow=a.example:443\nmax-pending-per-client=0\n",
      "3: [proxy] max-pending-per-client: \"0\": expected a whole number of connections from 1 to 1000000" },
    { "[proxy]\nallow=a.example\n", "2: [proxy] allow: \"a.example\":" },
    { "[proxy]\nallow=a.example:443\nalow=b.example:443\n", "3: [proxy] alow: unknown key" },
    { "[proxy]\nallow=a.example:443\n[prxy]\n", "3: [prxy]: unknown group" },
    { "[proxy]\nallow=a.example:443\nlisten=localhost:3128\n",
      "3: [proxy] listen: \"localhost:3128\": expected an IP address and port" },
    { "[proxy]\nallow=a.example:443\nclients=10.0.0.1/8\n",
      "3: [proxy] clients: \"10.0.0.1/8\": expected an address or CIDR range" },
    { "[proxy]\nallow=a.example:443\nallow-private-addresses=yes\n",
      "3: [proxy] allow-private-addresses: \"yes\":" },
    { "[proxy]\nallow=a.example:443\naccess-log=relative.log\n",
      "3: [proxy] access-log: \"relative.log\": expected an absolute path" },
    { "[proxy]\nallow=a.example:443\nusers-file=/nonexistent/users\n",
      "3: [proxy] users-file: \"/nonexistent/users\":" },
    { "[proxy]\nallow=a.example:443\n[upstream]\nurl=https://p.example:3128\n",
      "4: [upstream] url: \"https://p.example:3128\": unsupported scheme (expected http://host:port)" },
    { "[proxy]\nallow=a.example:443\n[upstream]\nurl=http://p.example:3128\nuser=x\n",
      " [upstream] password-file: expected a file holding the password for user x" },
    { "[proxy]\nallow=\nesa-conf=/nonexistent/esa.conf\n",
      "3: [proxy] esa-conf: \"/nonexistent/esa.conf\": cannot read" },
    { "[proxy]\nallow=\n", "2: [proxy] allow: no destination allowed" },
    { "not a key file\n", "" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (EsaProxyConfig) config = load (f, cases[i].text, &error);
      g_autofree char *expected = g_strdup_printf ("%s:%s", f->conf, cases[i].message);
      g_assert_null (config);
      g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG);
      if (!g_str_has_prefix (error->message, expected))
        g_error ("case %" G_GSIZE_FORMAT ": got \"%s\", expected \"%s...\"", i, error->message,
                 expected);
      g_assert_null (strchr (error->message, '\n'));
    }
}

/* Configuration paths are read bounded: a device, a FIFO, an oversized file or one with a
 * NUL byte (which would silently cut the text short) is one clear error, never a hang. */
static void
test_config_files (Fixture *f, gconstpointer data)
{
  g_autofree char *fifo = g_build_filename (f->dir, "fifo", NULL);
  g_autofree char *big = g_build_filename (f->dir, "big.conf", NULL);
  g_autofree char *nul = g_build_filename (f->dir, "nul.conf", NULL);
  g_autofree char *filler = g_strnfill (1024 * 1024 + 1, '#');
  struct {
    const char *path; /* the config file itself, or NULL for f->conf with text */
    const char *text;
    const char *message;
  } cases[] = {
    { "/dev/zero", NULL, "/dev/zero: not a regular file" },
    { fifo, NULL, "not a regular file" },
    { big, NULL, "larger than 1048576 bytes" },
    { nul, NULL, "contains a NUL byte" },
    { NULL, "[proxy]\nallow=\nesa-conf=/dev/zero\n", "esa-conf: \"/dev/zero\": cannot read: not a regular file" },
    { NULL, "[proxy]\nallow=a.example:443\nusers-file=/dev/zero\n", "users-file: \"/dev/zero\": not a regular file" },
    { NULL, "[proxy]\nallow=a.example:443\n[upstream]\nurl=http://p.example:3128\nuser=x\npassword-file=/dev/zero\n",
      "password-file: \"/dev/zero\": not a regular file" },
  };

  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  esa_test_write_file (big, filler, 0644);
  g_assert_true (g_file_set_contents (nul, "[proxy]\nallow=a.example:443\n\0\nclients=10.0.0.0/8\n", 43, NULL));
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (EsaProxyConfig) config = NULL;
      if (cases[i].path == NULL)
        {
          esa_test_write_file (f->conf, cases[i].text, 0644);
          config = esa_proxy_config_load (f->conf, &error);
        }
      else
        config = esa_proxy_config_load (cases[i].path, &error);
      g_assert_null (config);
      g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG);
      if (strstr (error->message, cases[i].message) == NULL)
        g_error ("case %" G_GSIZE_FORMAT ": got \"%s\", expected \"...%s...\"", i, error->message,
                 cases[i].message);
    }
}

static void
test_users_file (Fixture *f, gconstpointer data)
{
  g_autofree char *users = g_build_filename (f->dir, "users", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *text = NULL;
  g_autofree char *proxy = esa_test_build_path ("proxy/esa-proxy");
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaProxyUsers) u = NULL;
  g_autoptr (GSubprocess) proc = NULL;

  /* --hash-password reads the password on standard input */
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                           proxy, "--hash-password", "--iterations", "1000", "alice", NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (proc, "wonderland\n", NULL, &out, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_successful (proc));
  g_assert_true (g_str_has_prefix (out, "alice:$pbkdf2-sha256$1000$"));

  text = g_strdup_printf ("# users\n\n%s", out);
  esa_test_write_file (users, text, 0600);
  u = esa_proxy_users_load (users, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (esa_proxy_users_size (u), ==, 1);
  g_clear_pointer (&u, esa_proxy_users_unref);

  esa_test_write_file (users, "alice:plaintext\n", 0600);
  u = esa_proxy_users_load (users, &error);
  g_assert_null (u);
  g_assert_nonnull (strstr (error->message, ":1: user alice: unsupported password hash"));
  g_clear_error (&error);
  g_free (text);
  text = g_strdup_printf ("%s%s", out, out);
  esa_test_write_file (users, text, 0600);
  u = esa_proxy_users_load (users, &error);
  g_assert_null (u);
  g_assert_nonnull (strstr (error->message, ":2: user alice listed twice"));
}

static void
test_check_config_cli (Fixture *f, gconstpointer data)
{
  g_autofree char *proxy = esa_test_build_path ("proxy/esa-proxy");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *argv[] = { proxy, "--check-config", "--config", f->conf, NULL };

  esa_test_write_file (f->conf, "[proxy]\nallow=b.example:443;a.example:443\n", 0644);
  g_assert_cmpint (esa_test_run (argv, &out, &err), ==, 0);
  g_assert_nonnull (strstr (out, ": OK"));
  g_assert_nonnull (strstr (out, "allow: a.example:443 b.example:443"));

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  esa_test_write_file (f->conf, "[proxy]\nallow=b.example:443\nidle-timeout=-1\n", 0644);
  g_assert_cmpint (esa_test_run (argv, &out, &err), ==, 1);
  g_assert_nonnull (strstr (err, "esa-proxy.conf:3: [proxy] idle-timeout: \"-1\": expected"));
  /* one line */
  g_assert_cmpint (strchr (err, '\n') - err, ==, (int) strlen (err) - 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/proxy/config/full", Fixture, NULL, fixture_setup, test_config_full, fixture_teardown);
  g_test_add ("/proxy/config/esa-conf", Fixture, NULL, fixture_setup, test_config_esa_conf,
              fixture_teardown);
  g_test_add ("/proxy/config/files", Fixture, NULL, fixture_setup, test_config_files,
              fixture_teardown);
  g_test_add ("/proxy/config/errors", Fixture, NULL, fixture_setup, test_config_errors,
              fixture_teardown);
  g_test_add ("/proxy/config/users-file", Fixture, NULL, fixture_setup, test_users_file,
              fixture_teardown);
  g_test_add ("/proxy/config/check-config", Fixture, NULL, fixture_setup, test_check_config_cli,
              fixture_teardown);
  return g_test_run ();
}
