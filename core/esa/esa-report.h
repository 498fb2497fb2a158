/* esa-report.h: EsaReport, one unit of data for the SDC (body + attachments). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

/* The report kinds (ESA_REPORT_KIND_*) are the protocol's. */
#include "esa/esa-protocol.h"

G_BEGIN_DECLS

typedef struct _EsaReport EsaReport;

typedef struct {
  char *name;         /* file name inside the report, no slashes */
  char *path;         /* where the bytes are on disk */
  char *content_type; /* e.g. application/gzip */
  /* Set by the queue when it copies the file into the spool (the bytes are
   * read once, there); NULL/0 before. The transports send these and check
   * the spool copy against them, so a changed copy is never sent as whole. */
  char *sha256;       /* lower-case hex */
  guint64 size;
  gpointer padding[4]; /* reserved (ABI 2): later fields take its place, zero meaning
                        * "as before"; keep it zero (designated initializers do) */
} EsaAttachment;

EsaReport   *esa_report_new               (const char *kind, const char *plugin);
EsaReport   *esa_report_ref               (EsaReport *self);
void         esa_report_unref             (EsaReport *self);

const char  *esa_report_get_uuid          (EsaReport *self);
const char  *esa_report_get_kind          (EsaReport *self);
const char  *esa_report_get_plugin        (EsaReport *self);
GDateTime   *esa_report_get_created       (EsaReport *self);
/* The body is a JSON object; never NULL (empty object by default). */
JsonObject  *esa_report_get_body          (EsaReport *self);
void         esa_report_set_body          (EsaReport *self, JsonObject *body);
/* Links this report to another (an attachment to its problem): the other's UUID. */
const char  *esa_report_get_parent        (EsaReport *self);
void         esa_report_set_parent        (EsaReport *self, const char *parent_uuid);

/* Attaches a file by path; the queue copies it into the spool when enqueued. */
gboolean     esa_report_add_attachment    (EsaReport *self, const char *path,
                                           const char *content_type, GError **error);
/* Array of EsaAttachment*, in the order added. */
GPtrArray   *esa_report_get_attachments   (EsaReport *self);

/* Serialisation used by the spool and the transports. */
JsonNode    *esa_report_to_json           (EsaReport *self);
EsaReport   *esa_report_new_from_json     (JsonNode *node, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaReport, esa_report_unref)

G_END_DECLS
