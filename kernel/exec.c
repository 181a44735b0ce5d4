/*
 * execve: replace the current process's image with an ELF32 executable of
 * the root filesystem. Nothing is loaded: each PT_LOAD segment becomes a
 * region whose pages vm_fault reads from the file on first touch (and zero-
 * fills past p_filesz); the heap starts empty after the last segment; the
 * stack region is 8 MiB under KERNBASE, of which only the pages holding the
 * arguments get touched here. The initial stack is Linux's i386 one:
 * argc, argv[], NULL, envp[], NULL, auxv (AT_PAGESZ, AT_NULL), strings.
 * A process's fault counters carry over to the new image.
 * argv and envp are kernel copies (sys_execve made them), so the old image
 * can go as soon as the new one is complete.
 */
#include "defs.h"
#include "elf.h"
#include "fs.h"
#include "mmu.h"
#include "proc.h"
#include "trap.h"

#define ENOENT 2
#define E2BIG 7
#define ENOEXEC 8
#define ENOMEM 12
#define EFAULT 14
#define EACCES 13
#define AT_NULL 0
#define AT_PAGESZ 6

static int load_segments(struct vmspace *vs, struct inode *ip, struct elfhdr *eh) {
    struct proghdr ph;
    u32 top = 0;
    for (u32 i = 0; i < eh->phnum; i++) {
        if (fs_read(ip, &ph, eh->phoff + i * sizeof ph, sizeof ph, NULL) != sizeof ph) return -ENOEXEC;
        if (ph.type != PT_LOAD || ph.memsz == 0) continue;
        if (ph.filesz > ph.memsz || ph.vaddr + ph.memsz < ph.vaddr || ph.vaddr + ph.memsz > USTACK_TOP - USTACK_MAX - USTACK_GUARD)
            return -ENOEXEC;
        if (ph.off + ph.filesz < ph.off || ph.off + ph.filesz > ip->size) return -ENOEXEC;   /* truncated */
        u32 flags = VMA_FILE | ((ph.flags & PF_R) ? VMA_R : 0) | ((ph.flags & PF_W) ? VMA_W | VMA_R : 0) |
                    ((ph.flags & PF_X) ? VMA_X | VMA_R : 0);
        struct vma *v = vma_add(vs, PGROUNDDOWN(ph.vaddr), PGROUNDUP(ph.vaddr + ph.memsz), flags);
        if (!v) return -ENOEXEC;                /* segments sharing a page, or too many */
        v->ip = ip;
        v->file_va = ph.vaddr;
        v->file_off = ph.off;
        v->file_size = ph.filesz;
        if (v->end > top) top = v->end;
    }
    if (top == 0) return -ENOEXEC;
    vs->heap_start = vs->brk = top;
    if (!vma_add(vs, top, top, VMA_R | VMA_W | VMA_HEAP)) return -ENOMEM;
    if (!vma_add(vs, USTACK_TOP - USTACK_MAX, USTACK_TOP, VMA_R | VMA_W | VMA_STACK)) return -ENOMEM;
    return 0;
}

/* Copy the strings to the top of the new stack, then the vectors under them; returns the new ESP. */
static int build_stack(struct vmspace *vs, char **argv, char **envp, u32 *espp) {
    u32 argc = 0, envc = 0, sp = USTACK_TOP;
    while (argv[argc]) argc++;
    while (envp[envc]) envc++;
    if (argc + envc > MAXARG) return -E2BIG;
    u32 ptrs[MAXARG + 2];
    for (u32 i = 0; i < argc + envc; i++) {
        const char *s = i < argc ? argv[i] : envp[i - argc];
        u32 len = strlen(s) + 1;
        if (USTACK_TOP - sp + len > MAXARGLEN) return -E2BIG;
        sp -= len;
        if (copyout(vs, sp, s, len) < 0) return -ENOMEM;
        ptrs[i] = sp;
    }
    u32 words = 1 + argc + 1 + envc + 1 + 4;
    sp = (sp - words * 4) & ~15u;
    u32 vec[1 + MAXARG + 3 + 4], n = 0;
    vec[n++] = argc;
    for (u32 i = 0; i < argc; i++) vec[n++] = ptrs[i];
    vec[n++] = 0;
    for (u32 i = 0; i < envc; i++) vec[n++] = ptrs[argc + i];
    vec[n++] = 0;
    vec[n++] = AT_PAGESZ; vec[n++] = PGSIZE;
    vec[n++] = AT_NULL;   vec[n++] = 0;
    if (copyout(vs, sp, vec, n * 4) < 0) return -ENOMEM;
    *espp = sp;
    return 0;
}

int kexec(const char *path, char **argv, char **envp) {
    struct proc *p = myproc();
    struct inode *ip = fs_lookup(path);
    if (!ip) return -ENOENT;
    if (ip->type != I_FILE) return -EACCES;
    struct elfhdr eh;
    if (fs_read(ip, &eh, 0, sizeof eh, NULL) != sizeof eh) return -ENOEXEC;
    if (eh.magic != ELF_MAGIC || eh.class != 1 || eh.data != 1 || eh.type != ET_EXEC || eh.machine != EM_386 ||
        eh.phentsize != sizeof(struct proghdr) || eh.phnum == 0 || eh.phnum > 64)
        return -ENOEXEC;

    struct vmspace *vs = vmspace_new(p->pid);
    if (!vs) return -ENOMEM;
    u32 esp = 0;
    int r = load_segments(vs, ip, &eh);
    if (r == 0) r = build_stack(vs, argv, envp, &esp);
    if (r < 0) { vmspace_free(vs); return r; }

    struct vmspace *old = p->vs;
    if (old) {                                  /* fault counts and RLIMIT_RSS survive execve */
        vs->st = old->st;
        vs->rss_limit = old->rss_limit;
    }
    p->vs = vs;
    switch_uvm(p);
    if (old) vmspace_free(old);
    const char *name = path;
    for (const char *s = path; *s; s++) if (*s == '/') name = s + 1;
    strncpy_z(p->name, name, sizeof p->name);

    struct trapframe *tf = p->tf;
    memset(tf, 0, sizeof *tf);
    tf->cs = UCODE_SEL;
    tf->ds = tf->es = tf->fs = tf->gs = tf->ss = UDATA_SEL;
    tf->eflags = 0x202;                         /* IF */
    tf->eip = eh.entry;
    tf->esp = esp;
    return 0;
}
