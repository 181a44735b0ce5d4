/* Functions shared between the kernel's files, grouped by file. */
#ifndef DEFS_H
#define DEFS_H
#include <stdarg.h>
#include "types.h"

struct trapframe; struct proc; struct context; struct vma; struct vmspace; struct buf; struct file; struct inode;
struct multiboot_info;

/* console.c */
void console_init(void);
void console_putc(char c);
void console_intr(void);
void console_start_input(void);
int console_read(char *dst, u32 n);
int printf(const char *fmt, ...);
int bootlog(const char *fmt, ...);
extern int boot_quiet;
extern int console_tty;
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, u32 size, const char *fmt, ...);

/* panic.c */
void panic(const char *fmt, ...) __attribute__((noreturn));
void panic_trap(const char *what, struct trapframe *tf) __attribute__((noreturn));
void backtrace(u32 ebp);
void poweroff(int status) __attribute__((noreturn));
const char *symbol_for(u32 addr, u32 *offset);

/* string.c */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strncpy_z(char *d, const char *s, size_t n);

/* gdt.c */
void gdt_init(void);
void tss_set_kstack(u32 esp0);

/* trap.c */
void idt_init(void);
void trap(struct trapframe *tf);
extern u32 ticks;

/* pic.c, timer.c */
void pic_init(void);
void pic_enable(int irq);
void pic_eoi(int irq);
void timer_init(void);

/* kalloc.c */
void kalloc_init(struct multiboot_info *mb);
extern int kalloc_atomic;
const char *cmdline_arg(const char *key);
void *kalloc(void);
void kfree(void *page);
u32 frames_free(void);
u32 frames_total(void);
void frame_set(u32 pa, u8 use, u32 owner, u32 va);
int frame_unref(u32 pa);
extern u32 phys_top;

/* pageout.c */
u32 frame_pte_bits(u32 fn, u32 bits, int clear);
int frame_referenced(u32 fn);
int frame_io_done(u32 fn);
int frame_map(struct vmspace *vs, u32 va, u32 fn);
void frame_unmap(struct vmspace *vs, u32 va, u32 fn);
void frame_unmap_pte(struct vmspace *vs, u32 va, u32 fn, pte_t e);
void frame_drop_slot(u32 fn);
void pte_release(struct vmspace *vs, u32 va, pte_t e);
void freeq_forget(u32 fn);
int reclaim_one(struct vmspace *only);
int mem_reserve(struct vmspace *vs, u32 n);
void kswapd_check(void);
void kswapd_start(void);

/* rmap.c */
int rmap_add(u32 fn, struct vmspace *vs, u32 va);
void rmap_del(u32 fn, struct vmspace *vs, u32 va);
u32 rmap_count(u32 fn);
int rmap_nth(u32 fn, u32 i, struct vmspace **vs, u32 *va);

/* pagecache.c */
u32 pagecache_find(struct inode *ip, u32 index);
void pagecache_insert(u32 fn, struct inode *ip, u32 index);
void pagecache_remove(u32 fn);

/* replace.c */
u32 policy_victim(struct vmspace *only, int want);
void replace_init(void);

/* vmstat.c */
void vmstat_tick(int busy);
void vmstat_resident(int delta);
void vmstat_fault(struct vmspace *vs, u32 offset);
int vmstat_format(char *buf, u32 size);

/* kmalloc.c */
void *kmalloc(u32 n);
void kmfree(void *p);

/* vm.c */
void vm_init(void);
void vm_selftest(void);
pde_t *pgdir_new(void);
void pgdir_free(pde_t *pgdir);
pte_t *walkpgdir(pde_t *pgdir, u32 va, int create);
int map_page(pde_t *pgdir, u32 va, u32 pa, u32 perm);
void unmap_range(pde_t *pgdir, struct vmspace *vs, u32 start, u32 end);
void switch_uvm(struct proc *p);
void switch_kvm(void);
extern pde_t *kpgdir;

/* ide.c */
void ide_init(void);
void ide_intr(int irq);
int ide_present(void);
int ide_io(int drive, u32 lba, u32 nsect, void **pages, int write);
u32 ide_sectors(int drive);
int ide_busy(void);

/* swap.c (the rest in swap.h) */
void swap_init(const char *cmdline);

/* bio.c */
void binit(void);
struct buf *bread(u32 sector, int *hit);
void brelse(struct buf *b);

/* fs.c */
void fs_init(void);
struct inode *fs_lookup(const char *path);
int fs_read(struct inode *ip, void *dst, u32 off, u32 n, int *disk_reads);

/* file.c */
struct file *file_open(const char *path, int *err);
struct file *file_dup(struct file *f);
void file_close(struct file *f);
int file_read(struct file *f, void *dst, u32 n);
int file_write(struct file *f, const void *src, u32 n);
struct file *file_console(int writable);

/* proc.c */
void userinit(char **argv);
void scheduler(void) __attribute__((noreturn));
void sched(void);
void yield(void);
void sleep(void *chan);
void wakeup(void *chan);
struct proc *myproc(void);
int proc_fork(void);
void proc_exit(int status) __attribute__((noreturn));
int proc_wait(int pid, int *status, int options);
void proc_kill(int sig, const char *fmt, ...);
void swtch(struct context **old, struct context *new);
void proc_timer_tick(void);
int proc_signal(int pid, int sig);
void proc_check_killed(void);
int proc_killed(void);
struct proc *kthread_start(const char *name, void (*fn)(void));

/* faultlog.c */
void fault_note(u32 outcome, u32 frame, u32 swap);
void fault_record(u32 addr, u32 err, u32 eip, int r);

/* vmfault.c */
int vm_fault(struct vmspace *vs, u32 va, int access, char *why, u32 whylen);
int copyout(struct vmspace *vs, u32 dst, const void *src, u32 n);
int copyin(struct vmspace *vs, void *dst, u32 src, u32 n);
int copyinstr(struct vmspace *vs, char *dst, u32 src, u32 max);
int uaccess_ok(struct vmspace *vs, u32 addr, u32 n, int write);
struct vmspace *vmspace_new(int pid);
void vmspace_free(struct vmspace *vs);
struct vmspace *vmspace_copy(struct vmspace *vs, int pid);
struct vma *vma_add(struct vmspace *vs, u32 start, u32 end, u32 flags);
struct vma *vma_find(struct vmspace *vs, u32 va);
int vm_munmap(struct vmspace *vs, u32 addr, u32 len);
u32 vm_mmap(struct vmspace *vs, u32 len, u32 prot, struct inode *ip, u32 off);
u32 vm_brk(struct vmspace *vs, u32 newbrk);
int vm_mlockall(struct vmspace *vs, u32 flags);
int vm_munlockall(struct vmspace *vs);

/* exec.c */
int kexec(const char *path, char **argv, char **envp);

/* syscall.c */
void syscall(struct trapframe *tf);

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#endif
