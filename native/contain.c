/*
 * kanban-contain: runs one worker so that every process it starts ends with it.
 *
 *   kanban-contain <grace_ms> <report_fd> <parent_pid> -- <command> [args...]
 *   kanban-contain --check        exits 0 when this machine supports what the container needs
 *
 * The container makes itself a child subreaper (Linux >= 3.4), so that every orphaned descendant
 * (a daemon that called setsid, a double fork, a process whose environment was cleared) is
 * re-parented to it rather than to init, and starts the command as its child, in the container's
 * process group (the container is started as a group leader). It finds the run's processes as the tree of parent pids rooted at itself in /proc, never by
 * group or environment.
 *
 * - SIGTERM, SIGINT or SIGHUP sent to the container are forwarded to every descendant (and
 *   SIGCONT, so that a stopped one can act on it); grace_ms later, SIGKILL to those still alive.
 *   Other signals are ignored by the container (the worker, in its process group, gets its own).
 * - When the command exits, the descendants it left get SIGTERM, and SIGKILL grace_ms later.
 * - The container ends with the process that started it, parent_pid: when that one dies (SIGKILL,
 *   the OOM killer), the kernel sends the container SIGTERM (PR_SET_PDEATHSIG), which it acts on as
 *   above. Its worker must not run on with nobody to watch it, hold its lease or record its end. A
 *   container whose parent is already gone when it starts does not start the command (exit 125).
 * - It is two: the container started (the outer one) runs a second one (`--inner` in place of `--`,
 *   the same program) as its child, which runs the command. Each ends with the other: the inner one
 *   gets SIGTERM when the outer one dies, and when the inner one dies, the processes it adopted are
 *   re-parented to the outer one, which stops them as it would a dead worker's. So a daemon the worker
 *   started a moment before the container was SIGKILLed (before any member line named it) is still
 *   stopped. While the inner one lives, the outer one leaves the tree to it: a signal it acts on goes
 *   to the inner one alone, and only if the inner one is still there INNER_SPARE_MS after the grace
 *   (stopped, stuck) does the outer one SIGKILL the whole tree. It reports no member lines (the inner
 *   one does) and never names the inner one in a killed line.
 * - The container exits once no descendant is left, with the command's exit code, or dies of the
 *   signal that ended the command.
 * - One line per process it had to stop goes to report_fd (-1: none):
 *     killed <pid> <comm> <signal>        (the last signal it sent to that process)
 *   and, while the command runs, one line per descendant as the container first sees it (it looks
 *   ten times a second for the first 3 s, then twice a second), so that whoever started the
 *   container can stop them should the container itself be killed (SIGKILL, the OOM killer: a
 *   subreaper that is gone re-parents nothing):
 *     member <pid> <start time in clock ticks since boot>
 *   and, when the command could not be started: exec-failed <errno name>.
 *   The container writes nothing of its own to stdout or stderr, except a usage error or a failed
 *   fork or exec (exit 125, or 127/126 like a shell for a command not found / not executable).
 *
 * It compiles as C99 and as C++ (g++ -x c++) and uses no heap: its tables have fixed sizes, and a
 * run with more processes than they hold is handled over several rounds.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef PR_SET_CHILD_SUBREAPER
#define PR_SET_CHILD_SUBREAPER 36
#endif
#ifndef NSIG
#define NSIG 65
#endif

#define EXIT_CONTAINER_FAILED 125
#define MAX_GRACE_MS 86400000LL /* a day */
#ifndef MAX_DESCENDANTS
#define MAX_DESCENDANTS 4096 /* found by one scan; more are found once these are gone */
#endif
#ifndef MAX_TRACKED
#define MAX_TRACKED 1024 /* signalled processes whose end is not yet reported */
#endif
#define MAX_SCAN_PASSES 64
#define POLL_MS 100      /* rescan while descendants are given their grace */
#define KILL_POLL_MS 20  /* rescan once SIGKILL has been sent */
#define IDLE_WAIT_MS 1000
#define MEMBER_SCAN_MS 500 /* how often a running worker's descendants are looked at, to report new ones */
#define EARLY_MEMBER_SCAN_MS 100 /* as often in its first seconds, when workers start their daemons */
#define EARLY_MS 3000
#ifndef MAX_MEMBERS
#define MAX_MEMBERS 1024 /* descendants reported and still alive; past it, new ones go unreported */
#endif
#define COMM_SIZE 17

enum phase { RUNNING, TERMINATING, KILLING };

/* One process of /proc: what a scan needs to know and to report about it. */
struct proc {
  pid_t pid;
  pid_t ppid;
  unsigned long long start; /* start time in clock ticks since boot: with the pid, its identity */
  char state;
  char comm[COMM_SIZE]; /* sanitized */
};

/* A process the container signalled, until its end is reported. */
struct track {
  pid_t pid;
  unsigned long long start;
  int sig;      /* the last signal sent */
  int reported; /* its line is written (when SIGKILL was sent) */
  int seen;     /* alive at the latest scan */
  char comm[COMM_SIZE];
};

static struct proc found[MAX_DESCENDANTS];
static int nfound;
static struct track tracks[MAX_TRACKED];
static int ntracks;
/* The descendants reported as members, alive at the latest scan. */
static struct { pid_t pid; unsigned long long start; } members[MAX_MEMBERS];
static int nmembers;
static pid_t self;
static int report_fd = -1;
static pid_t inner_pid = -1; /* the outer container's child: the inner container */
static int inner_alive;        /* the inner container has not ended: the tree is its to stop */
#define INNER_SPARE_MS 2000    /* after the grace, before the outer container stops a stuck inner one */

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_all(int fd, const char *text, size_t length) {
  while (length > 0) {
    ssize_t n = write(fd, text, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text += n;
    length -= (size_t)n;
  }
}

/* A line to report_fd. The descriptor is non-blocking: a reader that does not read loses lines, it
 * never stalls the container. A reader that is gone ends the reporting. */
static void report(const char *line) {
  size_t length = strlen(line);
  while (report_fd >= 0) {
    ssize_t n = write(report_fd, line, length);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) report_fd = -1;
    return; /* lines are shorter than PIPE_BUF: written whole or not at all */
  }
}

static const char *signal_name(int sig) {
  switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    case SIGKILL: return "SIGKILL";
    default: return "SIGNAL";
  }
}

static void report_kill(pid_t pid, const char *comm, int sig) {
  char line[96];
  if (pid == inner_pid) return; /* the container's own */
  snprintf(line, sizeof line, "killed %d %s %s\n", (int)pid, comm, signal_name(sig));
  report(line);
}

static const char *errno_name(int error) {
  switch (error) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOEXEC: return "ENOEXEC";
    case ENOTDIR: return "ENOTDIR";
    case ELOOP: return "ELOOP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case E2BIG: return "E2BIG";
    case ENOMEM: return "ENOMEM";
    case ETXTBSY: return "ETXTBSY";
    case EISDIR: return "EISDIR";
    default: return "EOTHER";
  }
}

/* A decimal number made of digits only (no sign, no space), at most max; -1 if it is not one. */
static long long parse_count(const char *text, long long max) {
  long long value = 0;
  if (*text == '\0') return -1;
  for (; *text; text++) {
    if (*text < '0' || *text > '9') return -1;
    value = value * 10 + (*text - '0');
    if (value > max) return -1;
  }
  return value;
}

/* Reads /proc/<pid>/stat; 0 on success. The command name is between the first '(' and the last ')'
 * (it may itself hold parentheses and spaces); it is kept with anything unprintable or blank as '?'. */
static int read_stat(pid_t pid, struct proc *out) {
  char path[40], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd;
  do fd = open(path, O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return -1;
  ssize_t n;
  do n = read(fd, buf, sizeof buf - 1);
  while (n < 0 && errno == EINTR);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  char *open_paren = strchr(buf, '(');
  char *close_paren = strrchr(buf, ')');
  if (open_paren == NULL || close_paren == NULL || close_paren < open_paren || close_paren[1] != ' ') return -1;
  size_t length = (size_t)(close_paren - open_paren - 1), i;
  if (length > COMM_SIZE - 1) length = COMM_SIZE - 1;
  for (i = 0; i < length; i++) {
    char c = open_paren[1 + i];
    out->comm[i] = (c > ' ' && c < 127) ? c : '?';
  }
  if (length == 0) out->comm[length++] = '?';
  out->comm[length] = '\0';
  char *p = close_paren + 2;
  out->state = *p++;
  /* fields 4 (ppid) to 22 (starttime) */
  int field;
  for (field = 4; field <= 22; field++) {
    char *end;
    long long value = strtoll(p, &end, 10);
    if (end == p) return -1;
    p = end;
    if (field == 4) out->ppid = (pid_t)value;
    if (field == 22) out->start = (unsigned long long)value;
  }
  out->pid = pid;
  return 0;
}

static int is_zombie(const struct proc *p) {
  return p->state == 'Z' || p->state == 'X' || p->state == 'x';
}

static int found_index(pid_t pid) {
  int i;
  for (i = 0; i < nfound; i++)
    if (found[i].pid == pid) return i;
  return -1;
}

static pid_t parse_pid(const char *name) {
  long long value = parse_count(name, 0x7fffffff);
  return (pid_t)value;
}

/* Finds every descendant: the processes whose chain of parents leads to the container. /proc lists
 * processes by pid, so a child with a lower pid than its parent (pids wrap) is found by another pass.
 * Returns how many were found (zombies too), or -1 when /proc cannot be read. */
static int scan(void) {
  int passes = 0, added;
  nfound = 0;
  do {
    DIR *dir = opendir("/proc");
    if (dir == NULL) return -1;
    struct dirent *entry;
    added = 0;
    while (nfound < MAX_DESCENDANTS && (entry = readdir(dir)) != NULL) {
      pid_t pid = parse_pid(entry->d_name);
      if (pid <= 1 || pid == self || found_index(pid) >= 0) continue;
      struct proc p;
      if (read_stat(pid, &p) != 0) continue;
      if (p.ppid != self && found_index(p.ppid) < 0) continue;
      found[nfound++] = p;
      added++;
    }
    closedir(dir);
  } while (added > 0 && nfound < MAX_DESCENDANTS && ++passes < MAX_SCAN_PASSES);
  return nfound;
}

/* Whether the process a scan found is still that process (its pid was not reused since). */
static int still_same(const struct proc *p) {
  struct proc now;
  return read_stat(p->pid, &now) == 0 && now.start == p->start;
}

/* Signals a process a scan found, unless it is gone: through a pidfd where the kernel has them
 * (Linux >= 5.3), so that the process checked is the process signalled; else by pid, just after
 * checking it. Never the container, init, or a process group. 0 when sent. */
static int send_signal(const struct proc *p, int sig) {
  if (p->pid <= 1 || p->pid == self) return -1;
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_send_signal)
  int fd = (int)syscall(SYS_pidfd_open, (int)p->pid, 0);
  if (fd >= 0) {
    int result = -1;
    if (still_same(p)) result = (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
    close(fd);
    return result;
  }
  if (errno == ESRCH) return -1;
#endif
  if (!still_same(p)) return -1;
  return kill(p->pid, sig);
}

static struct track *find_track(pid_t pid, unsigned long long start) {
  int i;
  for (i = 0; i < ntracks; i++)
    if (tracks[i].pid == pid && tracks[i].start == start) return &tracks[i];
  return NULL;
}

static int add_track(const struct proc *p, int sig, int reported) {
  if (ntracks >= MAX_TRACKED) return -1;
  struct track *t = &tracks[ntracks++];
  t->pid = p->pid;
  t->start = p->start;
  t->sig = sig;
  t->reported = reported;
  t->seen = 1;
  memcpy(t->comm, p->comm, sizeof t->comm);
  return 0;
}

/* After a scan: the signalled processes it did not find alive have ended; their lines are written. */
static void report_ended(void) {
  int i;
  for (i = 0; i < ntracks; i++) tracks[i].seen = 0;
  for (i = 0; i < nfound; i++) {
    struct track *t = find_track(found[i].pid, found[i].start);
    if (t != NULL && !is_zombie(&found[i])) t->seen = 1;
  }
  int kept = 0;
  for (i = 0; i < ntracks; i++) {
    if (tracks[i].seen) tracks[kept++] = tracks[i];
    else if (!tracks[i].reported) report_kill(tracks[i].pid, tracks[i].comm, tracks[i].sig);
  }
  ntracks = kept;
}

/* After a scan while the command runs: each descendant not reported yet is (`member <pid> <start>`);
 * those that ended are forgotten. */
static void report_members(void) {
  int i, k, kept = 0;
  for (k = 0; k < nmembers; k++) {
    for (i = 0; i < nfound; i++) {
      if (found[i].pid == members[k].pid && found[i].start == members[k].start) break;
    }
    if (i < nfound) members[kept++] = members[k];
  }
  nmembers = kept;
  for (i = 0; i < nfound; i++) {
    if (is_zombie(&found[i])) continue;
    for (k = 0; k < nmembers; k++) {
      if (members[k].pid == found[i].pid && members[k].start == found[i].start) break;
    }
    if (k < nmembers || nmembers == MAX_MEMBERS) continue;
    members[nmembers].pid = found[i].pid;
    members[nmembers].start = found[i].start;
    nmembers++;
    char line[96];
    snprintf(line, sizeof line, "member %d %llu\n", (int)found[i].pid, found[i].start);
    report(line);
  }
}

/* Sends sig (and SIGCONT) to the live descendants the latest scan found; with only_new, to those not
 * signalled yet. To the inner container alone while it lives: the tree is its to stop. */
static void terminate_found(int sig, int only_new) {
  int i;
  for (i = 0; i < nfound; i++) {
    const struct proc *p = &found[i];
    if (is_zombie(p) || (inner_alive && p->pid != inner_pid)) continue;
    struct track *t = find_track(p->pid, p->start);
    if (t != NULL && only_new) continue;
    if (send_signal(p, sig) != 0) continue;
    send_signal(p, SIGCONT);
    if (t != NULL) {
      if (!t->reported) t->sig = sig;
    } else if (add_track(p, sig, 0) != 0) {
      report_kill(p->pid, p->comm, sig); /* cannot wait to see it end: said now */
    }
  }
}

/* SIGKILL to every descendant the latest scan found (a zombie too: a zombie leader may still have
 * live threads); each live one is reported once. */
static void kill_found(void) {
  int i;
  for (i = 0; i < nfound; i++) {
    const struct proc *p = &found[i];
    if (send_signal(p, SIGKILL) != 0 || is_zombie(p)) continue;
    struct track *t = find_track(p->pid, p->start);
    if (t != NULL && t->reported) continue;
    report_kill(p->pid, p->comm, SIGKILL);
    if (t != NULL) {
      t->reported = 1;
      t->sig = SIGKILL;
    } else {
      add_track(p, SIGKILL, 1);
    }
  }
}

/* Reaps every child that has ended, noting the worker's status. 1 when no child is left at all. */
static int reap(pid_t worker, int *worker_done, int *worker_status) {
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      if (pid == worker) {
        *worker_done = 1;
        *worker_status = status;
        inner_alive = 0;
      }
      continue;
    }
    if (pid == 0) return 0;
    if (errno == EINTR) continue;
    return errno == ECHILD;
  }
}

/* The worker: default signal dispositions and mask (as it would have had without the container),
 * no report descriptor, killed if the container dies. For the outer container, the inner one instead:
 * the same program and arguments, with this container as its parent and `--inner`, keeping the report
 * descriptor. Never returns. */
static void run_worker(char **argv, char **command, pid_t container, int nested) {
  int sig;
  sigset_t none;
  for (sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  prctl(PR_SET_PDEATHSIG, (unsigned long)SIGKILL, 0UL, 0UL, 0UL);
  if (getppid() != container) _exit(EXIT_CONTAINER_FAILED); /* the container is already gone */
  if (nested) {
    char parent[24];
    snprintf(parent, sizeof parent, "%d", (int)container);
    argv[3] = parent;
    argv[4] = (char *)"--inner";
    /* By its path, so that its name (comm) is this program's; by /proc/self/exe should the file have
     * been replaced since (an upgrade while runs go on). */
    char path[4096];
    ssize_t length = readlink("/proc/self/exe", path, sizeof path - 1);
    if (length > 0) {
      path[length] = '\0';
      execv(path, argv);
    }
    execv("/proc/self/exe", argv);
    char line[200];
    snprintf(line, sizeof line, "kanban-contain: cannot start its inner container: %s\n", strerror(errno));
    write_all(2, line, strlen(line));
    _exit(EXIT_CONTAINER_FAILED);
  }
  if (report_fd >= 0) fcntl(report_fd, F_SETFD, FD_CLOEXEC);
  execvp(command[0], command);
  int error = errno;
  char line[600];
  snprintf(line, sizeof line, "kanban-contain: cannot run %.500s: %s\n", command[0], strerror(error));
  write_all(2, line, strlen(line));
  snprintf(line, sizeof line, "exec-failed %s\n", errno_name(error));
  report(line);
  _exit(error == ENOENT ? 127 : 126);
}

/* Ends the container as the worker ended: its exit code, or the signal that killed it. */
static void finish(int status) {
  int i;
  for (i = 0; i < ntracks; i++)
    if (!tracks[i].reported) report_kill(tracks[i].pid, tracks[i].comm, tracks[i].sig);
  if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    struct rlimit no_core;
    sigset_t only;
    no_core.rlim_cur = 0;
    no_core.rlim_max = 0;
    setrlimit(RLIMIT_CORE, &no_core); /* the worker's crash, not the container's: no core of ours */
    prctl(PR_SET_DUMPABLE, 0UL, 0UL, 0UL, 0UL);
    signal(sig, SIG_DFL);
    sigemptyset(&only);
    sigaddset(&only, sig);
    sigprocmask(SIG_UNBLOCK, &only, NULL);
    kill(getpid(), sig);
    _exit(128 + sig); /* a signal whose default is not to end a process */
  }
  _exit(EXIT_CONTAINER_FAILED);
}

static void ignore_signal(int sig) {
  (void)sig;
}

/* Any other signal sent to the container (to its process group, say: SIGUSR1, SIGQUIT, SIGALRM...)
 * is the worker's business: the container ignores it, and ends as the worker does, after stopping
 * what is left (dying of it would leave the daemons behind). Its own faults keep their default. */
static void ignore_stray_signals(void) {
  int sig;
  for (sig = 1; sig < NSIG; sig++) {
    switch (sig) {
      case SIGKILL: case SIGSTOP: case SIGTERM: case SIGINT: case SIGHUP: case SIGCHLD:
      case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL: case SIGTRAP: case SIGSYS: case SIGABRT:
        break;
      default:
        signal(sig, SIG_IGN); /* fails harmlessly for the signals the C library keeps for itself */
    }
  }
}

static int usage(void) {
  static const char text[] = "kanban-contain: usage: kanban-contain <grace_ms> <report_fd> <parent_pid> -- <command> [args...]\n";
  write_all(2, text, sizeof text - 1);
  return EXIT_CONTAINER_FAILED;
}

/* --check: whether this kernel makes subreapers and /proc shows what a scan reads. */
static int check(void) {
  struct proc p;
  if (prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL) != 0) return 1;
  if (read_stat(getpid(), &p) != 0 || p.ppid != getppid()) return 1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--check") == 0) return check();
  if (argc < 6 || (strcmp(argv[4], "--") != 0 && strcmp(argv[4], "--inner") != 0)) return usage();
  int nested = strcmp(argv[4], "--") == 0; /* the outer container: runs the inner one */
  long long grace_ms = parse_count(argv[1], MAX_GRACE_MS);
  int no_report = strcmp(argv[2], "-1") == 0;
  long long fd = no_report ? -1 : parse_count(argv[2], 1 << 20);
  long long parent = parse_count(argv[3], 0x7fffffff);
  if (grace_ms < 0 || (!no_report && fd < 3) || parent < 1) return usage();
  char **command = &argv[5];
  self = getpid();
  if (fd >= 0 && fcntl((int)fd, F_GETFD) >= 0) {
    report_fd = (int)fd;
    fcntl(report_fd, F_SETFL, fcntl(report_fd, F_GETFL) | O_NONBLOCK);
  }

  /* The signals the container acts on are blocked and taken with sigtimedwait; the handler only
   * makes sure none of them is ignored (an ignored SIGCHLD would reap children by itself). */
  sigset_t handled;
  struct sigaction action;
  sigemptyset(&handled);
  sigaddset(&handled, SIGTERM);
  sigaddset(&handled, SIGINT);
  sigaddset(&handled, SIGHUP);
  sigaddset(&handled, SIGCHLD);
  sigprocmask(SIG_BLOCK, &handled, NULL);
  memset(&action, 0, sizeof action);
  action.sa_handler = ignore_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);
  sigaction(SIGHUP, &action, NULL);
  sigaction(SIGCHLD, &action, NULL);
  ignore_stray_signals(); /* SIGPIPE too: a report reader that is gone is not fatal */

  /* Ends with its parent: SIGTERM (blocked above, so taken below) once the parent dies. Checked
   * after it is set, so that a parent that died before cannot be missed. */
  if (prctl(PR_SET_PDEATHSIG, (unsigned long)SIGTERM, 0UL, 0UL, 0UL) != 0) report("warning no-parent-death-signal\n");
  if (getppid() != (pid_t)parent) {
    static const char gone[] = "kanban-contain: the process that started it is gone: not starting the command\n";
    write_all(2, gone, sizeof gone - 1);
    return EXIT_CONTAINER_FAILED;
  }

  if (prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL) != 0) report("warning no-subreaper\n");

  pid_t worker = fork();
  if (worker < 0) {
    char line[200];
    snprintf(line, sizeof line, "kanban-contain: cannot start a process: %s\n", strerror(errno));
    write_all(2, line, strlen(line));
    return EXIT_CONTAINER_FAILED;
  }
  if (worker == 0) run_worker(argv, command, self, nested);
  if (nested) {
    inner_pid = worker;
    inner_alive = 1;
  }

  /* The worker's stdin and stdout are its own: the container keeps neither open (a writer to the
   * worker's stdin sees it close when the worker and its processes are gone, not later). Stderr
   * stays, for the container's own failures. */
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd >= 0) {
    dup2(null_fd, 0);
    dup2(null_fd, 1);
    if (null_fd > 2) close(null_fd);
  }

  enum phase phase = RUNNING;
  int worker_done = 0, worker_status = 0, stop_signal = SIGTERM;
  long long deadline = 0, next_members = 0, started_ms = now_ms();
  for (;;) {
    int no_children = reap(worker, &worker_done, &worker_status);
    long long now = now_ms();
    int reports_members = report_fd >= 0 && !nested;
    if (phase == RUNNING && !worker_done && reports_members && now >= next_members) {
      if (scan() >= 0) report_members();
      next_members = now + (now - started_ms < EARLY_MS ? EARLY_MEMBER_SCAN_MS : MEMBER_SCAN_MS);
    }
    if (worker_done || phase != RUNNING) {
      int count = scan();
      if (count >= 0) report_ended();
      if (count < 0 && worker_done) break; /* no /proc: what is left cannot be found */
      if (worker_done && no_children && count <= 0) break;
      if (phase == RUNNING) {
        phase = TERMINATING; /* the worker has ended and left processes behind */
        deadline = now + grace_ms;
        terminate_found(SIGTERM, 0);
      } else if (phase == TERMINATING && now < deadline) {
        terminate_found(stop_signal, 1); /* started since */
      } else {
        phase = KILLING;
        if (count >= 0) kill_found();
        else if (!worker_done) kill(worker, SIGKILL); /* a child not yet reaped: its pid is still its own */
      }
    }

    long long wait_ms = reports_members && phase == RUNNING && !worker_done ? next_members - now : IDLE_WAIT_MS;
    if (phase == TERMINATING) wait_ms = deadline - now < POLL_MS ? deadline - now : POLL_MS;
    else if (phase == KILLING) wait_ms = KILL_POLL_MS;
    if (wait_ms < 0) wait_ms = 0;
    struct timespec timeout;
    timeout.tv_sec = (time_t)(wait_ms / 1000);
    timeout.tv_nsec = (long)(wait_ms % 1000) * 1000000L;
    siginfo_t info;
    int sig = sigtimedwait(&handled, &info, &timeout);
    if (sig != SIGTERM && sig != SIGINT && sig != SIGHUP) continue; /* SIGCHLD, timeout or EINTR */
    if (phase == KILLING) continue;
    int count = scan();
    if (count >= 0) terminate_found(sig, 0);
    else if (!worker_done) kill(worker, sig);
    if (phase == RUNNING) {
      phase = TERMINATING;
      stop_signal = sig;
      deadline = now_ms() + grace_ms + (inner_alive ? INNER_SPARE_MS : 0);
    }
  }
  finish(worker_status);
  return EXIT_CONTAINER_FAILED;
}
