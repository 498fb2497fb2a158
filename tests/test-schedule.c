/* test-schedule.c: schedule and duration parsing, next-run arithmetic (DST,
 * month/year ends, leap days, half-hour zones) and the is-due rules. */
#include "config.h"

#include <string.h>

#include "esa/esa-error.h"
#include "esa-schedule-private.h"

/* The zones the tests use, with POSIX rule strings as a fallback for a
 * system without tzdata (same rules for the years tested). */
static GTimeZone *
tz_new (const char *identifier)
{
  static const struct
  {
    const char *id;
    const char *posix;
  } fallbacks[] = {
    { "Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3" },
    { "America/New_York", "EST5EDT,M3.2.0,M11.1.0" },
    { "Asia/Kolkata", "IST-5:30" },
  };
  GTimeZone *tz = g_time_zone_new_identifier (identifier);

  for (guint i = 0; tz == NULL && i < G_N_ELEMENTS (fallbacks); i++)
    {
      if (g_strcmp0 (fallbacks[i].id, identifier) == 0)
        tz = g_time_zone_new_identifier (fallbacks[i].posix);
    }
  g_assert_nonnull (tz);
  return tz;
}

static GDateTime *
at (const char *iso8601)
{
  GDateTime *dt = g_date_time_new_from_iso8601 (iso8601, NULL);
  g_assert_nonnull (dt);
  return dt;
}

static char *
fmt (GDateTime *dt)
{
  return g_date_time_format (dt, "%Y-%m-%d %H:%M:%S%:z");
}

static EsaSchedule *
parse_ok (const char *text)
{
  g_autoptr (GError) error = NULL;
  EsaSchedule *schedule = esa_schedule_parse (text, &error);
  g_assert_no_error (error);
  g_assert_nonnull (schedule);
  return schedule;
}

/* Next run of @text after @after in @tz, as wall clock and offset in @tz. */
static void
assert_next (GTimeZone *tz, const char *text, const char *after, const char *expected)
{
  g_autoptr (EsaSchedule) schedule = parse_ok (text);
  g_autoptr (GDateTime) dt_after = at (after);
  g_autoptr (GDateTime) next = esa_schedule_next (schedule, dt_after, tz);
  g_autofree char *got = NULL;

  g_assert_nonnull (next);
  got = fmt (next);
  if (g_strcmp0 (got, expected) != 0)
    g_error ("%s after %s: got %s, expected %s", text, after, got, expected);
  g_assert_cmpint (g_date_time_compare (next, dt_after), >, 0);
}

static void
test_parse_valid (void)
{
  static const struct
  {
    const char *text;
    EsaScheduleKind kind;
    const char *canonical;
    const char *event;
    guint64 interval;
  } cases[] = {
    { "daily 02:30", ESA_SCHEDULE_DAILY, "daily 02:30", NULL, 0 },
    { "  daily\t 2:30  ", ESA_SCHEDULE_DAILY, "daily 02:30", NULL, 0 },
    { "DAILY 00:00", ESA_SCHEDULE_DAILY, "daily 00:00", NULL, 0 },
    { "daily 23:59", ESA_SCHEDULE_DAILY, "daily 23:59", NULL, 0 },
    { "weekly mon 02:30", ESA_SCHEDULE_WEEKLY, "weekly mon 02:30", NULL, 0 },
    { "weekly Sunday 23:00", ESA_SCHEDULE_WEEKLY, "weekly sun 23:00", NULL, 0 },
    { "Weekly\tTHU\t\t8:05", ESA_SCHEDULE_WEEKLY, "weekly thu 08:05", NULL, 0 },
    { "weekly wednesday 12:00", ESA_SCHEDULE_WEEKLY, "weekly wed 12:00", NULL, 0 },
    { "weekly SAT 00:00", ESA_SCHEDULE_WEEKLY, "weekly sat 00:00", NULL, 0 },
    { "every 15m", ESA_SCHEDULE_EVERY, "every 15m", NULL, 900 },
    { "every 90s", ESA_SCHEDULE_EVERY, "every 90s", NULL, 90 },
    { "every 60s", ESA_SCHEDULE_EVERY, "every 1m", NULL, 60 },
    { "every 1s", ESA_SCHEDULE_EVERY, "every 1s", NULL, 1 },
    { "every 1h30m", ESA_SCHEDULE_EVERY, "every 90m", NULL, 5400 },
    { "every 24h", ESA_SCHEDULE_EVERY, "every 1d", NULL, 86400 },
    { "every 6h", ESA_SCHEDULE_EVERY, "every 6h", NULL, 21600 },
    { "every 366d", ESA_SCHEDULE_EVERY, "every 366d", NULL, 366 * 86400 },
    { "every  15 m ", ESA_SCHEDULE_EVERY, "every 15m", NULL, 900 },
    { "EVERY 2D", ESA_SCHEDULE_EVERY, "every 2d", NULL, 172800 },
    { "on-event", ESA_SCHEDULE_ON_EVENT, "on-event", NULL, 0 },
    { " on-event\t", ESA_SCHEDULE_ON_EVENT, "on-event", NULL, 0 },
    { "on-event:errpt", ESA_SCHEDULE_ON_EVENT, "on-event:errpt", "errpt", 0 },
    { " on-event : hw-error.1_x ", ESA_SCHEDULE_ON_EVENT, "on-event:hw-error.1_x", "hw-error.1_x",
      0 },
    { "ON-EVENT:Foo", ESA_SCHEDULE_ON_EVENT, "on-event:Foo", "Foo", 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (EsaSchedule) schedule = parse_ok (cases[i].text);
      g_autoptr (EsaSchedule) again = NULL;
      g_autofree char *str = esa_schedule_to_string (schedule);
      g_autofree char *str2 = NULL;

      g_assert_cmpint (esa_schedule_get_kind (schedule), ==, cases[i].kind);
      g_assert_cmpstr (str, ==, cases[i].canonical);
      g_assert_cmpstr (esa_schedule_get_event (schedule), ==, cases[i].event);
      g_assert_cmpuint (esa_schedule_get_interval (schedule), ==, cases[i].interval);

      /* The canonical form is itself valid and stable. */
      again = parse_ok (str);
      str2 = esa_schedule_to_string (again);
      g_assert_cmpstr (str2, ==, str);
    }
}

static void
test_parse_invalid (void)
{
  static const struct
  {
    const char *text;
    const char *message; /* after the schedule "..." prefix */
  } cases[] = {
    { "", "empty (expected daily HH:MM, weekly DAY HH:MM, every N{s,m,h,d} or on-event[:NAME])" },
    { " \t ", "empty (" },
    { "hourly", "unknown kind \"hourly\" (expected daily HH:MM, weekly DAY HH:MM" },
    { "dailyy 02:30", "unknown kind \"dailyy\"" },
    { "02:30", "unknown kind \"02:30\"" },
    { "daily", "missing time (expected daily HH:MM)" },
    { "daily   ", "missing time (expected daily HH:MM)" },
    { "daily 25:00", "hour 25 out of range (expected HH:MM, 00:00-23:59)" },
    { "daily 24:00", "hour 24 out of range (expected HH:MM, 00:00-23:59)" },
    { "daily 12:60", "minute 60 out of range (expected HH:MM, 00:00-23:59)" },
    { "daily 1230", "\"1230\" is not a time (expected HH:MM, 00:00-23:59)" },
    { "daily 12:3", "\"12:3\" is not a time" },
    { "daily 12:300", "\"12:300\" is not a time" },
    { "daily 12:30:00", "\"12:30:00\" is not a time" },
    { "daily 123:00", "\"123:00\" is not a time" },
    { "daily -1:00", "\"-1:00\" is not a time" },
    { "daily :30", "\":30\" is not a time" },
    { "daily 3pm", "\"3pm\" is not a time" },
    { "daily 12:30 extra", "unexpected \"extra\" (expected daily HH:MM)" },
    { "daily mon 12:30", "\"mon\" is not a time" },
    { "weekly", "missing day and time (expected weekly DAY HH:MM)" },
    { "weekly mon", "missing time (expected weekly DAY HH:MM)" },
    { "weekly funday 10:00",
      "unknown day \"funday\" (expected mon, tue, wed, thu, fri, sat or sun)" },
    { "weekly mo 10:00", "unknown day \"mo\"" },
    { "weekly 10:00 mon", "unknown day \"10:00\"" },
    { "weekly mon 10:00 tue", "unexpected \"tue\" (expected weekly DAY HH:MM)" },
    { "weekly tue 7:5", "\"7:5\" is not a time" },
    { "every", "missing interval (expected every N{s,m,h,d}, e.g. every 15m)" },
    { "every 0m", "interval \"0m\" out of range (expected 1s to 366d)" },
    { "every 0s", "interval \"0s\" out of range" },
    { "every 367d", "interval \"367d\" out of range" },
    { "every 366d1s", "interval \"366d1s\" out of range" },
    { "every 5", "interval \"5\": missing unit after \"5\" (expected s, m, h or d)" },
    { "every 1h30", "missing unit after \"30\"" },
    { "every -5m", "interval \"-5m\": negative durations are not allowed" },
    { "every 5x", "interval \"5x\": unknown unit \"x\" (expected s, m, h or d)" },
    { "every 5 minutes", "unknown unit \"minutes\"" },
    { "every 1.5h", "unexpected \".5h\"" },
    { "every 99999999999999999999s", "too large" },
    { "every 30m1h", "unit \"h\" repeated or out of order" },
    { "every m", "not a number" },
    { "on-event:", "missing event name (expected on-event:NAME)" },
    { "on-event: ", "missing event name" },
    { "on-event:bad/name", "invalid event name \"bad/name\"" },
    { "on-event:a b", "unexpected \"b\" (expected on-event:NAME)" },
    { "on-event foo", "unexpected \"foo\" (expected on-event or on-event:NAME)" },
    { "on-eventx", "unknown kind \"on-eventx\"" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (EsaSchedule) schedule = esa_schedule_parse (cases[i].text, &error);
      g_autofree char *escaped = g_strescape (cases[i].text, NULL);
      g_autofree char *prefix = g_strdup_printf ("schedule \"%s\": ", escaped);

      g_assert_null (schedule);
      g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG);
      if (!g_str_has_prefix (error->message, prefix) ||
          strstr (error->message + strlen (prefix), cases[i].message) == NULL)
        g_error ("\"%s\": got \"%s\", expected \"%s%s\"", cases[i].text, error->message, prefix,
                 cases[i].message);
    }
}

static void
test_parse_error_exact (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EsaSchedule) schedule = esa_schedule_parse ("daily 25:00", &error);

  g_assert_null (schedule);
  g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG);
  g_assert_cmpstr (error->message, ==,
                   "schedule \"daily 25:00\": hour 25 out of range (expected HH:MM, 00:00-23:59)");

  /* Control characters are shown escaped, not raw. */
  g_clear_error (&error);
  schedule = esa_schedule_parse ("daily\n02:30 x", &error);
  g_assert_null (schedule);
  g_assert_cmpstr (error->message, ==,
                   "schedule \"daily\\n02:30 x\": unexpected \"x\" (expected daily HH:MM)");

  /* A NULL error is fine. */
  g_assert_null (esa_schedule_parse ("nope", NULL));
}

static void
test_duration (void)
{
  static const struct
  {
    const char *text;
    guint64 seconds;
  } good[] = {
    { "90s", 90 },
    { "15m", 900 },
    { "6h", 21600 },
    { "2d", 172800 },
    { "1h30m", 5400 },
    { "1d 12h", 129600 },
    { "1d2h3m4s", 93784 },
    { "0", 0 },
    { "0s", 0 },
    { "42", 42 },
    { " 7 ", 7 },
    { "\t5M\t", 300 },
    { "007m", 420 },
    { "18446744073709551615", G_MAXUINT64 },
    { "18446744073709551615s", G_MAXUINT64 },
  };
  static const struct
  {
    const char *text;
    const char *message;
  } bad[] = {
    { "", "duration \"\": empty" },
    { "  ", "empty" },
    { "-5", "negative durations are not allowed" },
    { "-5m", "negative" },
    { "+5", "not a number" },
    { "abc", "duration \"abc\": not a number" },
    { "5x", "unknown unit \"x\" (expected s, m, h or d)" },
    { "5min", "unknown unit \"min\"" },
    { "1h30", "missing unit after \"30\"" },
    { "30m1h", "unit \"h\" repeated or out of order" },
    { "1h1h", "unit \"h\" repeated or out of order" },
    { "1.5h", "unexpected \".5h\"" },
    { "5m,", "unexpected \",\"" },
    { "1h -5m", "unexpected \"-5m\"" },
    { "18446744073709551616", "too large" },
    { "18446744073709551615m", "too large" },
    { "213503982334602d", "too large" },
    { "18446744073709551615s1s", "unit \"s\" repeated" },
    { "18446744073709551615m1s", "too large" },
    { "213503982334601d 25216s", "too large" },
    { "213503982334601d 25215s", NULL }, /* exactly G_MAXUINT64 */
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      guint64 s = 1234;
      g_assert_true (esa_duration_parse (good[i].text, &s, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (s, ==, good[i].seconds);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      guint64 s = 1234;
      gboolean ok = esa_duration_parse (bad[i].text, &s, &error);

      if (bad[i].message == NULL)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
          g_assert_cmpuint (s, ==, G_MAXUINT64);
          continue;
        }
      g_assert_false (ok);
      g_assert_cmpuint (s, ==, 1234);
      g_assert_error (error, ESA_ERROR, ESA_ERROR_INVALID_CONFIG);
      g_assert_true (g_str_has_prefix (error->message, "duration \""));
      if (strstr (error->message, bad[i].message) == NULL)
        g_error ("\"%s\": got \"%s\", expected \"%s\"", bad[i].text, error->message,
                 bad[i].message);
    }
}

static void
test_next_basic (void)
{
  g_autoptr (GTimeZone) tz = tz_new ("Europe/Berlin");
  g_autoptr (EsaSchedule) ev = parse_ok ("on-event:x");
  g_autoptr (GDateTime) now = at ("2024-05-10T10:00:00Z");

  assert_next (tz, "daily 02:30", "2024-05-10T10:00:00+02:00", "2024-05-11 02:30:00+02:00");
  assert_next (tz, "daily 02:30", "2024-05-10T01:00:00+02:00", "2024-05-10 02:30:00+02:00");
  /* Strictly after: a run at the slot's instant waits for the next one. */
  assert_next (tz, "daily 02:30", "2024-05-10T02:30:00+02:00", "2024-05-11 02:30:00+02:00");
  assert_next (tz, "daily 02:30", "2024-05-10T02:29:59.999+02:00", "2024-05-10 02:30:00+02:00");
  /* @after in another zone: the result is in @tz. */
  assert_next (tz, "daily 02:30", "2024-05-10T00:15:00Z", "2024-05-10 02:30:00+02:00");
  assert_next (tz, "daily 02:30", "2024-05-10T00:30:00Z", "2024-05-11 02:30:00+02:00");

  /* Weekly: later the same day, else next week. 2024-05-10 is a Friday. */
  assert_next (tz, "weekly fri 18:00", "2024-05-10T17:00:00+02:00", "2024-05-10 18:00:00+02:00");
  assert_next (tz, "weekly fri 18:00", "2024-05-10T18:00:00+02:00", "2024-05-17 18:00:00+02:00");
  assert_next (tz, "weekly thu 18:00", "2024-05-10T17:00:00+02:00", "2024-05-16 18:00:00+02:00");
  assert_next (tz, "weekly sat 00:00", "2024-05-10T23:59:59+02:00", "2024-05-11 00:00:00+02:00");

  assert_next (tz, "every 15m", "2024-05-10T10:00:00+02:00", "2024-05-10 10:15:00+02:00");
  assert_next (tz, "every 90s", "2024-05-10T23:59:00+02:00", "2024-05-11 00:00:30+02:00");

  g_assert_null (esa_schedule_next (ev, now, tz));
}

/* tz NULL is the local zone, whatever the test machine uses. */
static void
test_next_local (void)
{
  g_autoptr (EsaSchedule) schedule = parse_ok ("daily 12:00");
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autoptr (GDateTime) next = esa_schedule_next (schedule, now, NULL);
  g_autoptr (GDateTime) local = NULL;

  g_assert_nonnull (next);
  g_assert_cmpint (g_date_time_compare (next, now), >, 0);
  g_assert_cmpint (g_date_time_difference (next, now), <=, 26 * G_TIME_SPAN_HOUR);
  local = g_date_time_to_local (next);
  g_assert_cmpint (g_date_time_get_minute (local), ==, 0);
}

/* Spring forward: Berlin 2024-03-31 02:00 CET -> 03:00 CEST. 02:30 does not
 * exist and runs at 03:30 (shifted by the one-hour gap). Run against the
 * tzdata zone and the POSIX rule string alike. */
static void
test_next_dst_spring (void)
{
  const char *zones[] = { "Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3" };

  for (guint i = 0; i < G_N_ELEMENTS (zones); i++)
    {
      g_autoptr (GTimeZone) tz = tz_new (zones[i]);

      assert_next (tz, "daily 02:30", "2024-03-30T12:00:00+01:00", "2024-03-31 03:30:00+02:00");
      assert_next (tz, "daily 02:30", "2024-03-31T03:10:00+02:00", "2024-03-31 03:30:00+02:00");
      assert_next (tz, "daily 02:30", "2024-03-31T03:30:00+02:00", "2024-04-01 02:30:00+02:00");
      assert_next (tz, "daily 02:30", "2024-03-30T02:30:00+01:00", "2024-03-31 03:30:00+02:00");
      /* The edges of the gap: 02:00 does not exist, 03:00 does. */
      assert_next (tz, "daily 02:00", "2024-03-30T12:00:00+01:00", "2024-03-31 03:00:00+02:00");
      assert_next (tz, "daily 03:00", "2024-03-30T12:00:00+01:00", "2024-03-31 03:00:00+02:00");
      assert_next (tz, "daily 01:59", "2024-03-30T12:00:00+01:00", "2024-03-31 01:59:00+01:00");
      /* The wall clock holds across the change (23 h apart). */
      assert_next (tz, "daily 09:00", "2024-03-30T09:00:00+01:00", "2024-03-31 09:00:00+02:00");
      assert_next (tz, "weekly sun 02:30", "2024-03-25T00:00:00+01:00",
                   "2024-03-31 03:30:00+02:00");
      assert_next (tz, "weekly sun 02:30", "2024-03-31T03:30:00+02:00",
                   "2024-04-07 02:30:00+02:00");
      /* every is elapsed time, not wall clock. */
      assert_next (tz, "every 1h", "2024-03-31T01:30:00+01:00", "2024-03-31 03:30:00+02:00");
      assert_next (tz, "every 1d", "2024-03-30T12:00:00+01:00", "2024-03-31 13:00:00+02:00");
    }
}

/* Fall back: Berlin 2024-10-27 03:00 CEST -> 02:00 CET. 02:30 happens twice
 * and runs once, at the first (CEST) occurrence. */
static void
test_next_dst_fall (void)
{
  const char *zones[] = { "Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3" };

  for (guint i = 0; i < G_N_ELEMENTS (zones); i++)
    {
      g_autoptr (GTimeZone) tz = tz_new (zones[i]);

      assert_next (tz, "daily 02:30", "2024-10-26T12:00:00+02:00", "2024-10-27 02:30:00+02:00");
      assert_next (tz, "daily 02:30", "2024-10-27T02:30:00+02:00", "2024-10-28 02:30:00+01:00");
      assert_next (tz, "daily 02:30", "2024-10-27T02:10:00+01:00", "2024-10-28 02:30:00+01:00");
      assert_next (tz, "daily 02:00", "2024-10-26T12:00:00+02:00", "2024-10-27 02:00:00+02:00");
      assert_next (tz, "daily 03:00", "2024-10-27T02:59:00+02:00", "2024-10-27 03:00:00+01:00");
      /* 25 h apart, same wall clock. */
      assert_next (tz, "daily 09:00", "2024-10-26T09:00:00+02:00", "2024-10-27 09:00:00+01:00");
      assert_next (tz, "weekly sun 02:30", "2024-10-21T00:00:00+02:00",
                   "2024-10-27 02:30:00+02:00");
      assert_next (tz, "every 1h", "2024-10-27T02:30:00+02:00", "2024-10-27 02:30:00+01:00");
    }
}

/* America/New_York: a negative offset, changes at 02:00 local. */
static void
test_next_dst_new_york (void)
{
  g_autoptr (GTimeZone) tz = tz_new ("America/New_York");

  assert_next (tz, "daily 02:30", "2024-03-09T12:00:00-05:00", "2024-03-10 03:30:00-04:00");
  assert_next (tz, "daily 02:30", "2024-03-10T03:30:00-04:00", "2024-03-11 02:30:00-04:00");
  assert_next (tz, "daily 01:30", "2024-11-02T12:00:00-04:00", "2024-11-03 01:30:00-04:00");
  assert_next (tz, "daily 01:30", "2024-11-03T01:30:00-04:00", "2024-11-04 01:30:00-05:00");
  assert_next (tz, "daily 01:30", "2024-11-03T01:00:00-05:00", "2024-11-04 01:30:00-05:00");
  assert_next (tz, "weekly sunday 01:30", "2024-11-03T01:30:00-04:00", "2024-11-10 01:30:00-05:00");
}

static void
test_next_calendar_edges (void)
{
  g_autoptr (GTimeZone) tz = tz_new ("Europe/Berlin");
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();

  /* Month ends. 2024-01-31 is a Wednesday. */
  assert_next (tz, "weekly mon 10:00", "2024-01-31T12:00:00+01:00", "2024-02-05 10:00:00+01:00");
  assert_next (tz, "daily 00:00", "2024-04-30T23:59:59+02:00", "2024-05-01 00:00:00+02:00");
  assert_next (tz, "every 1d", "2024-04-30T08:00:00+02:00", "2024-05-01 08:00:00+02:00");
  assert_next (utc, "weekly tue 00:00", "2024-06-30T00:00:00Z", "2024-07-02 00:00:00+00:00");

  /* Year ends. 2024-12-30 is a Monday, 2025-01-01 a Wednesday. */
  assert_next (tz, "daily 00:00", "2023-12-31T23:59:30+01:00", "2024-01-01 00:00:00+01:00");
  assert_next (tz, "daily 23:59", "2023-12-31T23:59:00+01:00", "2024-01-01 23:59:00+01:00");
  assert_next (tz, "weekly sun 23:00", "2024-12-30T00:00:00+01:00", "2025-01-05 23:00:00+01:00");
  assert_next (tz, "weekly wed 10:00", "2024-12-31T12:00:00+01:00", "2025-01-01 10:00:00+01:00");
  assert_next (tz, "every 2d", "2024-12-31T06:00:00+01:00", "2025-01-02 06:00:00+01:00");
  assert_next (tz, "every 366d", "2024-01-01T00:00:00+01:00", "2025-01-01 00:00:00+01:00");

  /* Leap days: 2024-02-29 exists (a Thursday), 2023-02-29 does not. */
  assert_next (tz, "daily 12:00", "2024-02-28T12:00:00+01:00", "2024-02-29 12:00:00+01:00");
  assert_next (tz, "daily 12:00", "2024-02-29T12:00:00+01:00", "2024-03-01 12:00:00+01:00");
  assert_next (tz, "daily 12:00", "2023-02-28T12:00:00+01:00", "2023-03-01 12:00:00+01:00");
  assert_next (tz, "weekly thu 08:00", "2024-02-22T08:00:00+01:00", "2024-02-29 08:00:00+01:00");
  assert_next (tz, "weekly thu 08:00", "2024-02-29T08:00:00+01:00", "2024-03-07 08:00:00+01:00");
  assert_next (tz, "every 1d", "2024-02-28T12:00:00+01:00", "2024-02-29 12:00:00+01:00");
  assert_next (tz, "every 2d", "2024-02-28T12:00:00+01:00", "2024-03-01 12:00:00+01:00");
  assert_next (tz, "every 2d", "2023-02-28T12:00:00+01:00", "2023-03-02 12:00:00+01:00");
  assert_next (utc, "daily 00:00", "2100-02-28T00:00:00Z", "2100-03-01 00:00:00+00:00");
}

/* Asia/Kolkata is UTC+05:30 all year: local midnight is 18:30 UTC. */
static void
test_next_half_hour_zone (void)
{
  g_autoptr (GTimeZone) tz = tz_new ("Asia/Kolkata");
  g_autoptr (EsaSchedule) schedule = parse_ok ("daily 00:00");
  g_autoptr (GDateTime) after = at ("2024-01-01T18:29:59Z");
  g_autoptr (GDateTime) next = esa_schedule_next (schedule, after, tz);
  g_autoptr (GDateTime) next_utc = g_date_time_to_utc (next);
  g_autofree char *iso = g_date_time_format_iso8601 (next_utc);

  g_assert_cmpstr (iso, ==, "2024-01-01T18:30:00Z");
  assert_next (tz, "daily 00:00", "2024-01-01T18:29:59Z", "2024-01-02 00:00:00+05:30");
  assert_next (tz, "daily 00:00", "2024-01-01T18:30:00Z", "2024-01-03 00:00:00+05:30");
  assert_next (tz, "daily 05:00", "2024-01-01T23:00:00Z", "2024-01-02 05:00:00+05:30");
  /* Monday 00:10 IST is Sunday 18:40 UTC. */
  assert_next (tz, "weekly mon 00:15", "2024-01-07T18:40:00Z", "2024-01-08 00:15:00+05:30");
  assert_next (tz, "weekly mon 00:05", "2024-01-07T18:40:00Z", "2024-01-15 00:05:00+05:30");
  assert_next (tz, "weekly sun 23:45", "2024-12-29T18:00:00Z", "2024-12-29 23:45:00+05:30");
  assert_next (tz, "daily 23:45", "2024-02-28T18:15:00Z", "2024-02-29 23:45:00+05:30");
}

static gboolean
due (const char *text, const char *last, const char *now, GTimeZone *tz)
{
  g_autoptr (EsaSchedule) schedule = parse_ok (text);
  g_autoptr (GDateTime) dt_last = last != NULL ? at (last) : NULL;
  g_autoptr (GDateTime) dt_now = at (now);
  return esa_schedule_is_due (schedule, dt_last, dt_now, tz);
}

static void
test_is_due (void)
{
  g_autoptr (GTimeZone) tz = tz_new ("Europe/Berlin");

  /* 2024-05-06 is a Monday; the job ran at Monday's slot. */
  g_assert_false (
      due ("daily 03:00", "2024-05-06T03:00:00+02:00", "2024-05-06T12:00:00+02:00", tz));
  g_assert_false (
      due ("daily 03:00", "2024-05-06T03:00:00+02:00", "2024-05-07T02:59:59+02:00", tz));
  g_assert_true (due ("daily 03:00", "2024-05-06T03:00:00+02:00", "2024-05-07T03:00:00+02:00", tz));
  /* A run a little late still counts for its slot. */
  g_assert_false (
      due ("daily 03:00", "2024-05-06T03:00:07+02:00", "2024-05-06T23:00:00+02:00", tz));
  /* The last run was after the latest slot. */
  g_assert_false (
      due ("daily 03:00", "2024-05-07T04:00:00+02:00", "2024-05-07T23:00:00+02:00", tz));
  g_assert_false (
      due ("weekly mon 03:00", "2024-05-06T05:00:00+02:00", "2024-05-12T23:59:59+02:00", tz));
  g_assert_true (
      due ("weekly mon 03:00", "2024-05-06T05:00:00+02:00", "2024-05-13T03:00:00+02:00", tz));
  /* Down across one slot, and across several: due (once, see below). */
  g_assert_true (due ("daily 03:00", "2024-05-06T03:00:00+02:00", "2024-05-07T12:00:00+02:00", tz));
  g_assert_true (due ("daily 03:00", "2024-05-06T03:00:00+02:00", "2024-05-10T12:00:00+02:00", tz));
  g_assert_true (
      due ("weekly mon 03:00", "2024-04-01T03:00:00+02:00", "2024-05-10T12:00:00+02:00", tz));

  /* Never run: calendar jobs wait for their slot, every runs at once. */
  g_assert_false (due ("daily 03:00", NULL, "2024-05-07T03:00:00+02:00", tz));
  g_assert_false (due ("weekly tue 03:00", NULL, "2024-05-07T03:00:00+02:00", tz));
  g_assert_true (due ("every 15m", NULL, "2024-05-07T03:00:00+02:00", tz));
  g_assert_true (due ("every 366d", NULL, "2024-05-07T03:00:00+02:00", tz));

  /* every */
  g_assert_false (due ("every 15m", "2024-05-07T12:00:00Z", "2024-05-07T12:14:59Z", tz));
  g_assert_true (due ("every 15m", "2024-05-07T12:00:00Z", "2024-05-07T12:15:00Z", tz));
  g_assert_true (due ("every 15m", "2024-05-07T12:00:00Z", "2024-05-09T12:00:00Z", tz));

  /* Events are never due by time. */
  g_assert_false (due ("on-event", NULL, "2024-05-07T03:00:00+02:00", tz));
  g_assert_false (due ("on-event:x", "2020-01-01T00:00:00Z", "2024-05-07T03:00:00+02:00", tz));

  /* The clock was stepped back below the last run. */
  g_assert_false (
      due ("daily 03:00", "2024-05-09T03:00:00+02:00", "2024-05-07T12:00:00+02:00", tz));
  g_assert_false (due ("every 1s", "2024-05-09T03:00:00+02:00", "2024-05-07T12:00:00+02:00", tz));

  /* DST: the shifted slot, and the repeated hour runs once. */
  g_assert_false (
      due ("weekly sun 02:30", "2024-03-24T02:30:00+01:00", "2024-03-31T03:15:00+02:00", tz));
  g_assert_true (
      due ("weekly sun 02:30", "2024-03-24T02:30:00+01:00", "2024-03-31T03:30:00+02:00", tz));
  g_assert_false (
      due ("daily 02:30", "2024-10-27T02:30:00+02:00", "2024-10-27T02:30:00+01:00", tz));
  g_assert_false (
      due ("daily 02:30", "2024-10-27T02:30:00+02:00", "2024-10-27T23:59:00+01:00", tz));
  g_assert_true (due ("daily 02:30", "2024-10-26T02:30:00+02:00", "2024-10-27T02:30:00+02:00", tz));

  /* Half-hour zone. */
  {
    g_autoptr (GTimeZone) ist = tz_new ("Asia/Kolkata");
    g_assert_false (due ("daily 00:00", "2024-01-01T00:00:00+05:30", "2024-01-01T18:29:59Z", ist));
    g_assert_true (due ("daily 00:00", "2024-01-01T00:00:00+05:30", "2024-01-01T18:30:00Z", ist));
  }
}

/* Plays the dispatcher: the agent was down from Monday's run to Friday noon.
 * It runs once at start-up, then only at the following slots. */
static void
test_is_due_catch_up_once (void)
{
  g_autoptr (GTimeZone) tz = tz_new ("Europe/Berlin");
  const char *texts[] = { "daily 03:00", "weekly tue 03:00", "every 6h" };

  for (guint t = 0; t < G_N_ELEMENTS (texts); t++)
    {
      g_autoptr (EsaSchedule) schedule = parse_ok (texts[t]);
      g_autoptr (GDateTime) last = at ("2024-05-06T03:00:00+02:00");
      g_autoptr (GDateTime) now = at ("2024-05-10T12:00:00+02:00");
      guint runs = 0;

      /* Start-up after the outage, then every 10 minutes for 8 days. */
      for (guint step = 0; step <= 8 * 24 * 6; step++)
        {
          if (esa_schedule_is_due (schedule, last, now, tz))
            {
              g_autoptr (GDateTime) next = esa_schedule_next (schedule, last, tz);
              g_assert_cmpint (g_date_time_compare (next, now), <=, 0);
              runs++;
              g_date_time_unref (last);
              last = g_date_time_ref (now);
            }
          {
            GDateTime *later = g_date_time_add_minutes (now, 10);
            g_date_time_unref (now);
            now = later;
          }
          if (step == 0)
            g_assert_cmpuint (runs, ==, 1);
        }
      /* Catch-up + the slots of Sat..Sat (daily: 8), Tue (weekly: 1),
       * every 6h over 8 days (32). */
      if (t == 0)
        g_assert_cmpuint (runs, ==, 1 + 8);
      else if (t == 1)
        g_assert_cmpuint (runs, ==, 1 + 1);
      else
        g_assert_cmpuint (runs, ==, 1 + 32);
    }
}

static void
test_splay (void)
{
  guint64 first = esa_splay_offset ("host1/heartbeat", 1800);
  gboolean differs = FALSE;

  g_assert_cmpuint (first, <, 1800);
  g_assert_cmpuint (esa_splay_offset ("host1/heartbeat", 1800), ==, first);
  g_assert_cmpuint (esa_splay_offset ("host1/heartbeat", 0), ==, 0);
  g_assert_cmpuint (esa_splay_offset (NULL, 1), ==, 0);
  g_assert_cmpuint (esa_splay_offset (NULL, 60), <, 60);
  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *seed = g_strdup_printf ("host%u/heartbeat", i);
      guint64 v = esa_splay_offset (seed, 1800);
      g_assert_cmpuint (v, <, 1800);
      if (v != first)
        differs = TRUE;
    }
  g_assert_true (differs);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/schedule/parse/valid", test_parse_valid);
  g_test_add_func ("/schedule/parse/invalid", test_parse_invalid);
  g_test_add_func ("/schedule/parse/error-message", test_parse_error_exact);
  g_test_add_func ("/schedule/duration", test_duration);
  g_test_add_func ("/schedule/next/basic", test_next_basic);
  g_test_add_func ("/schedule/next/local", test_next_local);
  g_test_add_func ("/schedule/next/dst-spring", test_next_dst_spring);
  g_test_add_func ("/schedule/next/dst-fall", test_next_dst_fall);
  g_test_add_func ("/schedule/next/dst-new-york", test_next_dst_new_york);
  g_test_add_func ("/schedule/next/calendar-edges", test_next_calendar_edges);
  g_test_add_func ("/schedule/next/half-hour-zone", test_next_half_hour_zone);
  g_test_add_func ("/schedule/is-due", test_is_due);
  g_test_add_func ("/schedule/is-due/catch-up-once", test_is_due_catch_up_once);
  g_test_add_func ("/schedule/splay", test_splay);
  return g_test_run ();
}
