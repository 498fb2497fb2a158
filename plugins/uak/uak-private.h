/* uak-private.h: the Update Access Key logic the uak plugin and its tests
 * share — key data, key files, SDC answers, signature checks, backends. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The only algorithm the SDC API v1 knows (docs/protocol.md). */
#define ESA_UAK_ALGORITHM "ecdsa-p256-sha256"

/* ---- key data: "UAK1;machine_type=9009;serial=78ABCDE;expires=20271201;issued=…" ---- */

typedef struct {
  char *key_data;     /* the exact string the signature covers */
  char *machine_type;
  char *serial;
  char *expires;      /* YYYYMMDD */
  char *issued;       /* YYYYMMDDTHHMMSSZ as sent, NULL when absent */
  char *kind;         /* "aix" for the AIX key ("key=aix"); NULL: the firmware key */
} EsaUakKey;

/* The two keys: the firmware's (every POWER8 and later) and, from POWER10
 * on, the AIX (OS) key, each with its own expiry. */
typedef enum {
  ESA_UAK_KEY_FIRMWARE,
  ESA_UAK_KEY_AIX,
} EsaUakKeyKind;

/* "firmware" / "aix": the request's "key" and the report's "key" */
const char *esa_uak_key_kind_name (EsaUakKeyKind kind);
/* TRUE for "PowerPC_POWER10" and later: the machine has an AIX key to keep. */
gboolean    esa_uak_processor_has_aix_key (const char *processor);

/* TRUE when @s is YYYYMMDD naming a real date (1970 or later). */
gboolean   esa_uak_date_valid        (const char *s);
/* Whole days from @from to @to (both YYYYMMDD); negative when @to is earlier. */
gint64     esa_uak_days_between      (const char *from, const char *to);
/* Today in UTC as YYYYMMDD. */
char      *esa_uak_today             (GDateTime *now);

EsaUakKey *esa_uak_key_parse         (const char *key_data, GError **error);
void       esa_uak_key_free          (EsaUakKey *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaUakKey, esa_uak_key_free)

/* The contents of a key file: its first non-blank line is either a key data
 * string (then *key is set) or a YYYYMMDD expiry. An empty file means no key
 * (*expiry NULL, TRUE). @where names the file in errors. */
gboolean   esa_uak_parse_key_file    (const char *where, const char *text, char **expiry,
                                      EsaUakKey **key, GError **error);

/* ---- the SDC's answer to POST /esa/v1/uak ---------------------------------------- */

typedef struct {
  char *key_data;
  GBytes *signature;  /* DER, decoded from strict base64 */
  char *signature_b64;
  char *algorithm;
} EsaUakOffer;

/* Checks member types and decodes the signature; errors name the member. */
EsaUakOffer *esa_uak_offer_from_json (JsonObject *answer, GError **error);
void         esa_uak_offer_free      (EsaUakOffer *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaUakOffer, esa_uak_offer_free)

/* Strict RFC 4648 base64 (no whitespace, correct padding). */
GBytes      *esa_uak_base64_decode   (const char *text, GError **error);

/* ---- signature check ------------------------------------------------------------ */

typedef struct _EsaUakVerifier EsaUakVerifier;

EsaUakVerifier *esa_uak_verifier_new_from_file (const char *pem_path, GError **error);
EsaUakVerifier *esa_uak_verifier_new_from_data (const char *where, const char *pem, gsize len,
                                                GError **error);
void            esa_uak_verifier_free          (EsaUakVerifier *self);
/* ECDSA P-256 over SHA-256 of exactly @data; ESA_ERROR_REFUSED when it does not verify. */
gboolean        esa_uak_verifier_verify        (EsaUakVerifier *self, const char *data,
                                                GBytes *signature, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaUakVerifier, esa_uak_verifier_free)

/* Why a key was refused (the "reason" of a uak-status report). */
#define ESA_UAK_REASON_MALFORMED     "malformed-answer"
#define ESA_UAK_REASON_BAD_SIGNATURE "bad-signature"
#define ESA_UAK_REASON_OTHER_MACHINE "other-machine"
#define ESA_UAK_REASON_NOT_NEWER     "not-newer"
#define ESA_UAK_REASON_APPLY_FAILED  "apply-failed"
#define ESA_UAK_REASON_OTHER_KEY     "other-key"

/* Everything a key must pass before it is applied, in this order: answer
 * well-formed, algorithm, signature, key data, machine, newer than
 * @current_expiry (may be NULL: no key). On refusal returns NULL, sets
 * *reason (one of the ESA_UAK_REASON_*) and an ESA_ERROR_REFUSED error. */
EsaUakKey *esa_uak_accept_offer (EsaUakVerifier *verifier, EsaUakOffer *offer,
                                 const char *machine_type, const char *serial,
                                 const char *current_expiry, const char **reason,
                                 GError **error);

/* A key that passed esa_uak_accept_offer must also be of the kind asked for:
 * a firmware key offered as the AIX key (or the reverse) is refused with
 * reason ESA_UAK_REASON_OTHER_KEY. */
gboolean   esa_uak_key_check_kind (const EsaUakKey *key, EsaUakKeyKind kind, const char **reason,
                                   GError **error);

/* ---- backends: where the current key lives and how a new one is applied -------- */

typedef enum {
  ESA_UAK_BACKEND_FILE,
  ESA_UAK_BACKEND_AIX,
} EsaUakBackendKind;

typedef struct {
  EsaUakBackendKind kind;
  char *key_file;  /* file backend */
  char *temp_dir;  /* aix backend: where the key file for uak_update is written */
  GCancellable *cancellable; /* not owned; cancelled when esad stops: kills the commands */
} EsaUakBackend;

gboolean esa_uak_backend_parse_kind (const char *name, EsaUakBackendKind *kind);
const char *esa_uak_backend_kind_name (EsaUakBackendKind kind);
/* The current expiry (NULL: no key) and, when the backend keeps it, the key
 * data; *source says where it was read ("lparstat -u", "/path/key"). */
gboolean esa_uak_backend_read  (const EsaUakBackend *self, char **expiry, char **key_data,
                                char **source, GError **error);
/* The AIX key's expiry (lparstat -u "AIX Update Access Key Expiration", else
 * uak_aix_expiry); NULL when there is none ("-"). The file backend keeps no
 * AIX key: TRUE, *expiry and *source NULL. */
gboolean esa_uak_backend_read_aix (const EsaUakBackend *self, char **expiry, char **source,
                                   GError **error);
/* Applies a key that passed esa_uak_accept_offer (either kind: uak_update
 * tells them apart by the key data). */
gboolean esa_uak_backend_apply (const EsaUakBackend *self, const EsaUakKey *key,
                                const char *signature_b64, GError **error);

G_END_DECLS
