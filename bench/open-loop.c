// The open-loop load generator of bench/open-loop-load.ts, in C: requests leave on a fixed schedule whatever the
// server does, and each latency is counted from the request's intended send time (no coordinated omission, as wrk2).
// open-loop-load.ts compiles it with the machine's cc, runs it under SCHED_BATCH and reads its result (JSON, one line
// on stdout). It is C because it shares the two cores with the server it measures: the same generator in Node spent
// ~19 µs of CPU a request (25% of a core at 13,500 req/s), CPU the server's workers waited for; this one ~11 µs
// (decision 0012, round thirteen).
//
// Semantics (the Node generator's):
//   - `connections` kept-alive connections, one request at a time on each (as wrk sends them); a request due while
//     every connection is busy waits in a queue, its clock already running;
//   - a 1 ms tick (a timerfd) sends every request whose time has come: request i is due at i / rate after the start;
//   - the first `warmup` seconds of the schedule are sent but not counted;
//   - an answer is read as far as its status line, Content-Length and Connection header, and its body is skipped;
//     `Connection: close` ends its connection after the answer, and a new one is opened for the next request;
//   - a connection that closes (or fails) with a request on it: that request is one error, and a new connection is
//     opened for the next; what is unanswered 30 s after the schedule ends counts as errors;
//   - the longest gap between two ticks after the warm-up is the generator's own pause (its thread kept from a CPU,
//     or stopped), which every request due or in flight meanwhile is charged with.
//
// Usage: open-loop <host> <port> <path> <body> <rate> <seconds> <connections> <warmup seconds>
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

enum { bufBytes = 16 << 10, maxConnections = 4096, maxEvents = 256 };

struct conn {
  int fd;               // -1: not connected (the server refused the last attempt)
  int busy;
  double intended;      // the intended send time of the request on it, ms
  size_t outAt;         // bytes of the request written so far
  char buf[bufBytes];   // bytes read and not yet consumed
  size_t len;
  int haveHead;
  int status;
  int closeAfter;
  long long bodyLeft;   // bytes of the answer's body still to come
};

static struct addrinfo *target;
static char *request;
static size_t requestBytes;
static int epfd;
static struct conn *conns;
static int nconns;
static struct conn **idle;
static int nidle;
static double *queue;
static long long queueHead, queueLen;
static double *latencies;
static long long counted, answered, total, non2xx, errors, connects;
static double measuredFrom;
static struct conn **failed; // connections whose send failed at once: finished from the main loop, never recursively
static int nfailed;

static double nowMs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void die(const char *what) {
  fprintf(stderr, "open-loop: %s: %s\n", what, strerror(errno));
  exit(2);
}

// A new socket for the connection (a blocking connect: loopback answers at once), then non-blocking; fd -1 when the
// server refused it.
static void openConn(struct conn *c) {
  connects++;
  c->len = 0;
  c->haveHead = 0;
  c->outAt = 0;
  c->fd = socket(target->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd < 0) die("socket");
  if (connect(c->fd, target->ai_addr, target->ai_addrlen) != 0) {
    close(c->fd);
    c->fd = -1;
    return;
  }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) != 0) die("fcntl");
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) die("epoll_ctl");
}

static void closeConn(struct conn *c) {
  if (c->fd >= 0) close(c->fd); // closing removes it from the epoll set
  c->fd = -1;
}

static void sendOn(struct conn *c, double intended);

// The request on `c` is over: answered with `status`, or failed (status < 0). Sends the next request waiting, if any.
static void finish(struct conn *c, int status) {
  c->busy = 0;
  answered++;
  if (c->intended >= measuredFrom) {
    if (status < 0) errors++;
    else {
      if (status < 200 || status >= 300) non2xx++;
      latencies[counted++] = nowMs() - c->intended;
    }
  }
  if (queueHead < queueLen) sendOn(c, queue[queueHead++]);
  else idle[nidle++] = c;
}

// The connection broke with a request on it, or a request could not be written: a fresh connection for the next one.
static void broke(struct conn *c) {
  closeConn(c);
  openConn(c);
  if (c->busy) failed[nfailed++] = c;
}

static void writeRest(struct conn *c) {
  while (c->outAt < requestBytes) {
    ssize_t n = write(c->fd, request + c->outAt, requestBytes - c->outAt);
    if (n > 0) {
      c->outAt += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
      epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
      return;
    }
    broke(c);
    return;
  }
}

static void sendOn(struct conn *c, double intended) {
  c->busy = 1;
  c->intended = intended;
  c->outAt = 0;
  if (c->fd < 0) openConn(c);
  if (c->fd < 0) {
    failed[nfailed++] = c;
    return;
  }
  writeRest(c);
}

// Parses an answer's head (the bytes before the blank line); 0 when it is not HTTP/1.x.
static int parseHead(struct conn *c, char *head, size_t n) {
  head[n] = '\0';
  if (n < 12 || strncmp(head, "HTTP/1.", 7) != 0 || head[8] != ' ') return 0;
  int status = 0;
  for (int i = 9; i < 12; i++) {
    if (head[i] < '0' || head[i] > '9') return 0;
    status = status * 10 + (head[i] - '0');
  }
  c->status = status;
  c->bodyLeft = 0;
  c->closeAfter = 0;
  for (char *line = strstr(head, "\r\n"); line != NULL; line = strstr(line, "\r\n")) {
    line += 2;
    char *colon = strchr(line, ':');
    char *end = strstr(line, "\r\n");
    if (colon == NULL || (end != NULL && colon > end)) continue;
    size_t name = (size_t)(colon - line);
    char *value = colon + 1;
    while (*value == ' ' || *value == '\t') value++;
    if (name == 14 && strncasecmp(line, "content-length", 14) == 0) {
      char *stop;
      c->bodyLeft = strtoll(value, &stop, 10);
      if (stop == value || c->bodyLeft < 0) return 0;
    } else if (name == 10 && strncasecmp(line, "connection", 10) == 0 && strncasecmp(value, "close", 5) == 0) {
      c->closeAfter = 1;
    }
  }
  return 1;
}

// Consumes what was read: heads, bodies, and the answers they complete.
static void consume(struct conn *c) {
  for (;;) {
    if (!c->haveHead) {
      char *end = c->len >= 4 ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL;
      if (end == NULL) {
        if (c->len == bufBytes) broke(c); // a head larger than the buffer: not an answer
        return;
      }
      size_t headBytes = (size_t)(end - c->buf) + 4;
      if (!parseHead(c, c->buf, (size_t)(end - c->buf))) {
        broke(c);
        return;
      }
      c->haveHead = 1;
      memmove(c->buf, c->buf + headBytes, c->len - headBytes);
      c->len -= headBytes;
    }
    size_t body = c->bodyLeft < (long long)c->len ? (size_t)c->bodyLeft : c->len;
    memmove(c->buf, c->buf + body, c->len - body);
    c->len -= body;
    c->bodyLeft -= (long long)body;
    if (c->bodyLeft > 0) return;
    c->haveHead = 0;
    if (!c->busy) { // an answer nobody asked for
      broke(c);
      return;
    }
    if (c->closeAfter) {
      // The server closes it after this answer: a new one now, opened before the next request is sent on it.
      closeConn(c);
      openConn(c);
      finish(c, c->status);
      return;
    }
    finish(c, c->status);
    if (c->len == 0) return;
  }
}

static void readable(struct conn *c) {
  ssize_t n = read(c->fd, c->buf + c->len, bufBytes - c->len);
  if (n > 0) {
    c->len += (size_t)n;
    consume(c);
  } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
    broke(c);
  }
}

static int byValue(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

// The q-quantile of sorted values, nearest rank (as quantile() in open-loop-load.ts).
static double quantile(const double *sorted, long long n, double q) {
  if (n == 0) return NAN;
  long long i = (long long)ceil(q * (double)n) - 1;
  if (i < 0) i = 0;
  if (i > n - 1) i = n - 1;
  return sorted[i];
}

// Time this thread was ready to run but waited for a CPU, ms (the second field of its schedstat).
static double waitedMs(void) {
  FILE *f = fopen("/proc/thread-self/schedstat", "r");
  if (f == NULL) return NAN;
  unsigned long long run, wait;
  int ok = fscanf(f, "%llu %llu", &run, &wait) == 2;
  fclose(f);
  return ok ? (double)wait / 1e6 : NAN;
}

static void number(const char *name, double x, int last) {
  if (isfinite(x)) printf("\"%s\":%.6f%s", name, x, last ? "" : ",");
  else printf("\"%s\":null%s", name, last ? "" : ",");
}

int main(int argc, char **argv) {
  if (argc != 9) {
    fprintf(stderr, "usage: open-loop <host> <port> <path> <body> <rate> <seconds> <connections> <warmup seconds>\n");
    return 2;
  }
  const char *host = argv[1], *port = argv[2], *path = argv[3], *body = argv[4];
  double rate = atof(argv[5]), seconds = atof(argv[6]), warmupSeconds = atof(argv[8]);
  nconns = atoi(argv[7]);
  if (!(rate > 0) || !(seconds > 0) || !(warmupSeconds >= 0) || nconns < 1 || nconns > maxConnections) {
    fprintf(stderr, "open-loop: rate and seconds must be positive, warm-up not negative, connections 1..%d\n", maxConnections);
    return 2;
  }
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  int gai = getaddrinfo(host, port, &hints, &target);
  if (gai != 0) {
    fprintf(stderr, "open-loop: %s:%s: %s\n", host, port, gai_strerror(gai));
    return 2;
  }
  size_t bodyBytes = strlen(body);
  requestBytes = (size_t)asprintf(&request, "POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", path, host, port, bodyBytes, body);

  long long warmup = llround(rate * warmupSeconds);
  total = warmup + llround(rate * seconds);
  queue = malloc(sizeof(double) * (size_t)(total + 1));
  latencies = malloc(sizeof(double) * (size_t)(total + 1));
  conns = calloc((size_t)nconns, sizeof(struct conn));
  idle = malloc(sizeof(struct conn *) * (size_t)nconns);
  failed = malloc(sizeof(struct conn *) * (size_t)nconns);
  if (!queue || !latencies || !conns || !idle || !failed) die("malloc");
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1");
  for (int i = 0; i < nconns; i++) {
    openConn(&conns[i]);
    idle[nidle++] = &conns[i];
  }
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (tfd < 0) die("timerfd_create");
  struct itimerspec every = {.it_interval = {0, 1000000}, .it_value = {0, 1000000}};
  if (timerfd_settime(tfd, 0, &every, NULL) != 0) die("timerfd_settime");
  struct epoll_event tev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &tev) != 0) die("epoll_ctl timer");

  struct rusage cpu0, cpu1;
  getrusage(RUSAGE_SELF, &cpu0);
  double waited0 = waitedMs();
  double start = nowMs();
  measuredFrom = start + warmupSeconds * 1000;
  double deadline = start + (warmupSeconds + seconds + 30) * 1000;
  double lastTick = start, pauseMaxMs = 0;
  long long sent = 0;
  struct epoll_event events[maxEvents];
  while (answered < total) {
    double now = nowMs();
    if (now > deadline) break;
    int n = epoll_wait(epfd, events, maxEvents, 100);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      if (c == NULL) {
        unsigned long long expirations;
        if (read(tfd, &expirations, sizeof expirations) < 0 && errno != EAGAIN) die("read timerfd");
        now = nowMs();
        if (lastTick >= measuredFrom && now - lastTick > pauseMaxMs) pauseMaxMs = now - lastTick;
        lastTick = now;
        long long due = (long long)floor((now - start) / 1000 * rate) + 1;
        if (due > total) due = total;
        for (; sent < due; sent++) {
          double intended = start + ((double)sent / rate) * 1000;
          if (nidle > 0) sendOn(idle[--nidle], intended);
          else queue[queueLen++] = intended;
        }
        if (sent == total) {
          struct itimerspec off = {0};
          timerfd_settime(tfd, 0, &off, NULL);
        }
        continue;
      }
      if (c->fd < 0) continue; // closed and not reopened since this event was reported
      if (events[i].events & EPOLLOUT) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
        writeRest(c);
      } else if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        readable(c);
      }
    }
    // Requests whose connection failed at once: each an error (that may send the next waiting one, which may fail
    // in turn and be taken by the next pass).
    while (nfailed > 0) {
      struct conn *c = failed[--nfailed];
      finish(c, -1);
    }
  }
  double end = nowMs();
  getrusage(RUSAGE_SELF, &cpu1);
  double waitMs = waitedMs() - waited0;
  int policy = sched_getscheduler(0);
  errors += total - answered;
  double cpuMs = (double)(cpu1.ru_utime.tv_sec - cpu0.ru_utime.tv_sec + cpu1.ru_stime.tv_sec - cpu0.ru_stime.tv_sec) * 1e3 +
    (double)(cpu1.ru_utime.tv_usec - cpu0.ru_utime.tv_usec + cpu1.ru_stime.tv_usec - cpu0.ru_stime.tv_usec) / 1e3;
  double elapsed = (end - measuredFrom) / 1000;
  qsort(latencies, (size_t)counted, sizeof(double), byValue);
  printf("{");
  number("rate", rate, 0);
  number("sent", (double)(sent - warmup), 0);
  number("answered", (double)counted, 0);
  number("warmup", (double)warmup, 0);
  number("non2xx", (double)non2xx, 0);
  number("errors", (double)errors, 0);
  number("rps", (double)counted / elapsed, 0);
  number("connects", (double)connects, 0);
  number("cpuMs", cpuMs, 0);
  number("waitMs", waitMs, 0);
  number("schedPolicy", policy, 0);
  number("pauseMaxMs", pauseMaxMs, 0);
  number("p50", quantile(latencies, counted, 0.5), 0);
  number("p99", quantile(latencies, counted, 0.99), 0);
  number("max", counted > 0 ? latencies[counted - 1] : NAN, 1);
  printf("}\n");
  return 0;
}
