/* proxy-bench.c: load generator for bench/proxy.sh (plain POSIX, no GLib, loopback only).
 *
 *   proxy-bench sink PORT BYTES         accept connections; after BYTES from one, answer 1 byte
 *   proxy-bench xfer PROXYPORT HOST:PORT BYTES
 *                                       CONNECT through 127.0.0.1:PROXYPORT, send BYTES, wait
 *                                       for the sink's byte; prints MiB/s
 *   proxy-bench idle PROXYPORT HOST:PORT N
 *                                       open N tunnels, print "ready N", hold them until
 *                                       standard input closes
 *   proxy-bench open PROXYPORT HOST:PORT N
 *                                       open N tunnels one after another, each used before the
 *                                       next (4 bytes echoed by the sink), all kept open;
 *                                       prints "TOTAL FIRST LAST" tunnels/s: all N, the first
 *                                       and the last quarter, so a rate that falls as tunnels
 *                                       accumulate shows as LAST < FIRST
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)
#define MAX_CONNS 8192

static int
tcp_connect (int port)
{
  struct sockaddr_in sa = { 0 };
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  sa.sin_family = AF_INET;
  sa.sin_port = htons ((unsigned short) port);
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (fd < 0 || connect (fd, (struct sockaddr *) &sa, sizeof sa) != 0)
    {
      perror ("connect");
      exit (1);
    }
  return fd;
}

static int
tunnel (int proxy_port, const char *dest)
{
  char buf[1024];
  size_t len = 0;
  int fd = tcp_connect (proxy_port);
  int n = snprintf (buf, sizeof buf, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", dest, dest);
  if (write (fd, buf, (size_t) n) != n)
    {
      perror ("write");
      exit (1);
    }
  /* Read the answer byte by byte so no tunnel data is swallowed. */
  while (len < sizeof buf - 1)
    {
      ssize_t r = read (fd, buf + len, 1);
      if (r <= 0)
        {
          fprintf (stderr, "proxy closed during CONNECT\n");
          exit (1);
        }
      len++;
      if (len >= 4 && memcmp (buf + len - 4, "\r\n\r\n", 4) == 0)
        break;
    }
  buf[len] = '\0';
  if (strncmp (buf, "HTTP/1.1 200", 12) != 0 && strncmp (buf, "HTTP/1.0 200", 12) != 0)
    {
      fprintf (stderr, "CONNECT refused: %.40s\n", buf);
      exit (1);
    }
  return fd;
}

/* epoll, so the sink costs the same with 2 or 4,000 connections open: the open-rate figure
 * is the proxy's, not ours. A connection that sends "ping" gets "pong" (open), one that
 * reaches BYTES gets "!" (xfer). */
static int
sink (int port, long long bytes)
{
  struct sockaddr_in sa = { 0 };
  static long long got[65536];
  static char buf[CHUNK];
  struct epoll_event evs[256];
  struct epoll_event ev = { 0 };
  int one = 1;
  int ep = epoll_create1 (0);
  int lfd = socket (AF_INET, SOCK_STREAM, 0);

  setsockopt (lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sa.sin_family = AF_INET;
  sa.sin_port = htons ((unsigned short) port);
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (ep < 0 || bind (lfd, (struct sockaddr *) &sa, sizeof sa) != 0 || listen (lfd, 4096) != 0)
    {
      perror ("sink");
      return 1;
    }
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  epoll_ctl (ep, EPOLL_CTL_ADD, lfd, &ev);
  for (;;)
    {
      int n = epoll_wait (ep, evs, 256, -1);
      for (int i = 0; i < n; i++)
        {
          int fd = evs[i].data.fd;
          ssize_t r;
          if (fd == lfd)
            {
              int c = accept (lfd, NULL, NULL);
              if (c < 0 || c >= 65536)
                {
                  if (c >= 0)
                    close (c);
                  continue;
                }
              got[c] = 0;
              ev.events = EPOLLIN;
              ev.data.fd = c;
              epoll_ctl (ep, EPOLL_CTL_ADD, c, &ev);
              continue;
            }
          r = read (fd, buf, sizeof buf);
          if (r > 0)
            {
              if (got[fd] == 0 && r == 4 && memcmp (buf, "ping", 4) == 0)
                {
                  if (write (fd, "pong", 4) != 4)
                    perror ("pong");
                  continue;
                }
              got[fd] += r;
              if (bytes > 0 && got[fd] == bytes && write (fd, "!", 1) != 1)
                perror ("ack");
              continue;
            }
          epoll_ctl (ep, EPOLL_CTL_DEL, fd, NULL);
          close (fd);
        }
    }
}

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
xfer (int proxy_port, const char *dest, long long bytes)
{
  static char buf[CHUNK];
  long long sent = 0;
  char ack;
  double t0;
  int fd = tunnel (proxy_port, dest);

  memset (buf, 'x', sizeof buf);
  t0 = now ();
  while (sent < bytes)
    {
      size_t want = (size_t) (bytes - sent < CHUNK ? bytes - sent : CHUNK);
      ssize_t w = write (fd, buf, want);
      if (w < 0)
        {
          if (errno == EINTR)
            continue;
          perror ("send");
          return 1;
        }
      sent += w;
    }
  if (read (fd, &ack, 1) != 1)
    {
      fprintf (stderr, "no acknowledgement from the sink\n");
      return 1;
    }
  printf ("%.1f\n", (double) bytes / (1024.0 * 1024.0) / (now () - t0));
  close (fd);
  return 0;
}

static int
idle (int proxy_port, const char *dest, int count)
{
  char c;
  int *fds = calloc ((size_t) count, sizeof *fds);
  for (int i = 0; i < count; i++)
    fds[i] = tunnel (proxy_port, dest);
  printf ("ready %d\n", count);
  fflush (stdout);
  while (read (STDIN_FILENO, &c, 1) > 0)
    ;
  for (int i = 0; i < count; i++)
    close (fds[i]);
  free (fds);
  return 0;
}

static int
open_rate (int proxy_port, const char *dest, int count)
{
  int *fds = calloc ((size_t) count, sizeof *fds);
  int quarter = count / 4 > 0 ? count / 4 : 1;
  double t0 = now ();
  double t_first = 0;
  double t_last = 0;
  double t_end;

  for (int i = 0; i < count; i++)
    {
      char pong[4];
      if (i == count - quarter)
        t_last = now ();
      fds[i] = tunnel (proxy_port, dest);
      /* A tunnel counts once bytes went through it both ways. */
      if (write (fds[i], "ping", 4) != 4 || read (fds[i], pong, 4) != 4 || memcmp (pong, "pong", 4) != 0)
        {
          fprintf (stderr, "tunnel %d carried no data\n", i);
          return 1;
        }
      if (i == quarter - 1)
        t_first = now ();
    }
  t_end = now ();
  printf ("%.0f %.0f %.0f\n", count / (t_end - t0), quarter / (t_first - t0),
          quarter / (t_end - t_last));
  for (int i = 0; i < count; i++)
    close (fds[i]);
  free (fds);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 4 && strcmp (argv[1], "sink") == 0)
    return sink (atoi (argv[2]), atoll (argv[3]));
  if (argc == 5 && strcmp (argv[1], "xfer") == 0)
    return xfer (atoi (argv[2]), argv[3], atoll (argv[4]));
  if (argc == 5 && strcmp (argv[1], "idle") == 0)
    return idle (atoi (argv[2]), argv[3], atoi (argv[4]));
  if (argc == 5 && strcmp (argv[1], "open") == 0)
    return open_rate (atoi (argv[2]), argv[3], atoi (argv[4]));
  fprintf (stderr, "usage: see the comment at the top of proxy-bench.c\n");
  return 2;
}
