/* test-transport-backoff.c: the sender's retry delay — min * 2^attempts,
 * capped at max, then ±25 % jitter so a fleet does not retry in step. */
#include "config.h"

#include "esa-sender.h"

static void
test_backoff_growth (void)
{
  /* random01 = 0.5 is the middle of the jitter: the exact delay. */
  g_assert_cmpuint (esa_sender_backoff (0, 60, 21600, 0.5), ==, 60);
  g_assert_cmpuint (esa_sender_backoff (1, 60, 21600, 0.5), ==, 120);
  g_assert_cmpuint (esa_sender_backoff (2, 60, 21600, 0.5), ==, 240);
  g_assert_cmpuint (esa_sender_backoff (5, 60, 21600, 0.5), ==, 1920);
  /* Each step at least doubles until the cap. */
  for (guint a = 0; a < 8; a++)
    g_assert_cmpuint (esa_sender_backoff (a + 1, 60, 21600, 0.5), ==,
                      2 * esa_sender_backoff (a, 60, 21600, 0.5));
}

static void
test_backoff_cap (void)
{
  g_assert_cmpuint (esa_sender_backoff (9, 60, 21600, 0.5), ==, 21600);
  g_assert_cmpuint (esa_sender_backoff (30, 60, 21600, 0.5), ==, 21600);
  /* Huge attempt counts neither overflow nor wrap to a short delay. */
  g_assert_cmpuint (esa_sender_backoff (G_MAXUINT, 60, 21600, 0.5), ==, 21600);
  g_assert_cmpuint (esa_sender_backoff (1000, 1, G_MAXUINT32, 0.5), ==, G_MAXUINT32);
  /* min == max: always that (± jitter). */
  g_assert_cmpuint (esa_sender_backoff (0, 300, 300, 0.5), ==, 300);
  g_assert_cmpuint (esa_sender_backoff (7, 300, 300, 0.5), ==, 300);
}

static void
test_backoff_jitter (void)
{
  /* The jitter spans [0.75, 1.25) of the delay, capped delay included. */
  g_assert_cmpuint (esa_sender_backoff (0, 60, 21600, 0.0), ==, 45);
  g_assert_cmpuint (esa_sender_backoff (0, 60, 21600, 1.0), ==, 75);
  g_assert_cmpuint (esa_sender_backoff (20, 60, 21600, 0.0), ==, 16200);
  g_assert_cmpuint (esa_sender_backoff (20, 60, 21600, 1.0), ==, 27000);
  for (guint i = 0; i < 1000; i++)
    {
      double r = g_random_double ();
      guint attempts = g_random_int_range (0, 20);
      guint64 base = MIN ((guint64) 60 << attempts, (guint64) 21600);
      guint64 d = esa_sender_backoff (attempts, 60, 21600, r);
      g_assert_cmpuint (d, >=, (guint64) (base * 0.75) - 1);
      g_assert_cmpuint (d, <=, (guint64) (base * 1.25) + 1);
    }
  /* Monotonic in the random number: no surprise inversions. */
  for (double r = 0.0; r < 0.99; r += 0.01)
    g_assert_cmpuint (esa_sender_backoff (3, 60, 21600, r), <=, esa_sender_backoff (3, 60, 21600, r + 0.01));
}

static void
test_backoff_floor (void)
{
  /* Never 0 s (a tight retry loop), even with the lowest jitter. */
  g_assert_cmpuint (esa_sender_backoff (0, 1, 1, 0.0), ==, 1);
  g_assert_cmpuint (esa_sender_backoff (0, 1, 10, 0.0), >=, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/transport/backoff/growth", test_backoff_growth);
  g_test_add_func ("/transport/backoff/cap", test_backoff_cap);
  g_test_add_func ("/transport/backoff/jitter", test_backoff_jitter);
  g_test_add_func ("/transport/backoff/floor", test_backoff_floor);
  return g_test_run ();
}
