/*
 * ATA PIO for four drives: hda/hdb on the primary channel (0x1F0, IRQ 14),
 * hdc/hdd on the secondary (0x170, IRQ 15). LBA28, up to 256 sectors a
 * command, READ/WRITE MULTIPLE (one DRQ block of up to 16 sectors, one IRQ
 * a block) where the drive supports it, else READ/WRITE SECTORS.
 *
 * A channel does one command at a time, so each has its queue of requests;
 * the head one is on the drive. The channel's IRQ moves a DRQ block
 * (insw/outsw), and when the request is done wakes its process (asleep in
 * ide_io) and starts the next. The two channels work in parallel. Before
 * the first process runs there is nobody to switch to, so ide_io polls the
 * Status register instead, with nIEN set so no interrupt is left behind.
 *
 * Data goes to or from kernel virtual addresses (the kernel half is mapped
 * in every address space, so the IRQ can move it whoever runs): 8 sectors
 * a page, pages[i / 8] + (i % 8) * 512 for sector i of the request.
 */
#include "defs.h"
#include "mmu.h"
#include "x86.h"

/* Command Block registers (offsets from the channel's base) and Device Control. */
#define REG_DATA   0
#define REG_ERROR  1
#define REG_COUNT  2
#define REG_LBA0   3
#define REG_LBA1   4
#define REG_LBA2   5
#define REG_DRIVE  6
#define REG_STATUS 7
#define REG_CMD    7
#define CTL_NIEN   0x02

#define ST_BSY  0x80
#define ST_DRDY 0x40
#define ST_DF   0x20
#define ST_DRQ  0x08
#define ST_ERR  0x01

#define CMD_READ       0x20
#define CMD_WRITE      0x30
#define CMD_READ_MULT  0xC4
#define CMD_WRITE_MULT 0xC5
#define CMD_SET_MULT   0xC6
#define CMD_IDENTIFY   0xEC

#define LBA28_LIMIT (1u << 28)

/* One transfer: sectors [lba, lba + nsect) of drive, scattered over pages. */
struct ide_req {
    int drive;
    u32 lba, nsect;
    void **pages;
    int write;
    u32 moved;                  /* sectors transferred so far */
    int done, error;
    struct ide_req *next;       /* the channel's queue */
};

struct channel {
    u16 base, ctl;
    int irq;
    struct ide_req *queue;      /* head: on the drive */
};

struct drive {
    u32 sectors;                /* 0: absent */
    u32 multiple;               /* sectors per DRQ block with READ/WRITE MULTIPLE; 0: not used */
};

static struct channel channels[2] = { { 0x1F0, 0x3F6, IRQ_IDE, NULL }, { 0x170, 0x376, IRQ_IDE2, NULL } };
static struct drive drives[4];
static const char *names[4] = { "hda", "hdb", "hdc", "hdd" };

static inline void outsw(u16 port, const void *src, u32 n) {
    __asm__ volatile("cld; rep outsw" : "+S"(src), "+c"(n) : "d"(port) : "memory");
}

static struct channel *chan_of(int drive) { return &channels[drive >> 1]; }

/* ATA asks for 400 ns after selecting a drive before Status means anything: 4 reads of Alternate Status. */
static void delay400(struct channel *c) {
    for (int i = 0; i < 4; i++) inb(c->ctl);
}

/* Wait while busy; the status, or -1 for nothing on the bus (all ones) or a timeout. */
static int ide_wait(struct channel *c) {
    for (u32 n = 0; n < 10000000; n++) {
        u8 st = inb(c->base + REG_STATUS);
        if (st == 0xFF) return -1;
        if (!(st & ST_BSY)) return st;
    }
    return -1;
}

static int failed(int st) { return st < 0 || (st & (ST_ERR | ST_DF)); }

/* Selects the drive and writes the task file and the command (LBA mode). */
static void ide_command(int drive, u32 lba, u32 count, u8 cmd, int polled) {
    struct channel *c = chan_of(drive);
    outb(c->ctl, polled ? CTL_NIEN : 0);
    outb(c->base + REG_DRIVE, 0xE0 | ((drive & 1) << 4) | ((lba >> 24) & 0x0F));
    delay400(c);
    ide_wait(c);
    outb(c->base + REG_COUNT, (u8)count);               /* 256 is written as 0 */
    outb(c->base + REG_LBA0, (u8)lba);
    outb(c->base + REG_LBA1, (u8)(lba >> 8));
    outb(c->base + REG_LBA2, (u8)(lba >> 16));
    outb(c->base + REG_CMD, cmd);
}

/* Sectors in the request's next DRQ block. */
static u32 block_sectors(struct ide_req *r) {
    u32 per = drives[r->drive].multiple ? drives[r->drive].multiple : 1;
    u32 left = r->nsect - r->moved;
    return left < per ? left : per;
}

/* Moves the next DRQ block between the data port and the request's pages, a sector at a time. */
static void move_block(struct ide_req *r) {
    u16 data = chan_of(r->drive)->base + REG_DATA;
    for (u32 n = block_sectors(r); n > 0; n--, r->moved++) {
        u8 *p = (u8 *)r->pages[r->moved >> 3] + (r->moved & 7) * 512;
        if (r->write) outsw(data, p, 256);
        else insw(data, p, 256);
    }
}

static void ide_start(struct ide_req *r, int polled) {
    int mult = drives[r->drive].multiple != 0;
    u8 cmd = r->write ? (mult ? CMD_WRITE_MULT : CMD_WRITE) : (mult ? CMD_READ_MULT : CMD_READ);
    ide_command(r->drive, r->lba, r->nsect, cmd, polled);
    if (!r->write) return;
    /* PIO data-out: the first block is asked for with DRQ, without an interrupt. */
    struct channel *c = chan_of(r->drive);
    delay400(c);
    int st = ide_wait(c);
    if (failed(st) || !(st & ST_DRQ)) { r->error = r->done = 1; return; }
    move_block(r);
}

/*
 * The drive is no longer busy with the head request and its status is st:
 * move the next block, or finish. 1 when the request is done. A read is done
 * after its last block comes in; a write when the drive says the last block
 * went out (the interrupt after it).
 */
static int ide_step(struct ide_req *r, int st) {
    if (r->done) return 1;
    if (failed(st)) r->error = 1;
    else if (r->write && r->moved == r->nsect) r->done = 1;
    else if (!(st & ST_DRQ)) r->error = 1;
    else { move_block(r); if (!r->write && r->moved == r->nsect) r->done = 1; }
    if (r->error) r->done = 1;
    return r->done;
}

void ide_intr(int irq) {
    struct channel *c = &channels[irq == IRQ_IDE2];
    int st = inb(c->base + REG_STATUS);         /* reading Status acknowledges the IRQ */
    struct ide_req *r = c->queue;
    if (!r) return;
    if (st & ST_BSY) st = ide_wait(c);
    if (!ide_step(r, st)) return;
    c->queue = r->next;
    wakeup(r);
    /* Start the next; one that fails to start (a write without DRQ) ends at once. */
    while (c->queue) {
        ide_start(c->queue, 0);
        if (!c->queue->done) break;
        wakeup(c->queue);
        c->queue = c->queue->next;
    }
}

/* Sectors [lba, lba + nsect) of drive into (or from) pages; 0, or -1 on an error or a bad range. */
int ide_io(int drive, u32 lba, u32 nsect, void **pages, int write) {
    if (drive < 0 || drive > 3 || nsect == 0 || nsect > 256) return -1;
    if (lba >= drives[drive].sectors || nsect > drives[drive].sectors - lba) return -1;
    struct ide_req r = { drive, lba, nsect, pages, write, 0, 0, 0, NULL };
    struct channel *c = chan_of(drive);
    if (!myproc()) {
        ide_start(&r, 1);
        while (!r.done) {
            delay400(c);
            ide_step(&r, ide_wait(c));
        }
        return r.error ? -1 : 0;
    }
    struct ide_req **pp = &c->queue;
    while (*pp) pp = &(*pp)->next;
    *pp = &r;
    if (c->queue == &r) {
        ide_start(&r, 0);
        if (r.done) c->queue = r.next;          /* failed before any interrupt */
    }
    while (!r.done) sleep(&r);
    return r.error ? -1 : 0;
}

u32 ide_sectors(int drive) { return drive >= 0 && drive < 4 ? drives[drive].sectors : 0; }

int ide_present(void) { return drives[0].sectors != 0; }

int ide_busy(void) { return channels[0].queue != NULL || channels[1].queue != NULL; }

/* IDENTIFY DEVICE: the drive's size in sectors (words 60-61), 0 if no ATA disk answers. */
static u32 ide_identify(int drive, u16 *id) {
    struct channel *c = chan_of(drive);
    outb(c->ctl, CTL_NIEN);
    outb(c->base + REG_DRIVE, 0xE0 | ((drive & 1) << 4));
    delay400(c);
    u8 st = inb(c->base + REG_STATUS);
    if (st == 0xFF || st == 0) return 0;                /* nothing on the bus, or no such device */
    if (ide_wait(c) < 0) return 0;
    outb(c->base + REG_CMD, CMD_IDENTIFY);
    delay400(c);
    int s = ide_wait(c);
    if (s <= 0 || failed(s) || !(s & ST_DRQ)) return 0;  /* absent, or ATAPI (aborts IDENTIFY) */
    insw(c->base + REG_DATA, id, 256);
    u32 n = id[60] | ((u32)id[61] << 16);
    return n < LBA28_LIMIT ? n : LBA28_LIMIT - 1;
}

/* SET MULTIPLE MODE to 16 or 8 sectors a block if word 47 allows it; the setting in use, 0 for none. */
static u32 ide_set_multiple(int drive, u16 max) {
    u32 want = max >= 16 ? 16 : max >= 8 ? 8 : 0;
    if (!want) return 0;
    ide_command(drive, 0, want, CMD_SET_MULT, 1);
    delay400(chan_of(drive));
    return failed(ide_wait(chan_of(drive))) ? 0 : want;
}

void ide_init(void) {
    static u16 id[256];
    for (int d = 0; d < 4; d++) {
        drives[d].sectors = ide_identify(d, id);
        if (!drives[d].sectors) continue;
        drives[d].multiple = ide_set_multiple(d, id[47] & 0xFF);
        u32 kib = drives[d].sectors / 2;
        bootlog("ide: %s, %u sectors (%u %s), %u sectors a block\n", names[d], drives[d].sectors,
                kib >= 1024 ? kib / 1024 : kib, kib >= 1024 ? "MiB" : "KiB", drives[d].multiple ? drives[d].multiple : 1);
    }
    pic_enable(IRQ_IDE);
    pic_enable(IRQ_IDE2);
}
