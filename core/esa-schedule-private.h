/* esa-schedule-private.h: job schedules ("daily 02:30", "every 15m", ...),
 * their next run, whether a run is due, durations and the splay offset. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  ESA_SCHEDULE_DAILY,    /* daily HH:MM */
  ESA_SCHEDULE_WEEKLY,   /* weekly DAY HH:MM */
  ESA_SCHEDULE_EVERY,    /* every N{s,m,h,d}: elapsed time, not wall clock */
  ESA_SCHEDULE_ON_EVENT, /* on-event or on-event:NAME: never timed */
} EsaScheduleKind;

/* Opaque and immutable once parsed: safe to share between threads. */
typedef struct _EsaSchedule EsaSchedule;

/* Grammar (keywords and days case-insensitive, any spaces or tabs between
 * words):
 *   daily HH:MM          H:MM also accepted, 00:00-23:59
 *   weekly DAY HH:MM     DAY = mon..sun or monday..sunday
 *   every DURATION       a unit is required: 90s, 15m, 6h, 2d, 1h30m;
 *                        1s to 366d
 *   on-event             the event named like the job
 *   on-event:NAME        NAME of [A-Za-z0-9._-]
 * Fails with ESA_ERROR_INVALID_CONFIG and a message naming the text and what
 * was expected, e.g.
 *   schedule "daily 25:00": hour 25 out of range (expected HH:MM, 00:00-23:59) */
EsaSchedule     *esa_schedule_parse      (const char *text, GError **error);
void             esa_schedule_free       (EsaSchedule *schedule);

EsaScheduleKind  esa_schedule_get_kind   (const EsaSchedule *schedule);
/* "on-event:NAME" gives NAME; plain "on-event" and the timed kinds NULL. */
const char      *esa_schedule_get_event  (const EsaSchedule *schedule);
/* The interval in seconds of an EVERY schedule, 0 for the other kinds. */
guint64          esa_schedule_get_interval (const EsaSchedule *schedule);
/* Canonical form, which parses back to the same schedule: lower case, single
 * spaces, two-digit times, three-letter days, "every" in the largest unit
 * that divides the interval ("every 1h30m" gives "every 90m"). */
char            *esa_schedule_to_string  (const EsaSchedule *schedule);

/* The next run strictly after @after, as a GDateTime in @tz (NULL = the local
 * zone).
 * DAILY/WEEKLY follow the wall clock of @tz:
 *  - a time skipped by a DST change (02:30 when clocks jump 02:00 -> 03:00)
 *    runs at the same wall clock shifted forward by the gap (03:30), i.e. at
 *    the instant 02:30 would have been without the change;
 *  - a time that happens twice (01:30 when clocks fall back) runs once, at
 *    the first occurrence.
 * EVERY is elapsed time: @after + interval, whatever the clock says.
 * Returns NULL for ON_EVENT (and if the result would be past year 9999). */
GDateTime       *esa_schedule_next       (const EsaSchedule *schedule,
                                          GDateTime *after, GTimeZone *tz);

/* TRUE when a run fell due after @last_run and no later than @now, i.e.
 * next(@last_run) <= @now. It is a yes/no: an agent that was down across
 * several slots runs once at start-up, and once that run is recorded as the
 * last one, nothing is due until the next slot.
 * Never run (@last_run NULL): DAILY/WEEKLY are not due (they wait for their
 * slot); EVERY is due at once. ON_EVENT is never due.
 * A @last_run after @now (the clock was stepped back) is not due. */
gboolean         esa_schedule_is_due     (const EsaSchedule *schedule,
                                          GDateTime *last_run, GDateTime *now,
                                          GTimeZone *tz);

/* Durations as written in esa.conf (splay=, timeouts): "90s", "15m", "6h",
 * "2d", combined largest unit first ("1h30m", "1d 12h"); a plain number is
 * seconds; 0 is allowed. Rejects empty text, signs, unknown units, repeated or
 * out-of-order units and overflow, with ESA_ERROR_INVALID_CONFIG and a
 * message like: duration "5x": unknown unit "x" (expected s, m, h or d). */
gboolean         esa_duration_parse      (const char *text, guint64 *seconds,
                                          GError **error);

/* A deterministic offset in [0, @splay_s) derived from @seed (e.g. host name
 * plus job name): each agent keeps the same offset across restarts while a
 * fleet of agents spreads out. 0 when @splay_s is 0. */
guint64          esa_splay_offset        (const char *seed, guint64 splay_s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EsaSchedule, esa_schedule_free)

G_END_DECLS
