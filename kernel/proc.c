/* Processes (to come). Before there are any, sleeping means waiting for an interrupt. */
#include "defs.h"
#include "x86.h"

/* Callers loop on their condition, so waking on any interrupt is correct. */
void sleep(void *chan) { (void)chan; sti(); hlt(); cli(); }
void wakeup(void *chan) { (void)chan; }
