/* test-transport-util.h: the world of the transport end-to-end tests — an
 * esa-sdc, an esad configured to reach it, third-party proxies (tinyproxy),
 * all on loopback, all stopped by et_world_free() even when a test fails. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  char *dir;          /* temp root, removed at the end */
  char *sdc_dir;      /* made by esa-sdc init */
  char *sdc_log;      /* esa-sdc's stderr: one line per request */
  char *esad_log;
  char *conf;         /* esa.conf */
  char *state_dir;
  guint16 port;       /* HTTPS, on 127.0.0.1 and [::1] */
  guint16 http_port;  /* plain HTTP (config only), 127.0.0.1 */
  GSubprocess *sdc;
  GSubprocess *esad;
  GPtrArray *procs;   /* other processes (proxies), stopped at the end */
} EtWorld;

/* Common test environment (ESA_PLATFORM=aix, fake commands); call in main (). */
void       et_init_env        (void);
/* A temp dir and an SDC directory made by `esa-sdc init DIR [extra...]`. */
EtWorld   *et_world_new       (const char *const *init_args);
void       et_world_free      (EtWorld *w);
/* Copies the built plugin NAME into the world's plugin folder (mode 0755). */
void       et_install_plugin  (EtWorld *w, const char *name);
/* Copies the module file @so into the plugin folder as NAME.so (mode 0755). */
void       et_install_module  (EtWorld *w, const char *so, const char *name);
/* Starts esa-sdc serve on both loopbacks (+ http); extra args NULL-terminated. */
void       et_sdc_start       (EtWorld *w, const char *const *extra);
void       et_sdc_stop        (EtWorld *w);
/* Writes esa.conf: [agent] (state, plugins: heartbeat), [activation]
 * vendors=* (unless @sections has an [activation]), then @sections. */
void       et_write_conf      (EtWorld *w, const char *sections);
/* Starts esad -f with @env (KEY=VALUE, NULL-terminated, may be NULL) and
 * waits until esactl status answers. */
void       et_esad_start      (EtWorld *w, const char *const *env);
void       et_esad_stop       (EtWorld *w);
/* Runs esactl -c CONF args...; returns the exit status. */
int        et_esactl          (EtWorld *w, char **out, char **err, ...) G_GNUC_NULL_TERMINATED;
/* Activates with --server https://localhost:PORT/ and asserts it worked. */
void       et_activate        (EtWorld *w);
/* `esa-sdc reports --dir --json`, parsed. */
JsonNode  *et_sdc_reports     (EtWorld *w);
guint      et_sdc_count_uuid  (EtWorld *w, const char *uuid);
guint      et_sdc_count_all   (EtWorld *w);
/* `esactl queue list --json`, parsed. */
JsonNode  *et_queue_list      (EtWorld *w);
/* Starts tinyproxy on 127.0.0.1:@port allowing CONNECT to @connect_port
 * (and @connect_port2 if not 0), with Basic auth when @user is not NULL. */
GSubprocess *et_tinyproxy_start (EtWorld *w, guint16 port, guint16 connect_port, guint16 connect_port2,
                                 const char *user, const char *password);
/* A file under w->dir with @text, mode 0600; returns its path. */
char      *et_write_secret    (EtWorld *w, const char *name, const char *text);
/* Counts lines of the SDC log holding every one of the NULL-terminated words. */
guint      et_sdc_log_count   (EtWorld *w, ...) G_GNUC_NULL_TERMINATED;
/* Runs certtool (gnutls-bin) with args; asserts success. */
void       et_certtool        (const char *const *argv);
/* A stand-in for a wrong or broken server on 127.0.0.1 (its own thread):
 * answers every request with @response, verbatim, and closes. With @tls it
 * speaks HTTPS with the world's SDC certificate (valid for localhost and
 * 127.0.0.1), so only what it answers is wrong. It counts what arrives. */
typedef struct _EtStub EtStub;
EtStub    *et_stub_start      (EtWorld *w, gboolean tls, const char *response);
/* The same, with an answer made by @func for each request: @request is its
 * head (request line and headers, no blank line), @body what followed; it
 * returns the whole answer (g_free'd), or NULL to close without one. Runs
 * in the stub's thread. */
typedef char *(*EtStubFunc) (const char *request, GString *body, gpointer data);
EtStub    *et_stub_start_with (EtWorld *w, gboolean tls, EtStubFunc func, gpointer data);
guint16    et_stub_port       (EtStub *stub);
/* Request heads received so far, and every byte received (heads and bodies). */
guint      et_stub_requests   (EtStub *stub);
guint64    et_stub_bytes      (EtStub *stub);
/* Bytes of its answers the client took (written before it closed). */
guint64    et_stub_sent       (EtStub *stub);
void       et_stub_stop       (EtStub *stub);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EtStub, et_stub_stop)

/* Fills the spool (esad stopped) with at least @want problem reports of
 * tests/queue-writer (two attachments each, up to ~150 KiB); returns their
 * uuids (char*), each one the queue promised to keep. */
GPtrArray *et_enqueue_reports (EtWorld *w, guint want);

/* Binaries. */
char      *et_bin             (const char *rel);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EtWorld, et_world_free)

G_END_DECLS
