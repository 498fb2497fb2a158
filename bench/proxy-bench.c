/* proxy-bench.c: load generator for bench/proxy.sh (plain POSIX, no GLib, loopback only).
 *
 *   proxy-bench sink PORT BYTES         accept connections; after BYTES from one, answer 1 byte
 *   proxy-bench xfer PROXYPORT HOST:PORT BYTES
 *                                       CONNECT through 127.0.0.1:PROXYPORT, send BYTES, wait
 *                                       for the sink's byte; prints MiB/s
 *   proxy-bench idle PROXYPORT HOST:PORT N
 *                                       open N tunnels, print "ready N", hold them until
 *                                       standard input closes
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

static int
sink (int port, long long bytes)
{
  struct sockaddr_in sa = { 0 };
  static struct pollfd fds[MAX_CONNS];
  static long long got[MAX_CONNS];
  static char buf[CHUNK];
  int one = 1;
  int n = 1;
  int lfd = socket (AF_INET, SOCK_STREAM, 0);

  setsockopt (lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sa.sin_family = AF_INET;
  sa.sin_port = htons ((unsigned short) port);
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (bind (lfd, (struct sockaddr *) &sa, sizeof sa) != 0 || listen (lfd, 4096) != 0)
    {
      perror ("sink");
      return 1;
    }
  fds[0].fd = lfd;
  fds[0].events = POLLIN;
  for (;;)
    {
      if (poll (fds, (nfds_t) n, -1) < 0)
        continue;
      if ((fds[0].revents & POLLIN) && n < MAX_CONNS)
        {
          int c = accept (lfd, NULL, NULL);
          if (c >= 0)
            {
              fds[n].fd = c;
              fds[n].events = POLLIN;
              got[n] = 0;
              n++;
            }
        }
      for (int i = 1; i < n; i++)
        {
          ssize_t r;
          if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
          r = read (fds[i].fd, buf, sizeof buf);
          if (r > 0)
            {
              got[i] += r;
              if (bytes > 0 && got[i] == bytes && write (fds[i].fd, "!", 1) != 1)
                perror ("ack");
              continue;
            }
          close (fds[i].fd);
          fds[i] = fds[n - 1];
          got[i] = got[n - 1];
          n--;
          i--;
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

int
main (int argc, char **argv)
{
  if (argc == 4 && strcmp (argv[1], "sink") == 0)
    return sink (atoi (argv[2]), atoll (argv[3]));
  if (argc == 5 && strcmp (argv[1], "xfer") == 0)
    return xfer (atoi (argv[2]), argv[3], atoll (argv[4]));
  if (argc == 5 && strcmp (argv[1], "idle") == 0)
    return idle (atoi (argv[2]), argv[3], atoi (argv[4]));
  fprintf (stderr, "usage: see the comment at the top of proxy-bench.c\n");
  return 2;
}
