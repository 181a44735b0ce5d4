/*
 * Processes: the process table, the scheduler, sleep/wakeup, fork, exit and
 * waitpid.
 *
 * Each process has a one-page kernel stack. Its kernel thread runs only
 * between a trap and the return to user mode; the kernel runs with
 * interrupts off, so a process is switched only where it chooses to (sleep,
 * or yield on a timer tick that interrupted user mode): that makes every
 * kernel data structure safe on one CPU without locks. The scheduler has its
 * own thread (the boot stack): sched() switches to it and it picks the next
 * RUNNABLE process round-robin, switching CR3 and the TSS's ESP0.
 */
#include "defs.h"
#include "file.h"
#include "mmu.h"
#include "proc.h"
#include "trap.h"
#include "x86.h"

struct proc proc[NPROC];

/*
 * For the host (the emulator's tests, a debugger): where to find things in
 * proc[] without a copy of these structures. ELF symbols `proc` and
 * `kproc_layout`; kernel virtual addresses are physical + KERNBASE.
 */
const u32 kproc_layout[] = {
    NPROC, sizeof(struct proc), offsetof(struct proc, state), offsetof(struct proc, pid),
    offsetof(struct proc, name), offsetof(struct proc, vs), offsetof(struct vmspace, pgdir), UNUSED,
};
/* The names of enum procstate by value, NULL-terminated (ELF symbol kproc_states). */
const char *const kproc_states[] = {
    [UNUSED] = "unused", [EMBRYO] = "embryo", [SLEEPING] = "sleeping", [RUNNABLE] = "runnable",
    [RUNNING] = "running", [ZOMBIE] = "zombie", NULL,
};
static struct proc *current;
static struct context *sched_context;
static struct proc *initproc;
static int nextpid = 1;
extern void trapret(void);

struct proc *myproc(void) { return current; }

/*
 * A process slot with a kernel stack arranged to start in forkret, then
 * trapret. NULL with *err -EAGAIN when the table is full, -ENOMEM when there
 * is no frame for the kernel stack.
 */
static struct proc *allocproc(int *err) {
    struct proc *p = NULL;
    for (int i = 0; i < NPROC; i++) if (proc[i].state == UNUSED) { p = &proc[i]; break; }
    if (!p) { *err = -11; return NULL; }        /* EAGAIN */
    u8 *kstack = kalloc();
    if (!kstack) { *err = -12; return NULL; }   /* ENOMEM */
    memset(p, 0, sizeof *p);
    p->kstack = kstack;
    p->state = EMBRYO;
    p->pid = nextpid++;
    u8 *sp = kstack + KSTACKSIZE;
    sp -= sizeof *p->tf;
    p->tf = (struct trapframe *)sp;
    sp -= 4;
    *(u32 *)sp = (u32)trapret;
    sp -= sizeof *p->context;
    p->context = (struct context *)sp;
    extern void forkret(void);
    p->context->eip = (u32)forkret;
    return p;
}

static void freeproc(struct proc *p) {
    kfree(p->kstack);
    p->kstack = NULL;
    p->state = UNUSED;
    p->pid = 0;
    p->parent = NULL;
}

static void set_name(struct proc *p, const char *path) {
    const char *base = path;
    for (const char *s = path; *s; s++) if (*s == '/') base = s + 1;
    strncpy_z(p->name, base, sizeof p->name);
}

static char **init_argv;

/* The first process: it will exec its program when it first runs (forkret). */
void userinit(char **argv) {
    init_argv = argv;
    int err;
    struct proc *p = allocproc(&err);
    if (!p) panic("userinit: no memory");
    initproc = p;
    set_name(p, "init");
    p->ofile[0] = file_console(0);
    p->ofile[1] = file_console(1);
    p->ofile[2] = file_dup(p->ofile[1]);
    p->state = RUNNABLE;
}

/*
 * A new process's first code in the kernel: the others return to user mode,
 * pid 1 first execs its program: init= from the command line, else
 * /bin/init (or /init).
 */
void forkret(void) {
    if (current == initproc && !current->vs) {
        static char *envp[] = { "HOME=/", "PATH=/bin", NULL };
        if (init_argv[0]) {
            int r = kexec(init_argv[0], init_argv, envp);
            if (r < 0) panic("cannot run %s (error %d)", init_argv[0], -r);
            return;
        }
        init_argv[0] = "/bin/init";
        int r = kexec(init_argv[0], init_argv, envp);
        if (r == -2) { init_argv[0] = "/init"; r = kexec(init_argv[0], init_argv, envp); }
        if (r < 0) panic("cannot run /bin/init or /init (error %d)", -r);
    }
}

void scheduler(void) {
    int next = 0;
    for (;;) {
        int ran = 0;
        for (int n = 0; n < NPROC; n++) {
            struct proc *p = &proc[(next + n) % NPROC];
            if (p->state != RUNNABLE) continue;
            current = p;
            p->state = RUNNING;
            if (p->vs) switch_uvm(p);
            else tss_set_kstack((u32)p->kstack + KSTACKSIZE);
            swtch(&sched_context, p->context);
            switch_kvm();
            current = NULL;
            next = (int)(p - proc) + 1;
            ran = 1;
            break;
        }
        if (!ran) { sti(); hlt(); cli(); }    /* nothing to run: wait for an interrupt */
    }
}

void sched(void) { swtch(&current->context, sched_context); }

void yield(void) {
    current->state = RUNNABLE;
    sched();
}

/* Wait for wakeup(chan). Callers loop on their condition. Before any process runs, wait for an interrupt. */
void sleep(void *chan) {
    if (!current) { sti(); hlt(); cli(); return; }
    current->chan = chan;
    current->state = SLEEPING;
    sched();
    current->chan = NULL;
}

void wakeup(void *chan) {
    for (int i = 0; i < NPROC; i++)
        if (proc[i].state == SLEEPING && proc[i].chan == chan) proc[i].state = RUNNABLE;
}

/*
 * Every tick: wake nanosleepers, and count whose time it was (a tick finds
 * a process running only when it interrupted user mode: the kernel runs
 * with interrupts off). Preemption happens in trap().
 */
void proc_timer_tick(void) {
    vmstat_tick(current != NULL);
    if (current && current->vs) current->vs->vtime++;
    wakeup(&ticks);
}

/* A kernel thread (the page daemon): a process with no address space that runs fn in the kernel forever. */
struct proc *kthread_start(const char *name, void (*fn)(void)) {
    int err;
    struct proc *p = allocproc(&err);
    if (!p) panic("cannot start %s", name);
    strncpy_z(p->name, name, sizeof p->name);
    p->context->eip = (u32)fn;
    p->state = RUNNABLE;
    return p;
}

int proc_fork(void) {
    int err = 0;
    struct proc *p = current, *np = mem_reserve(p->vs, 4) < 0 ? NULL : allocproc(&err);
    if (!np && err == 0) err = -12;             /* ENOMEM: memory and swap are full */
    if (!np) {
        printf("pid %d (%s): fork failed: %s\n", p->pid, p->name, err == -11 ? "no free process slot" : "out of memory");
        return err;
    }
    np->vs = vmspace_copy(p->vs, np->pid);
    if (!np->vs) {
        printf("pid %d (%s): fork failed: out of memory\n", p->pid, p->name);
        freeproc(np);
        return -12;                             /* ENOMEM */
    }
    *np->tf = *p->tf;
    np->tf->eax = 0;                            /* fork returns 0 in the child */
    for (int fd = 0; fd < NOFILE; fd++) if (p->ofile[fd]) np->ofile[fd] = file_dup(p->ofile[fd]);
    memcpy(np->name, p->name, sizeof np->name);
    np->parent = p;
    np->state = RUNNABLE;
    return np->pid;
}

/* End the current process with a waitpid status (Linux encoding). Init's end is the machine's. */
static void exit_with(int xstatus) __attribute__((noreturn));
static void exit_with(int xstatus) {
    struct proc *p = current;
    if (p == initproc) {
        int code = (xstatus & 0x7F) ? 128 + (xstatus & 0x7F) : (xstatus >> 8) & 0xFF;
        poweroff(code);
    }
    for (int fd = 0; fd < NOFILE; fd++) if (p->ofile[fd]) { file_close(p->ofile[fd]); p->ofile[fd] = NULL; }
    switch_kvm();
    if (p->vs) { vmspace_free(p->vs); p->vs = NULL; }
    for (int i = 0; i < NPROC; i++) {
        if (proc[i].parent == p) {
            proc[i].parent = initproc;
            if (proc[i].state == ZOMBIE) wakeup(initproc);
        }
    }
    p->xstatus = xstatus;
    p->state = ZOMBIE;
    wakeup(p->parent);
    sched();
    panic("a zombie ran");
}

void proc_exit(int status) { exit_with((status & 0xFF) << 8); }

/* Kill the current process for a fault it cannot recover from: one line, then as if by signal sig. */
void proc_kill(int sig, const char *fmt, ...) {
    va_list ap;
    printf("pid %d (%s): ", current->pid, current->name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    exit_with(sig);
}

/* kill(2): every signal kills (there are no handlers yet); the victim dies on its way back to user mode. */
int proc_signal(int pid, int sig) {
    if (sig < 0 || sig >= 65) return -22;       /* EINVAL */
    for (int i = 0; i < NPROC; i++) {
        struct proc *p = &proc[i];
        if (p->pid != pid || p->state == UNUSED || p->state == EMBRYO) continue;
        if (sig == 0 || p->state == ZOMBIE) return 0;
        if (p == initproc) return -1;           /* EPERM */
        p->killed = sig;
        if (p->state == SLEEPING) p->state = RUNNABLE;
        return 0;
    }
    return -3;                                  /* ESRCH */
}

/* Has the current process been killed (so a long sleep should give up)? */
int proc_killed(void) { return current && current->killed; }

/* Called before returning to user mode: die if killed. */
void proc_check_killed(void) {
    if (current && current->killed) exit_with(current->killed);
}

/* waitpid: pid -1 for any child. Returns the child's pid (0 with WNOHANG and none done), -ECHILD. */
int proc_wait(int pid, int *status, int options) {
    for (;;) {
        int have = 0;
        for (int i = 0; i < NPROC; i++) {
            struct proc *c = &proc[i];
            if (c->parent != current || c->state == UNUSED) continue;
            if (pid > 0 && c->pid != pid) continue;
            have = 1;
            if (c->state == ZOMBIE) {
                int cpid = c->pid;
                *status = c->xstatus;
                freeproc(c);
                return cpid;
            }
        }
        if (!have) return -10;                  /* ECHILD */
        if (options & 1) return 0;              /* WNOHANG */
        sleep(current);
    }
}
