#define _GNU_SOURCE
#include "CFaultGuard.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define SLOTS 1024
#define PATH_BYTES 1024

// A slot is free (0), being written (1) or live (2). The handler reads only live slots.
static _Atomic int slot_state[SLOTS];
static uintptr_t slot_base[SLOTS];
static size_t slot_length[SLOTS];
static char slot_path[SLOTS][PATH_BYTES];
static atomic_int exit_status;
static atomic_int installed;
static int notify;

int speculators_fault_guard_register(const void *base, size_t length, const char *path) {
  for (int slot = 0; slot < SLOTS; slot++) {
    int expected = 0;
    if (atomic_compare_exchange_strong(&slot_state[slot], &expected, 1)) {
      slot_base[slot] = (uintptr_t)base;
      slot_length[slot] = length;
      strncpy(slot_path[slot], path, PATH_BYTES - 1);
      slot_path[slot][PATH_BYTES - 1] = 0;
      atomic_store(&slot_state[slot], 2);
      return slot;
    }
  }
  return -1;
}

void speculators_fault_guard_unregister(int slot) {
  if (slot >= 0 && slot < SLOTS) atomic_store(&slot_state[slot], 0);
}

int speculators_fault_guard_exit_status(void) { return atomic_load(&exit_status); }

static void put(const char *text, size_t length) {
  while (length > 0) {
    ssize_t written = write(STDERR_FILENO, text, length);
    if (written <= 0) return;
    text += written;
    length -= (size_t)written;
  }
}

/// Writes `path` with control bytes escaped as \xHH (the handler may not allocate).
static void put_path(const char *path) {
  static const char hex[] = "0123456789abcdef";
  for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
    if (*p < 0x20 || *p == 0x7f || *p == '\\') {
      char escaped[4] = {'\\', 'x', hex[*p >> 4], hex[*p & 15]};
      put(escaped, 4);
    } else {
      put((const char *)p, 1);
    }
  }
}

static void on_bus_error(int signo, siginfo_t *info, void *context) {
  (void)context;
  uintptr_t address = (uintptr_t)info->si_addr;
  for (int slot = 0; slot < SLOTS; slot++) {
    if (atomic_load(&slot_state[slot]) != 2) continue;
    if (address < slot_base[slot] || address - slot_base[slot] >= slot_length[slot]) continue;
    int expected = 0;
    if (atomic_compare_exchange_strong(&exit_status, &expected, 2)) {
      static const char prefix[] = "error: ";
      static const char reason[] =
          ": the file changed while being read (it is now shorter than when it was opened)\n";
      put(prefix, sizeof prefix - 1);
      put_path(slot_path[slot]);
      put(reason, sizeof reason - 1);
      kill(getpid(), notify);
    }
    // The notified handler removes what the run created and exits; nothing here may resume.
    for (;;) pause();
  }
  signal(signo, SIG_DFL);  // Not a guarded range: return, fault again, crash as usual.
}

void speculators_fault_guard_install(int notify_signal) {
  int expected = 0;
  if (!atomic_compare_exchange_strong(&installed, &expected, 1)) return;
  notify = notify_signal;
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_sigaction = on_bus_error;
  action.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&action.sa_mask);
  sigaction(SIGBUS, &action, NULL);
}
