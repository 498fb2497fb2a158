/* esa-proxy-poller-poll.c: the portable poller backend, plain poll(2).
 *
 * Used where there is no epoll (AIX, the BSDs). Each wait copies the watched set, so it
 * costs O(sockets of this worker) per wakeup, which the several workers divide; AIX's
 * pollset(2) would make it flat there too. A pipe wakes the waiter when a socket is added
 * from another thread, so a new tunnel does not wait for the next timeout. */
#include "config.h"

#include "esa-proxy-poller.h"

#include <esa/esa-error.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

struct _EsaProxyPoller {
  GMutex lock;
  GArray *fds;        /* struct pollfd, index 0 is the wake pipe */
  GPtrArray *data;    /* parallel to fds */
  GHashTable *index;  /* fd -> position in fds */
  GArray *copy;       /* the waiter's own copy of fds */
  GPtrArray *copy_data;
  int wake[2];
};

static EsaProxyPoller *
poll_new (GError **error)
{
  EsaProxyPoller *p;
  int wake[2];
  struct pollfd w = { 0 };

  if (pipe (wake) != 0)
    {
      g_set_error (error, ESA_ERROR, ESA_ERROR_FAILED, "cannot create a pipe: %s", g_strerror (errno));
      return NULL;
    }
  for (int i = 0; i < 2; i++)
    {
      fcntl (wake[i], F_SETFL, fcntl (wake[i], F_GETFL) | O_NONBLOCK);
      fcntl (wake[i], F_SETFD, FD_CLOEXEC);
    }
  p = g_new0 (EsaProxyPoller, 1);
  g_mutex_init (&p->lock);
  p->fds = g_array_new (FALSE, FALSE, sizeof (struct pollfd));
  p->data = g_ptr_array_new ();
  p->index = g_hash_table_new (NULL, NULL);
  p->copy = g_array_new (FALSE, FALSE, sizeof (struct pollfd));
  p->copy_data = g_ptr_array_new ();
  p->wake[0] = wake[0];
  p->wake[1] = wake[1];
  w.fd = wake[0];
  w.events = POLLIN;
  g_array_append_val (p->fds, w);
  g_ptr_array_add (p->data, NULL);
  return p;
}

static void
poll_wake (EsaProxyPoller *p)
{
  ssize_t n = write (p->wake[1], "", 1);
  (void) n; /* full pipe: a wakeup is pending anyway */
}

static gboolean
poll_set (EsaProxyPoller *p, int fd, guint old_events, guint events, gpointer data, GError **error)
{
  gpointer pos;
  gboolean added = FALSE;

  g_mutex_lock (&p->lock);
  if (g_hash_table_lookup_extended (p->index, GINT_TO_POINTER (fd), NULL, &pos))
    {
      guint i = GPOINTER_TO_UINT (pos);
      if (events == 0)
        {
          guint last = p->fds->len - 1;
          /* Move the last entry into the hole. */
          if (i != last)
            {
              struct pollfd *moved = &g_array_index (p->fds, struct pollfd, last);
              g_array_index (p->fds, struct pollfd, i) = *moved;
              p->data->pdata[i] = p->data->pdata[last];
              g_hash_table_insert (p->index, GINT_TO_POINTER (moved->fd), GUINT_TO_POINTER (i));
            }
          g_array_set_size (p->fds, last);
          g_ptr_array_set_size (p->data, (gint) last);
          g_hash_table_remove (p->index, GINT_TO_POINTER (fd));
        }
      else
        {
          struct pollfd *e = &g_array_index (p->fds, struct pollfd, i);
          e->events = (short) (((events & ESA_PROXY_POLL_IN) ? POLLIN : 0) |
                               ((events & ESA_PROXY_POLL_OUT) ? POLLOUT : 0));
          p->data->pdata[i] = data;
        }
    }
  else if (events != 0)
    {
      struct pollfd e = { 0 };
      e.fd = fd;
      e.events = (short) (((events & ESA_PROXY_POLL_IN) ? POLLIN : 0) |
                          ((events & ESA_PROXY_POLL_OUT) ? POLLOUT : 0));
      g_hash_table_insert (p->index, GINT_TO_POINTER (fd), GUINT_TO_POINTER (p->fds->len));
      g_array_append_val (p->fds, e);
      g_ptr_array_add (p->data, data);
      added = TRUE;
    }
  g_mutex_unlock (&p->lock);
  if (added)
    poll_wake (p);
  return TRUE;
}

static int
poll_wait (EsaProxyPoller *p, EsaProxyPollerEvent *out, int max, int timeout_ms)
{
  int n = 0;
  int rc;

  g_mutex_lock (&p->lock);
  g_array_set_size (p->copy, p->fds->len);
  memcpy (p->copy->data, p->fds->data, p->fds->len * sizeof (struct pollfd));
  g_ptr_array_set_size (p->copy_data, (gint) p->data->len);
  memcpy (p->copy_data->pdata, p->data->pdata, p->data->len * sizeof (gpointer));
  g_mutex_unlock (&p->lock);

  rc = poll ((struct pollfd *) (void *) p->copy->data, p->copy->len, timeout_ms);
  if (rc <= 0)
    return 0;
  for (guint i = 0; i < p->copy->len && n < max; i++)
    {
      struct pollfd *e = &g_array_index (p->copy, struct pollfd, i);
      if (e->revents == 0)
        continue;
      if (i == 0)
        {
          char drain[64];
          while (read (e->fd, drain, sizeof drain) > 0)
            ;
          continue;
        }
      out[n].data = p->copy_data->pdata[i];
      out[n].events = ((e->revents & POLLIN) ? ESA_PROXY_POLL_IN : 0) |
                      ((e->revents & POLLOUT) ? ESA_PROXY_POLL_OUT : 0) |
                      ((e->revents & (POLLERR | POLLHUP | POLLNVAL)) ? ESA_PROXY_POLL_ERR : 0);
      n++;
    }
  return n;
}

static void
poll_free (EsaProxyPoller *p)
{
  close (p->wake[0]);
  close (p->wake[1]);
  g_array_unref (p->fds);
  g_ptr_array_unref (p->data);
  g_hash_table_unref (p->index);
  g_array_unref (p->copy);
  g_ptr_array_unref (p->copy_data);
  g_mutex_clear (&p->lock);
  g_free (p);
}

const EsaProxyPollerBackend esa_proxy_poller_poll = {
  "poll", poll_new, poll_set, poll_wait, poll_wake, poll_free,
};

const EsaProxyPollerBackend *
esa_proxy_poller_backend (void)
{
  if (esa_proxy_poller_epoll != NULL && g_strcmp0 (g_getenv ("ESA_PROXY_POLLER"), "poll") != 0)
    return esa_proxy_poller_epoll;
  return &esa_proxy_poller_poll;
}
