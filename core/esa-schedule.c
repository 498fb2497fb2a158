/* esa-schedule.c: parsing job schedules and durations, and the calendar
 * arithmetic behind them (next run, is a run due), DST included. */
#include "config.h"

#include <string.h>

#include "esa/esa-error.h"
#include "esa-schedule-private.h"

#define ESA_SCHEDULE_EXPECTED                                                                      \
  "expected daily HH:MM, weekly DAY HH:MM, every N{s,m,h,d} or on-event[:NAME]"
#define ESA_TIME_EXPECTED "expected HH:MM, 00:00-23:59"
#define ESA_EVERY_MAX_S (366 * (guint64) 86400)

struct _EsaSchedule
{
  EsaScheduleKind kind;
  guint hour;           /* DAILY, WEEKLY */
  guint minute;         /* DAILY, WEEKLY */
  GDateWeekday weekday; /* WEEKLY */
  guint64 interval;     /* EVERY, seconds */
  char *event;          /* ON_EVENT, NULL for "the job's own name" */
};

static const struct
{
  const char *abbrev;
  const char *full;
} esa_days[] = {
  /* indexed by GDateWeekday - 1 */
  { "mon", "monday" }, { "tue", "tuesday" },  { "wed", "wednesday" }, { "thu", "thursday" },
  { "fri", "friday" }, { "sat", "saturday" }, { "sun", "sunday" },
};

/* Largest first: to_string picks the first that divides, and durations must
 * be written in this order. */
static const struct
{
  char unit;
  guint64 seconds;
} esa_units[] = {
  { 'd', 86400 },
  { 'h', 3600 },
  { 'm', 60 },
  { 's', 1 },
};

static void set_error (GError **error, const char *what, const char *text, const char *format, ...)
    G_GNUC_PRINTF (4, 5);

/* Prefixes the message with the text it is about, escaped so that a tab or
 * a newline in esa.conf shows up as such. */
static void
set_error (GError **error, const char *what, const char *text, const char *format, ...)
{
  va_list args;
  g_autofree char *msg = NULL;
  g_autofree char *escaped = g_strescape (text, NULL);

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG, "%s \"%s\": %s", what, escaped, msg);
}

static const char *
skip_space (const char *p)
{
  while (*p != '\0' && g_ascii_isspace (*p))
    p++;
  return p;
}

static const char *
skip_word (const char *p)
{
  while (*p != '\0' && !g_ascii_isspace (*p))
    p++;
  return p;
}

/* The shared duration grammar; on failure *why says what is wrong (without
 * the text itself, which the callers name in their own way). */
static gboolean
duration_parse_internal (const char *text, gboolean require_unit, guint64 *out, char **why)
{
  const char *p = skip_space (text);
  guint64 total = 0;
  guint next_unit = 0; /* units before this index were used or are larger */
  gboolean any_unit = FALSE;

  if (*p == '\0')
    {
      *why = g_strdup ("empty (expected e.g. 90s, 15m, 6h, 2d or 1h30m)");
      return FALSE;
    }
  if (*p == '-')
    {
      *why = g_strdup ("negative durations are not allowed");
      return FALSE;
    }
  while (*p != '\0')
    {
      guint64 n = 0;
      const char *num = p;
      const char *unit;
      gsize unit_len;
      guint i;

      if (!g_ascii_isdigit (*p))
        {
          if (p == skip_space (text))
            *why = g_strdup ("not a number (expected e.g. 90s, 15m, 6h, 2d or 1h30m)");
          else
            *why =
                g_strdup_printf ("unexpected \"%s\" (expected e.g. 90s, 15m, 6h, 2d or 1h30m)", p);
          return FALSE;
        }
      for (; g_ascii_isdigit (*p); p++)
        {
          guint d = (guint) (*p - '0');
          if (n > (G_MAXUINT64 - d) / 10)
            {
              *why = g_strdup ("too large");
              return FALSE;
            }
          n = n * 10 + d;
        }
      p = skip_space (p);

      /* A bare number is seconds, but only on its own: "1h30" is a typo. */
      if (*p == '\0')
        {
          if (!any_unit && !require_unit)
            {
              total = n;
              break;
            }
          *why = g_strdup_printf ("missing unit after \"%.*s\" (expected s, m, h or d)",
                                  (int) strspn (num, "0123456789"), num);
          return FALSE;
        }

      unit = p;
      while (g_ascii_isalpha (*p))
        p++;
      unit_len = (gsize) (p - unit);
      for (i = 0; i < G_N_ELEMENTS (esa_units); i++)
        {
          if (unit_len == 1 && g_ascii_tolower (*unit) == esa_units[i].unit)
            break;
        }
      if (i == G_N_ELEMENTS (esa_units))
        {
          if (unit_len == 0)
            *why = g_strdup_printf ("unexpected \"%s\" (expected a unit s, m, h or d)", unit);
          else
            *why = g_strdup_printf ("unknown unit \"%.*s\" (expected s, m, h or d)", (int) unit_len,
                                    unit);
          return FALSE;
        }
      if (i < next_unit)
        {
          *why = g_strdup_printf ("unit \"%c\" repeated or out of order "
                                  "(expected larger units first, e.g. 1h30m)",
                                  esa_units[i].unit);
          return FALSE;
        }
      if (n > G_MAXUINT64 / esa_units[i].seconds || n * esa_units[i].seconds > G_MAXUINT64 - total)
        {
          *why = g_strdup ("too large");
          return FALSE;
        }
      total += n * esa_units[i].seconds;
      next_unit = i + 1;
      any_unit = TRUE;
      p = skip_space (p);
    }
  *out = total;
  return TRUE;
}

gboolean
esa_duration_parse (const char *text, guint64 *seconds, GError **error)
{
  g_autofree char *why = NULL;
  guint64 value = 0;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!duration_parse_internal (text, FALSE, &value, &why))
    {
      set_error (error, "duration", text, "%s", why);
      return FALSE;
    }
  if (seconds != NULL)
    *seconds = value;
  return TRUE;
}

/* H:MM or HH:MM, nothing else: seconds would suggest a precision we do not
 * have, and "3pm" is ambiguous across locales. */
static gboolean
parse_time (const char *tok, guint *hour, guint *minute, char **why)
{
  gsize hlen = strspn (tok, "0123456789");

  if (hlen < 1 || hlen > 2 || tok[hlen] != ':' || strspn (tok + hlen + 1, "0123456789") != 2 ||
      tok[hlen + 3] != '\0')
    {
      *why = g_strdup_printf ("\"%s\" is not a time (" ESA_TIME_EXPECTED ")", tok);
      return FALSE;
    }
  *hour = (guint) g_ascii_strtoull (tok, NULL, 10);
  *minute = (guint) g_ascii_strtoull (tok + hlen + 1, NULL, 10);
  if (*hour > 23)
    {
      *why = g_strdup_printf ("hour %u out of range (" ESA_TIME_EXPECTED ")", *hour);
      return FALSE;
    }
  if (*minute > 59)
    {
      *why = g_strdup_printf ("minute %u out of range (" ESA_TIME_EXPECTED ")", *minute);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_day (const char *tok, GDateWeekday *weekday, char **why)
{
  for (guint i = 0; i < G_N_ELEMENTS (esa_days); i++)
    {
      if (g_ascii_strcasecmp (tok, esa_days[i].abbrev) == 0 ||
          g_ascii_strcasecmp (tok, esa_days[i].full) == 0)
        {
          *weekday = (GDateWeekday) (i + 1);
          return TRUE;
        }
    }
  *why = g_strdup_printf ("unknown day \"%s\" (expected mon, tue, wed, thu, fri, sat or sun)", tok);
  return FALSE;
}

static gboolean
event_name_valid (const char *name)
{
  for (const char *p = name; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
        return FALSE;
    }
  return *name != '\0';
}

/* @rest follows "on-event": nothing, or ":NAME" (spaces allowed around the
 * colon, since the rest of the grammar is whitespace tolerant too). */
static gboolean
parse_on_event (EsaSchedule *schedule, const char *rest, char **why)
{
  const char *p = skip_space (rest);
  const char *end;
  g_autofree char *name = NULL;

  schedule->kind = ESA_SCHEDULE_ON_EVENT;
  if (*p == '\0')
    return TRUE;
  if (*p != ':')
    {
      *why = g_strdup_printf ("unexpected \"%s\" (expected on-event or on-event:NAME)", p);
      return FALSE;
    }
  p = skip_space (p + 1);
  end = skip_word (p);
  if (end == p)
    {
      *why = g_strdup ("missing event name (expected on-event:NAME)");
      return FALSE;
    }
  name = g_strndup (p, (gsize) (end - p));
  if (!event_name_valid (name))
    {
      *why = g_strdup_printf (
          "invalid event name \"%s\" (expected letters, digits, '-', '_' or '.')", name);
      return FALSE;
    }
  p = skip_space (end);
  if (*p != '\0')
    {
      *why = g_strdup_printf ("unexpected \"%s\" (expected on-event:NAME)", p);
      return FALSE;
    }
  schedule->event = g_steal_pointer (&name);
  return TRUE;
}

static gboolean
parse_every (EsaSchedule *schedule, const char *rest, char **why)
{
  g_autofree char *stripped = g_strstrip (g_strdup (rest));
  g_autofree char *dwhy = NULL;

  schedule->kind = ESA_SCHEDULE_EVERY;
  if (*stripped == '\0')
    {
      *why = g_strdup ("missing interval (expected every N{s,m,h,d}, e.g. every 15m)");
      return FALSE;
    }
  if (!duration_parse_internal (stripped, TRUE, &schedule->interval, &dwhy))
    {
      *why = g_strdup_printf ("interval \"%s\": %s", stripped, dwhy);
      return FALSE;
    }
  /* 0 would spin; beyond a year is surely a typo (and near overflow). */
  if (schedule->interval < 1 || schedule->interval > ESA_EVERY_MAX_S)
    {
      *why = g_strdup_printf ("interval \"%s\" out of range (expected 1s to 366d)", stripped);
      return FALSE;
    }
  return TRUE;
}

/* @rest: what follows "daily" (TIME) or "weekly" (DAY TIME). */
static gboolean
parse_calendar (EsaSchedule *schedule, EsaScheduleKind kind, const char *rest, char **why)
{
  g_auto (GStrv) split = g_strsplit_set (rest, " \t\n\r\v\f", -1);
  g_autoptr (GPtrArray) words = g_ptr_array_new ();
  const char *expected = kind == ESA_SCHEDULE_DAILY ? "daily HH:MM" : "weekly DAY HH:MM";
  guint idx = 0;

  schedule->kind = kind;
  for (guint i = 0; split[i] != NULL; i++)
    {
      if (split[i][0] != '\0')
        g_ptr_array_add (words, split[i]);
    }
  if (kind == ESA_SCHEDULE_WEEKLY)
    {
      if (words->len == 0)
        {
          *why = g_strdup_printf ("missing day and time (expected %s)", expected);
          return FALSE;
        }
      if (!parse_day (g_ptr_array_index (words, idx++), &schedule->weekday, why))
        return FALSE;
    }
  if (idx >= words->len)
    {
      *why = g_strdup_printf ("missing time (expected %s)", expected);
      return FALSE;
    }
  if (!parse_time (g_ptr_array_index (words, idx++), &schedule->hour, &schedule->minute, why))
    return FALSE;
  if (idx < words->len)
    {
      *why = g_strdup_printf ("unexpected \"%s\" (expected %s)",
                              (const char *) g_ptr_array_index (words, idx), expected);
      return FALSE;
    }
  return TRUE;
}

EsaSchedule *
esa_schedule_parse (const char *text, GError **error)
{
  g_autoptr (EsaSchedule) schedule = g_new0 (EsaSchedule, 1);
  g_autofree char *why = NULL;
  g_autofree char *keyword = NULL;
  const char *p;
  const char *end;
  gboolean ok;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  p = skip_space (text);
  if (*p == '\0')
    {
      set_error (error, "schedule", text, "empty (" ESA_SCHEDULE_EXPECTED ")");
      return NULL;
    }

  /* "on-event:NAME" is one word, so split the keyword off by hand. */
  if (g_ascii_strncasecmp (p, "on-event", 8) == 0 &&
      (p[8] == '\0' || p[8] == ':' || g_ascii_isspace (p[8])))
    {
      ok = parse_on_event (schedule, p + 8, &why);
    }
  else
    {
      end = skip_word (p);
      keyword = g_strndup (p, (gsize) (end - p));
      if (g_ascii_strcasecmp (keyword, "daily") == 0)
        {
          ok = parse_calendar (schedule, ESA_SCHEDULE_DAILY, end, &why);
        }
      else if (g_ascii_strcasecmp (keyword, "weekly") == 0)
        {
          ok = parse_calendar (schedule, ESA_SCHEDULE_WEEKLY, end, &why);
        }
      else if (g_ascii_strcasecmp (keyword, "every") == 0)
        {
          ok = parse_every (schedule, end, &why);
        }
      else
        {
          why = g_strdup_printf ("unknown kind \"%s\" (" ESA_SCHEDULE_EXPECTED ")", keyword);
          ok = FALSE;
        }
    }
  if (!ok)
    {
      set_error (error, "schedule", text, "%s", why);
      return NULL;
    }
  return g_steal_pointer (&schedule);
}

void
esa_schedule_free (EsaSchedule *schedule)
{
  if (schedule == NULL)
    return;
  g_free (schedule->event);
  g_free (schedule);
}

EsaScheduleKind
esa_schedule_get_kind (const EsaSchedule *schedule)
{
  g_return_val_if_fail (schedule != NULL, ESA_SCHEDULE_ON_EVENT);
  return schedule->kind;
}

const char *
esa_schedule_get_event (const EsaSchedule *schedule)
{
  g_return_val_if_fail (schedule != NULL, NULL);
  return schedule->event;
}

guint64
esa_schedule_get_interval (const EsaSchedule *schedule)
{
  g_return_val_if_fail (schedule != NULL, 0);
  return schedule->kind == ESA_SCHEDULE_EVERY ? schedule->interval : 0;
}

char *
esa_schedule_to_string (const EsaSchedule *schedule)
{
  g_return_val_if_fail (schedule != NULL, NULL);

  switch (schedule->kind)
    {
    case ESA_SCHEDULE_DAILY:
      return g_strdup_printf ("daily %02u:%02u", schedule->hour, schedule->minute);
    case ESA_SCHEDULE_WEEKLY:
      return g_strdup_printf ("weekly %s %02u:%02u", esa_days[schedule->weekday - 1].abbrev,
                              schedule->hour, schedule->minute);
    case ESA_SCHEDULE_EVERY:
      for (guint i = 0; i < G_N_ELEMENTS (esa_units); i++)
        {
          if (schedule->interval % esa_units[i].seconds == 0)
            return g_strdup_printf ("every %" G_GUINT64_FORMAT "%c",
                                    schedule->interval / esa_units[i].seconds, esa_units[i].unit);
        }
      g_assert_not_reached ();
    case ESA_SCHEDULE_ON_EVENT:
    default:
      if (schedule->event != NULL)
        return g_strdup_printf ("on-event:%s", schedule->event);
      return g_strdup ("on-event");
    }
}

/* The UTC offset (seconds) of @tz at the instant @t (Unix time). */
static gboolean
offset_at (GTimeZone *tz, gint64 t, gint64 *offset)
{
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (t);
  g_autoptr (GDateTime) local = NULL;

  if (utc == NULL)
    return FALSE;
  local = g_date_time_to_timezone (utc, tz);
  if (local == NULL)
    return FALSE;
  *offset = g_date_time_get_utc_offset (local) / G_TIME_SPAN_SECOND;
  return TRUE;
}

/* The instant the wall clock of @tz shows @date @hour:@minute.
 * g_date_time_new() would move a skipped time to the end of the gap (03:00)
 * and pick the standard-time occurrence of a repeated one (the second), while
 * we want "shifted by the gap" and "the first", so resolve by hand: an
 * instant t shows wall clock w when t + offset(t) == w, and the offsets to
 * try are those in effect a day before and a day after. */
static GDateTime *
resolve_wall_clock (GTimeZone *tz, const GDate *date, guint hour, guint minute)
{
  g_autoptr (GDateTime) naive =
      g_date_time_new_utc (g_date_get_year (date), g_date_get_month (date), g_date_get_day (date),
                           (gint) hour, (gint) minute, 0);
  g_autoptr (GDateTime) utc = NULL;
  gint64 wall;
  gint64 off_before;
  gint64 off_after;
  gint64 candidates[2];
  gint64 best = 0;
  gboolean found = FALSE;

  if (naive == NULL)
    return NULL;
  wall = g_date_time_to_unix (naive);
  if (!offset_at (tz, wall - 86400, &off_before) || !offset_at (tz, wall + 86400, &off_after))
    return NULL;
  candidates[0] = wall - off_before;
  candidates[1] = wall - off_after;
  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    {
      gint64 off;
      if (!offset_at (tz, candidates[i], &off) || candidates[i] + off != wall)
        continue;
      if (!found || candidates[i] < best)
        best = candidates[i];
      found = TRUE;
    }
  /* In a gap: the instant the wall clock would have shown it with the old
   * offset, which the new offset shows later by exactly the gap. */
  if (!found)
    best = wall - off_before;
  utc = g_date_time_new_from_unix_utc (best);
  if (utc == NULL)
    return NULL;
  return g_date_time_to_timezone (utc, tz);
}

static GDateTime *
next_calendar (const EsaSchedule *schedule, GDateTime *after, GTimeZone *tz)
{
  g_autoptr (GDateTime) local = g_date_time_to_timezone (after, tz);
  GDate date;
  guint step = schedule->kind == ESA_SCHEDULE_WEEKLY ? 7 : 1;

  if (local == NULL)
    return NULL;
  g_date_clear (&date, 1);
  g_date_set_dmy (&date, (GDateDay) g_date_time_get_day_of_month (local),
                  (GDateMonth) g_date_time_get_month (local),
                  (GDateYear) g_date_time_get_year (local));
  /* Start a day early: yesterday's slot may have been pushed past midnight
   * by a DST gap and still lie ahead. */
  if (g_date_get_julian (&date) > 1)
    g_date_subtract_days (&date, 1);
  if (schedule->kind == ESA_SCHEDULE_WEEKLY)
    {
      guint delta = ((guint) schedule->weekday + 7 - (guint) g_date_get_weekday (&date)) % 7;
      g_date_add_days (&date, delta);
    }
  /* A few steps always suffice (today's slot, else tomorrow's or next
   * week's); the bound only guards against a pathological zone. */
  for (guint i = 0; i < 8; i++)
    {
      g_autoptr (GDateTime) candidate =
          resolve_wall_clock (tz, &date, schedule->hour, schedule->minute);
      if (candidate == NULL)
        return NULL;
      if (g_date_time_compare (candidate, after) > 0)
        return g_steal_pointer (&candidate);
      if (g_date_get_year (&date) >= 9999)
        return NULL;
      g_date_add_days (&date, step);
    }
  return NULL;
}

GDateTime *
esa_schedule_next (const EsaSchedule *schedule, GDateTime *after, GTimeZone *tz)
{
  g_autoptr (GTimeZone) tz_local = NULL;

  g_return_val_if_fail (schedule != NULL, NULL);
  g_return_val_if_fail (after != NULL, NULL);

  if (tz == NULL)
    tz = tz_local = g_time_zone_new_local ();

  switch (schedule->kind)
    {
    case ESA_SCHEDULE_DAILY:
    case ESA_SCHEDULE_WEEKLY:
      return next_calendar (schedule, after, tz);
    case ESA_SCHEDULE_EVERY:
      {
        g_autoptr (GDateTime) next =
            g_date_time_add (after, (GTimeSpan) schedule->interval * G_TIME_SPAN_SECOND);
        if (next == NULL)
          return NULL;
        return g_date_time_to_timezone (next, tz);
      }
    case ESA_SCHEDULE_ON_EVENT:
    default:
      return NULL;
    }
}

gboolean
esa_schedule_is_due (const EsaSchedule *schedule, GDateTime *last_run, GDateTime *now,
                     GTimeZone *tz)
{
  g_autoptr (GDateTime) next = NULL;

  g_return_val_if_fail (schedule != NULL, FALSE);
  g_return_val_if_fail (now != NULL, FALSE);

  if (schedule->kind == ESA_SCHEDULE_ON_EVENT)
    return FALSE;
  if (last_run == NULL)
    return schedule->kind == ESA_SCHEDULE_EVERY;
  /* The clock went back: the run already happened "later"; running again now
   * would double it. The caller re-arms from now. */
  if (g_date_time_compare (last_run, now) > 0)
    return FALSE;
  next = esa_schedule_next (schedule, last_run, tz);
  return next != NULL && g_date_time_compare (next, now) <= 0;
}

/* FNV-1a: fixed and documented, unlike g_str_hash(), so the offset of a job
 * stays the same across GLib versions. */
guint64
esa_splay_offset (const char *seed, guint64 splay_s)
{
  guint64 hash = G_GUINT64_CONSTANT (14695981039346656037);

  if (splay_s == 0)
    return 0;
  for (const guchar *p = (const guchar *) (seed != NULL ? seed : ""); *p != '\0'; p++)
    {
      hash ^= *p;
      hash *= G_GUINT64_CONSTANT (1099511628211);
    }
  return hash % splay_s;
}
