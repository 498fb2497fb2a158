/* sdc-auth-cache.h: remembers credentials that passed PBKDF2, so a known agent's next
 * request costs one HMAC instead of 20,000 iterations. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SdcAuthCache SdcAuthCache;

/* @max_entries bounds memory; @ttl_seconds bounds how long a password changed by another
 * instance sharing the database can still be accepted here. Thread-safe. */
SdcAuthCache *sdc_auth_cache_new      (guint max_entries, guint ttl_seconds);
void          sdc_auth_cache_free     (SdcAuthCache *cache);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SdcAuthCache, sdc_auth_cache_free)

/* TRUE only if exactly this (system id, password) was remembered and has not expired. */
gboolean      sdc_auth_cache_check    (SdcAuthCache *cache, const char *system_id,
                                       const char *password);
/* After a successful PBKDF2 check. */
void          sdc_auth_cache_remember (SdcAuthCache *cache, const char *system_id,
                                       const char *password);
/* When the system's password changes (registration again). */
void          sdc_auth_cache_forget   (SdcAuthCache *cache, const char *system_id);
guint         sdc_auth_cache_size     (SdcAuthCache *cache);

G_END_DECLS
