/*
 * fsync-shim: an LD_PRELOAD library for the benchmarks.
 *
 * 1. Counts every fsync(2) / fdatasync(2) of the process into a 16-byte counter file that
 *    the benchmark reads live (shared mmap), so "fsyncs per shipment" is measured at the
 *    system-call boundary instead of inferred from the store's commit count.
 * 2. Optionally makes every sync as slow as an SD card (SD-card mode): a Raspberry Pi's SD
 *    card syncs in 4-10 ms with spikes of 35-180 ms, where this machine's disk takes ~0.2 ms.
 *
 * Environment:
 *   FSYNC_SHIM_COUNTER   path of the counter file (created; eight uint64: sync calls, ns spent
 *                        in the real syncs, bytes written to regular files by pwrite/pwrite64,
 *                        syncs made on the process's main thread (each one blocks Node's event
 *                        loop), ns the main thread spent in syncs and ns all threads spent in
 *                        syncs, both including the added delay, and the thread ids of the
 *                        thread that writes the WAL (the store writer) and of another thread
 *                        that writes the database file (the WAL checkpointer))
 *   FSYNC_SHIM_DELAY_MS  extra delay per sync, milliseconds (float; default 0)
 *   FSYNC_SHIM_SPIKE_EVERY / FSYNC_SHIM_SPIKE_MS   every Nth sync takes SPIKE_MS instead
 *   FSYNC_SHIM_SPIKE_MAX_MS  if set (> SPIKE_MS), each spike takes a duration spread evenly
 *                        between SPIKE_MS and SPIKE_MAX_MS (an SD card's 35-180 ms), drawn
 *                        from the sync's sequence number, so runs are reproducible
 *
 * Build: cc -O2 -shared -fPIC -o fsync-shim.so fsync-shim.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
/* [0] sync calls, [1] ns inside real syncs, [2] file bytes written, [3] main-thread syncs,
 * [4] ns in main-thread syncs incl. delay, [5] ns in all syncs incl. delay */
/* [6] tid of the thread that writes SQLite's WAL (the store writer), [7] tid of another
 * thread that writes the database file itself (the WAL checkpointer): the bench splits the
 * process's CPU by thread (/proc/<pid>/task/<tid>/stat) with these. */
#define COUNTER_BYTES 64
static volatile uint64_t *counter;
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static double delay_ms, spike_ms, spike_max_ms;
static long spike_every;

__attribute__((constructor)) static void shim_init(void) {
  real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  real_pwrite = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
  real_pwrite64 = (ssize_t(*)(int, const void *, size_t, off64_t))dlsym(RTLD_NEXT, "pwrite64");
  const char *d = getenv("FSYNC_SHIM_DELAY_MS");
  const char *se = getenv("FSYNC_SHIM_SPIKE_EVERY");
  const char *sm = getenv("FSYNC_SHIM_SPIKE_MS");
  delay_ms = d ? atof(d) : 0.0;
  spike_every = se ? atol(se) : 0;
  spike_ms = sm ? atof(sm) : 0.0;
  const char *sx = getenv("FSYNC_SHIM_SPIKE_MAX_MS");
  spike_max_ms = sx ? atof(sx) : 0.0;
  const char *path = getenv("FSYNC_SHIM_COUNTER");
  if (path && *path) {
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    if (fd >= 0) {
      if (ftruncate(fd, COUNTER_BYTES) == 0) {
        void *p = mmap(NULL, COUNTER_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p != MAP_FAILED) counter = (volatile uint64_t *)p;
      }
      close(fd);
    }
  }
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(double ms) {
  if (ms <= 0) return;
  struct timespec ts = {(time_t)(ms / 1000), (long)((ms - (double)(time_t)(ms / 1000) * 1000) * 1e6)};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* splitmix64 of the sync's number: a reproducible spread of spike durations without shared
 * generator state between threads (SQLite syncs from its writer thread, others from elsewhere). */
static double spike_duration(uint64_t n) {
  if (spike_max_ms <= spike_ms) return spike_ms;
  uint64_t z = n + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return spike_ms + (spike_max_ms - spike_ms) * ((double)(z >> 11) / 9007199254740992.0);
}

static int counted(int (*fn)(int), int fd) {
  uint64_t t0 = now_ns();
  int rc = fn(fd);
  uint64_t n = 0;
  if (counter) {
    n = __atomic_add_fetch(&counter[0], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&counter[1], now_ns() - t0, __ATOMIC_RELAXED);
  }
  if (spike_every > 0 && n > 0 && n % (uint64_t)spike_every == 0) sleep_ms(spike_duration(n));
  else sleep_ms(delay_ms);
  if (counter) {
    uint64_t spent = now_ns() - t0;
    __atomic_add_fetch(&counter[5], spent, __ATOMIC_RELAXED);
    /* The main thread's tid is the pid: a sync there stalls Node's event loop. */
    if ((pid_t)syscall(SYS_gettid) == getpid()) {
      __atomic_add_fetch(&counter[3], 1, __ATOMIC_RELAXED);
      __atomic_add_fetch(&counter[4], spent, __ATOMIC_RELAXED);
    }
  }
  return rc;
}

int fsync(int fd) { return counted(real_fsync, fd); }
int fdatasync(int fd) { return counted(real_fdatasync, fd); }

/* Bytes that reach files (the SD-card wear figure). SQLite writes its WAL and database with
 * pwrite/pwrite64; plain write() is left alone so socket traffic pays no fstat. */
/* Per thread: the last fd looked at and what it was (0 other, 1 WAL, 2 database file), so a
 * thread's steady stream of page writes costs one readlink per fd, not one per write. */
static __thread int last_fd = -1;
static __thread int last_kind;
static __thread int is_wal_writer;

static int file_kind(int fd) {
  if (fd == last_fd) return last_kind;
  char link[64], path[512];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t len = readlink(link, path, sizeof path - 1);
  int kind = 0;
  if (len > 4) {
    path[len] = 0;
    if (len > 4 && strcmp(path + len - 4, "-wal") == 0) kind = 1;
    else if (len > 3 && strcmp(path + len - 3, ".db") == 0) kind = 2;
  }
  last_fd = fd;
  last_kind = kind;
  return kind;
}

static void note_thread(int fd) {
  if (!counter || is_wal_writer) return;
  pid_t tid = (pid_t)syscall(SYS_gettid);
  if (tid == getpid()) return;
  int kind = file_kind(fd);
  if (kind == 1) {
    is_wal_writer = 1;
    __atomic_store_n(&counter[6], (uint64_t)tid, __ATOMIC_RELAXED);
  } else if (kind == 2 && __atomic_load_n(&counter[6], __ATOMIC_RELAXED) != (uint64_t)tid) {
    __atomic_store_n(&counter[7], (uint64_t)tid, __ATOMIC_RELAXED);
  }
}

static void count_file_bytes(int fd, ssize_t n) {
  struct stat st;
  if (counter && n > 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    __atomic_add_fetch(&counter[2], (uint64_t)n, __ATOMIC_RELAXED);
    note_thread(fd);
  }
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off) {
  ssize_t n = real_pwrite(fd, buf, len, off);
  count_file_bytes(fd, n);
  return n;
}
ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off) {
  ssize_t n = real_pwrite64(fd, buf, len, off);
  count_file_bytes(fd, n);
  return n;
}
