/* esa-contact.h: who the SDC's service people call about this system — kept in
 * <state-dir>/contact (0600) once the admin gave one (esactl activate / contact set);
 * esa.conf's [activation] contact-* until then. Internal to OpenESA: not installed. */
#pragma once

#include <json-glib/json-glib.h>

#include "esa-config.h"

G_BEGIN_DECLS

typedef struct {
  char *name;
  char *email;
  char *phone;
  gboolean from_state; /* TRUE: the state dir's, FALSE: esa.conf's */
} EsaContact;

char       *esa_contact_path      (const char *state_dir);
/* The state dir's contact, else esa.conf's (any field may be NULL). An unreadable or
 * malformed contact file is an error naming it, never silently esa.conf's. */
EsaContact *esa_contact_load      (EsaConfig *config, GError **error);
/* Atomic, 0600: a crash leaves the old contact or the new one. */
gboolean    esa_contact_save      (const char *state_dir, const EsaContact *contact, GError **error);
/* {"name": …, "email": …, "phone": …} with absent fields left out. */
JsonObject *esa_contact_to_json   (const EsaContact *contact);
void        esa_contact_free      (EsaContact *contact);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaContact, esa_contact_free)

G_END_DECLS
