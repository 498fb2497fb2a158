/* esa-upload-progress.h: how far the transmission in progress is — the
 * report being sent and the bytes of it written to the SDC so far, of how
 * many. The deliverer says which report it sends (begin/restart/end), the
 * https transport counts the body bytes libsoup writes (wrote-body-data);
 * esad's control API hands a snapshot to `esactl` for its progress bar.
 * One transmission at a time (the sender sends one report at a time); bytes
 * written by other threads (an activation, a UAK request) are not counted. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The calling thread starts sending report @uuid of @kind, @total bytes in all
 * (body and attachments). */
void      esa_upload_progress_begin   (const char *uuid, const char *kind, guint64 total);
/* Sending starts over (another route): nothing of it has arrived yet. */
void      esa_upload_progress_restart (void);
/* @n more bytes written (counted only on the thread that began). */
void      esa_upload_progress_add     (gsize n);
void      esa_upload_progress_end     (void);
/* {"active": true, "uuid", "kind", "sent", "total"} or {"active": false}. */
JsonNode *esa_upload_progress_to_json (void);

G_END_DECLS
