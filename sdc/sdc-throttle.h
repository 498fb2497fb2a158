/* sdc-throttle.h: counts failed logins per key (client address, system id) and says
 * when a key must wait (HTTP 429 with Retry-After). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SdcThrottle SdcThrottle;

/* @limit failures within @window_seconds block the key until the window ends. */
SdcThrottle *sdc_throttle_new     (guint limit, guint window_seconds, guint max_keys);
void         sdc_throttle_free    (SdcThrottle *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SdcThrottle, sdc_throttle_free)

/* TRUE if @key is blocked now; *retry_after (seconds, >= 1) says for how long. */
gboolean     sdc_throttle_blocked (SdcThrottle *t, const char *key, guint *retry_after);
void         sdc_throttle_fail    (SdcThrottle *t, const char *key);
void         sdc_throttle_reset   (SdcThrottle *t, const char *key);

G_END_DECLS
