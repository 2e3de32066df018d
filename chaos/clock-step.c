/*
 * clock-step.so: steps the wall clock of the processes it is preloaded into, for the chaos run.
 *
 *   LD_PRELOAD=clock-step.so KANBAN_CLOCK_STEP_FILE=PATH node …
 *
 * PATH holds an offset ("+0", "+2h", "-10m", "+30s", "+1d"); every process sees the same file, so a
 * change is a step of the whole machine's wall clock (CLOCK_REALTIME, gettimeofday, time), seen
 * within 10 ms. Monotonic clocks are left alone, as a real step leaves them.
 *
 * Why not libfaketime: it shares a named semaphore between a process and all its descendants, and a
 * process SIGKILLed while holding it (the chaos monkey kills processes at random) deadlocks every
 * other one at its next clock call. This shim holds no lock: it rereads the file at most every 10 ms
 * and keeps the offset in one atomic word.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static long long offset_ns;      /* atomic */
static long long next_read_ns;   /* atomic: monotonic time of the next reread */

static clock_gettime_fn real_clock_gettime(void) {
  static clock_gettime_fn real;
  clock_gettime_fn fn = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
  if (!fn) {
    fn = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
    __atomic_store_n(&real, fn, __ATOMIC_RELEASE);
  }
  return fn;
}

/* "+2h" → nanoseconds; anything unreadable is 0. */
static long long parse_offset(const char *text) {
  char *end;
  long long sign = 1, unit = 1;
  while (*text == ' ' || *text == '\t') text++;
  if (*text == '+') text++;
  else if (*text == '-') sign = -1, text++;
  long long value = strtoll(text, &end, 10);
  switch (*end) {
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    default: unit = 1;
  }
  return sign * value * unit * 1000000000LL;
}

static long long current_offset(void) {
  struct timespec mono;
  clock_gettime_fn real = real_clock_gettime();
  if (!real || real(CLOCK_MONOTONIC, &mono) != 0) return __atomic_load_n(&offset_ns, __ATOMIC_RELAXED);
  long long now = (long long)mono.tv_sec * 1000000000LL + mono.tv_nsec;
  if (now >= __atomic_load_n(&next_read_ns, __ATOMIC_RELAXED)) {
    __atomic_store_n(&next_read_ns, now + 10000000LL, __ATOMIC_RELAXED);
    const char *path = getenv("KANBAN_CLOCK_STEP_FILE");
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd >= 0) {
      char text[32];
      ssize_t n = read(fd, text, sizeof text - 1);
      close(fd);
      if (n > 0) {
        text[n] = '\0';
        __atomic_store_n(&offset_ns, parse_offset(text), __ATOMIC_RELAXED);
      }
    }
  }
  return __atomic_load_n(&offset_ns, __ATOMIC_RELAXED);
}

static int is_wall_clock(clockid_t id) {
  return id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE
#ifdef CLOCK_TAI
         || id == CLOCK_TAI
#endif
      ;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
  clock_gettime_fn real = real_clock_gettime();
  if (!real) return -1;
  int result = real(id, ts);
  if (result != 0 || !is_wall_clock(id)) return result;
  long long total = (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec + current_offset();
  ts->tv_sec = (time_t)(total / 1000000000LL);
  ts->tv_nsec = (long)(total % 1000000000LL);
  if (ts->tv_nsec < 0) ts->tv_nsec += 1000000000L, ts->tv_sec -= 1;
  return 0;
}

int gettimeofday(struct timeval *tv, void *tz) {
  struct timespec ts;
  (void)tz;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return -1;
  tv->tv_sec = ts.tv_sec; /* never null: glibc declares it so */
  tv->tv_usec = ts.tv_nsec / 1000;
  return 0;
}

time_t time(time_t *out) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return (time_t)-1;
  if (out) *out = ts.tv_sec;
  return ts.tv_sec;
}
